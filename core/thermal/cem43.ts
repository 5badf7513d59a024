/**
 * Thermal dose in cumulative equivalent minutes at 43 °C (S. A. Sapareto and W. C. Dewey,
 * "Thermal dose determination in cancer therapy", Int. J. Radiat. Oncol. Biol. Phys.
 * 10(6):787-800, 1984):
 *
 *   CEM43 = integral of R^(43 - T(t)) dt  [min],  R = 0.5 for T >= 43 °C, 0.25 for T < 43 °C.
 *
 * Variant: "sapareto-dewey-all-temperatures", the form of BabelViscoFDTD's BHTE (docs/physics.md
 * §5.5): R switches at 43 °C and every temperature counts, 37 °C included (0.25^6 = 2.4e-4 min
 * per minute at body temperature). k-Wave's `kWaveDiffusion` form differs only below 37 °C (no
 * dose), which the thermal model never reaches (a rise is never negative); PRESTUS's ISO form
 * (nothing below 39 °C) would report less.
 *
 * The integral is exact for a temperature that is linear between samples (how the time stepping
 * represents it): over [t0, t0 + dt] with T going linearly from T0 to T1 and one R,
 *   dt R^(43 - Tm) sinh(x) / x,  Tm = (T0 + T1) / 2,  x = (T1 - T0) ln(R) / 2,
 * split at the 43 °C crossing when T0 and T1 lie on either side.
 */

export const CEM43_VARIANT =
  'sapareto-dewey-all-temperatures: R = 0.5 at T >= 43 °C, 0.25 below (Sapareto & Dewey 1984; BabelViscoFDTD BHTE form); exact for linear T between steps'

const LN_HALF = Math.log(0.5)
const LN_QUARTER = Math.log(0.25)

/** sinh(x)/x, by its series where that is exact to double rounding. */
function sinhc(x: number): number {
  const x2 = x * x
  if (x2 < 0.25) return 1 + (x2 / 6) * (1 + (x2 / 20) * (1 + (x2 / 42) * (1 + x2 / 72)))
  return Math.sinh(x) / x
}

function linearPiece(t0: number, t1: number, dtMin: number, lnR: number): number {
  return dtMin * Math.exp((43 - 0.5 * (t0 + t1)) * lnR) * sinhc(0.5 * (t1 - t0) * lnR)
}

/**
 * Dose [min] of a temperature going linearly from t0C to t1C over dtMin minutes.
 */
export function cem43Linear(t0C: number, t1C: number, dtMin: number): number {
  const hot0 = t0C >= 43
  const hot1 = t1C >= 43
  if (hot0 === hot1) return linearPiece(t0C, t1C, dtMin, hot0 ? LN_HALF : LN_QUARTER)
  const f = (43 - t0C) / (t1C - t0C)
  return linearPiece(t0C, 43, f * dtMin, hot0 ? LN_HALF : LN_QUARTER) + linearPiece(43, t1C, (1 - f) * dtMin, hot1 ? LN_HALF : LN_QUARTER)
}

/** Dose [min] of a constant temperature held for dtMin minutes. */
export function cem43Constant(tC: number, dtMin: number): number {
  return dtMin * Math.pow(tC >= 43 ? 0.5 : 0.25, 43 - tC)
}

/** Dose [min] of a sampled history, linear between samples (times in seconds, °C). */
export function cem43OfHistory(timesS: ArrayLike<number>, temperaturesC: ArrayLike<number>): number {
  if (timesS.length !== temperaturesC.length) throw new RangeError('cem43OfHistory: times and temperatures differ in length')
  let dose = 0
  for (let i = 1; i < timesS.length; i++) dose += cem43Linear(temperaturesC[i - 1]!, temperaturesC[i]!, (timesS[i]! - timesS[i - 1]!) / 60)
  return dose
}
