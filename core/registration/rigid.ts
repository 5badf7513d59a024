/**
 * Rigid (rotation + translation) transforms between the world frames of two images, and their
 * conversion to and from elastix's EulerTransform parameters.
 *
 * Conventions, stated once and used everywhere in this module:
 * - A `RigidTransform` maps points of frame `from` to points of frame `to`:
 *   p_to = M p_from, homogeneous column vectors, M row-major 4x4 (element (r, c) at 4r + c),
 *   translation in METRES, coordinates in the LPS or RAS world convention named by
 *   `convention`. Both `from` and `to` points use the same convention.
 * - LPS <-> RAS: F = diag(-1, -1, 1, 1) flips both sides, M_ras = F M_lps F (F is its own
 *   inverse), i.e. rows 0-1 x columns 2-3 and rows 2-3 x columns 0-1 change sign.
 * - elastix (ITK) transforms map FIXED physical points to MOVING physical points, in ITK's
 *   physical space, which is LPS millimetres: it is the pull-back used to resample the moving
 *   image onto the fixed grid. The point map from the moving image's world into the fixed
 *   image's world (what a plan needs: "where is this MRI point in the CT") is its INVERSE.
 * - EulerTransform (3D) parameters are [θx, θy, θz (radians), tx, ty, tz (mm)] about the
 *   CenterOfRotationPoint c (LPS mm): T(p) = R (p - c) + c + t, with R = Rz Rx Ry when
 *   ComputeZYX is false (ITK's and elastix's default) and R = Rz Ry Rx when it is true.
 *
 * Pure TypeScript (core/): no IO.
 */

import {
  type Affine4,
  affineFromRotationTranslation,
  applyAffine,
  flipLpsRasMatrix,
  eulerRotation,
  invertRigid as invertRigidMatrix,
  mat3Determinant,
  multiplyAffine,
  rotationOf,
  scaleTranslation,
} from '../math/index.ts'
import type { Mat3, Vec3 } from '../volume/types.ts'

export type WorldConvention = 'LPS' | 'RAS'

/** p_to = matrix * p_from; metres; both frames expressed in `convention`. */
export interface RigidTransform {
  /** Row-major 4x4, translation in metres, last row [0, 0, 0, 1]. */
  readonly matrix: readonly number[]
  /** Frame the transform takes points from, e.g. 'MRI' (a label; often the image's role or file). */
  readonly from: string
  /** Frame the points land in, e.g. 'CT'. */
  readonly to: string
  readonly convention: WorldConvention
}

export class RigidTransformError extends Error {
  override readonly name = 'RigidTransformError'
}

const MM_PER_M = 1000

// ---------------------------------------------------------------------------------------
// Construction and checks
// ---------------------------------------------------------------------------------------

/**
 * Builds a RigidTransform after checking that `matrix` is one: 16 finite entries, last row
 * [0, 0, 0, 1], rotation part orthonormal with determinant +1 (no scaling, shear or mirror),
 * each within `tolerance`.
 */
export function rigidTransform(matrix: readonly number[], from: string, to: string, convention: WorldConvention, tolerance = 1e-6): RigidTransform {
  checkRigidMatrix(matrix, tolerance)
  return { matrix: [...matrix], from, to, convention }
}

export function checkRigidMatrix(m: readonly number[], tolerance = 1e-6): void {
  if (m.length !== 16 || !m.every(Number.isFinite)) {
    throw new RigidTransformError(`a rigid transform needs 16 finite entries, got ${m.length}: [${m.join(', ')}]`)
  }
  if (Math.abs(m[12]!) > tolerance || Math.abs(m[13]!) > tolerance || Math.abs(m[14]!) > tolerance || Math.abs(m[15]! - 1) > tolerance) {
    throw new RigidTransformError(`the last row must be [0, 0, 0, 1], got [${m.slice(12).join(', ')}]`)
  }
  const r = rotationOf(m)
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      const dot = r[a]! * r[b]! + r[3 + a]! * r[3 + b]! + r[6 + a]! * r[6 + b]!
      if (Math.abs(dot - (a === b ? 1 : 0)) > tolerance) {
        throw new RigidTransformError(`the 3x3 part is not a rotation (columns ${a}, ${b} have dot product ${dot})`)
      }
    }
  }
  if (mat3Determinant(r) < 0) throw new RigidTransformError('the 3x3 part is a reflection (determinant -1), not a rotation')
}

