/**
 * A focused bowl in water against the analytic field computed here: O'Neil (1949) on the axis
 * and the Rayleigh integral across it. A smaller F-number-1 bowl than ITRUSST BM1 (ROC and
 * aperture 32 mm, 500 kHz, 0.75 mm grid) with BM1's relative tolerances, so the check runs on
 * the CPU in about a minute; the full-size BM1 runs in `npm run validate`.
 */
import { describe, it, expect } from 'vitest'
import { oneilPeak, oneilAxialFwhm6dB, rayleighPressure, fermatSpiralBowlPoints, fwhmAlongLine } from '../../../core/solver/analytic/index.ts'
import { focalMetrics } from '../../../core/solver/metrics.ts'
import { runScene } from '../../helpers/solver.ts'

const R = 0.032
const F = 500000
const U0 = 60000 / (1000 * 1500)

describe('focused bowl in water (CPU backend)', () => {
  it("peak within 2 % of O'Neil, position within 0.5 mm, -6 dB widths within 5 % of the analytic field", async () => {
    const { scene, result } = await runScene({
      frequency_hz: F,
      grid: { spacing_m: 0.00075, min_m: [0, -0.018, -0.018], max_m: [0.0525, 0.018, 0.018] },
      background: { sound_speed: 1500, density: 1000, alpha_db_cm: 0 },
      source: { type: 'bowl', apex_m: [0, 0, 0], focus_m: [R, 0, 0], roc_m: R, aperture_m: R, amplitude_pa: 60000 },
    })
    expect(result.converged).toBe(true)
    const m = focalMetrics(result.amplitudePa, scene.grid, scene.source.elements)

    const params = { rocM: R, apertureDiameterM: R, frequencyHz: F, soundSpeed: 1500, density: 1000, u0: U0 }
    const peak = oneilPeak(params)
    const axial = oneilAxialFwhm6dB(params)
    // Lateral -6 dB width in the peak plane from the Rayleigh integral (O'Neil's J1 form is a
    // small-angle approximation, ~1 % wide at F# = 1).
    const points = fermatSpiralBowlPoints(R, R, 60000, { sampling: 'midpoint' })
    const n = 801
    const line = new Float64Array(3 * n)
    const ys = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      ys[i] = -0.008 + (0.016 * i) / (n - 1)
      line[3 * i] = peak.zM
      line[3 * i + 1] = ys[i]!
    }
    const field = rayleighPressure(points.xyz, points.areaPerPointM2, line, { frequencyHz: F, soundSpeed: 1500, density: 1000, u0: U0 })
    let top = 0
    for (let i = 1; i < n; i++) if (field.amplitude[i]! > field.amplitude[top]!) top = i
    const lateral = fwhmAlongLine(field.amplitude, ys, top)

    expect(Math.abs(m.peakPa / peak.amplitude - 1)).toBeLessThan(0.02)
    expect(Math.abs(m.peakDistanceFromSourceM - peak.zM)).toBeLessThan(0.0005)
    expect(Math.abs(m.fwhm6dbAxialM / axial.lengthM - 1)).toBeLessThan(0.05)
    expect(Math.abs(m.fwhm6dbLateralM / lateral - 1)).toBeLessThan(0.05)
    expect(Math.abs(m.fwhm6dbLateral2M / lateral - 1)).toBeLessThan(0.05)
  })
})
