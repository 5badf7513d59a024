/**
 * Placement on the real sample CT: the right answer or the right refusal for a target too deep
 * for the device, an entry over the orbit, a path through the frontal sinus, a transducer that
 * would cut into the head, an oblique entry, a target outside the brain, and a proposed entry.
 */
import { describe, it, expect, beforeAll } from 'vitest'
import * as path from 'node:path'
import { readVolume } from '../../../electron/adapters/volume-io.ts'
import { segmentHead } from '../../../core/planning/masks.ts'
import { CtSampler, placeTransducer, proposeEntry, PlacementError, type PlacementDevice } from '../../../core/planning/placement.ts'
import type { Vec3 } from '../../../core/volume/index.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
let sampler: CtSampler

// The ITRUSST bowl (ROC 64 mm, aperture 64 mm, rim at 8.57 mm) with 0-30 mm of coupling.
const BOWL: PlacementDevice = {
  id: 'itrusst-bm-bowl',
  kind: 'bowl',
  rocM: 0.064,
  apertureM: 0.064,
  exitPlaneOffsetM: 0.0085744,
  minStandoffM: 0,
  maxStandoffM: 0.03,
}
// A small steerable array with a generous range, so only the path checks decide.
const SMALL: PlacementDevice = {
  id: 'small-annular',
  kind: 'annular',
  rocM: 0.12,
  apertureM: 0.02,
  exitPlaneOffsetM: 0.002,
  minStandoffM: 0.01,
  maxStandoffM: 0.05,
  focalRangeM: [0.005, 0.15],
}

const LATERAL_TARGET: Vec3 = [0.03, -0.018, 0.0135]

function refusal(run: () => unknown): PlacementError {
  try {
    run()
  } catch (e) {
    if (e instanceof PlacementError) return e
    throw e
  }
  throw new Error('placement was accepted')
}

beforeAll(async () => {
  const ct = await readVolume(path.join(ROOT, 'resources/samples/cranium-ct.nii.gz'))
  sampler = new CtSampler(ct, segmentHead(ct))
})

describe('transducer placement on the sample CT', () => {
  it('a lateral entry: axis through the target, focus on the target, exit plane on the scalp', () => {
    const p = placeTransducer(sampler, BOWL, LATERAL_TARGET, [0.1, -0.018, 0.0135])
    const m = p.pose.transducerToRas
    const focus = [0, 1, 2].map((r) => m[4 * r + 2]! * BOWL.rocM + m[4 * r + 3]!)
    focus.forEach((v, i) => expect(v).toBeCloseTo(LATERAL_TARGET[i]!, 9))
    // +z (third column) points from the entry side toward the target (-x in RAS here).
    expect(m[2]).toBeCloseTo(-1, 6)
    expect(p.path.skullThicknessM).toBeGreaterThan(0.002)
    expect(p.path.skullThicknessM).toBeLessThan(0.012)
    expect(p.path.incidenceAngleDeg).toBeLessThan(20)
    expect(p.pose.standoffM).toBeGreaterThanOrEqual(0)
    expect(p.path.exitPlaneToTargetM + BOWL.exitPlaneOffsetM).toBeCloseTo(BOWL.rocM, 9)
    // The pose is rigid: orthonormal columns, determinant +1.
    const col = (c: number) => [m[c]!, m[4 + c]!, m[8 + c]!]
    const [a, b, c] = [col(0), col(1), col(2)]
    const dotp = (u: number[], v: number[]) => u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!
    expect(dotp(a, b)).toBeCloseTo(0, 12)
    expect(dotp(a, a)).toBeCloseTo(1, 12)
    const det = a[0]! * (b[1]! * c[2]! - b[2]! * c[1]!) - a[1]! * (b[0]! * c[2]! - b[2]! * c[0]!) + a[2]! * (b[0]! * c[1]! - b[1]! * c[0]!)
    expect(det).toBeCloseTo(1, 12)
  })

  it('refuses a target too deep for the fixed-focus bowl, saying how deep it can reach', () => {
    const e = refusal(() => placeTransducer(sampler, BOWL, [-0.003, -0.018, -0.0065], [0.1, -0.018, -0.0065]))
    expect(e.code).toBe('too-deep')
    expect(e.message).toMatch(/at most 55\.4 mm below the scalp/)
  })

  it('refuses an entry over the orbit', () => {
    const e = refusal(() => placeTransducer(sampler, SMALL, [0.03, 0.015, -0.01], [0.03, 0.1, -0.016]))
    expect(e.code).toBe('orbit')
  })

  it('refuses a path through the frontal sinus, saying where the air is', () => {
    const e = refusal(() => placeTransducer(sampler, SMALL, [0, 0.02, 0.005], [0, 0.12, 0]))
    expect(e.code).toBe('air-on-path')
    expect(e.message).toMatch(/from the scalp point/)
  })

  it('refuses a pose whose transducer would cut into the head', () => {
    // A 60 mm, nearly flat face on the side of the head with 2 mm of coupling: the head's
    // curvature (sag of a few mm over 30 mm) brings the rim into the scalp.
    const wideFlat: PlacementDevice = { ...SMALL, id: 'wide-flat', apertureM: 0.06, minStandoffM: 0.002 }
    const e = refusal(() => placeTransducer(sampler, wideFlat, LATERAL_TARGET, [0.1, -0.018, 0.0135]))
    expect(e.code).toBe('intersects-head')
  })

  it('accepts an oblique entry and reports the larger incidence angle', () => {
    const straight = placeTransducer(sampler, SMALL, LATERAL_TARGET, [0.1, -0.018, 0.0135])
    const oblique = placeTransducer(sampler, SMALL, LATERAL_TARGET, [0.1, 0.022, 0.0435])
    expect(oblique.path.incidenceAngleDeg).toBeGreaterThan(straight.path.incidenceAngleDeg + 5)
    expect(oblique.path.scalpToTargetM).toBeGreaterThan(straight.path.scalpToTargetM)
  })

  it('refuses a target outside the head or in bone', () => {
    expect(refusal(() => placeTransducer(sampler, BOWL, [0.2, 0, 0], [0.3, 0, 0])).code).toBe('target-outside-head')
  })

  it('proposes a feasible entry when none is given, or says why none exists', () => {
    const p = proposeEntry(sampler, BOWL, LATERAL_TARGET)
    expect(p.path.scalpToTargetM).toBeLessThan(BOWL.rocM - BOWL.exitPlaneOffsetM + 1e-9)
    expect(p.path.incidenceAngleDeg).toBeLessThan(25)
    const e = refusal(() => proposeEntry(sampler, BOWL, [-0.003, -0.018, -0.0065]))
    expect(e.code).toBe('no-entry-found')
    expect(e.message).toMatch(/too-deep: \d+/)
  })
})