// ---------------------------------------------------------------------------------------
// Algebra
// ---------------------------------------------------------------------------------------

export function applyRigid(t: RigidTransform, p: Vec3): Vec3 {
  return applyAffine(t.matrix, p)
}

/** The inverse map: from and to swap. */
export function invertRigid(t: RigidTransform): RigidTransform {
  return { matrix: invertRigidMatrix(t.matrix), from: t.to, to: t.from, convention: t.convention }
}

/**
 * `second ∘ first`: apply `first` (A -> B), then `second` (B -> C), giving A -> C. The frames
 * must chain (first.to === second.from) and the conventions agree; convert first otherwise.
 */
export function composeRigid(second: RigidTransform, first: RigidTransform): RigidTransform {
  if (first.to !== second.from) {
    throw new RigidTransformError(`cannot compose: the first transform lands in "${first.to}", the second starts from "${second.from}"`)
  }
  if (first.convention !== second.convention) {
    throw new RigidTransformError(`cannot compose a ${first.convention} transform with a ${second.convention} one: convert one first`)
  }
  return { matrix: multiplyAffine(second.matrix, first.matrix), from: first.from, to: second.to, convention: first.convention }
}

/** The same map written in the other world convention (LPS <-> RAS); a no-op when it already is. */
export function withConvention(t: RigidTransform, convention: WorldConvention): RigidTransform {
  if (t.convention === convention) return t
  return { ...t, matrix: flipLpsRasMatrix(t.matrix), convention }
}

// ---------------------------------------------------------------------------------------
// Units: metres inside core, millimetres at the ITK / file edge
// ---------------------------------------------------------------------------------------

/** Rows of the 4x4 with the translation in millimetres (as ITK, Slicer and our transform files write it). */
export function matrixRowsMm(t: RigidTransform): number[][] {
  return [0, 1, 2, 3].map((r) => [0, 1, 2, 3].map((c) => t.matrix[4 * r + c]! * (c === 3 && r < 3 ? MM_PER_M : 1)))
}

/** Inverse of `matrixRowsMm`: a 4x4 given as rows with the translation in millimetres. */
export function rigidFromRowsMm(rows: readonly (readonly number[])[], from: string, to: string, convention: WorldConvention, tolerance = 1e-6): RigidTransform {
  if (rows.length !== 4 || !rows.every((r) => r.length === 4)) throw new RigidTransformError('a 4x4 matrix must have 4 rows of 4 numbers')
  const flat = rows.flatMap((row, r) => row.map((v, c) => (c === 3 && r < 3 ? v / MM_PER_M : v)))
  return rigidTransform(flat, from, to, convention, tolerance)
}

// ---------------------------------------------------------------------------------------
// elastix EulerTransform
// ---------------------------------------------------------------------------------------

/** The numbers of an elastix EulerTransform (3D) parameter map that define the map. */
export interface ElastixEuler {
  /** TransformParameters: [θx, θy, θz] in radians, then [tx, ty, tz] in millimetres. */
  readonly parameters: readonly [number, number, number, number, number, number]
  /** CenterOfRotationPoint, LPS millimetres (ITK physical space). */
  readonly centerOfRotationMm: Vec3
  /** ComputeZYX: false (default) means R = Rz Rx Ry; true means R = Rz Ry Rx. */
  readonly computeZYX: boolean
}

/**
 * Angles [θx, θy, θz] (radians) with eulerRotation(θ, computeZYX) = r, as ITK's
 * Euler3DTransform::ComputeMatrixParameters extracts them (θx, or θy for ZYX, in [-90°, 90°];
 * at the gimbal lock θz, or θx for ZYX, is set to 0 and the rest read off exactly).
 */
