/**
 * The other source shapes against closed-form or integral references: a flat piston on its
 * axis (exact Rayleigh result, docs/physics.md §2) and a two-ring annular array with different ring
 * phases against the Rayleigh integral of the same rings (superposition of cap integrals).
 */
import { describe, it, expect } from 'vitest'
import { fermatSpiralBowlPoints, rayleighPressure } from '../../../core/solver/analytic/index.ts'
import { runScene } from '../../helpers/solver.ts'

const F = 500000
const K = (2 * Math.PI * F) / 1500

describe('disc and annular sources', () => {
  it('20 mm piston: on-axis amplitude within 2 % of 2 rho c u0 |sin(k(sqrt(z^2 + a^2) - z) / 2)|', async () => {
    const dx = 0.00075
    const { scene, result } = await runScene({
      frequency_hz: F,
      grid: { spacing_m: dx, min_m: [0, -0.0135, -0.0135], max_m: [0.048, 0.0135, 0.0135] },
      background: { sound_speed: 1500, density: 1000, alpha_db_cm: 0 },
      source: { type: 'disc', center_m: [0, 0, 0], toward_m: [1, 0, 0], diameter_m: 0.02, amplitude_pa: 60000 },
    })
    const [nx, ny, nz] = scene.grid.size
    const axis = nx * ((ny - 1) / 2 + ny * ((nz - 1) / 2))
    let worst = 0
    for (let i = Math.round(0.005 / dx); i < nx; i++) {
      const z = i * dx
      const exact = 2 * 60000 * Math.abs(Math.sin((K * (Math.sqrt(z * z + 1e-4) - z)) / 2))
      worst = Math.max(worst, Math.abs(result.amplitudePa[axis + i]! - exact) / 120000)
    }
    expect(worst).toBeLessThan(0.02)
  })

  it('two-ring annular array with a 1.2 rad phase step: on-axis field within 3 % of the Rayleigh integral', async () => {
    const R = 0.02
    const dx = 0.0006
    const rings = [
      { inner_m: 0, outer_m: 0.012, amplitude_pa: 60000, phase_rad: 0 },
      { inner_m: 0.012, outer_m: 0.02, amplitude_pa: 60000, phase_rad: 1.2 },
    ]
    const { scene, result } = await runScene({
      frequency_hz: F,
      grid: { spacing_m: dx, min_m: [0, -0.0108, -0.0108], max_m: [0.036, 0.0108, 0.0108] },
      background: { sound_speed: 1500, density: 1000, alpha_db_cm: 0 },
      source: { type: 'annular', apex_m: [0, 0, 0], focus_m: [R, 0, 0], roc_m: R, rings },
    })
    const [nx, ny, nz] = scene.grid.size
    const axis = nx * ((ny - 1) / 2 + ny * ((nz - 1) / 2))
    // Rayleigh: ring 2 = cap(20 mm) - cap(12 mm), sampled at the same density.
    const u0 = 60000 / (1000 * 1500)
    const start = Math.round(0.004 / dx)
    const count = nx - start
    const line = new Float64Array(3 * count)
    for (let i = 0; i < count; i++) line[3 * i] = (start + i) * dx
    const medium = { frequencyHz: F, soundSpeed: 1500, density: 1000, u0 }
    const inner = fermatSpiralBowlPoints(R, 0.012, 40000, { sampling: 'midpoint' })
    const outer = fermatSpiralBowlPoints(R, 0.02, Math.round((40000 * (1 - Math.sqrt(1 - 0.5 ** 2))) / (1 - Math.sqrt(1 - 0.3 ** 2))), { sampling: 'midpoint' })
    const pInner = rayleighPressure(inner.xyz, inner.areaPerPointM2, line, medium)
    const pOuter = rayleighPressure(outer.xyz, outer.areaPerPointM2, line, medium)
    const c = Math.cos(1.2)
    const s = Math.sin(1.2)
    let peak = 0
    const expected = new Float64Array(count)
    for (let i = 0; i < count; i++) {
      const ringRe = pOuter.re[i]! - pInner.re[i]!
      const ringIm = pOuter.im[i]! - pInner.im[i]!
      expected[i] = Math.hypot(pInner.re[i]! + ringRe * c - ringIm * s, pInner.im[i]! + ringRe * s + ringIm * c)
      peak = Math.max(peak, expected[i]!)
    }
    let worst = 0
    for (let i = 0; i < count; i++) worst = Math.max(worst, Math.abs(result.amplitudePa[axis + start + i]! - expected[i]!) / peak)
    expect(worst).toBeLessThan(0.03)
  })
})
