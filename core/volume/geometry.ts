/**
 * Voxel-grid geometry: index <-> LPS world mapping, affines, orientation codes and the
 * validated `Volume` constructor.
 *
 * The direction matrix is not assumed orthogonal anywhere: gantry-tilted CT is stored with a
 * sheared slice axis, so every inverse here is a true inverse, never a transpose.
 */

import { IDENTITY3, invertAffine, mat3Inverse, mat3MulVec, mat3Transpose, type Affine4 } from '../math/index.ts'
import type { Mat3, Vec3, Volume, VolumeMeta, VoxelArray } from './types.ts'

/** A voxel grid without data; `Volume` satisfies it structurally. */
export interface GridSpec {
  readonly dims: Vec3
  readonly spacingM: Vec3
  readonly originM: Vec3
  readonly direction: Mat3
}

/** What the point mappings need; `dims` is optional because they do not use it. */
export interface VoxelGeometry {
  readonly dims?: Vec3
  readonly spacingM: Vec3
  readonly originM: Vec3
  readonly direction: Mat3
}

/** direction * diag(spacing): column c is the LPS step of one voxel along axis c. */
function scaledDirection(geom: VoxelGeometry): Mat3 {
  const d = geom.direction
  const [si, sj, sk] = geom.spacingM
  return [d[0] * si, d[1] * sj, d[2] * sk, d[3] * si, d[4] * sj, d[5] * sk, d[6] * si, d[7] * sj, d[8] * sk]
}

// ---------------------------------------------------------------------------------------
// Point mappings
// ---------------------------------------------------------------------------------------

/** LPS position (metres) of continuous voxel index `ijk`. */
export function voxelToWorld(geom: VoxelGeometry, ijk: Vec3): Vec3 {
  const v = mat3MulVec(scaledDirection(geom), ijk)
  return [v[0] + geom.originM[0], v[1] + geom.originM[1], v[2] + geom.originM[2]]
}

/** Continuous voxel index of LPS point `lps` (metres); integers are voxel centres. */
export function worldToVoxel(geom: VoxelGeometry, lps: Vec3): Vec3 {
  const inv = mat3Inverse(scaledDirection(geom))
  return mat3MulVec(inv, [lps[0] - geom.originM[0], lps[1] - geom.originM[1], lps[2] - geom.originM[2]])
}

// ---------------------------------------------------------------------------------------
// 4x4 affines
// ---------------------------------------------------------------------------------------

/** Row-major affine mapping homogeneous voxel index to LPS metres. */
export function indexToWorldAffine(geom: VoxelGeometry): Affine4 {
  const m = scaledDirection(geom)
  const o = geom.originM
  return [m[0], m[1], m[2], o[0], m[3], m[4], m[5], o[1], m[6], m[7], m[8], o[2], 0, 0, 0, 1]
}

/** Row-major affine mapping LPS metres to continuous voxel index. */
export function worldToIndexAffine(geom: VoxelGeometry): Affine4 {
  return invertAffine(indexToWorldAffine(geom))
}

// ---------------------------------------------------------------------------------------
// Orientation codes
// ---------------------------------------------------------------------------------------

const POSITIVE_LETTER = ['L', 'P', 'S'] as const
const NEGATIVE_LETTER = ['R', 'A', 'I'] as const

/**
 * Nibabel-style axcodes: letter c names the anatomical direction voxel axis c points toward.
 *
 * Like nibabel's io_orientation, the columns are normalised and replaced by the nearest
 * orthogonal matrix (polar factor) first, so a sheared gantry-tilt direction is judged by
 * the rotation it approximates. Axes are then assigned greedily by the largest absolute
 * entry over the whole remaining matrix, which guarantees three distinct world axes even
 * for oblique directions near 45 degrees where a per-column argmax could pick one twice.
 */
export function orientationCode(direction: Mat3): string {
  const r = nearestOrthogonal(normalizeColumns(direction))
  const usedRow = [false, false, false]
  const usedCol = [false, false, false]
  const letters = ['', '', '']
  for (let pass = 0; pass < 3; pass++) {
    let best = -1
    let bestR = 0
    let bestC = 0
    for (let c = 0; c < 3; c++) {
      if (usedCol[c]) continue
      for (let row = 0; row < 3; row++) {
        if (usedRow[row]) continue
        const a = Math.abs(r[3 * row + c]!)
        if (a > best) {
          best = a
          bestR = row
          bestC = c
        }
      }
    }
    usedRow[bestR] = true
    usedCol[bestC] = true
    letters[bestC] = r[3 * bestR + bestC]! < 0 ? NEGATIVE_LETTER[bestR as 0 | 1 | 2] : POSITIVE_LETTER[bestR as 0 | 1 | 2]
  }
  return letters.join('')
}

function normalizeColumns(m: Mat3): Mat3 {
  const out = [...m]
  for (let c = 0; c < 3; c++) {
    const n = Math.hypot(m[c]!, m[3 + c]!, m[6 + c]!)
    if (!(n > 0) || !Number.isFinite(n)) {
      throw new Error(`Direction column ${c} is zero or non-finite [${m.join(', ')}]`)
    }
    for (let row = 0; row < 3; row++) out[3 * row + c] = m[3 * row + c]! / n
  }
  return out as unknown as Mat3
}

