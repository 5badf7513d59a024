import { describe, it, expect } from 'vitest'
import {
  BM1,
  bowlGeometry,
  JINC_HALF_AMPLITUDE_X,
  oneilAxialFwhm6dB,
  oneilLateralFocalPlaneJ1,
  oneilOnAxis,
  oneilPeak,
} from '../../../core/solver/analytic/index.ts'

// Outside reference numbers: docs/physics.md §0 and §2 ("Results for BM1 (SC1 bowl)").
const RHO_C_U0 = BM1.density * BM1.soundSpeed * BM1.u0 // 60 kPa
const K = (2 * Math.PI * BM1.frequencyHz) / BM1.soundSpeed
const MM = 1e-3

describe('BM1 bowl geometry', () => {
  it('has h = 8.5744 mm, half-angle 30 deg, F# 1, k = 2094.395 rad/m', () => {
    const g = bowlGeometry(BM1)
    expect(g.depthM / MM).toBeCloseTo(8.5744, 4)
    expect((g.halfAngleRad * 180) / Math.PI).toBeCloseTo(30, 10)
    expect(g.fNumber).toBe(1)
    expect(K).toBeCloseTo(2094.395, 3)
    expect(RHO_C_U0).toBe(60e3)
  })
})

describe('oneilOnAxis', () => {
  it("equals the direct O'Neil form rho c u0 R/(R - z) [e^{-ikz} - e^{-ikB}] away from the focus", () => {
    const R = BM1.rocM
    const { apertureRadiusM: a, depthM: h } = bowlGeometry(BM1)
    for (const z of [0.002, 0.01, 0.03, 0.05, 0.07, 0.1, 0.15]) {
      const B = Math.hypot(z - h, a)
      const f = (RHO_C_U0 * R) / (R - z)
      const p = oneilOnAxis(BM1, z)
      expect(Math.abs(p.re - f * (Math.cos(K * z) - Math.cos(K * B))) / RHO_C_U0).toBeLessThan(1e-12)
      expect(Math.abs(p.im - f * (Math.sin(K * B) - Math.sin(K * z))) / RHO_C_U0).toBeLessThan(1e-12)
    }
  })

  it('gives k h = 17.958 (1077.5 kPa) at the geometric focus with no spike around it', () => {
    const pf = oneilOnAxis(BM1, BM1.rocM).amplitude
    expect(pf / RHO_C_U0).toBeCloseTo(17.958, 3)
    expect(pf / 1e3).toBeCloseTo(1077.5, 1)
    expect(pf).toBeCloseTo(RHO_C_U0 * K * bowlGeometry(BM1).depthM, 6)
    // A naive evaluation is 0/0 here. The profile's relative slope near the focus is a few
    // per metre, so a smooth evaluation changes by < 100 dz; a cancellation spike would not.
    for (const dz of [1e-13, 1e-10, 1e-7]) {
      expect(Math.abs(oneilOnAxis(BM1, BM1.rocM + dz).amplitude / pf - 1)).toBeLessThan(100 * dz + 1e-14)
      expect(Math.abs(oneilOnAxis(BM1, BM1.rocM - dz).amplitude / pf - 1)).toBeLessThan(100 * dz + 1e-14)
    }
  })

  it('is 6.7 % above the paraxial gain k a^2 / (2R) = 16.755 at the focus', () => {
    const a = BM1.apertureDiameterM / 2
    const paraxial = (K * a * a) / (2 * BM1.rocM)
    expect(paraxial).toBeCloseTo(16.755, 3)
    expect(1 - paraxial / (oneilOnAxis(BM1, BM1.rocM).amplitude / RHO_C_U0)).toBeCloseTo(0.067, 3)
  })

  it('with absorption: |p(R)| = rho c u0 k h e^{-alpha R} (rho c -> rho omega / k)', () => {
    const alpha = 11.51 // 1 dB/cm
    const p = oneilOnAxis({ ...BM1, alphaNpM: alpha }, BM1.rocM)
    expect(p.amplitude / (RHO_C_U0 * K * bowlGeometry(BM1).depthM * Math.exp(-alpha * BM1.rocM))).toBeCloseTo(1, 12)
    // Phase of i omega rho u0 h e^{-ikR}: pi/2 - k R.
    const lossless = oneilOnAxis(BM1, BM1.rocM)
    expect(Math.atan2(p.im, p.re)).toBeCloseTo(Math.atan2(lossless.im, lossless.re), 12)
  })
})

