import { seededRandom } from '../../../core/math/random.ts'
/** Reference transforms for the FFT tests: direct O(n^2) sums, exact-angle twiddles. */

/** Deterministic uniform values in [-0.5, 0.5) (mulberry32) so failures reproduce. */
export function randomArray(n: number, seed: number): Float64Array {
  const random = seededRandom(seed)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = random() - 0.5
  return out
}

/** Naive DFT of `batch` interleaved lines (element j of line b at j * batch + b); sign -1 forward. */
export function naiveDft(re: Float64Array, im: Float64Array, n: number, batch: number, sign: 1 | -1): [Float64Array, Float64Array] {
  const outRe = new Float64Array(n * batch)
  const outIm = new Float64Array(n * batch)
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < n; k++) {
      let sr = 0
      let si = 0
      for (let j = 0; j < n; j++) {
        const ang = (sign * 2 * Math.PI * ((j * k) % n)) / n
        const c = Math.cos(ang)
        const s = Math.sin(ang)
        const xr = re[j * batch + b]!
        const xi = im[j * batch + b]!
        sr += xr * c - xi * s
        si += xr * s + xi * c
      }
      outRe[k * batch + b] = sr
      outIm[k * batch + b] = si
    }
  }
  return [outRe, outIm]
}

/** Separable naive 3D DFT (x fastest), unnormalised, sign -1 forward. */
export function naiveDft3d(re: Float64Array, im: Float64Array, dims: readonly [number, number, number], sign: 1 | -1): [Float64Array, Float64Array] {
  let r = Float64Array.from(re)
  let i = Float64Array.from(im)
  const strides = [1, dims[0], dims[0] * dims[1]]
  for (let ax = 0; ax < 3; ax++) {
    const n = dims[ax]!
    const st = strides[ax]!
    const or = new Float64Array(r.length)
    const oi = new Float64Array(r.length)
    for (let idx = 0; idx < r.length; idx++) {
      const k = Math.floor(idx / st) % n
      const base = idx - k * st
      let sr = 0
      let si = 0
      for (let j = 0; j < n; j++) {
        const ang = (sign * 2 * Math.PI * ((j * k) % n)) / n
        const c = Math.cos(ang)
        const s = Math.sin(ang)
        const xr = r[base + j * st]!
        const xi = i[base + j * st]!
        sr += xr * c - xi * s
        si += xr * s + xi * c
      }
      or[idx] = sr
      oi[idx] = si
    }
    r = or
    i = oi
  }
  return [r, i]
}

/** sqrt(sum |a - b|^2 / sum |b|^2) over split complex arrays (im arrays optional). */
export function relErr(aRe: ArrayLike<number>, bRe: ArrayLike<number>, aIm?: ArrayLike<number>, bIm?: ArrayLike<number>): number {
  let num = 0
  let den = 0
  for (let j = 0; j < bRe.length; j++) {
    num += (aRe[j]! - bRe[j]!) ** 2
    den += bRe[j]! ** 2
    if (aIm && bIm) {
      num += (aIm[j]! - bIm[j]!) ** 2
      den += bIm[j]! ** 2
    }
  }
  return Math.sqrt(num / (den || 1))
}
