/**
 * Rigid transforms and the elastix EulerTransform conventions, checked against hand-worked
 * cases (so that a sign or order slip cannot hide behind a round trip) and round trips.
 */
import { describe, it, expect } from 'vitest'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { applyAffine, eulerRotation, lpsToRas, mat3MulVec, rotationAngleDeg, rotationOf, seededRandom } from '../../../core/math/index.ts'
import {
  applyRigid,
  boxCorners,
  composeRigid,
  elastixEulerFromFixedToMovingMm,
  elastixEulerFromRigid,
  elastixEulerToFixedToMovingMm,
  eulerAngles,
  invertRigid,
  matrixRowsMm,
  rigidFromElastixEuler,
  rigidFromRowsMm,
  rigidFromTransformFile,
  rigidTransform,
  transformError,
  transformFileMatrices,
  withConvention,
  type ElastixEuler,
  type RigidTransform,
} from '../../../core/registration/rigid.ts'
import { type Vec3 } from '../../../core/volume/index.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const TRUTH_FILE = path.join(ROOT, 'resources/samples/cranium-synthetic-t1.transform.json')
const DEG = Math.PI / 180

function expectVec(actual: readonly number[], expected: readonly number[], digits = 12): void {
  expect(actual.length).toBe(expected.length)
  actual.forEach((v, i) => expect(v, `component ${i}`).toBeCloseTo(expected[i]!, digits))
}

/** Deterministic pseudo-random numbers in [-1, 1). */
function rng(seed: number): () => number {
  const random = seededRandom(seed)
  return () => 2 * random() - 1
}

const truthDoc = JSON.parse(readFileSync(TRUTH_FILE, 'utf8')) as { matrix_lps_mm: number[][]; matrix_ras_mm: number[][] }
const truth = rigidFromRowsMm(truthDoc.matrix_lps_mm, 'MRI', 'CT', 'LPS')

describe('Euler angles (ITK Euler3DTransform)', () => {
  it('R = Rz Rx Ry by default, Rz Ry Rx with ComputeZYX (worked by hand for 90-degree turns)', () => {
    // θx = θy = 90°: Ry(90) e_x = -e_z, Rx(90) (-e_z) = e_y, so Rz Rx Ry e_x = e_y ...
    expectVec(mat3MulVec(eulerRotation(90 * DEG, 90 * DEG, 0, false), [1, 0, 0]), [0, 1, 0])
    // ... while Rz Ry Rx e_x = Ry e_x = -e_z.
    expectVec(mat3MulVec(eulerRotation(90 * DEG, 90 * DEG, 0, true), [1, 0, 0]), [0, 0, -1])
    // θz = 90° alone turns +x into +y (right-handed, counter-clockwise seen from +z).
    expectVec(mat3MulVec(eulerRotation(0, 0, 90 * DEG), [1, 0, 0]), [0, 1, 0])
  })

  it('angles -> matrix -> angles round trip, both orders, incl. the gimbal lock', () => {
    const r = rng(7)
    for (const zyx of [false, true]) {
      for (let n = 0; n < 200; n++) {
        // First angle of the pair kept inside (-90°, 90°), the range extraction returns.
        const a: [number, number, number] = zyx ? [r() * Math.PI, r() * 0.49 * Math.PI, r() * Math.PI] : [r() * 0.49 * Math.PI, r() * Math.PI, r() * Math.PI]
        expectVec(eulerAngles(eulerRotation(...a, zyx), zyx), a, 9)
      }
      // At the lock the decomposition is not unique: the matrix must come back, not the angles.
      const locked: [number, number, number] = zyx ? [0.3, 90 * DEG, -0.2] : [90 * DEG, 0.4, -0.7]
      const rot = eulerRotation(...locked, zyx)
      expectVec(eulerRotation(...eulerAngles(rot, zyx), zyx), rot, 9)
    }
  })
})

