/**
 * Row-major 3x3 matrices (element (r, c) at index 3 r + c), acting on column vectors.
 *
 * A direction matrix is not assumed orthogonal: gantry-tilted CT is stored with a sheared slice
 * axis, so `mat3Inverse` is a true inverse, never a transpose.
 */
import type { Vec3 } from './vec3.ts'

export type Mat3 = readonly [number, number, number, number, number, number, number, number, number]

export const IDENTITY3: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1]

export function mat3Multiply(a: Mat3, b: Mat3): Mat3 {
  const out: number[] = new Array<number>(9)
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      out[3 * r + c] = a[3 * r]! * b[c]! + a[3 * r + 1]! * b[3 + c]! + a[3 * r + 2]! * b[6 + c]!
    }
  }
  return out as unknown as Mat3
}

export function mat3MulVec(m: Mat3, v: Vec3): Vec3 {
  return [m[0] * v[0] + m[1] * v[1] + m[2] * v[2], m[3] * v[0] + m[4] * v[1] + m[5] * v[2], m[6] * v[0] + m[7] * v[1] + m[8] * v[2]]
}

/** Column c (0..2). */
export function mat3Column(m: Mat3, c: number): Vec3 {
  return [m[c]!, m[3 + c]!, m[6 + c]!]
}

export function mat3Transpose(m: Mat3): Mat3 {
  return [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]]
}

export function mat3Determinant(m: Mat3): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
}

/**
 * General inverse by the adjugate. Singularity is judged relative to the Hadamard bound
 * (product of column norms) so that the test does not depend on the matrix's scale, which
 * matters once spacing in metres (~1e-3) is folded in.
 */
export function mat3Inverse(m: Mat3): Mat3 {
  if (!m.every(Number.isFinite)) {
    throw new Error(`Cannot invert 3x3 matrix: it has non-finite entries [${m.join(', ')}]`)
  }
  const det = mat3Determinant(m)
  const scale = Math.hypot(m[0], m[3], m[6]) * Math.hypot(m[1], m[4], m[7]) * Math.hypot(m[2], m[5], m[8])
  if (!(Math.abs(det) > 1e-12 * scale)) {
    throw new Error(`Cannot invert 3x3 matrix: it is singular (determinant ${det}) [${m.join(', ')}]`)
  }
  const s = 1 / det
  return [
    (m[4] * m[8] - m[5] * m[7]) * s,
    (m[2] * m[7] - m[1] * m[8]) * s,
    (m[1] * m[5] - m[2] * m[4]) * s,
    (m[5] * m[6] - m[3] * m[8]) * s,
    (m[0] * m[8] - m[2] * m[6]) * s,
    (m[2] * m[3] - m[0] * m[5]) * s,
    (m[3] * m[7] - m[4] * m[6]) * s,
    (m[1] * m[6] - m[0] * m[7]) * s,
    (m[0] * m[4] - m[1] * m[3]) * s,
  ]
}

/** Rotation by `angleRad` about the unit vector `axis` (Rodrigues' formula). */
export function mat3AxisAngle(axis: Vec3, angleRad: number): Mat3 {
  const [x, y, z] = axis
  const c = Math.cos(angleRad)
  const s = Math.sin(angleRad)
  const t = 1 - c
  return [
    t * x * x + c,
    t * x * y - s * z,
    t * x * z + s * y,
    t * x * y + s * z,
    t * y * y + c,
    t * y * z - s * x,
    t * x * z - s * y,
    t * y * z + s * x,
    t * z * z + c,
  ]
}

/**
 * ITK's Euler3DTransform rotation (itkEuler3DTransform.hxx `ComputeMatrix`) for angles (radians)
 * about x, y, z: R = Rz Rx Ry by default, Rz Ry Rx when computeZYX is set.
 */
export function eulerRotation(ax: number, ay: number, az: number, computeZYX = false): Mat3 {
  const [cx, sx, cy, sy, cz, sz] = [Math.cos(ax), Math.sin(ax), Math.cos(ay), Math.sin(ay), Math.cos(az), Math.sin(az)]
  const rx: Mat3 = [1, 0, 0, 0, cx, -sx, 0, sx, cx]
  const ry: Mat3 = [cy, 0, sy, 0, 1, 0, -sy, 0, cy]
  const rz: Mat3 = [cz, -sz, 0, sz, cz, 0, 0, 0, 1]
  return computeZYX ? mat3Multiply(rz, mat3Multiply(ry, rx)) : mat3Multiply(rz, mat3Multiply(rx, ry))
}

/** Rotation angle (degrees, 0..180) of a rotation matrix, from its trace; clamped for rounding. */
export function rotationAngleDeg(r: Mat3): number {
  const c = (r[0] + r[4] + r[8] - 1) / 2
  return (Math.acos(Math.min(1, Math.max(-1, c))) * 180) / Math.PI
}
