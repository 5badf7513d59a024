/**
 * Pose checks and number formatting shared by the navigation formats (the 4x4 algebra itself is
 * core/math).
 *
 * Conventions: matrices are row-major arrays of 16 numbers (element (r, c) at 4 r + c), acting
 * on homogeneous column vectors. A pose maps a tool frame to a patient frame: its columns 0..2
 * are the tool's x, y, z axes expressed in the patient frame, column 3 the tool origin.
 */
import { ImportError } from '../io/errors.ts'
import { affineColumn, dot3, mat3Determinant, rotationOf, type Mat4 } from '../math/index.ts'

/**
 * How far the 3x3 part of a pose is from a proper rotation: the largest deviation of R^T R from
 * the identity, and the determinant. Files with rounded numbers (Localite exports with 6
 * decimals) sit near 1e-6; anything near 1e-2 is not a rotation at all.
 */
export function rotationDefect(m: Mat4): { orthogonality: number; determinant: number } {
  const cols = [affineColumn(m, 0), affineColumn(m, 1), affineColumn(m, 2)]
  let worst = 0
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) worst = Math.max(worst, Math.abs(dot3(cols[i]!, cols[j]!) - (i === j ? 1 : 0)))
  }
  return { orthogonality: worst, determinant: mat3Determinant(rotationOf(m)) }
}

/**
 * The nearest rotation to the 3x3 part (polar decomposition by the Newton iteration
 * R <- (R + R^-T) / 2, Higham 1986), translation kept. For files that print 4-6 decimals: their
 * axes are orthonormal only to ~1e-4, and a pose must be a rigid transform.
 */
export function orthonormalize(m: Mat4): number[] {
  let r = [m[0]!, m[1]!, m[2]!, m[4]!, m[5]!, m[6]!, m[8]!, m[9]!, m[10]!]
  for (let iter = 0; iter < 20; iter++) {
    const [a, b, c, d, e, f, g, h, i] = r as [number, number, number, number, number, number, number, number, number]
    const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    // Inverse transpose = cofactor matrix / det.
    const cof = [
      e * i - f * h,
      -(d * i - f * g),
      d * h - e * g,
      -(b * i - c * h),
      a * i - c * g,
      -(a * h - b * g),
      b * f - c * e,
      -(a * f - c * d),
      a * e - b * d,
    ]
    const next = r.map((v, k) => (v + cof[k]! / det) / 2)
    const change = Math.max(...next.map((v, k) => Math.abs(v - r[k]!)))
    r = next
    if (change < 1e-16) break
  }
  return [r[0]!, r[1]!, r[2]!, m[3]!, r[3]!, r[4]!, r[5]!, m[7]!, r[6]!, r[7]!, r[8]!, m[11]!, 0, 0, 0, 1]
}

/** Defects above this (printed decimals) are removed by `orthonormalize`; our own files are exact. */
export const ROUNDING_DEFECT = 1e-12

/** Largest tolerated rotation defect in an imported file (rounded exports are far below it). */
export const ROTATION_TOLERANCE = 1e-3

/**
 * Largest deviation max|RᵀR − I| accepted from a file that prints its axes with few decimals
 * (Brainsight 2.3.5 prints 3), which is then re-orthonormalised with a warning.
 *
 * Why 5e-3: rounding to d decimals moves each entry by at most h = 0.5·10^-d; for unit columns
 * a, b the product a·b then moves by at most |a||δb| + |b||δa| + |δa||δb| <= 2·√3·h + 3h²,
 * i.e. 1.73e-3 for 3 decimals (a real Brainsight 2.3.5 export, SimNIBS' test file
 * niiImage_nifticoord.txt, reaches 1.29e-3). 5e-3 leaves room for a second rounding (a file
 * re-saved by another tool) and no more: the nearest rotation then differs from the printed
 * axes by at most ~2.5e-3 rad (0.14°, 0.15 mm at 60 mm focal depth). A larger deviation is not
 * rounding but a sheared, scaled or hand-edited matrix, and is refused.
 */
export const ROUNDED_ROTATION_TOLERANCE = 5e-3

/**
 * A number as plain decimal text that parses back to the same double: the shortest round-trip
 * digits (ECMAScript Number::toString), written without an exponent (navigation software parses
 * plain decimals; not all of it accepts "1e-7"). -0 prints as 0.
 */
export function formatExact(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`cannot write ${x} as a coordinate`)
  if (x === 0) return '0'
  const s = String(x)
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s)
  if (!m) return s
  // Same significant digits as the shortest form, with the decimal point moved by hand.
  const [, sign, lead, frac = '', expText] = m
  const digits = lead! + frac
  const exp = Number(expText)
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`
  return `${sign}${digits}${'0'.repeat(Math.max(0, exp - frac.length))}`
}

/** Parses a decimal number field; an ImportError naming `file` and `where` when it is not one. */
export function parseNumber(text: string | undefined, file: string, where: string): number {
  const t = (text ?? '').trim()
  const v = t === '' ? Number.NaN : Number(t)
  if (!Number.isFinite(v)) throw new ImportError('corrupt-header', file, `${where}: ${text === undefined ? 'missing' : `"${text}" is not a number`}`)
  return v
}
