/**
 * O'Neil (1949) field of a uniformly vibrating spherical bowl, the analytic reference for the
 * ITRUSST BM1 / BM2 benchmarks (docs/physics.md §2).
 *
 * H. T. O'Neil, "Theory of focusing radiators", J. Acoust. Soc. Am. 21(5):516-526 (1949).
 * Same equations as k-Wave `focusedBowlONeil.m` ("Eqs. 3.0-3.2").
 *
 * Conventions: time dependence e^{+i omega t}; z is measured along the axis from the apex of
 * the bowl, so the geometric focus is at z = R. Each surface element radiates as if baffled
 * (Rayleigh integral of the curved cap), which is what O'Neil's on-axis result is.
 */

import { jinc } from './bessel.ts'
import { complex, exp, mul, scale, sinc, type Complex } from './complex.ts'

export interface OneilParams {
  /** Radius of curvature R [m]. */
  readonly rocM: number
  /** Aperture (rim) diameter D = 2a [m]; must not exceed 2R. */
  readonly apertureDiameterM: number
  readonly frequencyHz: number
  /** Sound speed of the medium [m/s]. */
  readonly soundSpeed: number
  /** Density of the medium [kg/m^3]. */
  readonly density: number
  /** Normal surface-velocity amplitude u0 [m/s]. */
  readonly u0: number
  /** Amplitude attenuation at frequencyHz [Np/m]; 0 (lossless) when omitted. */
  readonly alphaNpM?: number
}

/**
 * ITRUSST BM1, source SC1 (Aubry et al. 2022): R = D = 64 mm (F# 1, half-angle 30 deg),
 * 500 kHz in water; u0 = 0.04 m/s, i.e. rho c u0 = 60 kPa.
 */
export const BM1: OneilParams = Object.freeze({
  rocM: 0.064,
  apertureDiameterM: 0.064,
  frequencyHz: 500e3,
  soundSpeed: 1500,
  density: 1000,
  u0: 0.04,
})

export interface BowlGeometry {
  /** a = D/2 [m]. */
  readonly apertureRadiusM: number
  /** h = R - sqrt(R^2 - a^2), height of the rim plane above the apex [m]. */
  readonly depthM: number
  /** asin(a / R) [rad]. */
  readonly halfAngleRad: number
  /** R / D. */
  readonly fNumber: number
}

export function bowlGeometry(p: Pick<OneilParams, 'rocM' | 'apertureDiameterM'>): BowlGeometry {
  const R = p.rocM
  const a = p.apertureDiameterM / 2
  if (!(R > 0) || !(a > 0) || a > R) {
    throw new RangeError(`bowl needs 0 < D/2 <= R (got R = ${R} m, D = ${p.apertureDiameterM} m)`)
  }
  // a^2 / (R + sqrt(R^2 - a^2)) equals R - sqrt(R^2 - a^2) without cancellation for shallow bowls.
  const depthM = (a * a) / (R + Math.sqrt(R * R - a * a))
  return { apertureRadiusM: a, depthM, halfAngleRad: Math.asin(a / R), fNumber: R / (2 * a) }
}

/** Complex wavenumber k = omega/c - i alpha [1/m]: e^{-ikr} decays as e^{-alpha r}. */
export function complexWavenumber(frequencyHz: number, soundSpeed: number, alphaNpM = 0): Complex {
  return complex((2 * Math.PI * frequencyHz) / soundSpeed, -alphaNpM)
}

export interface ComplexPressure {
  /** Real and imaginary parts of the complex pressure amplitude [Pa], e^{+i omega t}. */
  readonly re: number
  readonly im: number
  /** |p| [Pa]. */
  readonly amplitude: number
}

