/**
 * Power-law absorption as k-Wave models it (Treeby & Cox 2010, JASA 127(5):2741): a
 * fractional-Laplacian absorption term tau and dispersion term eta,
 *   tau = -2 alpha_0 c^(y-1),  eta = 2 alpha_0 c^y tan(pi y / 2),
 * with alpha(omega) = alpha_0 omega^y [Np/m], alpha_0 in Np (rad/s)^-y m^-1.
 */

/**
 * Attenuation the discrete model actually realises at angular frequency omega for a
 * requested prefactor alpha_0 (Treeby & Cox, Eq. 40, as used by k-Wave fitPowerLawParams):
 *   alpha_realised = alpha_0 omega^y / (1 - (y + 1) alpha_0 c tan(pi y / 2) omega^(y-1)).
 * Exact at y = 2 (tan(pi) = 0); for y < 2 in bone it falls well short of the request.
 */
export function realisedAttenuationNpM(alpha0: number, y: number, soundSpeed: number, omega: number): number {
  const a = alpha0 * Math.pow(omega, y)
  return a / (1 - (y + 1) * alpha0 * soundSpeed * Math.tan((Math.PI * y) / 2) * Math.pow(omega, y - 1))
}

/**
 * The alpha_0 that makes the model realise `targetNpM` at omega: the single-frequency,
 * closed-form solution of the relation above (k-Wave's fitPowerLawParams fits it over a band by
 * fminsearch; for a continuous-wave drive one frequency is all that matters). Returns NaN when
 * no alpha_0 can realise the target (1 + (y+1) c tan(pi y/2) alpha / omega <= 0).
 */
export function compensatedAlpha0(targetNpM: number, y: number, soundSpeed: number, omega: number): number {
  if (targetNpM === 0) return 0
  const denominator = 1 + ((y + 1) * soundSpeed * Math.tan((Math.PI * y) / 2) * targetNpM) / omega
  if (!(denominator > 0)) return Number.NaN
  return targetNpM / (Math.pow(omega, y) * denominator)
}

/** The plain power-law prefactor without compensation: alpha_0 = alpha(omega) / omega^y. */
export function plainAlpha0(targetNpM: number, y: number, omega: number): number {
  return targetNpM / Math.pow(omega, y)
}

import * as cx from './analytic/complex.ts'

function cpow(z: cx.Complex, a: number): cx.Complex {
  const modulus = Math.pow(Math.hypot(z.re, z.im), a)
  const angle = a * Math.atan2(z.im, z.re)
  return cx.complex(modulus * Math.cos(angle), modulus * Math.sin(angle))
}

/**
 * Residual of the model's plane-wave dispersion relation at real omega and complex k, for
 * fields ~ e^{i(k x - omega t)} (decay: Im k > 0). From the k-Wave equations (docs/physics.md §6.1)
 * with rho = k^2 p / omega^2 and rho0 div u = i omega rho:
 *   omega^2 = c0^2 k^2 [1 + i omega tau k^(y-2) - eta k^(y-1)],
 * the fractional powers continued analytically from real k > 0 (principal branch), which holds
 * for a weakly decaying wave whose spectrum sits near the positive real k axis.
 */
function dispersionResidual(k: cx.Complex, alpha0: number, c0: number, y: number, omega: number): cx.Complex {
  const tau = -2 * alpha0 * Math.pow(c0, y - 1)
  const eta = 2 * alpha0 * Math.pow(c0, y) * Math.tan((Math.PI * y) / 2)
  const bracket = cx.sub(cx.add(cx.ONE, cx.mul(cx.complex(0, omega * tau), cpow(k, y - 2))), cx.scale(cpow(k, y - 1), eta))
  return cx.sub(cx.scale(cx.mul(cx.mul(k, k), bracket), c0 * c0), cx.complex(omega * omega, 0))
}

/**
 * The complex wavenumber the continuous-time model realises at omega: attenuation Im k [Np/m]
 * and phase speed omega / Re k [m/s]. Newton's method from the lossless k = omega / c0.
 */
export function realisedWavenumber(alpha0: number, c0: number, y: number, omega: number): { attenuationNpM: number; phaseSpeed: number } {
  let k = cx.complex(omega / c0, plainAlpha0(0, y, omega))
  for (let iteration = 0; iteration < 50; iteration++) {
    const f = dispersionResidual(k, alpha0, c0, y, omega)
    const h = (1e-7 * omega) / c0
    const fp = dispersionResidual(cx.add(k, cx.complex(h, 0)), alpha0, c0, y, omega)
    const derivative = cx.scale(cx.sub(fp, f), 1 / h)
    const delta = cx.div(f, derivative)
    k = cx.sub(k, delta)
    if (Math.hypot(delta.re, delta.im) < 1e-13 * (omega / c0)) break
  }
  return { attenuationNpM: k.im, phaseSpeed: omega / k.re }
}

/**
 * alpha_0 and c0 such that the model realises exactly the requested attenuation and phase
 * speed at omega (two real unknowns, two real equations: the dispersion relation at the target
 * complex k; Newton with a finite-difference Jacobian, started from the Eq. 40 compensation).
 * For y != 2 the dispersion term would otherwise also move the phase speed (by ~5 % in
 * cortical bone at y = 1.5, i.e. ~17 degrees of phase through 6.5 mm). Returns undefined when no
 * physical solution exists.
 */
export function compensatedMedium(targetNpM: number, targetSoundSpeed: number, y: number, omega: number): { alpha0: number; c0: number } | undefined {
  if (targetNpM === 0) return { alpha0: 0, c0: targetSoundSpeed }
  const kTarget = cx.complex(omega / targetSoundSpeed, targetNpM)
  let alpha0 = compensatedAlpha0(targetNpM, y, targetSoundSpeed, omega)
  if (!(alpha0 > 0)) alpha0 = plainAlpha0(targetNpM, y, omega)
  let c0 = targetSoundSpeed
  for (let iteration = 0; iteration < 100; iteration++) {
    const f = dispersionResidual(kTarget, alpha0, c0, y, omega)
    const ha = alpha0 * 1e-7
    const hc = c0 * 1e-7
    const fa = cx.scale(cx.sub(dispersionResidual(kTarget, alpha0 + ha, c0, y, omega), f), 1 / ha)
    const fc = cx.scale(cx.sub(dispersionResidual(kTarget, alpha0, c0 + hc, y, omega), f), 1 / hc)
    // Solve [fa.re fc.re; fa.im fc.im] [da; dc] = -[f.re; f.im].
    const det = fa.re * fc.im - fc.re * fa.im
    if (det === 0 || !Number.isFinite(det)) return undefined
    const da = (-f.re * fc.im + fc.re * f.im) / det
    const dc = (-fa.re * f.im + fa.im * f.re) / det
    alpha0 += da
    c0 += dc
    if (!(alpha0 > 0 && c0 > 0)) return undefined
    if (Math.abs(da) < 1e-12 * alpha0 && Math.abs(dc) < 1e-10 * c0) break
  }
  const check = realisedWavenumber(alpha0, c0, y, omega)
  if (Math.abs(check.attenuationNpM - targetNpM) > 1e-6 * targetNpM || Math.abs(check.phaseSpeed - targetSoundSpeed) > 1e-6 * targetSoundSpeed) return undefined
  return { alpha0, c0 }
}
