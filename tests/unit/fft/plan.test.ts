import { describe, expect, it } from 'vitest'
import { createFftPlan, isFftFriendly, nextFftFriendly, primeFactors } from '../../../core/fft/plan.ts'
import { naiveDft, randomArray, relErr } from './naive.ts'

const friendlyUpTo64 = Array.from({ length: 64 }, (_, i) => i + 1).filter((n) => isFftFriendly(n))

describe('isFftFriendly / nextFftFriendly / primeFactors', () => {
  it('classifies lengths by their prime factors', () => {
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 49, 100, 128, 162, 270, 1680]) {
      expect(isFftFriendly(n)).toBe(true)
    }
    for (const n of [0, -4, 2.5, NaN, Infinity, 11, 13, 22, 26, 121, 127, 2 * 3 * 5 * 7 * 11]) {
      expect(isFftFriendly(n)).toBe(false)
    }
  })

  it('finds the next friendly length', () => {
    expect(nextFftFriendly(0)).toBe(1)
    expect(nextFftFriendly(1)).toBe(1)
    expect(nextFftFriendly(11)).toBe(12)
    expect(nextFftFriendly(13)).toBe(14)
    expect(nextFftFriendly(17)).toBe(18)
    expect(nextFftFriendly(97)).toBe(98)
    expect(nextFftFriendly(121)).toBe(125)
    expect(nextFftFriendly(127)).toBe(128)
    expect(nextFftFriendly(128)).toBe(128)
    expect(nextFftFriendly(10.2)).toBe(12)
    expect(() => nextFftFriendly(NaN)).toThrow(RangeError)
  })

  it('factorises', () => {
    expect(primeFactors(1)).toEqual([])
    expect(primeFactors(270)).toEqual([2, 3, 3, 3, 5])
    expect(primeFactors(22)).toEqual([2, 11])
    expect(primeFactors(169)).toEqual([13, 13])
  })
})