/**
 * Orthogonal polar factor U of M = U P (equal to nibabel's U @ Vh from the SVD), by the
 * Newton iteration X <- (X + X^-T) / 2, which converges quadratically for non-singular M.
 */
function nearestOrthogonal(m: Mat3): Mat3 {
  let x = m
  for (let it = 0; it < 30; it++) {
    const invT = mat3Transpose(mat3Inverse(x))
    const next = x.map((v, idx) => 0.5 * (v + invT[idx]!)) as unknown as Mat3
    let delta = 0
    for (let idx = 0; idx < 9; idx++) delta = Math.max(delta, Math.abs(next[idx]! - x[idx]!))
    x = next
    if (delta < 1e-14) break
  }
  return x
}

// ---------------------------------------------------------------------------------------
// Extent
// ---------------------------------------------------------------------------------------

/** LPS axis-aligned box (metres) around the centres of the eight corner voxels. */
export function boundsM(geom: GridSpec): { min: Vec3; max: Vec3 } {
  const min = [Infinity, Infinity, Infinity]
  const max = [-Infinity, -Infinity, -Infinity]
  const [ni, nj, nk] = geom.dims
  for (const i of [0, ni - 1]) {
    for (const j of [0, nj - 1]) {
      for (const k of [0, nk - 1]) {
        const p = voxelToWorld(geom, [i, j, k])
        for (let a = 0; a < 3; a++) {
          min[a] = Math.min(min[a]!, p[a]!)
          max[a] = Math.max(max[a]!, p[a]!)
        }
      }
    }
  }
  return { min: min as unknown as Vec3, max: max as unknown as Vec3 }
}

/** LPS position (metres) of the grid's centre; a half-integer index when a dim is even. */
export function centerM(geom: GridSpec): Vec3 {
  return voxelToWorld(geom, [(geom.dims[0] - 1) / 2, (geom.dims[1] - 1) / 2, (geom.dims[2] - 1) / 2])
}

// ---------------------------------------------------------------------------------------
// Validated construction
// ---------------------------------------------------------------------------------------

export interface CreateVolumeArgs<T extends VoxelArray> {
  readonly data: T
  readonly dims: Vec3
  readonly spacingM: Vec3
  /** Defaults to [0, 0, 0]. */
  readonly originM?: Vec3
  /** Defaults to the identity (voxel axes along L, P, S). */
  readonly direction?: Mat3
  /** Defaults to `{ modality: 'OT' }`. */
  readonly meta?: VolumeMeta
  readonly warnings?: readonly string[]
}

/**
 * Builds a `Volume` after checking the invariants the rest of core relies on, so a broken
 * reader fails here with the field named instead of producing NaNs far downstream.
 */
export function createVolume<T extends VoxelArray>(args: CreateVolumeArgs<T>): Volume<T> {
  const { data, dims, spacingM } = args
  const originM = args.originM ?? [0, 0, 0]
  const direction = args.direction ?? IDENTITY3

  if (!Array.isArray(dims) || dims.length !== 3 || !dims.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw new Error(`createVolume: dims must be three positive integers, got ${fmt(dims)}`)
  }
  const n = dims[0] * dims[1] * dims[2]
  if (!ArrayBuffer.isView(data) || data.length !== n) {
    const got = ArrayBuffer.isView(data) ? String(data.length) : 'no typed array'
    throw new Error(`createVolume: data length must equal dims product ${dims.join('x')} = ${n}, got ${got}`)
  }
  if (!Array.isArray(spacingM) || spacingM.length !== 3 || !spacingM.every((s) => Number.isFinite(s) && s > 0)) {
    throw new Error(`createVolume: spacingM must be three positive finite numbers, got ${fmt(spacingM)}`)
  }
  if (!Array.isArray(originM) || originM.length !== 3 || !originM.every(Number.isFinite)) {
    throw new Error(`createVolume: originM must be three finite numbers, got ${fmt(originM)}`)
  }
  if (!Array.isArray(direction) || direction.length !== 9 || !direction.every(Number.isFinite)) {
    throw new Error(`createVolume: direction must be nine finite numbers, got ${fmt(direction)}`)
  }
  try {
    mat3Inverse(direction)
  } catch {
    throw new Error(`createVolume: direction is singular, got ${fmt(direction)}`)
  }

  return {
    data,
    dims: [dims[0], dims[1], dims[2]],
    spacingM: [spacingM[0], spacingM[1], spacingM[2]],
    originM: [originM[0], originM[1], originM[2]],
    direction: [...direction] as unknown as Mat3,
    meta: args.meta ?? { modality: 'OT' },
    warnings: [...(args.warnings ?? [])],
  }
}

function fmt(v: unknown): string {
  return Array.isArray(v) ? `[${v.join(', ')}]` : String(v)
}
