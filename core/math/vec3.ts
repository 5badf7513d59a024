/**
 * 3-vectors: the one set of small vector helpers for core/, electron/ and the renderer.
 * A `Vec3` is a readonly tuple; every helper returns a new one.
 */

export type Vec3 = readonly [number, number, number]

export const add3 = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
export const sub3 = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
export const scale3 = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s]
export const neg3 = (a: Vec3): Vec3 => [-a[0], -a[1], -a[2]]
/** a + s b */
export const addScaled3 = (a: Vec3, b: Vec3, s: number): Vec3 => [a[0] + s * b[0], a[1] + s * b[1], a[2] + s * b[2]]
export const dot3 = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
export const cross3 = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
/** Euclidean length (hypot: no overflow or underflow for tiny or huge components). */
export const norm3 = (a: Vec3): number => Math.hypot(a[0], a[1], a[2])
/** a / |a|; a zero vector gives NaNs, which callers that can meet one check for. */
export const normalize3 = (a: Vec3): Vec3 => {
  const n = norm3(a)
  return [a[0] / n, a[1] / n, a[2] / n]
}

/** The first three entries of any number array as a Vec3 (missing entries read as 0). */
export const toVec3 = (a: ArrayLike<number>): Vec3 => [a[0] ?? 0, a[1] ?? 0, a[2] ?? 0]
