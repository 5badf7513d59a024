import { describe, it, expect } from 'vitest'
import { intensityStats } from '../../../core/volume/index.ts'

describe('intensityStats', () => {
  it('computes moments and percentiles of a small array', () => {
    const s = intensityStats({ data: new Float32Array([4, 1, 3, 2]) })
    expect(s.min).toBe(1)
    expect(s.max).toBe(4)
    expect(s.mean).toBe(2.5)
    // Deviations +-1.5, +-0.5: variance (2.25*2 + 0.25*2) / 4 = 1.25.
    expect(s.std).toBeCloseTo(Math.sqrt(1.25), 12)
    expect(s.count).toBe(4)
    expect(s.nanCount).toBe(0)
    // Ranks 0.03, 1.5 and 2.97 between the sorted values 1, 2, 3, 4.
    expect(s.p01).toBeCloseTo(1.03, 12)
    expect(s.p50).toBeCloseTo(2.5, 12)
    expect(s.p99).toBeCloseTo(3.97, 12)
  })

  it('ignores NaN (and infinities) and counts them', () => {
    // The textbook set 2,4,4,4,5,5,7,9 has mean 5 and population std 2.
    const s = intensityStats({ data: new Float64Array([2, NaN, 4, 4, Infinity, 4, 5, 5, 7, -Infinity, 9]) })
    expect(s.count).toBe(8)
    expect(s.nanCount).toBe(3)
    expect(s.mean).toBe(5)
    expect(s.std).toBe(2)
    expect(s.min).toBe(2)
    expect(s.max).toBe(9)
    expect(s.p50).toBe(4.5)
  })

  it('restricts to a mask', () => {
    const data = new Int16Array([10, 20, 30, 40, 50])
    const s = intensityStats({ data }, { mask: new Uint8Array([1, 0, 1, 0, 1]) })
    expect(s.count).toBe(3)
    expect(s.mean).toBe(30)
    expect(s.std).toBeCloseTo(Math.sqrt(800 / 3), 12)
    expect(s.min).toBe(10)
    expect(s.max).toBe(50)
    expect(s.p50).toBe(30)
  })

  it('returns NaN statistics when nothing is counted', () => {
    const s = intensityStats({ data: new Float32Array([1, 2]) }, { mask: new Uint8Array(2) })
    expect(s.count).toBe(0)
    expect(s.mean).toBeNaN()
    expect(s.p50).toBeNaN()
  })

  it('rejects a mask of the wrong size', () => {
    expect(() => intensityStats({ data: new Float32Array(3) }, { mask: new Uint8Array(2) })).toThrow(/mask/)
  })

  it('gives exact percentiles for large integer data', () => {
    // Each value 0..999 occurs 2000 times, so value v fills ranks 2000v .. 2000v + 1999.
    const n = 2_000_000
    const data = new Int16Array(n).map((_, i) => i % 1000)
    const s = intensityStats({ data })
    expect(s.mean).toBeCloseTo(499.5, 9)
    expect(s.std).toBeCloseTo(Math.sqrt((1000 * 1000 - 1) / 12), 9)
    // Ranks 19999.99 (9 -> 10), 999999.5 (499 -> 500), 1979999.01 (989 -> 990).
    expect(s.p01).toBeCloseTo(9.99, 6)
    expect(s.p50).toBeCloseTo(499.5, 9)
    expect(s.p99).toBeCloseTo(989.01, 6)
  })

  it('gives percentiles within one histogram bin for large float data', () => {
    // 0, 1, ..., 2e6: the p-th percentile is exactly 2e6 * p.
    const n = 2_000_001
    const data = new Float32Array(n).map((_, i) => i)
    const s = intensityStats({ data })
    const bin = 2e6 / 4096
    expect(s.mean).toBeCloseTo(1e6, 6)
    expect(Math.abs(s.p01 - 2e4)).toBeLessThan(bin)
    expect(Math.abs(s.p50 - 1e6)).toBeLessThan(bin)
    expect(Math.abs(s.p99 - 1.98e6)).toBeLessThan(bin)
    expect(s.min).toBe(0)
    expect(s.max).toBe(2e6)
  })
})
