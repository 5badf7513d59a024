/** core/math: the one vector/matrix module. Known values, inverses and the RAS <-> LPS flip. */
import { describe, expect, test } from 'vitest'
import {
  affineFromRotationTranslation,
  applyAffine,
  applyAffineToDirection,
  applyTransposedRotation,
  cross3,
  dot3,
  eulerRotation,
  flipLpsRasMatrix,
  IDENTITY4,
  invertAffine,
  invertRigid,
  lpsToRas,
  mat3AxisAngle,
  mat3Determinant,
  mat3Inverse,
  mat3Multiply,
  mat3MulVec,
  multiplyAffine,
  norm3,
  normalize3,
  rasToLps,
  rotationAngleDeg,
  seededBytes,
  seededGaussian,
  seededRandom,
  type Mat3,
  type Vec3,
} from '../../../core/math/index.ts'

const DEG = Math.PI / 180
const maxAbsDiff = (a: readonly number[], b: readonly number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))

/** A rigid transform from Euler angles and a translation (metres). */
const rigid = (ax: number, ay: number, az: number, t: Vec3) => affineFromRotationTranslation(eulerRotation(ax * DEG, ay * DEG, az * DEG), t)

describe('vectors', () => {
  test('cross product of the axes is right-handed; dot and norm', () => {
    expect(cross3([1, 0, 0], [0, 1, 0])).toEqual([0, 0, 1])
    expect(cross3([0, 1, 0], [0, 0, 1])).toEqual([1, 0, 0])
    expect(dot3([1, 2, 3], [4, -5, 6])).toBe(12)
    expect(norm3([3, 4, 12])).toBe(13)
    expect(normalize3([0, 3, 4])).toEqual([0, 0.6, 0.8])
  })
})

describe('rotations', () => {
  test('known values: 90 degrees about z takes x to y, about x takes y to z', () => {
    const rz = eulerRotation(0, 0, 90 * DEG)
    expect(maxAbsDiff(mat3MulVec(rz, [1, 0, 0]), [0, 1, 0])).toBeLessThan(1e-15)
    const rx = eulerRotation(90 * DEG, 0, 0)
    expect(maxAbsDiff(mat3MulVec(rx, [0, 1, 0]), [0, 0, 1])).toBeLessThan(1e-15)
    // Rodrigues about the diagonal by 120 degrees permutes the axes x -> y -> z -> x.
    const r = mat3AxisAngle(normalize3([1, 1, 1]), 120 * DEG)
    expect(maxAbsDiff(r, [0, 0, 1, 1, 0, 0, 0, 1, 0])).toBeLessThan(1e-15)
    expect(rotationAngleDeg(r)).toBeCloseTo(120, 12)
    expect(mat3Determinant(r)).toBeCloseTo(1, 14)
  })

  test('a general inverse undoes a sheared matrix', () => {
    const m: Mat3 = [1, 0.3, 0, 0, 1, 0, 0.2, 0, 2]
    expect(maxAbsDiff(mat3Multiply(m, mat3Inverse(m)), [1, 0, 0, 0, 1, 0, 0, 0, 1])).toBeLessThan(1e-15)
    expect(() => mat3Inverse([1, 2, 3, 2, 4, 6, 0, 0, 1])).toThrow(/singular/)
  })
})

describe('rigid transforms', () => {
  const a = rigid(10, -35, 70, [0.01, -0.02, 0.03])
  const b = rigid(-80, 20, 5, [-0.1, 0.05, 0.2])

  test('inverse of rigid x rigid is the identity within 1e-12, both ways', () => {
    const ab = multiplyAffine(a, b)
    expect(maxAbsDiff(multiplyAffine(invertRigid(ab), ab), IDENTITY4)).toBeLessThan(1e-12)
    expect(maxAbsDiff(multiplyAffine(ab, invertRigid(ab)), IDENTITY4)).toBeLessThan(1e-12)
    // (AB)^-1 = B^-1 A^-1
    expect(maxAbsDiff(invertRigid(ab), multiplyAffine(invertRigid(b), invertRigid(a)))).toBeLessThan(1e-12)
    // The exact rigid inverse agrees with the general affine inverse.
    expect(maxAbsDiff(invertRigid(ab), invertAffine(ab))).toBeLessThan(1e-12)
  })

  test('points take the translation, directions do not; R^T undoes R', () => {
    const p: Vec3 = [0.1, 0.2, 0.3]
    const back = applyAffine(invertRigid(a), applyAffine(a, p))
    expect(maxAbsDiff(back, p)).toBeLessThan(1e-15)
    const d = applyAffineToDirection(a, [0, 0, 1])
    expect(norm3(d)).toBeCloseTo(1, 15)
    expect(maxAbsDiff(applyTransposedRotation(a, d), [0, 0, 1])).toBeLessThan(1e-15)
    expect(maxAbsDiff(applyAffine(IDENTITY4, p), p)).toBe(0)
  })
})

describe('RAS <-> LPS', () => {
  test('the flip is an involution on points and on matrices', () => {
    const p: Vec3 = [0.012, -0.034, 0.056]
    expect(rasToLps(p)).toEqual([-0.012, 0.034, 0.056])
    expect(lpsToRas(rasToLps(p))).toEqual(p)
    expect(rasToLps(lpsToRas(p))).toEqual(p)
    const m = rigid(15, 25, -35, [0.01, 0.02, 0.03])
    expect(flipLpsRasMatrix(flipLpsRasMatrix(m))).toEqual(m)
    // F M F maps LPS points the way M maps RAS points.
    expect(maxAbsDiff(applyAffine(flipLpsRasMatrix(m), rasToLps(p)), rasToLps(applyAffine(m, p)))).toBeLessThan(1e-15)
  })
})

describe('seeded random', () => {
  test('reproducible, seed-dependent, uniform on [0, 1)', () => {
    const a = seededRandom(42)
    const b = seededRandom(42)
    const c = seededRandom(43)
    const xs = Array.from({ length: 100_000 }, () => a())
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()))
    expect(c()).not.toBe(xs[0])
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...xs)).toBeLessThan(1)
    // Mean 1/2 and variance 1/12 of U(0, 1); standard errors 9e-4 and 2.7e-4 at n = 1e5.
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005)
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.0015)
    const g = seededGaussian(7)
    const zs = Array.from({ length: 100_000 }, () => g())
    const zMean = zs.reduce((s, x) => s + x, 0) / zs.length
    const zVar = zs.reduce((s, x) => s + (x - zMean) ** 2, 0) / zs.length
    expect(Math.abs(zMean)).toBeLessThan(0.015)
    expect(Math.abs(zVar - 1)).toBeLessThan(0.02)
    expect([...seededBytes(5, 8)]).toEqual([...seededBytes(5, 8)])
  })
})
