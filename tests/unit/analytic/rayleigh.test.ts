import { describe, it, expect } from 'vitest'
import {
  BM1,
  bowlGeometry,
  discPoints,
  fermatSpiralBowlPoints,
  fwhmAlongLine,
  halfMaxCrossings,
  lineOfPoints,
  oneilOnAxis,
  oneilPeak,
  rayleighPressure,
} from '../../../core/solver/analytic/index.ts'

// Outside reference numbers: docs/physics.md §2 ("Rayleigh check", "Focal widths", SC2 piston).
const MM = 1e-3
const R = BM1.rocM
const D = BM1.apertureDiameterM
const RHO_C_U0 = BM1.density * BM1.soundSpeed * BM1.u0
const K = (2 * Math.PI * BM1.frequencyHz) / BM1.soundSpeed

/** Largest |p_rayleigh - p_oneil| on the axis from 10 to 120 mm (1 mm steps), over the O'Neil peak. */
function axisErrorOverPeak(n: number, sampling: 'kwave' | 'midpoint', alphaNpM = 0): number {
  const params = { ...BM1, alphaNpM }
  const src = fermatSpiralBowlPoints(R, D, n, { sampling })
  const field = lineOfPoints([0.01, 0, 0], [0.12, 0, 0], 111)
  const p = rayleighPressure(src.xyz, src.areaPerPointM2, field, params)
  let worst = 0
  for (let i = 0; i < 111; i++) {
    const o = oneilOnAxis(params, field[3 * i]!)
    worst = Math.max(worst, Math.hypot(p.re[i]! - o.re, p.im[i]! - o.im))
  }
  return worst / oneilPeak(params).amplitude
}

describe('fermatSpiralBowlPoints', () => {
  it('samples the cap like makeCartBowl: apex first, rim last, on the sphere, equal areas', () => {
    const n = 1000
    const { xyz, areaPerPointM2 } = fermatSpiralBowlPoints(R, D, n)
    const { depthM: h, apertureRadiusM: a } = bowlGeometry(BM1)
    expect(areaPerPointM2 * n).toBeCloseTo(2 * Math.PI * R * h, 15)
    expect([xyz[0], xyz[1], xyz[2]]).toEqual([0, 0, 0])
    const last = 3 * (n - 1)
    expect(xyz[last]!).toBeCloseTo(h, 15)
    expect(Math.hypot(xyz[last + 1]!, xyz[last + 2]!)).toBeCloseTo(a, 15)
    for (let t = 0; t < n; t++) {
      const x = xyz[3 * t]!
      expect(Math.hypot(x - R, xyz[3 * t + 1]!, xyz[3 * t + 2]!)).toBeCloseTo(R, 14)
      // Equal-area spacing: the cap area up to point t, 2 pi R x, is linear in t.
      expect(x).toBeCloseTo((h * t) / (n - 1), 15)
    }
  })

  it('midpoint sampling puts every point at the centre of its equal-area zone', () => {
    const n = 10
    const { xyz } = fermatSpiralBowlPoints(R, D, n, { sampling: 'midpoint' })
    const h = bowlGeometry(BM1).depthM
    for (let t = 0; t < n; t++) expect(xyz[3 * t]!).toBeCloseTo((h * (t + 0.5)) / n, 15)
  })
})

describe("rayleighPressure vs O'Neil on the axis (BM1)", () => {
  it('agrees to better than 1e-4 of the peak from 10 to 120 mm with 200k makeCartBowl points', () => {
    // First-order quadrature (apex and rim both carry a full weight): ~2e-5 at 2e5 points.
    expect(axisErrorOverPeak(200_000, 'kwave')).toBeLessThan(1e-4)
  })

  it('agrees to ~1e-9 with midpoint sampling, also in an absorbing medium (complex k)', () => {
    expect(axisErrorOverPeak(100_000, 'midpoint')).toBeLessThan(1e-8)
    expect(axisErrorOverPeak(100_000, 'midpoint', 11.51)).toBeLessThan(1e-8)
  })
})

