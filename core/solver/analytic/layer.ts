/**
 * Plane-wave transmission at normal incidence through a stack of flat fluid layers between
 * two half-spaces, by acoustic transfer matrices (docs/physics.md §3; e.g. Brekhovskikh & Godin,
 * "Acoustics of Layered Media I", ch. 2). Reference for the flat-skull benchmarks BM3 / BM4.
 *
 * Conventions: e^{+i omega t}; in layer j, k_j = omega/c_j - i alpha_j (alpha in Np/m) and
 * Z_j = rho_j omega / k_j, exact for a lossy fluid obeying the damped Helmholtz equation
 * (Z = rho c is the usual approximation, selectable for comparison). The field in a layer is
 * p = A e^{-ikx} + B e^{+ikx}, particle velocity v = (A e^{-ikx} - B e^{+ikx}) / Z.
 */

import { abs, add, arg, complex, cos, div, expi, I, mul, ONE, scale, sin, sub, type Complex } from './complex.ts'

export interface HalfSpace {
  /** Sound speed [m/s]. */
  readonly c: number
  /** Density [kg/m^3]. */
  readonly rho: number
  /**
   * Attenuation [Np/m]; only enters the impedance rho omega / k. T and R are referenced to
   * the interfaces, so no propagation loss in the half-spaces is included.
   */
  readonly alphaNpM?: number
}

export interface Layer extends HalfSpace {
  /** [m] */
  readonly thicknessM: number
}

export interface LayerTransmissionInput {
  readonly frequencyHz: number
  /** Medium the unit-amplitude plane wave arrives from. */
  readonly incident: HalfSpace
  /** Layers in the order the wave meets them; may be empty (a single interface). */
  readonly layers: readonly Layer[]
  readonly transmitted: HalfSpace
  /** 'rhoOmegaOverK' (default, exact) or 'rhoC' (the real approximation, docs/physics.md §3 table). */
  readonly impedance?: 'rhoOmegaOverK' | 'rhoC'
}

export interface LayerTransmission {
  /** Transmitted pressure at the exit interface per unit incident pressure at the entry interface. */
  readonly t: Complex
  readonly tAmplitude: number
  /**
   * Unwrapped phase of t [rad]: -sum Re(k_j) d_j (time of flight; negative = delay under
   * e^{+i omega t}) plus the reverberation correction, the principal argument of
   * t e^{+i sum Re(k_j) d_j}.
   */
  readonly tPhaseRad: number
  /**
   * tPhaseRad + Re(k_incident) * total thickness: phase of t relative to a path of the same
   * total thickness through the incident medium. Positive = the wave leads (arrives earlier
   * than) the reference path, e.g. +348.6 deg for 6.5 mm of 2800 m/s bone in water at 500 kHz.
   */
  readonly tPhaseRelativeRad: number
  /** Reflected pressure per unit incident pressure, both at the entry interface. */
  readonly r: Complex
  readonly rAmplitude: number
  readonly rPhaseRad: number
  /** Transmitted / incident intensity, |t|^2 Re(1/Z_out) / Re(1/Z_in) (= |t|^2 Z_in/Z_out for real Z). */
  readonly powerTransmission: number
  /** |r|^2. */
  readonly powerReflection: number
  /** -20 log10 |t| [dB], the pressure insertion loss quoted in docs/physics.md §3. */
  readonly lossDb: number
  readonly totalThicknessM: number
}

interface Medium {
  readonly k: Complex
  readonly z: Complex
}

function medium(m: HalfSpace, omega: number, model: 'rhoOmegaOverK' | 'rhoC'): Medium {
  const k = complex(omega / m.c, -(m.alphaNpM ?? 0))
  const z = model === 'rhoC' ? complex(m.rho * m.c) : div(complex(m.rho * omega), k)
  return { k, z }
}

/** 2x2 complex matrix, row-major. */
type Mat2 = readonly [Complex, Complex, Complex, Complex]

function matMul(a: Mat2, b: Mat2): Mat2 {
  return [
    add(mul(a[0], b[0]), mul(a[1], b[2])),
    add(mul(a[0], b[1]), mul(a[1], b[3])),
    add(mul(a[2], b[0]), mul(a[3], b[2])),
    add(mul(a[2], b[1]), mul(a[3], b[3])),
  ]
}

/** Wraps to (-pi, pi]. */
function wrapPi(x: number): number {
  return Math.atan2(Math.sin(x), Math.cos(x))
}

/**
 * Pressure transmission and reflection coefficients of the stack.
 *
 * Each layer maps (p, v) at its far face to (p, v) at its near face (docs/physics.md §3):
 *   M_j = [[cos k_j d_j, i Z_j sin k_j d_j], [i sin k_j d_j / Z_j, cos k_j d_j]],
 * and M = M_1 M_2 ... M_N. With (1 + R, (1 - R)/Z_in) = M (T, T/Z_out):
 *   T = 2 / (M11 + M12/Z_out + Z_in M21 + Z_in M22/Z_out),  R = T (M11 + M12/Z_out) - 1.
 * For one layer and Z_in = Z_out = Z this reduces to 1 / [cos kd + (i/2)(Z2/Z + Z/Z2) sin kd].
 */
export function layerTransmission(input: LayerTransmissionInput): LayerTransmission {
  const omega = 2 * Math.PI * input.frequencyHz
  const model = input.impedance ?? 'rhoOmegaOverK'
  const inc = medium(input.incident, omega, model)
  const out = medium(input.transmitted, omega, model)
  let M: Mat2 = [ONE, complex(0), complex(0), ONE]
  let flightPhaseRad = 0
  let totalThicknessM = 0
  for (const layer of input.layers) {
    if (!(layer.thicknessM >= 0)) throw new RangeError('layer thickness must be >= 0')
    const { k, z } = medium(layer, omega, model)
    const kd = scale(k, layer.thicknessM)
    const c = cos(kd)
    const s = sin(kd)
    M = matMul(M, [c, mul(I, mul(z, s)), mul(I, div(s, z)), c])
    flightPhaseRad += k.re * layer.thicknessM
    totalThicknessM += layer.thicknessM
  }
  const m11PlusM12 = add(M[0], div(M[1], out.z))
  const denom = add(m11PlusM12, mul(inc.z, add(M[2], div(M[3], out.z))))
  const t = div(complex(2), denom)
  const r = sub(mul(t, m11PlusM12), ONE)
  const tPhaseRad = -flightPhaseRad + wrapPi(arg(mul(t, expi(flightPhaseRad))))
  const tAmplitude = abs(t)
  const rAmplitude = abs(r)
  return {
    t,
    tAmplitude,
    tPhaseRad,
    tPhaseRelativeRad: tPhaseRad + inc.k.re * totalThicknessM,
    r,
    rAmplitude,
    rPhaseRad: arg(r),
    powerTransmission: (tAmplitude * tAmplitude * div(ONE, out.z).re) / div(ONE, inc.z).re,
    powerReflection: rAmplitude * rAmplitude,
    lossDb: -20 * Math.log10(tAmplitude),
    totalThicknessM,
  }
}
