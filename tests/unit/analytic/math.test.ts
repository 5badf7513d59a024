import { describe, it, expect } from 'vitest'
import { besselJ1, db2neper, dbPerCmToNpPerM, jinc, neper2db, npPerMToDbPerCm } from '../../../core/solver/analytic/index.ts'
import { abs, complex, cos, div, exp, mul, sin, sinc, sub } from '../../../core/solver/analytic/complex.ts'

/**
 * Bessel's integral J1(x) = (1/pi) int_0^pi cos(tau - x sin tau) dtau. The integrand extends
 * to a smooth 2 pi-periodic even function, so the trapezoid rule converges geometrically and
 * 400 nodes give machine precision for |x| <= 60: an independent reference for besselJ1.
 */
function j1Integral(x: number): number {
  const n = 400
  let s = 0
  for (let i = 0; i <= n; i++) {
    const tau = (Math.PI * i) / n
    const w = i === 0 || i === n ? 0.5 : 1
    s += w * Math.cos(tau - x * Math.sin(tau))
  }
  return s / n
}

describe('besselJ1', () => {
  it("matches Bessel's integral to 1e-7 over [-60, 60]", () => {
    let worst = 0
    for (let x = -60; x <= 60; x += 0.0173) worst = Math.max(worst, Math.abs(besselJ1(x) - j1Integral(x)))
    expect(worst).toBeLessThan(1e-7)
  })

  it('reproduces tabulated values and the first zero', () => {
    // Abramowitz & Stegun Table 9.1 / 9.5.
    expect(besselJ1(1)).toBeCloseTo(0.440050585745, 8)
    expect(besselJ1(10)).toBeCloseTo(0.0434727462, 8)
    expect(Math.abs(besselJ1(3.8317059702))).toBeLessThan(1e-8)
    expect(besselJ1(0)).toBe(0)
  })

  it('2 J1(x)/x tends to 1 - x^2/8 as x -> 0', () => {
    expect(jinc(0)).toBe(1)
    for (const x of [1e-300, 1e-8, 1e-4, 1e-2]) expect(Math.abs(jinc(x) - (1 - (x * x) / 8 + x ** 4 / 192))).toBeLessThan(1e-9)
  })
})

describe('complex helpers', () => {
  it('obeys basic identities', () => {
    const a = complex(1.5, -2.25)
    const b = complex(-0.5, 3)
    expect(abs(sub(mul(div(a, b), b), a))).toBeLessThan(1e-15)
    // sin^2 + cos^2 = 1 for a complex argument.
    const s = sin(a)
    const c = cos(a)
    expect(abs(sub(complex(1), complex(s.re * s.re - s.im * s.im + c.re * c.re - c.im * c.im, 2 * (s.re * s.im + c.re * c.im))))).toBeLessThan(1e-12)
    const e = exp(complex(0, Math.PI))
    expect(e.re).toBeCloseTo(-1, 15)
    expect(e.im).toBeCloseTo(0, 15)
  })

  it('sinc is continuous through the series switch, also for complex w', () => {
    const w = complex(0.7e-3, -0.2e-3)
    const near = sinc(w)
    const direct = div(sin(w), w)
    expect(abs(sub(near, direct))).toBeLessThan(1e-15)
    expect(abs(sub(sinc(complex(0)), complex(1)))).toBe(0)
  })
})

describe('attenuation units', () => {
  it('converts dB/cm to Np/m (docs/physics.md §3 table) and back', () => {
    expect(dbPerCmToNpPerM(4)).toBeCloseTo(46.05, 2)
    expect(dbPerCmToNpPerM(2)).toBeCloseTo(23.03, 2)
    expect(dbPerCmToNpPerM(16)).toBeCloseTo(184.2, 1)
    expect(npPerMToDbPerCm(dbPerCmToNpPerM(6.65))).toBeCloseTo(6.65, 12)
  })

  it('db2neper: alpha_0 omega^y reproduces a f_MHz^y in dB/cm', () => {
    // The UCL BM reference: cortical bone 16 dB/(MHz^2 cm) with y = 2 is 4 dB/cm at 0.5 MHz.
    const omega = 2 * Math.PI * 0.5e6
    expect(db2neper(16, 2) * omega ** 2).toBeCloseTo(dbPerCmToNpPerM(4), 10)
    for (const y of [1, 1.1, 1.5, 2]) {
      const a = 0.75
      const f = 1.3e6
      expect(db2neper(a, y) * (2 * Math.PI * f) ** y).toBeCloseTo(dbPerCmToNpPerM(a * (f / 1e6) ** y), 10)
      expect(neper2db(db2neper(a, y), y)).toBeCloseTo(a, 12)
    }
  })
})