/**
 * On-axis complex pressure at distance z from the apex.
 *
 * O'Neil's exact result p = rho c u0 R/(R - z) [e^{-ikz} - e^{-ikB}], B = sqrt((z-h)^2 + a^2),
 * is 0/0 at the focus. Since B^2 - z^2 = 2h(R - z) (because a^2 + h^2 = 2Rh), one has
 * B - z = h(R - z)/M with M = (B + z)/2, and (docs/physics.md §2, "numerically stable form")
 *   p = 2i (rho omega/k) u0 R e^{-ikM} sin(k h (R - z)/(2M)) / (R - z)
 *     = i omega rho u0 (R h / M) e^{-ikM} sinc(k h (R - z)/(2M)),
 * regular at z = R, where it gives |p| = rho c u0 k h. With complex k and rho c replaced by
 * rho omega / k the formula is exact for the damped Helmholtz equation; in the second line k
 * has cancelled from the prefactor, so only e^{-ikM} and the sinc carry the absorption.
 */
export function oneilOnAxis(params: OneilParams, zFromApexM: number): ComplexPressure {
  const { apertureRadiusM: a, depthM: h } = bowlGeometry(params)
  const R = params.rocM
  const omega = 2 * Math.PI * params.frequencyHz
  const k = complexWavenumber(params.frequencyHz, params.soundSpeed, params.alphaNpM ?? 0)
  const z = zFromApexM
  const B = Math.hypot(z - h, a)
  // B > |z| for every z when a > 0, so M > 0.
  const M = (B + z) / 2
  const w = scale(k, (h * (R - z)) / (2 * M))
  const phase = exp(mul(complex(0, -M), k))
  const amp = (omega * params.density * params.u0 * R * h) / M
  // i * amp * e^{-ikM} * sinc(w)
  const q = mul(phase, sinc(w))
  const re = -amp * q.im
  const im = amp * q.re
  return { re, im, amplitude: Math.hypot(re, im) }
}

export interface SearchWindow {
  /** Axial search window [m from the apex]; default (0, 2R]. */
  readonly zMinM?: number
  readonly zMaxM?: number
}

export interface OneilPeak {
  /** Position of the on-axis maximum of |p| [m from the apex]. */
  readonly zM: number
  /** |p| there [Pa]. */
  readonly amplitude: number
}

/** Golden-section maximisation of f on [lo, hi]; f must be unimodal there. */
function goldenMax(f: (x: number) => number, lo: number, hi: number, iterations = 80): number {
  const g = (Math.sqrt(5) - 1) / 2
  let a = lo
  let b = hi
  let c = b - g * (b - a)
  let d = a + g * (b - a)
  let fc = f(c)
  let fd = f(d)
  for (let i = 0; i < iterations && b - a > 1e-15 * Math.max(1, Math.abs(a)); i++) {
    if (fc > fd) {
      b = d
      d = c
      fd = fc
      c = b - g * (b - a)
      fc = f(c)
    } else {
      a = c
      c = d
      fc = fd
      d = a + g * (b - a)
      fd = f(d)
    }
  }
  return (a + b) / 2
}

/** Scan step: the axial profile varies on the scale of a wavelength, so lambda/16 brackets every lobe. */
function scanStepM(params: OneilParams): number {
  return params.soundSpeed / params.frequencyHz / 16
}

/**
 * On-axis maximum of |p|: a scan at lambda/16 over the window, then golden-section refinement
 * inside the bracketing samples. For focused bowls the focal lobe is the global maximum and
 * lies before the geometric focus (the "focal shift": 2.07 mm for BM1).
 */
export function oneilPeak(params: OneilParams, window: SearchWindow = {}): OneilPeak {
  const zMin = window.zMinM ?? 0
  const zMax = window.zMaxM ?? 2 * params.rocM
  const amp = (z: number): number => oneilOnAxis(params, z).amplitude
  const step = scanStepM(params)
  const n = Math.max(2, Math.ceil((zMax - zMin) / step))
  const dz = (zMax - zMin) / n
  let best = 0
  let bestAmp = -Infinity
  for (let i = 0; i <= n; i++) {
    const v = amp(zMin + i * dz)
    if (v > bestAmp) {
      bestAmp = v
      best = i
    }
  }
  const lo = zMin + Math.max(0, best - 1) * dz
  const hi = zMin + Math.min(n, best + 1) * dz
  const zM = goldenMax(amp, lo, hi)
  return { zM, amplitude: amp(zM) }
}