describe('Rayleigh lateral -6 dB widths (BM1)', () => {
  const src = fermatSpiralBowlPoints(R, D, 100_000)
  const widthAt = (x: number, axis: 1 | 2): number => {
    const n = 101
    const from: [number, number, number] = [x, 0, 0]
    const to: [number, number, number] = [x, 0, 0]
    from[axis] = -2.5 * MM
    to[axis] = 2.5 * MM
    const line = lineOfPoints(from, to, n)
    const field = rayleighPressure(src.xyz, src.areaPerPointM2, line, BM1)
    const pos = Array.from({ length: n }, (_, i) => line[3 * i + axis]!)
    return fwhmAlongLine(field.amplitude, pos, (n - 1) / 2)
  }

  it('is 4.066 mm in the peak plane and 4.175 mm in the focal plane (within 0.5 %)', () => {
    const zPeak = oneilPeak(BM1).zM
    for (const axis of [1, 2] as const) {
      expect(Math.abs(widthAt(zPeak, axis) / (4.066 * MM) - 1)).toBeLessThan(0.005)
      expect(Math.abs(widthAt(R, axis) / (4.175 * MM) - 1)).toBeLessThan(0.005)
    }
  })
})

describe('SC2 piston (D = 20 mm) on the axis', () => {
  it('matches |p| = 2 rho c u0 |sin(k(sqrt(z^2 + a^2) - z)/2)| and its complex form', () => {
    const a = 0.01
    const src = discPoints(2 * a, 50_000)
    expect(src.areaPerPointM2 * 50_000).toBeCloseTo(Math.PI * a * a, 15)
    const n = 119
    const line = lineOfPoints([0.002, 0, 0], [0.12, 0, 0], n)
    const p = rayleighPressure(src.xyz, src.areaPerPointM2, line, BM1)
    let worst = 0
    for (let i = 0; i < n; i++) {
      const z = line[3 * i]!
      const B = Math.hypot(z, a)
      const exact = 2 * RHO_C_U0 * Math.abs(Math.sin((K * (B - z)) / 2))
      expect(Math.abs(p.amplitude[i]! - exact) / (2 * RHO_C_U0)).toBeLessThan(1e-6)
      // The same Rayleigh integral in closed form: rho c u0 (e^{-ikz} - e^{-ikB}).
      const re = RHO_C_U0 * (Math.cos(K * z) - Math.cos(K * B))
      const im = RHO_C_U0 * (Math.sin(K * B) - Math.sin(K * z))
      worst = Math.max(worst, Math.hypot(p.re[i]! - re, p.im[i]! - im))
    }
    expect(worst / (2 * RHO_C_U0)).toBeLessThan(1e-6)
  })
})

describe('fwhmAlongLine', () => {
  it('interpolates linearly at the half-maximum crossings (fwhm2.m convention)', () => {
    // Asymmetric tent peaking at a sample (x = 0, value 1), half-widths 3 (left) and 2.6
    // (right), on a unit grid: it is linear between samples, so interpolation is exact.
    // The level is relative to the sampled peak value, as in fwhm2.m.
    const pos = Array.from({ length: 11 }, (_, i) => i - 5)
    const vals = pos.map((x) => Math.max(0, x < 0 ? 1 + x / 3 : 1 - x / 2.6))
    const peak = 5
    const c = halfMaxCrossings(vals, pos, peak)
    expect(c.lower).toBeCloseTo(-1.5, 12)
    expect(c.upper).toBeCloseTo(1.3, 12)
    expect(fwhmAlongLine(vals, pos, peak)).toBeCloseTo(2.8, 12)
    // Other levels: 0.75 crosses at -0.75 and +0.65.
    expect(fwhmAlongLine(vals, pos, peak, 0.75)).toBeCloseTo(0.75 + 0.65, 12)
  })

  it('uses the first crossing from the peak, ignoring side lobes, and NaN without one', () => {
    const pos = [0, 1, 2, 3, 4, 5, 6]
    const vals = [0.9, 0.2, 0.8, 1, 0.8, 0.2, 0.9]
    // Crossings at 1.5 and 4.5; the 0.9 samples beyond the nulls are never reached.
    expect(fwhmAlongLine(vals, pos, 3)).toBeCloseTo(3, 12)
    expect(Number.isNaN(fwhmAlongLine([1, 0.8, 0.2], [0, 1, 2], 0))).toBe(true)
  })
})
