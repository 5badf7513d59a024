/**
 * Strict parsing of what a planner types into a numeric field: a plain decimal number (one
 * decimal comma is read as a decimal point, as typed on a German or French keyboard), optionally
 * with an exponent. Anything else (letters, two separators, thousands groups, hex, an empty field)
 * is an error shown beside the field: a value is never substituted or clamped.
 */

const NUMBER = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$/

/** The number typed, or null when the text is not one number. */
export function parseTypedNumber(text: string): number | null {
  const t = text.trim()
  if (!NUMBER.test(t)) return null
  const v = Number(t.replace(',', '.'))
  return Number.isFinite(v) ? v : null
}

export interface FieldSpec {
  /** Name in the message ("Isppa"). */
  readonly label: string
  /** Display unit ("W/cm²"). */
  readonly unit: string
  /** Inclusive bounds in display units. */
  readonly min: number
  readonly max: number
}

export type FieldResult = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly error: string }

const show = (v: number) => String(Number(v.toPrecision(6)))

/** Parses a typed field against its plausible range (display units in, display units out). */
export function checkField(text: string, spec: FieldSpec): FieldResult {
  if (text.trim() === '') return { ok: false, error: `${spec.label}: enter a number from ${show(spec.min)} to ${show(spec.max)} ${spec.unit}` }
  const v = parseTypedNumber(text)
  if (v === null) return { ok: false, error: `${spec.label}: "${text.trim()}" is not a number (digits, one decimal point or comma, e.g. 12.5)` }
  if (v < spec.min || v > spec.max)
    return { ok: false, error: `${spec.label}: ${show(v)} ${spec.unit} is outside the plausible range ${show(spec.min)} to ${show(spec.max)} ${spec.unit}` }
  return { ok: true, value: v }
}

/** Three typed coordinates (mm): each must be a number; the message names the first bad one. */
export function checkCoordinates(
  texts: readonly [string, string, string],
  what: string,
): { ok: true; mm: [number, number, number] } | { ok: false; error: string } {
  const names = ['R', 'A', 'S']
  const out: number[] = []
  for (let i = 0; i < 3; i++) {
    const t = texts[i]!
    const v = parseTypedNumber(t)
    if (v === null) return { ok: false, error: `${what} ${names[i]}: ${t.trim() === '' ? 'empty' : `"${t.trim()}" is not a number`} (mm, RAS; e.g. -30.5)` }
    if (Math.abs(v) > 1000) return { ok: false, error: `${what} ${names[i]}: ${v} mm is a metre or more from the origin` }
    out.push(v)
  }
  return { ok: true, mm: out as [number, number, number] }
}