export function eulerAngles(r: Mat3, computeZYX = false): [number, number, number] {
  const clamp = (v: number) => Math.min(1, Math.max(-1, v))
  if (computeZYX) {
    // R = Rz Ry Rx: R[2][0] = -sin θy, R[2][1] = cos θy sin θx, R[2][2] = cos θy cos θx,
    // R[1][0] = sin θz cos θy, R[0][0] = cos θz cos θy.
    const ay = -Math.asin(clamp(r[6]))
    const c = Math.cos(ay)
    if (Math.abs(c) > 1e-9) return [Math.atan2(r[7] / c, r[8] / c), ay, Math.atan2(r[3] / c, r[0] / c)]
    return [0, ay, Math.atan2(-r[1], r[4])]
  }
  // R = Rz Rx Ry: R[2][1] = sin θx, R[2][0] = -cos θx sin θy, R[2][2] = cos θx cos θy,
  // R[0][1] = -sin θz cos θx, R[1][1] = cos θz cos θx.
  const ax = Math.asin(clamp(r[7]))
  const c = Math.cos(ax)
  if (Math.abs(c) > 1e-9) return [ax, Math.atan2(-r[6] / c, r[8] / c), Math.atan2(-r[1] / c, r[4] / c)]
  // cos θx = 0 and θz := 0: R = Rx Ry, whose row 0 is [cos θy, 0, sin θy].
  return [ax, Math.atan2(r[2], r[0]), 0]
}

/**
 * The elastix map itself as a 4x4 in LPS MILLIMETRES: p_moving = R (p_fixed - c) + c + t,
 * i.e. translation column = c + t - R c.
 */
export function elastixEulerToFixedToMovingMm(e: ElastixEuler): Affine4 {
  const [ax, ay, az, tx, ty, tz] = e.parameters
  const r = eulerRotation(ax, ay, az, e.computeZYX)
  const c = e.centerOfRotationMm
  return affineFromRotationTranslation(r, [
    c[0] + tx - (r[0] * c[0] + r[1] * c[1] + r[2] * c[2]),
    c[1] + ty - (r[3] * c[0] + r[4] * c[1] + r[5] * c[2]),
    c[2] + tz - (r[6] * c[0] + r[7] * c[1] + r[8] * c[2]),
  ])
}

/**
 * Euler parameters of a fixed -> moving map given as a 4x4 in LPS millimetres, about the
 * chosen centre (any centre represents the same map; only t changes: t = T(c) - c).
 */
export function elastixEulerFromFixedToMovingMm(m: readonly number[], centerOfRotationMm: Vec3, computeZYX = false): ElastixEuler {
  checkRigidMatrix(m, 1e-6)
  const [ax, ay, az] = eulerAngles(rotationOf(m), computeZYX)
  const c = centerOfRotationMm
  const tc = applyAffine(m, c)
  return { parameters: [ax, ay, az, tc[0] - c[0], tc[1] - c[1], tc[2] - c[2]], centerOfRotationMm: [c[0], c[1], c[2]], computeZYX }
}

/**
 * The registration's answer as a point map MOVING -> FIXED, LPS metres: elastix's map goes
 * fixed -> moving (LPS mm), so it is inverted here and the translation scaled mm -> m.
 */
export function rigidFromElastixEuler(e: ElastixEuler, frames: { readonly fixed: string; readonly moving: string }): RigidTransform {
  const fixedToMovingM = scaleTranslation(elastixEulerToFixedToMovingMm(e), 1 / MM_PER_M)
  return rigidTransform(invertRigidMatrix(fixedToMovingM), frames.moving, frames.fixed, 'LPS', 1e-9)
}

/**
 * The reverse: elastix Euler parameters (fixed -> moving, LPS mm) of a MOVING -> FIXED point
 * map given in either convention (e.g. to seed elastix with a stored MRI -> CT transform).
 */
export function elastixEulerFromRigid(movingToFixed: RigidTransform, centerOfRotationMm: Vec3, computeZYX = false): ElastixEuler {
  const lps = withConvention(movingToFixed, 'LPS')
  const fixedToMovingMm = scaleTranslation(invertRigidMatrix(lps.matrix), MM_PER_M)
  return elastixEulerFromFixedToMovingMm(fixedToMovingMm, centerOfRotationMm, computeZYX)
}

// ---------------------------------------------------------------------------------------
// Comparing two transforms
// ---------------------------------------------------------------------------------------

export interface TransformError {
  /** max over the sample points of |a(p) - b(p)|, metres. */
  readonly maxTranslationErrorM: number
  /** Angle of the rotation a^-1 b (degrees). */
  readonly rotationErrorDeg: number
}

/**
 * How far apart two transforms of the same frames put points: the largest displacement
 * between a(p) and b(p) over `samplePoints` (metres, in the transforms' `from` frame and
 * convention), and the rotation angle between them.
 *
 * |a(p) - b(p)| is a convex function of p (norm of an affine function), so over a box its
 * maximum is reached at a corner: `boxCorners` of a region is an exact sample set for it.
 */
