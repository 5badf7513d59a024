/**
 * Row-major 4x4 affines (element (r, c) at index 4 r + c, last row [0, 0, 0, 1]) acting on
 * homogeneous column vectors, and the rigid transforms [R t; 0 1] among them.
 */
import type { Mat3 } from './mat3.ts'
import { mat3Inverse, mat3MulVec } from './mat3.ts'
import type { Vec3 } from './vec3.ts'

/** Row-major 4x4 affine: element (r, c) at index 4 * r + c; last row is [0, 0, 0, 1]. */
export type Mat4 = readonly number[]
/** A 4x4 this module built (mutable array, so callers may keep editing it). */
export type Affine4 = number[]

export const IDENTITY4: Mat4 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]

/** diag(-1, -1, 1, 1): RAS <-> LPS (its own inverse). */
export const FLIP_XY: Mat4 = [-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]

function checkAffine(a: readonly number[]): void {
  if (a.length !== 16) throw new Error(`Affine must have 16 entries, got ${a.length}`)
}

/** a * b (apply b first). */
export function multiplyAffine(a: Mat4, b: Mat4): Affine4 {
  checkAffine(a)
  checkAffine(b)
  const out = new Array<number>(16).fill(0)
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let s = 0
      for (let k = 0; k < 4; k++) s += a[4 * r + k]! * b[4 * k + c]!
      out[4 * r + c] = s
    }
  }
  return out
}

/** Inverse of an affine whose last row is [0, 0, 0, 1]; throws if its 3x3 part is singular. */
export function invertAffine(a: Mat4): Affine4 {
  checkAffine(a)
  const inv = mat3Inverse([a[0]!, a[1]!, a[2]!, a[4]!, a[5]!, a[6]!, a[8]!, a[9]!, a[10]!])
  const t = mat3MulVec(inv, [a[3]!, a[7]!, a[11]!])
  return [inv[0], inv[1], inv[2], -t[0], inv[3], inv[4], inv[5], -t[1], inv[6], inv[7], inv[8], -t[2], 0, 0, 0, 1]
}

/** A point through an affine: R p + t. */
export function applyAffine(a: Mat4, p: Vec3): Vec3 {
  checkAffine(a)
  return [
    a[0]! * p[0] + a[1]! * p[1] + a[2]! * p[2] + a[3]!,
    a[4]! * p[0] + a[5]! * p[1] + a[6]! * p[2] + a[7]!,
    a[8]! * p[0] + a[9]! * p[1] + a[10]! * p[2] + a[11]!,
  ]
}

/** A direction through an affine: R d (the translation does not act on directions). */
export function applyAffineToDirection(a: Mat4, d: Vec3): Vec3 {
  return [a[0]! * d[0] + a[1]! * d[1] + a[2]! * d[2], a[4]! * d[0] + a[5]! * d[1] + a[6]! * d[2], a[8]! * d[0] + a[9]! * d[1] + a[10]! * d[2]]
}

/** A direction through the transpose of the 3x3 part: R^T d (the inverse rotation of a rigid map). */
export function applyTransposedRotation(a: Mat4, d: Vec3): Vec3 {
  return [a[0]! * d[0] + a[4]! * d[1] + a[8]! * d[2], a[1]! * d[0] + a[5]! * d[1] + a[9]! * d[2], a[2]! * d[0] + a[6]! * d[1] + a[10]! * d[2]]
}

/** Rotation part (row-major 3x3) of a 4x4 affine. */
export function rotationOf(m: Mat4): Mat3 {
  return [m[0]!, m[1]!, m[2]!, m[4]!, m[5]!, m[6]!, m[8]!, m[9]!, m[10]!]
}

/** Translation column of a 4x4 affine (in the matrix's units). */
export function translationOf(m: Mat4): Vec3 {
  return [m[3]!, m[7]!, m[11]!]
}

/** Column c (0..3) of the 3x4 top of an affine. */
export function affineColumn(m: Mat4, c: number): Vec3 {
  return [m[c]!, m[4 + c]!, m[8 + c]!]
}

/** 4x4 from a rotation and a translation: p' = R p + t. */
export function affineFromRotationTranslation(r: Mat3, t: Vec3): Affine4 {
  return [r[0], r[1], r[2], t[0], r[3], r[4], r[5], t[1], r[6], r[7], r[8], t[2], 0, 0, 0, 1]
}

/** An affine from three axis columns and an origin (a pose: the tool's axes in the patient frame). */
export function affineFromColumns(x: Vec3, y: Vec3, z: Vec3, origin: Vec3): Affine4 {
  return [x[0], y[0], z[0], origin[0], x[1], y[1], z[1], origin[1], x[2], y[2], z[2], origin[2], 0, 0, 0, 1]
}

/** Scales the translation (column 3) only, e.g. metres -> millimetres. */
export function scaleTranslation(m: Mat4, factor: number): Affine4 {
  return m.map((v, idx) => (idx === 3 || idx === 7 || idx === 11 ? v * factor : v))
}

/**
 * Exact inverse of a rigid matrix [R t; 0 1]: [R^T, -R^T t]. A transpose, not a general
 * inverse, so a round trip loses nothing; the caller vouches that R is a rotation.
 */
export function invertRigid(m: Mat4): Affine4 {
  const r = rotationOf(m)
  const t = translationOf(m)
  const rt: Mat3 = [r[0], r[3], r[6], r[1], r[4], r[7], r[2], r[5], r[8]]
  return affineFromRotationTranslation(rt, [
    -(rt[0] * t[0] + rt[1] * t[1] + rt[2] * t[2]),
    -(rt[3] * t[0] + rt[4] * t[1] + rt[5] * t[2]),
    -(rt[6] * t[0] + rt[7] * t[1] + rt[8] * t[2]),
  ])
}