describe('oneilPeak', () => {
  it('finds the BM1 on-axis maximum at z = 61.932 mm, |p|/(rho c u0) = 18.2402 (1094.4 kPa)', () => {
    const pk = oneilPeak(BM1)
    expect(pk.zM / MM).toBeCloseTo(61.932, 3)
    expect((BM1.rocM - pk.zM) / MM).toBeCloseTo(2.068, 3)
    expect(pk.amplitude / RHO_C_U0).toBeCloseTo(18.2402, 4)
    expect(pk.amplitude / 1e3).toBeCloseTo(1094.4, 1)
    expect(pk.amplitude / oneilOnAxis(BM1, BM1.rocM).amplitude).toBeCloseTo(1.0157, 4)
    // It is a maximum.
    for (const dz of [-1e-5, 1e-5]) expect(oneilOnAxis(BM1, pk.zM + dz).amplitude).toBeLessThan(pk.amplitude)
  })

  it('gives 1094.4 kPa at x = 62.0 mm on the benchmark 0.5 mm grid', () => {
    let best = 0
    let bestZ = 0
    for (let i = 1; i <= 240; i++) {
      const v = oneilOnAxis(BM1, i * 0.5 * MM).amplitude
      if (v > best) {
        best = v
        bestZ = i * 0.5
      }
    }
    expect(bestZ).toBe(62)
    expect(best / 1e3).toBeCloseTo(1094.4, 1)
  })
})

describe('oneilAxialFwhm6dB', () => {
  it('spans 51.763 to 78.011 mm, length 26.248 mm', () => {
    const w = oneilAxialFwhm6dB(BM1)
    expect(w.zNearM / MM).toBeCloseTo(51.763, 3)
    expect(w.zFarM / MM).toBeCloseTo(78.011, 3)
    expect(w.lengthM / MM).toBeCloseTo(26.248, 3)
    const half = w.peak.amplitude / 2
    expect(oneilOnAxis(BM1, w.zNearM).amplitude / half).toBeCloseTo(1, 10)
    expect(oneilOnAxis(BM1, w.zFarM).amplitude / half).toBeCloseTo(1, 10)
  })

  it('returns NaN for a side without a crossing inside the window', () => {
    const w = oneilAxialFwhm6dB(BM1, { zMaxM: 0.07 })
    expect(Number.isNaN(w.zFarM)).toBe(true)
    expect(w.zNearM / MM).toBeCloseTo(51.763, 3)
  })
})

describe('oneilLateralFocalPlaneJ1', () => {
  it('gives the small-angle focal-plane -6 dB width 4.231 mm (x = 2.2151)', () => {
    expect(JINC_HALF_AMPLITUDE_X).toBeCloseTo(2.2151, 4)
    const lat = oneilLateralFocalPlaneJ1(BM1)
    expect(lat.fwhmM / MM).toBeCloseTo(4.231, 3)
    expect(lat.focalAmplitude / 1e3).toBeCloseTo(1077.5, 1)
    expect(lat.amplitudeAt(0)).toBe(lat.focalAmplitude)
    expect(lat.amplitudeAt(lat.fwhmM / 2) / lat.focalAmplitude).toBeCloseTo(0.5, 7)
    // First null at x = 3.8317: r = 3.8317 R / (k a).
    const rNull = (3.8317059702 * BM1.rocM) / ((K * BM1.apertureDiameterM) / 2)
    expect(lat.amplitudeAt(rNull) / lat.focalAmplitude).toBeLessThan(1e-7)
  })
})
