/**
 * Values every DICOM object we write shares: the implementation's identity in the File Meta
 * Information and decimal strings (DS) printed to the standard's 16 characters.
 */

/** Identifies the writing software (PS3.7 §D.3.3.2); a fixed UUID-derived UID. */
export const IMPLEMENTATION_CLASS_UID = '2.25.108824127939189073389300243857637905914'
/** SH, at most 16 characters. */
export const IMPLEMENTATION_VERSION_NAME = 'TFUS_PLANNER_01'

/**
 * Shortest decimal string of at most 16 characters (the DS limit, PS3.5 §6.2) that is
 * closest to `x`: full precision when it fits, otherwise rounded to fewer significant digits.
 */
export function formatDS(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`DS value must be finite, got ${x}`)
  if (Object.is(x, -0) || x === 0) return '0'
  for (let p = 17; p >= 1; p--) {
    const rounded = Number(x.toPrecision(p))
    const plain = String(rounded)
    if (plain.length <= 16) return plain
    // Large magnitudes print as long integers; exponent form keeps the significant digits.
    const exp = rounded.toExponential().replace('e+', 'e')
    if (exp.length <= 16) return exp
  }
  // Unreachable for finite doubles: one significant digit with exponent fits in 8 characters.
  return x.toExponential(0).replace('e+', 'e')
}
