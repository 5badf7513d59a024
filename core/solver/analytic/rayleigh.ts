/**
 * Rayleigh integral for a baffled source of uniform normal velocity u0, by equal-area point
 * quadrature (docs/physics.md §2, "Rayleigh check"):
 *   p(x) = (i omega rho u0 / 2 pi) * sum_j e^{-ik r_j} / r_j * dS,   e^{+i omega t},
 * r_j = |x - x_j|. Each element radiates as a baffled monopole, which is also what an additive
 * k-Wave pressure source on the bowl surface radiates with u0 = p0 / (rho c) (docs/physics.md §6.5).
 * With complex k = omega/c - i alpha the same sum solves the damped Helmholtz equation: the
 * prefactor comes from the momentum equation i omega rho u = -grad p and holds for any k.
 */

/** pi (3 - sqrt 5): the golden angle [rad], the azimuthal increment of a Fermat/Vogel spiral. */
export const GOLDEN_ANGLE_RAD = Math.PI * (3 - Math.sqrt(5))

export interface SourcePoints {
  /** Interleaved x, y, z of each quadrature point [m]; length 3n. */
  readonly xyz: Float64Array
  /** Surface area represented by each point [m^2] (the total area divided by n). */
  readonly areaPerPointM2: number
}

export interface BowlSamplingOptions {
  /**
   * 'kwave' (default): k-Wave `makeCartBowl` exactly, t = 0..n-1 with the apex and the rim
   * both sampled, so the equal-weight sum is a first-order quadrature (on-axis error ~ 1/n
   * of the peak: 2e-5 at n = 2e5 for BM1).
   * 'midpoint': t + 1/2 with C = 2 pi (1 - cos phi_max) / n, each point at the area midpoint
   * of its zone, a midpoint rule in cos(phi) and so in r^2 on the axis (error ~ 1/n^2).
   */
  readonly sampling?: 'kwave' | 'midpoint'
}

/**
 * Equal-area points on a spherical cap, as k-Wave `makeCartBowl`: point t = 0..n-1 at
 * azimuth theta_t = golden_angle * t and polar angle phi_t = acos(1 - C t / (2 pi)) with
 * C = 2 pi (1 - cos phi_max) / (n - 1), so each point carries the same cap area (the cap area
 * 2 pi R^2 (1 - cos phi) is linear in t) and t = n - 1 lies on the rim.
 *
 * Placement here: apex at the origin, axis along +x, geometric focus at (R, 0, 0).
 */
export function fermatSpiralBowlPoints(rocM: number, apertureDiameterM: number, n: number, options: BowlSamplingOptions = {}): SourcePoints {
  const R = rocM
  const a = apertureDiameterM / 2
  if (!(R > 0) || !(a > 0) || a > R) throw new RangeError('bowl needs 0 < D/2 <= R')
  if (!Number.isInteger(n) || n < 2) throw new RangeError('need an integer n >= 2 points')
  const midpoint = options.sampling === 'midpoint'
  // 1 - cos(phi_max) = h / R, written without cancellation for shallow bowls.
  const oneMinusCosMax = (a * a) / (R * (R + Math.sqrt(R * R - a * a)))
  const C = (2 * Math.PI * oneMinusCosMax) / (midpoint ? n : n - 1)
  const offset = midpoint ? 0.5 : 0
  const xyz = new Float64Array(3 * n)
  for (let t = 0; t < n; t++) {
    const oneMinusCos = (C * (t + offset)) / (2 * Math.PI)
    // sin from 1 - cos: sqrt(u (2 - u)) keeps precision near the apex.
    const sinPhi = Math.sqrt(oneMinusCos * (2 - oneMinusCos))
    const theta = GOLDEN_ANGLE_RAD * t
    xyz[3 * t] = R * oneMinusCos
    xyz[3 * t + 1] = R * sinPhi * Math.cos(theta)
    xyz[3 * t + 2] = R * sinPhi * Math.sin(theta)
  }
  return { xyz, areaPerPointM2: (2 * Math.PI * R * R * oneMinusCosMax) / n }
}

/**
 * Equal-area "sunflower" (Vogel) points on a flat disc of the given diameter in the x = 0
 * plane, centred on the origin: radius a sqrt((t + 1/2)/n), azimuth golden_angle * t. The
 * half-index offset puts each point at the area midpoint of its annulus, a midpoint rule in r^2.
 */
export function discPoints(diameterM: number, n: number): SourcePoints {
  const a = diameterM / 2
  if (!(a > 0)) throw new RangeError('disc needs a positive diameter')
  if (!Number.isInteger(n) || n < 1) throw new RangeError('need an integer n >= 1 points')
  const xyz = new Float64Array(3 * n)
  for (let t = 0; t < n; t++) {
    const r = a * Math.sqrt((t + 0.5) / n)
    const theta = GOLDEN_ANGLE_RAD * t
    xyz[3 * t] = 0
    xyz[3 * t + 1] = r * Math.cos(theta)
    xyz[3 * t + 2] = r * Math.sin(theta)
  }
  return { xyz, areaPerPointM2: (Math.PI * a * a) / n }
}

export interface RayleighMedium {
  readonly frequencyHz: number
  /** [m/s] */
  readonly soundSpeed: number
  /** [kg/m^3] */
  readonly density: number
  /** Normal surface-velocity amplitude [m/s]. */
  readonly u0: number
  /** Amplitude attenuation at frequencyHz [Np/m]; 0 when omitted. */
  readonly alphaNpM?: number
}