/** Bisection for the crossing of f through `target` between zIn (f >= target) and zOut (f < target). */
function bisectCrossing(f: (z: number) => number, target: number, zIn: number, zOut: number): number {
  let a = zIn
  let b = zOut
  for (let i = 0; i < 200 && Math.abs(b - a) > 1e-15 * Math.max(1, Math.abs(a)); i++) {
    const m = (a + b) / 2
    if (f(m) >= target) a = m
    else b = m
  }
  return (a + b) / 2
}

export interface OneilAxialWidth {
  /** Near (towards the bowl) and far crossings of level * peak [m from the apex]. */
  readonly zNearM: number
  readonly zFarM: number
  /** zFarM - zNearM [m]. */
  readonly lengthM: number
  readonly peak: OneilPeak
}

/**
 * Axial -6 dB focal length of the pressure amplitude: the crossings of level * |p|max nearest
 * to the peak on either side (level 0.5 by default, i.e. -6.02 dB, the ITRUSST convention for
 * |p|), located by stepping out at lambda/16 and bisecting. NaN for a side with no crossing
 * inside the window.
 */
export function oneilAxialFwhm6dB(params: OneilParams, options: SearchWindow & { readonly level?: number } = {}): OneilAxialWidth {
  const peak = oneilPeak(params, options)
  const target = (options.level ?? 0.5) * peak.amplitude
  const amp = (z: number): number => oneilOnAxis(params, z).amplitude
  const step = scanStepM(params)
  const zMin = options.zMinM ?? 0
  // The far tail decays only like 1/z, so look well beyond the peak window before giving up.
  const zMax = options.zMaxM ?? 4 * params.rocM
  const walk = (dir: 1 | -1, limit: number): number => {
    let zIn = peak.zM
    for (;;) {
      const zOut = zIn + dir * step
      if (dir * (zOut - limit) > 0) {
        return amp(limit) < target ? bisectCrossing(amp, target, zIn, limit) : NaN
      }
      if (amp(zOut) < target) return bisectCrossing(amp, target, zIn, zOut)
      zIn = zOut
    }
  }
  const zNearM = walk(-1, zMin)
  const zFarM = walk(1, zMax)
  return { zNearM, zFarM, lengthM: zFarM - zNearM, peak }
}

/**
 * x at which 2 J1(x)/x = 1/2 (the -6 dB half-width of the Airy-type profile), 2.2151...;
 * 2J1(x)/x decreases monotonically from 1 to 0 on [0, 3.83], so bisection on [1, 3.8] is safe.
 */
export const JINC_HALF_AMPLITUDE_X: number = (() => {
  let a = 1
  let b = 3.8
  for (let i = 0; i < 100; i++) {
    const m = (a + b) / 2
    if (jinc(m) > 0.5) a = m
    else b = m
  }
  return (a + b) / 2
})()

export interface OneilLateralJ1 {
  /** |p| at the geometric focus from the exact on-axis formula (rho c u0 k h when lossless) [Pa]. */
  readonly focalAmplitude: number
  /** Full -6 dB width of the small-angle profile, 2 x_6dB R / (k a) [m]. */
  readonly fwhmM: number
  /** |p(r)| in the focal plane z = R at radius r from the axis [Pa]. */
  readonly amplitudeAt: (radiusM: number) => number
}

/**
 * O'Neil's small-angle focal-plane profile (as in k-Wave `focusedBowlONeil.m`):
 *   |p(r)| = |p(R)| |2 J1(x)/x|, x = k a r / R,
 * with the real wavenumber omega/c. It is a paraxial approximation: for BM1 (F# 1) its width,
 * 4.231 mm, is about 1.3 % wider than the Rayleigh integral's 4.175 mm (docs/physics.md §2).
 */
export function oneilLateralFocalPlaneJ1(params: OneilParams): OneilLateralJ1 {
  const { apertureRadiusM: a } = bowlGeometry(params)
  const k = (2 * Math.PI * params.frequencyHz) / params.soundSpeed
  const R = params.rocM
  const focalAmplitude = oneilOnAxis(params, R).amplitude
  return {
    focalAmplitude,
    fwhmM: (2 * JINC_HALF_AMPLITUDE_X * R) / (k * a),
    amplitudeAt: (radiusM: number) => focalAmplitude * Math.abs(jinc((k * a * radiusM) / R)),
  }
}