export function transformError(a: RigidTransform, b: RigidTransform, samplePoints: readonly Vec3[]): TransformError {
  if (a.from !== b.from || a.to !== b.to) {
    throw new RigidTransformError(`cannot compare ${a.from} -> ${a.to} with ${b.from} -> ${b.to}`)
  }
  const bb = withConvention(b, a.convention)
  let max = 0
  for (const p of samplePoints) {
    const pa = applyAffine(a.matrix, p)
    const pb = applyAffine(bb.matrix, p)
    max = Math.max(max, Math.hypot(pa[0] - pb[0], pa[1] - pb[1], pa[2] - pb[2]))
  }
  const ra = rotationOf(a.matrix)
  const rb = rotationOf(bb.matrix)
  // trace(Ra^T Rb) = sum of element-wise products.
  let trace = 0
  for (let i = 0; i < 9; i++) trace += ra[i]! * rb[i]!
  const angle = (Math.acos(Math.min(1, Math.max(-1, (trace - 1) / 2))) * 180) / Math.PI
  return { maxTranslationErrorM: max, rotationErrorDeg: angle }
}

/** The eight corners of an axis-aligned box. */
export function boxCorners(min: Vec3, max: Vec3): Vec3[] {
  const out: Vec3[] = []
  for (const x of [min[0], max[0]]) for (const y of [min[1], max[1]]) for (const z of [min[2], max[2]]) out.push([x, y, z])
  return out
}

// ---------------------------------------------------------------------------------------
// Transform files
// ---------------------------------------------------------------------------------------

/** `format` of the JSON transform files `tfus register` writes. */
export const TRANSFORM_FILE_FORMAT = 'tfus-rigid-transform'

/**
 * The matrices a transform file carries: RAS metres (what a plan stores), RAS millimetres
 * (Slicer, NIfTI tools) and LPS millimetres (ITK, DICOM), each as 4 rows of 4 numbers with
 * p_to = M p_from.
 */
export function transformFileMatrices(t: RigidTransform): { matrix_ras_m: number[][]; matrix_ras_mm: number[][]; matrix_lps_mm: number[][] } {
  const ras = withConvention(t, 'RAS')
  return {
    matrix_ras_m: [0, 1, 2, 3].map((r) => ras.matrix.slice(4 * r, 4 * r + 4)),
    matrix_ras_mm: matrixRowsMm(ras),
    matrix_lps_mm: matrixRowsMm(withConvention(t, 'LPS')),
  }
}

/**
 * Reads the transform of a transform file: `matrix_ras_m` when present, else `matrix_lps_mm`
 * or `matrix_ras_mm` (as in the samples' ground-truth file). `from`/`to` come from the file's
 * fields of those names, or from `frames` when it has none. Returned in the file's convention.
 */
export function rigidFromTransformFile(doc: unknown, frames?: { readonly from: string; readonly to: string }): RigidTransform {
  if (typeof doc !== 'object' || doc === null) throw new RigidTransformError('a transform file must hold a JSON object')
  const d = doc as Record<string, unknown>
  const from = typeof d.from === 'string' ? d.from : frames?.from
  const to = typeof d.to === 'string' ? d.to : frames?.to
  if (!from || !to) throw new RigidTransformError('the transform file names no "from" and "to" frames')
  const rows = (key: string): number[][] | undefined => {
    const v = d[key]
    if (v === undefined) return undefined
    if (!Array.isArray(v) || v.length !== 4 || !v.every((r) => Array.isArray(r) && r.length === 4 && r.every((x) => typeof x === 'number'))) {
      throw new RigidTransformError(`"${key}" must be 4 rows of 4 numbers`)
    }
    return v as number[][]
  }
  const rasM = rows('matrix_ras_m')
  if (rasM) return rigidTransform(rasM.flat(), from, to, 'RAS', 1e-5)
  const lpsMm = rows('matrix_lps_mm')
  if (lpsMm) return rigidFromRowsMm(lpsMm, from, to, 'LPS', 1e-5)
  const rasMm = rows('matrix_ras_mm')
  if (rasMm) return rigidFromRowsMm(rasMm, from, to, 'RAS', 1e-5)
  throw new RigidTransformError('the transform file holds none of matrix_ras_m, matrix_lps_mm, matrix_ras_mm')
}