describe('createFftPlan errors', () => {
  it('rejects n = 11 and n = 13 naming the factors', () => {
    expect(() => createFftPlan(11)).toThrow(RangeError)
    expect(() => createFftPlan(11)).toThrow(/FFT length 11 .*prime factors are 11 .*11 not in \{2, 3, 5, 7\}.*12/)
    expect(() => createFftPlan(13)).toThrow(/FFT length 13 .*prime factors are 13 .*13 not in \{2, 3, 5, 7\}.*14/)
    expect(() => createFftPlan(22)).toThrow(/prime factors are 2 x 11 /)
    expect(() => createFftPlan(2 * 11 * 13)).toThrow(/\(11, 13 not in/)
  })

  it('rejects non-integers, non-positive lengths and bad radix lists', () => {
    expect(() => createFftPlan(0)).toThrow(RangeError)
    expect(() => createFftPlan(-8)).toThrow(RangeError)
    expect(() => createFftPlan(2.5)).toThrow(RangeError)
    expect(() => createFftPlan(16, [4, 2])).toThrow(/do not factor 16/)
    expect(() => createFftPlan(16, [16])).toThrow(/do not factor 16/)
  })

  it('rejects arrays that are too short', () => {
    const plan = createFftPlan(8)
    expect(() => plan.forward(new Float64Array(7), new Float64Array(8))).toThrow(RangeError)
    expect(() => plan.forwardBatch(new Float64Array(16), new Float64Array(16), 3)).toThrow(RangeError)
    expect(() => plan.forwardBatch(new Float64Array(16), new Float64Array(16), 2, new Float64Array(8), new Float64Array(16))).toThrow(/work arrays/)
  })
})

describe('1D plans against a naive DFT', () => {
  it.each(friendlyUpTo64)('n = %i, forward and unnormalised inverse, single line and batch of 3', (n) => {
    const plan = createFftPlan(n)
    for (const batch of [1, 3]) {
      const re0 = randomArray(n * batch, 17 * n + batch)
      const im0 = randomArray(n * batch, 31 * n + batch)
      const [wantRe, wantIm] = naiveDft(re0, im0, n, batch, -1)
      const re = Float64Array.from(re0)
      const im = Float64Array.from(im0)
      if (batch === 1) plan.forward(re, im)
      else plan.forwardBatch(re, im, batch)
      expect(relErr(re, wantRe, im, wantIm)).toBeLessThan(1e-12)

      const [invRe, invIm] = naiveDft(re0, im0, n, batch, 1)
      const re2 = Float64Array.from(re0)
      const im2 = Float64Array.from(im0)
      if (batch === 1) plan.inverse(re2, im2)
      else plan.inverseBatch(re2, im2, batch)
      expect(relErr(re2, invRe, im2, invIm)).toBeLessThan(1e-12)

      // inverse(forward(x)) = n x
      plan.inverseBatch(re, im, batch)
      for (let j = 0; j < n * batch; j++) {
        re[j] = re[j]! / n
        im[j] = im[j]! / n
      }
      expect(relErr(re, re0, im, im0)).toBeLessThan(1e-13)
    }
  })

  it.each([96, 100, 128, 160, 162, 243, 270, 343, 512, 1024])('n = %i (solver-sized lengths)', (n) => {
    const plan = createFftPlan(n)
    const batch = 2
    const re0 = randomArray(n * batch, n)
    const im0 = randomArray(n * batch, n + 1)
    const [wantRe, wantIm] = naiveDft(re0, im0, n, batch, -1)
    const re = Float64Array.from(re0)
    const im = Float64Array.from(im0)
    plan.forwardBatch(re, im, batch)
    expect(relErr(re, wantRe, im, wantIm)).toBeLessThan(1e-12)
  })

  // Each kernel both as a twiddled (first) stage and as the unit-twiddle last stage, with odd and
  // even stage counts (the last stage runs in place when the count is odd).
  it.each([
    [2, 2],
    [4, 4],
    [8, 8],
    [3, 3],
    [5, 5],
    [7, 7],
    [6, 6],
    [9, 9],
    [2, 9],
    [9, 2],
    [8, 6],
    [6, 8],
    [7, 4],
    [5, 3, 2],
    [2, 2, 2, 2],
    [3, 9, 6],
    [4, 8, 4, 2],
  ])('explicit radices %j', (...radices: number[]) => {
    const n = radices.reduce((a, b) => a * b, 1)
    const plan = createFftPlan(n, radices)
    expect(plan.radices).toEqual(radices)
    const batch = 5
    const re0 = randomArray(n * batch, 3 * n)
    const im0 = randomArray(n * batch, 5 * n)
    const [wantRe, wantIm] = naiveDft(re0, im0, n, batch, -1)
    const re = Float64Array.from(re0)
    const im = Float64Array.from(im0)
    plan.forwardBatch(re, im, batch)
    expect(relErr(re, wantRe, im, wantIm)).toBeLessThan(1e-12)
  })

  it('gives identical results with caller-provided work buffers', () => {
    const n = 24
    const batch = 4
    const plan = createFftPlan(n)
    const re0 = randomArray(n * batch, 1)
    const im0 = randomArray(n * batch, 2)
    const a = [Float64Array.from(re0), Float64Array.from(im0)] as const
    const b = [Float64Array.from(re0), Float64Array.from(im0)] as const
    plan.forwardBatch(a[0], a[1], batch)
    plan.forwardBatch(b[0], b[1], batch, new Float64Array(n * batch), new Float64Array(n * batch))
    expect(Array.from(b[0])).toEqual(Array.from(a[0]))
    expect(Array.from(b[1])).toEqual(Array.from(a[1]))
  })

  it('picks the measured radix orders', () => {
    expect(createFftPlan(1).radices).toEqual([])
    expect(createFftPlan(128).radices).toEqual([4, 4, 8])
    expect(createFftPlan(64).radices).toEqual([8, 8])
    expect(createFftPlan(162).radices).toEqual([9, 3, 6])
    expect(createFftPlan(270).radices).toEqual([5, 9, 6])
    expect(createFftPlan(100).radices).toEqual([4, 5, 5])
  })
})
