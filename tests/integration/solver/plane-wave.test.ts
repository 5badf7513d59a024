/**
 * Plane waves against closed-form physics: the additive source's amplitude (a planar monopole
 * layer of amplitude p0 launches p0 each way, docs/physics.md §6.5), transmission through a flat
 * bone layer (transfer matrix, docs/physics.md §3), and the attenuation the model realises for
 * power-law exponents y != 2 with and without compensation (docs/physics.md §6.1).
 */
import { describe, it, expect } from 'vitest'
import { layerTransmission, dbPerCmToNpPerM } from '../../../core/solver/analytic/index.ts'
import { realisedWavenumber, plainAlpha0 } from '../../../core/solver/absorption.ts'
import { planeWaveScene, runScene, wrap } from '../../helpers/solver.ts'

const WATER = { sound_speed: 1500, density: 1000, alpha_db_cm: 0 }
const CORTICAL = { sound_speed: 2800, density: 1850 }

async function transmission(y: number, alphaDbCm: number, dx: number, cfl: number) {
  const background = { ...WATER, alpha_power: y }
  const common = { dx, lengthM: 0.06, sourceAtM: 0.01, background, cfl }
  const water = await runScene(planeWaveScene(common))
  const layer = await runScene(
    planeWaveScene({ ...common, objects: [{ shape: 'slab', axis: 0, from_m: 0.03, to_m: 0.0365, material: { ...CORTICAL, alpha_db_cm: alphaDbCm } }] }),
  )
  const probe = Math.round(0.05 / dx)
  const t = layerTransmission({
    frequencyHz: 5e5,
    incident: { c: 1500, rho: 1000 },
    layers: [{ c: 2800, rho: 1850, alphaNpM: dbPerCmToNpPerM(alphaDbCm), thicknessM: 0.0065 }],
    transmitted: { c: 1500, rho: 1000 },
  })
  return {
    measured: layer.result.amplitudePa[probe]! / water.result.amplitudePa[probe]!,
    measuredPhase: wrap(layer.result.phaseRad[probe]! - water.result.phaseRad[probe]!),
    analytic: t.tAmplitude,
    analyticPhase: wrap(t.tPhaseRelativeRad),
    water,
    layer,
  }
}

const DEG = Math.PI / 180

describe('plane waves', () => {
  it('a planar additive source of 60 kPa launches a 60 kPa plane wave', async () => {
    const { result } = await runScene(planeWaveScene({ dx: 0.0005, lengthM: 0.04, sourceAtM: 0.01, background: WATER }))
    for (const x of [0.015, 0.025, 0.035]) expect(result.amplitudePa[Math.round(x / 0.0005)]! / 60000).toBeCloseTo(1, 3)
    // Phase advances by k dx per point (e^{+i omega t} convention: later arrival, smaller phase).
    const k = (2 * Math.PI * 5e5) / 1500
    const dphi = wrap(result.phaseRad[60]! - result.phaseRad[40]!)
    expect(dphi).toBeCloseTo(wrap(-k * 0.01), 2)
  })

  it('6.5 mm cortical layer, 4 dB/cm, y = 2: |T| within 2 %, phase within 3 degrees', async () => {
    const r = await transmission(2, 4, 0.00025, 0.15)
    expect(r.analytic).toBeCloseTo(0.4804, 4)
    expect(Math.abs(r.measured / r.analytic - 1)).toBeLessThan(0.02)
    expect(Math.abs(wrap(r.measuredPhase - r.analyticPhase))).toBeLessThan(3 * DEG)
  })

  it('6.5 mm cortical layer, lossless: |T| within 2 %, phase within 3 degrees', async () => {
    const r = await transmission(2, 0, 0.00025, 0.15)
    expect(r.analytic).toBeCloseTo(0.5983, 4)
    expect(Math.abs(r.measured / r.analytic - 1)).toBeLessThan(0.02)
    expect(Math.abs(wrap(r.measuredPhase - r.analyticPhase))).toBeLessThan(3 * DEG)
  })

  it('6.5 mm cortical layer, 4 dB/cm at y = 1.5 with compensation: |T| within 2 %, phase within 3 degrees', async () => {
    const r = await transmission(1.5, 4, 0.00025, 0.15)
    expect(r.layer.result.plan.absorptionCompensated).toBe(true)
    expect(Math.abs(r.measured / r.analytic - 1)).toBeLessThan(0.02)
    expect(Math.abs(wrap(r.measuredPhase - r.analyticPhase))).toBeLessThan(3 * DEG)
  })
})

describe('power-law absorption at y != 2', () => {
  async function realised(y: number, alphaDbCm: number, compensate: boolean) {
    const dx = 0.00025
    const { result } = await runScene(
      planeWaveScene({
        dx,
        lengthM: 0.05,
        sourceAtM: 0.005,
        background: { sound_speed: 2800, density: 1850, alpha_db_cm: alphaDbCm, alpha_power: y },
        cfl: 0.15,
        compensate,
      }),
    )
    const i1 = Math.round(0.02 / dx)
    const i2 = Math.round(0.04 / dx)
    return Math.log(result.amplitudePa[i1]! / result.amplitudePa[i2]!) / 0.02
  }

  it('y = 1.5, compensated: the realised attenuation equals the request within 1 %', async () => {
    const requested = dbPerCmToNpPerM(4)
    expect(Math.abs((await realised(1.5, 4, true)) / requested - 1)).toBeLessThan(0.01)
  })

  it('y = 1.1 in bone, uncompensated: only about 30 % of 16 dB/cm is realised, as the dispersion relation predicts', async () => {
    const requested = dbPerCmToNpPerM(16)
    const fraction = (await realised(1.1, 16, false)) / requested
    expect(fraction).toBeGreaterThan(0.25)
    expect(fraction).toBeLessThan(0.35)
  })

  it('y = 1.1 at 4 dB/cm, uncompensated: the simulation follows the model dispersion relation (not the request)', async () => {
    const requested = dbPerCmToNpPerM(4)
    const omega = 2 * Math.PI * 5e5
    const predicted = realisedWavenumber(plainAlpha0(requested, 1.1, omega), 2800, 1.1, omega).attenuationNpM
    const measured = await realised(1.1, 4, false)
    expect(predicted / requested).toBeLessThan(0.7)
    expect(Math.abs(measured / predicted - 1)).toBeLessThan(0.03)
  })
})