describe('elastix EulerTransform <-> rigid transform', () => {
  // θz = 90° about c = (10, 0, 0) mm, t = (0, 0, 5) mm. elastix: T(p) = R (p - c) + c + t, so
  // the fixed point (20, 0, 0) mm goes to the moving point (10, 10, 5) mm (worked by hand).
  const handCase: ElastixEuler = { parameters: [0, 0, 90 * DEG, 0, 0, 5], centerOfRotationMm: [10, 0, 0], computeZYX: false }

  it('elastix maps FIXED to MOVING points, LPS mm, about the centre of rotation', () => {
    const m = elastixEulerToFixedToMovingMm(handCase)
    expectVec(applyAffine(m, [20, 0, 0]), [10, 10, 5])
    expectVec(applyAffine(m, [10, 0, 0]), [10, 0, 5]) // the centre moves by t only
  })

  it('rigidFromElastixEuler inverts it: MOVING -> FIXED, LPS metres, frames labelled', () => {
    const t = rigidFromElastixEuler(handCase, { fixed: 'CT', moving: 'MRI' })
    expect(t).toMatchObject({ from: 'MRI', to: 'CT', convention: 'LPS' })
    expectVec(applyRigid(t, [0.01, 0.01, 0.005]), [0.02, 0, 0])
    // The same map in RAS: x and y flip on both sides.
    const ras = withConvention(t, 'RAS')
    expectVec(applyRigid(ras, lpsToRas([0.01, 0.01, 0.005])), lpsToRas([0.02, 0, 0]))
  })

  it('matrix -> Euler parameters -> matrix round trip; any centre gives the same map', () => {
    const r = rng(11)
    for (let n = 0; n < 50; n++) {
      const e: ElastixEuler = {
        parameters: [r() * 0.5, r() * 0.5, r() * 3, r() * 30, r() * 30, r() * 30],
        centerOfRotationMm: [r() * 100, r() * 100, r() * 100],
        computeZYX: n % 2 === 1,
      }
      const m = elastixEulerToFixedToMovingMm(e)
      const back = elastixEulerFromFixedToMovingMm(m, e.centerOfRotationMm, e.computeZYX)
      expectVec(back.parameters, e.parameters, 9)
      const elsewhere = elastixEulerFromFixedToMovingMm(m, [5, -7, 40], e.computeZYX)
      expectVec(elastixEulerToFixedToMovingMm(elsewhere), m, 9)
    }
  })

  it('the samples ground truth (p_ct = M p_t1) goes to elastix as its inverse and back', () => {
    const e = elastixEulerFromRigid(truth, [-21.5, -21.5, -0.25])
    // elastix's map takes a CT point to the T1 point it came from.
    const pT1: Vec3 = [30, -40, 25]
    const pCt = applyAffine(truthDoc.matrix_lps_mm.flat(), pT1)
    expectVec(applyAffine(elastixEulerToFixedToMovingMm(e), pCt), pT1, 9)
    const back = rigidFromElastixEuler(e, { fixed: 'CT', moving: 'MRI' })
    expectVec(back.matrix, truth.matrix, 12)
    // A RAS transform in gives the same parameters as its LPS twin.
    expectVec(elastixEulerFromRigid(withConvention(truth, 'RAS'), [-21.5, -21.5, -0.25]).parameters, e.parameters, 12)
  })
})