export interface ComplexField {
  /** Real and imaginary parts of the pressure [Pa] at each field point, e^{+i omega t}. */
  readonly re: Float64Array
  readonly im: Float64Array
  /** |p| [Pa]. */
  readonly amplitude: Float64Array
}

/**
 * Complex pressure at each field point (interleaved xyz [m]) radiated by the sampled source.
 * Cost is (field points) x (source points) exp/sqrt evaluations; nothing is allocated in the loop.
 * A field point coinciding with a source point yields a non-finite result (1/r).
 */
export function rayleighPressure(points: Float64Array, areaPerPointM2: number, fieldPoints: Float64Array, medium: RayleighMedium): ComplexField {
  if (points.length % 3 !== 0 || fieldPoints.length % 3 !== 0) {
    throw new RangeError('point arrays must hold interleaved x, y, z triples')
  }
  const omega = 2 * Math.PI * medium.frequencyHz
  const k = omega / medium.soundSpeed
  const alpha = medium.alphaNpM ?? 0
  const nSrc = points.length / 3
  const nField = fieldPoints.length / 3
  const re = new Float64Array(nField)
  const im = new Float64Array(nField)
  const amplitude = new Float64Array(nField)
  const prefactor = (omega * medium.density * medium.u0 * areaPerPointM2) / (2 * Math.PI)
  for (let f = 0; f < nField; f++) {
    const fx = fieldPoints[3 * f]!
    const fy = fieldPoints[3 * f + 1]!
    const fz = fieldPoints[3 * f + 2]!
    let sRe = 0
    let sIm = 0
    if (alpha === 0) {
      for (let s = 0, j = 0; s < nSrc; s++, j += 3) {
        const dx = fx - points[j]!
        const dy = fy - points[j + 1]!
        const dz = fz - points[j + 2]!
        const r = Math.sqrt(dx * dx + dy * dy + dz * dz)
        const kr = k * r
        sRe += Math.cos(kr) / r
        sIm -= Math.sin(kr) / r
      }
    } else {
      for (let s = 0, j = 0; s < nSrc; s++, j += 3) {
        const dx = fx - points[j]!
        const dy = fy - points[j + 1]!
        const dz = fz - points[j + 2]!
        const r = Math.sqrt(dx * dx + dy * dy + dz * dz)
        const kr = k * r
        const g = Math.exp(-alpha * r) / r
        sRe += Math.cos(kr) * g
        sIm -= Math.sin(kr) * g
      }
    }
    // Multiply the sum by i * prefactor.
    const pRe = -prefactor * sIm
    const pIm = prefactor * sRe
    re[f] = pRe
    im[f] = pIm
    amplitude[f] = Math.hypot(pRe, pIm)
  }
  return { re, im, amplitude }
}

/** Interleaved xyz for n points evenly spaced from `from` to `to` inclusive (n >= 2) [m]. */
export function lineOfPoints(from: readonly [number, number, number], to: readonly [number, number, number], n: number): Float64Array {
  if (!Number.isInteger(n) || n < 2) throw new RangeError('need an integer n >= 2 points')
  const out = new Float64Array(3 * n)
  for (let i = 0; i < n; i++) {
    const s = i / (n - 1)
    for (let c = 0; c < 3; c++) out[3 * i + c] = from[c]! + s * (to[c]! - from[c]!)
  }
  return out
}

export interface HalfMaxCrossings {
  /** Interpolated positions of the level crossings below and above the peak; NaN if none. */
  readonly lower: number
  readonly upper: number
}

/**
 * Crossings of level * values[peakIndex], walking out from the peak to the first sample below
 * the level on each side and interpolating linearly between it and its inner neighbour (the
 * ITRUSST `fwhm2.m` convention, docs/physics.md §1.5). For |p| profiles level 0.5 is the -6 dB width;
 * for |p|^2 (intensity) it is the -3 dB width.
 */
export function halfMaxCrossings(values: ArrayLike<number>, positions: ArrayLike<number>, peakIndex: number, level = 0.5): HalfMaxCrossings {
  if (values.length !== positions.length) throw new RangeError('values and positions differ in length')
  if (!Number.isInteger(peakIndex) || peakIndex < 0 || peakIndex >= values.length) {
    throw new RangeError(`peakIndex ${peakIndex} out of range`)
  }
  const target = level * values[peakIndex]!
  const cross = (iOut: number, iIn: number): number => {
    const vOut = values[iOut]!
    const vIn = values[iIn]!
    const xOut = positions[iOut]!
    const xIn = positions[iIn]!
    return xOut + ((target - vOut) / (vIn - vOut)) * (xIn - xOut)
  }
  let lower = NaN
  for (let i = peakIndex - 1; i >= 0; i--) {
    if (values[i]! < target) {
      lower = cross(i, i + 1)
      break
    }
  }
  let upper = NaN
  for (let i = peakIndex + 1; i < values.length; i++) {
    if (values[i]! < target) {
      upper = cross(i, i - 1)
      break
    }
  }
  return { lower, upper }
}

/**
 * Full width at level * peak (default half maximum) of a sampled profile, in the units of
 * `positions`; see {@link halfMaxCrossings}. NaN if the profile does not drop below the level
 * on both sides of the peak.
 */
export function fwhmAlongLine(values: ArrayLike<number>, positions: ArrayLike<number>, peakIndex: number, level = 0.5): number {
  const { lower, upper } = halfMaxCrossings(values, positions, peakIndex, level)
  return Math.abs(upper - lower)
}
