/**
 * The native FFT stages (native/src/fft3d.cc) against an O(n^2) DFT in float64 and against the
 * TypeScript FFT (core/fft/fft3d.ts), over lengths with every allowed prime factor, odd and even
 * nx, and the two-member range split the solver's threads use; and the binding's argument checks.
 */
import { describe, expect, it } from 'vitest'
import { createRequire } from 'node:module'
import { createFft3d } from '../../../core/fft/fft3d.ts'
import { nativeKernels, NATIVE_ADDON_PATH } from '../../../electron/adapters/native-kernels.ts'
import { requireOrSkip } from '../../helpers/requires.ts'
import { naiveDft3d, randomArray, relErr } from './naive.ts'

type Dims = [number, number, number]
const native = nativeKernels()
const missing = 'unavailable' in native ? native.unavailable : null

describe.skipIf(requireOrSkip('native CPU kernels', missing))('native FFT stages', () => {
  const fft3d = 'unavailable' in native ? undefined : native.fft3d

  it('reports the instruction set it runs with', () => {
    expect(['avx2', 'sse2', 'neon', 'baseline']).toContain('unavailable' in native ? '' : native.simd)
  })

  // Every radix (2, 3, 4, 5, 7) in every axis, odd nx (no kx = nx/2 column) and odd ny (an unpaired row).
  for (const dims of [
    [8, 6, 5],
    [9, 7, 10],
    [15, 14, 12],
    [28, 25, 9],
    [2, 3, 4],
    [1, 1, 6],
    [35, 21, 16],
  ] as Dims[]) {
    it(`${dims.join('x')}: forward equals the float64 DFT's half spectrum; inverse undoes it`, () => {
      const [nx, ny, nz] = dims
      const f = fft3d!(nx, ny, nz)
      const n = nx * ny * nz
      const nxh = (nx >> 1) + 1
      const x64 = randomArray(n, nx * 1000 + ny * 10 + nz)
      const x = Float32Array.from(x64)
      const re = new Float32Array(nxh * ny * nz)
      const im = new Float32Array(nxh * ny * nz)
      f.forwardXY(x, re, im, 0, nz)
      f.forwardZ(re, im, 0, ny)
      const [fr, fi] = naiveDft3d(Float64Array.from(x), new Float64Array(n), dims, -1)
      const hr = new Float64Array(nxh * ny * nz)
      const hi = new Float64Array(nxh * ny * nz)
      for (let z = 0; z < nz; z++)
        for (let y = 0; y < ny; y++)
          for (let k = 0; k < nxh; k++) {
            hr[k + nxh * (y + ny * z)] = fr[k + nx * (y + ny * z)]!
            hi[k + nxh * (y + ny * z)] = fi[k + nx * (y + ny * z)]!
          }
      // float32 storage and arithmetic: a few 1e-7 of the spectrum's norm.
      expect(relErr([...re, ...im], [...hr, ...hi])).toBeLessThan(1e-6)
      const back = new Float32Array(n)
      f.inverseZ(re, im, 0, ny)
      f.inverseXY(re, im, back, 0, nz)
      expect(relErr(back, x)).toBeLessThan(1e-6)
    })
  }

  it('64x48x40: agrees with the TypeScript FFT, and a two-member split gives bit-identical results', () => {
    const [nx, ny, nz] = [64, 48, 40]
    const ts = createFft3d(nx, ny, nz)
    const a = fft3d!(nx, ny, nz)
    const b = fft3d!(nx, ny, nz)
    const x = Float32Array.from(randomArray(nx * ny * nz, 7))
    const r1 = new Float32Array(ts.spectrumLength)
    const i1 = new Float32Array(ts.spectrumLength)
    ts.forward(x, r1, i1)
    const whole = [new Float32Array(ts.spectrumLength), new Float32Array(ts.spectrumLength)] as const
    a.forwardXY(x, whole[0], whole[1], 0, nz)
    a.forwardZ(whole[0], whole[1], 0, ny)
    expect(relErr([...whole[0], ...whole[1]], [...r1, ...i1])).toBeLessThan(1e-6)
    // Two members with their own instances, each over its own planes, then its own rows.
    const split = [new Float32Array(ts.spectrumLength), new Float32Array(ts.spectrumLength)] as const
    a.forwardXY(x, split[0], split[1], 0, 17)
    b.forwardXY(x, split[0], split[1], 17, nz)
    a.forwardZ(split[0], split[1], 0, 20)
    b.forwardZ(split[0], split[1], 20, ny)
    expect(Buffer.compare(Buffer.from(split[0].buffer), Buffer.from(whole[0].buffer))).toBe(0)
    expect(Buffer.compare(Buffer.from(split[1].buffer), Buffer.from(whole[1].buffer))).toBe(0)
    const out = new Float32Array(nx * ny * nz)
    a.inverseZ(split[0], split[1], 0, 31)
    b.inverseZ(split[0], split[1], 31, ny)
    a.inverseXY(split[0], split[1], out, 0, 5)
    b.inverseXY(split[0], split[1], out, 5, nz)
    expect(relErr(out, x)).toBeLessThan(1e-6)
  })

  it('like NumPy irfftn, the inverse ignores imaginary parts a real field cannot have', () => {
    const [nx, ny, nz] = [8, 4, 4]
    const f = fft3d!(nx, ny, nz)
    const ts = createFft3d(nx, ny, nz)
    const re = Float32Array.from(randomArray(ts.spectrumLength, 3))
    const im = Float32Array.from(randomArray(ts.spectrumLength, 4))
    const [re2, im2] = [re.slice(), im.slice()]
    const out = new Float32Array(nx * ny * nz)
    const ref = new Float32Array(nx * ny * nz)
    f.inverseZ(re, im, 0, ny)
    f.inverseXY(re, im, out, 0, nz)
    ts.inverse(re2, im2, ref)
    expect(relErr(out, ref)).toBeLessThan(1e-6)
  })

  it('the binding refuses bad arguments with a TypeError or RangeError instead of touching memory', () => {
    const addon = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as Record<string, (...a: unknown[]) => unknown>
    expect(() => addon.fft3dCreate!(11, 8, 8)).toThrow(RangeError)
    expect(() => addon.fft3dCreate!(0, 8, 8)).toThrow(RangeError)
    expect(() => addon.fft3dCreate!('8', 8, 8)).toThrow(TypeError)
    const h = addon.fft3dCreate!(8, 8, 8)
    const real = new Float32Array(512)
    const spec = () => new Float32Array(5 * 64)
    expect(() => addon.fft3dForwardXY!(h, new Float32Array(511), spec(), spec(), 0, 8)).toThrow(RangeError)
    expect(() => addon.fft3dForwardXY!(h, new Float64Array(512), spec(), spec(), 0, 8)).toThrow(TypeError)
    expect(() => addon.fft3dForwardXY!(h, real, spec(), spec(), 0, 9)).toThrow(RangeError)
    expect(() => addon.fft3dForwardZ!(h, spec(), spec(), 3, 2)).toThrow(RangeError)
    expect(() => addon.fft3dForwardZ!({}, spec(), spec(), 0, 8)).toThrow(TypeError)
    expect(() => addon.fft3dInverseXYUpdate!(h, spec(), spec(), real, new Float32Array(8), 'x', 0, null, 0, 8)).toThrow(TypeError)
    expect(() => addon.fft3dInverseXYUpdate!(h, spec(), spec(), real, new Float32Array(8), 1, 3, null, 0, 8)).toThrow(RangeError)
    expect(() => addon.fft3dDerivativeInverseZ!(h, spec(), spec(), spec(), spec(), new Float64Array(4), 0, spec(), 0, 8)).toThrow(RangeError)
    expect(() => addon.pressure!(real, real, real, real, 1, 0, null, 0, 513)).toThrow(RangeError)
    expect(() => addon.accumulate!(real, new Float64Array(8), new Float64Array(8), 8, 8, 0, 0, 0, 4, 4, 0, 1, 1, 0)).toThrow(RangeError)
  })
})