describe('rigid transform algebra', () => {
  it('LPS <-> RAS agrees with the samples file and is its own inverse', () => {
    const ras = withConvention(truth, 'RAS')
    expect(ras.convention).toBe('RAS')
    expectVec(matrixRowsMm(ras).flat(), truthDoc.matrix_ras_mm.flat(), 12)
    expectVec(withConvention(ras, 'LPS').matrix, truth.matrix, 15)
    const p: Vec3 = [0.01, -0.02, 0.03]
    expectVec(applyRigid(ras, lpsToRas(p)), lpsToRas(applyRigid(truth, p)), 14)
  })

  it('inverse and composition', () => {
    const inv = invertRigid(truth)
    expect(inv).toMatchObject({ from: 'CT', to: 'MRI', convention: 'LPS' })
    expectVec(composeRigid(inv, truth).matrix, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 14)
    expectVec(composeRigid(truth, inv).matrix, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 14)
    expect(composeRigid(inv, truth)).toMatchObject({ from: 'MRI', to: 'MRI' })
    expect(() => composeRigid(truth, truth)).toThrow(/lands in "CT".*starts from "MRI"/)
    expect(() => composeRigid(withConvention(inv, 'RAS'), truth)).toThrow(/convert/)
  })

  it('rejects matrices that are not rigid', () => {
    const scaled = [1.01, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    const mirrored = [-1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    expect(() => rigidTransform(scaled, 'a', 'b', 'LPS')).toThrow(/not a rotation/)
    expect(() => rigidTransform(mirrored, 'a', 'b', 'LPS')).toThrow(/reflection/)
    expect(() => rigidTransform([1, 0, 0], 'a', 'b', 'LPS')).toThrow(/16 finite/)
  })

  it('transformError: translation and rotation differences, corners give the exact maximum over a box', () => {
    const a = rigidTransform([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 'MRI', 'CT', 'LPS')
    const shifted = rigidTransform([1, 0, 0, 0.001, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 'MRI', 'CT', 'LPS')
    const box = boxCorners([-0.1, -0.1, -0.1], [0.1, 0.1, 0.1])
    expect(transformError(a, shifted, box)).toEqual({ maxTranslationErrorM: expect.closeTo(0.001, 12) as number, rotationErrorDeg: 0 })
    // 2 degrees about z through the origin: corners at radius 0.1 * sqrt(2) in xy move by 2 r sin(1°).
    const c = Math.cos(2 * DEG)
    const s = Math.sin(2 * DEG)
    const turned = rigidTransform([c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 'MRI', 'CT', 'LPS')
    const err = transformError(a, turned, box)
    expect(err.rotationErrorDeg).toBeCloseTo(2, 10)
    expect(err.maxTranslationErrorM).toBeCloseTo(2 * 0.1 * Math.SQRT2 * Math.sin(1 * DEG), 12)
    // A dense grid inside the box never beats the corners.
    const grid: Vec3[] = []
    for (let i = 0; i <= 10; i++) for (let j = 0; j <= 10; j++) for (let k = 0; k <= 10; k++) grid.push([-0.1 + 0.02 * i, -0.1 + 0.02 * j, -0.1 + 0.02 * k])
    const combined = composeRigid(shifted, invertRigid(composeRigid(invertRigid(turned), a)))
    const viaGrid = transformError(a, combined, grid)
    const viaCorners = transformError(a, combined, box)
    expect(viaGrid.maxTranslationErrorM).toBeLessThanOrEqual(viaCorners.maxTranslationErrorM + 1e-15)
    // Conventions are reconciled; frames must match.
    expect(transformError(a, withConvention(shifted, 'RAS'), box).maxTranslationErrorM).toBeCloseTo(0.001, 12)
    expect(() => transformError(a, invertRigid(shifted), box)).toThrow(/cannot compare/)
  })

  it('rotationAngleDeg of the samples rotation (6° about z then -4° about x)', () => {
    const angle = rotationAngleDeg(rotationOf(truth.matrix))
    // cos θ = (trace - 1) / 2 with trace = cos6 + cos6 cos4 + cos4 for Rz(6) Rx(-4).
    const c6 = Math.cos(6 * DEG)
    const c4 = Math.cos(4 * DEG)
    expect(angle).toBeCloseTo(Math.acos((c6 + c6 * c4 + c4 - 1) / 2) / DEG, 10)
  })
})

describe('transform files', () => {
  it('reads the samples ground truth (LPS mm, frames given by the caller)', () => {
    const t = rigidFromTransformFile(truthDoc, { from: 'MRI', to: 'CT' })
    expectVec(t.matrix, truth.matrix, 15)
  })

  it('matrices written by transformFileMatrices read back, preferring RAS metres', () => {
    const ras: RigidTransform = withConvention(truth, 'RAS')
    const doc = { from: 'MRI', to: 'CT', ...transformFileMatrices(truth) }
    expectVec(doc.matrix_ras_m.flat(), ras.matrix, 15)
    expectVec(doc.matrix_lps_mm.flat(), truthDoc.matrix_lps_mm.flat(), 12)
    const back = rigidFromTransformFile(doc)
    expect(back).toMatchObject({ from: 'MRI', to: 'CT', convention: 'RAS' })
    expectVec(back.matrix, ras.matrix, 15)
    expect(() => rigidFromTransformFile({ from: 'a', to: 'b', matrix_ras_m: [[1, 0, 0]] })).toThrow(/4 rows of 4/)
    expect(() => rigidFromTransformFile({ matrix_ras_m: doc.matrix_ras_m })).toThrow(/from.*to/)
  })
})
