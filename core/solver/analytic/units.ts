/**
 * Attenuation unit conversions. Amplitude attenuation: 1 Np = 20 log10(e) dB = 8.6859 dB.
 */

/** 20 log10(e): decibels per neper (amplitude). */
export const DB_PER_NEPER = 20 / Math.LN10

/** Attenuation in dB/cm to Np/m (x 100 cm/m, / 8.6859 dB/Np). */
export function dbPerCmToNpPerM(alphaDbPerCm: number): number {
  return (alphaDbPerCm * 100) / DB_PER_NEPER
}

/** Attenuation in Np/m to dB/cm. */
export function npPerMToDbPerCm(alphaNpPerM: number): number {
  return (alphaNpPerM * DB_PER_NEPER) / 100
}

/**
 * k-Wave `db2neper` (docs/physics.md §6.1): converts the power-law prefactor a, in
 * dB MHz^-y cm^-1, to alpha_0 in Np (rad/s)^-y m^-1, so that alpha(omega) = alpha_0 omega^y
 * with omega in rad/s. The (1e-6 / 2 pi)^y factor turns MHz^y into (rad/s)^y.
 */
export function db2neper(alphaDbPerMHzYcm: number, y: number): number {
  return (100 * alphaDbPerMHzYcm * Math.pow(1e-6 / (2 * Math.PI), y)) / DB_PER_NEPER
}

/** Inverse of {@link db2neper}: alpha_0 in Np (rad/s)^-y m^-1 to dB MHz^-y cm^-1. */
export function neper2db(alpha0NpRadSYM: number, y: number): number {
  return (alpha0NpRadSYM * DB_PER_NEPER) / (100 * Math.pow(1e-6 / (2 * Math.PI), y))
}
