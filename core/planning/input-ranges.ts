/**
 * Plausible ranges of the drive and pulse inputs a planner types, in SI: the app's fields show
 * them in their inline errors and the API contract refuses values outside them, so a typo (1e9
 * W/cm2, a pulse of 0 ms) is caught where it is typed and again at the boundary.
 */

export interface InputRange {
  /** Inclusive bounds, SI. */
  readonly min: number
  readonly max: number
  /** Why these bounds, for the docs and the error text. */
  readonly why: string
}

/**
 * Free-water spatial-peak pulse-average intensity [W/m2]: 0.01 to 190 W/cm2. The upper bound is
 * the FDA's track-3 limit for diagnostic ultrasound (derated Isppa.3 <= 190 W/cm2, FDA guidance
 * "Marketing Clearance of Diagnostic Ultrasound Systems and Transducers", 2019), which tFUS
 * neuromodulation stays well below; anything above it is a typo for this planner.
 */
export const ISPPA_FREE_WATER_W_PER_M2: InputRange = { min: 1e2, max: 1.9e6, why: 'up to the FDA diagnostic Isppa.3 limit of 190 W/cm2' }

/** Pulse duration [s]: 10 us (a few cycles at 250-650 kHz) to 10 s (a long continuous burst). */
export const PULSE_DURATION_S: InputRange = { min: 1e-5, max: 10, why: 'from a few cycles to a 10 s burst' }

/** Pulse repetition frequency [Hz]: 0.1 Hz to 10 kHz (tFUS protocols use 5 Hz to 1.5 kHz). */
export const PRF_HZ: InputRange = { min: 0.1, max: 1e4, why: 'tFUS protocols use 5 Hz to 1.5 kHz' }

/** Pulse duration x PRF above 1 means pulses that overlap: no protocol can deliver it. */
export function pulseOverlapRefusal(pulseDurationS: number, prfHz: number): string | null {
  const duty = pulseDurationS * prfHz
  return duty > 1 + 1e-9
    ? `a ${(pulseDurationS * 1e3).toPrecision(3)} ms pulse repeated at ${prfHz} Hz overlaps the next one (duty cycle ${(duty * 100).toFixed(0)} % > 100 %)`
    : null
}
