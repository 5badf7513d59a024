/**
 * The one seeded pseudo-random generator: mulberry32 (Tommy Ettinger, 2017), 32-bit state, full
 * period 2^32, passes gjrand/PractRand to several GB; plenty for synthetic heads, sample noise and
 * test data. The same seed gives the same sequence on every machine (integer arithmetic only).
 * Not for anything secret: use node:crypto for that.
 */

/** Uniform numbers in [0, 1) from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `length` reproducible bytes from a seed. */
export function seededBytes(seed: number, length: number): Uint8Array {
  const random = seededRandom(seed)
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256)
  return out
}

/** Standard normal deviates (Box-Muller on the same generator). */
export function seededGaussian(seed: number): () => number {
  const random = seededRandom(seed)
  // 1 - u lies in (0, 1], so the logarithm stays finite.
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
}
