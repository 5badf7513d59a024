/**
 * CEM43 (Sapareto & Dewey 1984, R = 0.5 at T >= 43 °C, 0.25 below) of known temperature
 * histories, exact to 1e-6: the reference values are worked out by hand in closed form here,
 * independently of core/thermal/cem43.ts's sinh form; and the CPU engine's dose map for a voxel
 * heated at a constant rate (no conduction, no perfusion: T = 37 + q t exactly).
 */
import { describe, expect, it } from 'vitest'
import { cem43Constant, cem43Linear, cem43OfHistory } from '../../../core/thermal/cem43.ts'
import { createCpuThermalBackend } from '../../../core/thermal/cpu.ts'
import type { ThermalMaterial } from '../../../core/thermal/properties.ts'
import { homogeneousBlock } from './helpers.ts'

/** Integral over [0, d] minutes of R^(43 - T) for T linear from t0 to t1 on one side of 43 °C. */
function rampByHand(t0: number, t1: number, d: number, r: number): number {
  // d/dt R^(43 - T(t)) = -ln(R) (t1 - t0)/d R^(43 - T), so the integral is the difference over that factor.
  return (d * (Math.pow(r, 43 - t1) - Math.pow(r, 43 - t0))) / (-Math.log(r) * (t1 - t0))
}

describe('CEM43 of known histories', () => {
  it('constant temperatures: 10 min at 43 °C is 10, 1 min at 44 °C is 2, 1 min at 42 °C is 0.25, 1 min at 37 °C is 0.25^6', () => {
    expect(cem43Constant(43, 10)).toBe(10)
    expect(cem43Constant(44, 1)).toBe(2)
    expect(cem43Constant(42, 1)).toBe(0.25)
    expect(cem43Linear(40, 40, 3)).toBeCloseTo(3 * 0.25 ** 3, 15)
    expect(Math.abs(cem43OfHistory([0, 60], [37, 37]) - 0.25 ** 6)).toBeLessThan(1e-15)
  })

  it('a piecewise-linear history (37 -> 45 °C ramp crossing 43, a hold, a cool-down) matches the closed form to 1e-6', () => {
    // t [s]: 0..60 at 37; 60..180 ramp 37 -> 45 (crosses 43 at 150 s); 180..210 hold 45; 210..270 ramp 45 -> 40 (crosses 43 at 234 s).
    const times = [0, 60, 180, 210, 270]
    const temps = [37, 37, 45, 45, 40]
    const expected =
      1 * 0.25 ** 6 +
      rampByHand(37, 43, 1.5, 0.25) +
      rampByHand(43, 45, 0.5, 0.5) +
      0.5 * 0.5 ** -2 +
      rampByHand(45, 43, 0.4, 0.5) +
      rampByHand(43, 40, 0.6, 0.25)
    const got = cem43OfHistory(times, temps)
    expect(Math.abs(got - expected)).toBeLessThan(1e-6)
    expect(Math.abs(got / expected - 1)).toBeLessThan(1e-6)
    // Cut into many small linear pieces (as the time stepping does), the same dose.
    const fineT: number[] = []
    const fineTemp: number[] = []
    for (let i = 0; i < times.length - 1; i++) {
      for (let s = 0; s < 37; s++) {
        const f = s / 37
        fineT.push(times[i]! + f * (times[i + 1]! - times[i]!))
        fineTemp.push(temps[i]! + f * (temps[i + 1]! - temps[i]!))
      }
    }
    fineT.push(270)
    fineTemp.push(40)
    expect(Math.abs(cem43OfHistory(fineT, fineTemp) / expected - 1)).toBeLessThan(1e-9)
  })

  it('the engine dose map of a voxel heated at a constant rate through 43 °C is exact to 1e-6', async () => {
    // No conduction, no perfusion: every interior voxel rises at q exactly; 3 K/min for 3 minutes (37 -> 46 °C).
    const material: ThermalMaterial = { name: 'insulator', conductivity: 0, specificHeat: 1000, perfusionMlPerMinKg: 0 }
    const problem = homogeneousBlock({ n: 5, spacingM: 1e-3, material, sourceWPerM3: () => 0.05 * 1000 * 1000 })
    const q = problem.heatingRate[62]! // K/s, the centre voxel (float32 value, used as is)
    expect(q).toBeCloseTo(0.05, 6)
    // Non-uniform steps, as a protocol's batches give.
    const batches = [
      { steps: 7, dtS: 11, level: 1 },
      { steps: 13, dtS: 3.7, level: 1 },
      { steps: 2, dtS: 29.95, level: 1 },
    ]
    const tEnd = batches.reduce((t, b) => t + b.steps * b.dtS, 0)
    const out = await createCpuThermalBackend().run({ problem, batches, recordMaps: true, probes: [62] })
    const qMin = q * 60
    const tCross = 6 / qMin
    const tEndMin = tEnd / 60
    const expected = rampByHand(37, 43, tCross, 0.25) + rampByHand(43, 37 + qMin * tEndMin, tEndMin - tCross, 0.5)
    expect(Math.abs(out.cem43![62]! / expected - 1)).toBeLessThan(1e-6)
    expect(out.maxRise![62]!).toBeCloseTo(q * tEnd, 4)
    // Held grid-edge voxels carry no dose and no rise.
    expect(out.cem43![0]).toBe(0)
    expect(out.maxRise![0]).toBe(0)
  })
})
