/**
 * Minimal immutable complex arithmetic for the analytic references (transfer matrices, complex
 * wavenumbers). Allocation per operation is fine here: these paths evaluate a handful of
 * values, never a field; the hot Rayleigh loop works on split re/im typed arrays instead.
 */

export interface Complex {
  readonly re: number
  readonly im: number
}

export const complex = (re: number, im = 0): Complex => ({ re, im })

export const ZERO: Complex = complex(0, 0)
export const ONE: Complex = complex(1, 0)
export const I: Complex = complex(0, 1)

export const add = (a: Complex, b: Complex): Complex => complex(a.re + b.re, a.im + b.im)

export const sub = (a: Complex, b: Complex): Complex => complex(a.re - b.re, a.im - b.im)

export const mul = (a: Complex, b: Complex): Complex => complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)

export const scale = (a: Complex, s: number): Complex => complex(a.re * s, a.im * s)

export const conj = (a: Complex): Complex => complex(a.re, -a.im)

export const neg = (a: Complex): Complex => complex(-a.re, -a.im)

/** Smith's algorithm: avoids overflow/underflow in |b|^2 for widely scaled operands. */
export function div(a: Complex, b: Complex): Complex {
  if (Math.abs(b.re) >= Math.abs(b.im)) {
    const r = b.im / b.re
    const d = b.re + b.im * r
    return complex((a.re + a.im * r) / d, (a.im - a.re * r) / d)
  }
  const r = b.re / b.im
  const d = b.re * r + b.im
  return complex((a.re * r + a.im) / d, (a.im * r - a.re) / d)
}

export const inv = (a: Complex): Complex => div(ONE, a)

export const abs = (a: Complex): number => Math.hypot(a.re, a.im)

/** Principal argument in (-pi, pi]. */
export const arg = (a: Complex): number => Math.atan2(a.im, a.re)

export function exp(a: Complex): Complex {
  const m = Math.exp(a.re)
  return complex(m * Math.cos(a.im), m * Math.sin(a.im))
}

/** e^{i theta} for real theta. */
export const expi = (theta: number): Complex => complex(Math.cos(theta), Math.sin(theta))

/** sin(x + iy) = sin x cosh y + i cos x sinh y. */
export const sin = (a: Complex): Complex => complex(Math.sin(a.re) * Math.cosh(a.im), Math.cos(a.re) * Math.sinh(a.im))

/** cos(x + iy) = cos x cosh y - i sin x sinh y. */
export const cos = (a: Complex): Complex => complex(Math.cos(a.re) * Math.cosh(a.im), -Math.sin(a.re) * Math.sinh(a.im))

/**
 * sin(w)/w, continuous through w = 0. Below |w| = 1e-3 the Taylor series to w^4 is exact to
 * double precision (next term w^6/5040 < 2e-22), and the direct quotient would lose digits.
 */
export function sinc(w: Complex): Complex {
  if (abs(w) < 1e-3) {
    const w2 = mul(w, w)
    return add(ONE, mul(w2, add(complex(-1 / 6), scale(w2, 1 / 120))))
  }
  return div(sin(w), w)
}
