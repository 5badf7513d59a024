import { describe, expect, it } from 'vitest'
import { createFft3d } from '../../../core/fft/fft3d.ts'
import type { Fft3d } from '../../../core/fft/fft3d.ts'
import { naiveDft, naiveDft3d, randomArray, relErr } from './naive.ts'

type Dims = [number, number, number]

/** The half spectrum (kx <= nx/2) cut out of a full complex spectrum. */
function halfOf(re: Float64Array, im: Float64Array, [nx, ny, nz]: Dims): [Float64Array, Float64Array] {
  const nxh = (nx >> 1) + 1
  const hr = new Float64Array(nxh * ny * nz)
  const hi = new Float64Array(nxh * ny * nz)
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let k = 0; k < nxh; k++) {
        hr[k + nxh * (y + ny * z)] = re[k + nx * (y + ny * z)]!
        hi[k + nxh * (y + ny * z)] = im[k + nx * (y + ny * z)]!
      }
    }
  }
  return [hr, hi]
}

function realForward(f: Fft3d, x: Float64Array): [Float64Array, Float64Array] {
  const re = new Float64Array(f.spectrumLength)
  const im = new Float64Array(f.spectrumLength)
  f.forward(x, re, im)
  return [re, im]
}

const shapes: Dims[] = [
  [6, 10, 12],
  [5, 7, 9],
  [8, 3, 4],
  [9, 8, 6],
  [7, 5, 1],
  [2, 1, 3],
  [1, 1, 1],
  [1, 6, 5],
  [16, 16, 16],
]

describe('createFft3d', () => {
  it('reports the half-spectrum shape', () => {
    const f = createFft3d(6, 10, 12)
    expect(f.nxh).toBe(4)
    expect(f.spectrumShape).toEqual([4, 10, 12])
    expect(f.spectrumLength).toBe(480)
    expect(f.realLength).toBe(720)
    expect(createFft3d(7, 2, 2).nxh).toBe(4)
  })

  it('rejects unsupported sizes naming the axis and the factors', () => {
    expect(() => createFft3d(11, 8, 8)).toThrow(/nx = 11: .*prime factors are 11 .*next supported length is 12/)
    expect(() => createFft3d(8, 13, 8)).toThrow(/ny = 13: .*prime factors are 13 /)
    expect(() => createFft3d(8, 8, 26)).toThrow(/nz = 26: .*2 x 13/)
    expect(() => createFft3d(8, 8, 8, { zBlock: 0 })).toThrow(/zBlock/)
  })

  it('rejects short arrays and bad ranges', () => {
    const f = createFft3d(4, 4, 4)
    const s = new Float32Array(f.spectrumLength)
    expect(() => f.forward(new Float32Array(63), s, s.slice())).toThrow(/src has length 63, needs 64/)
    expect(() => f.forward(new Float32Array(64), s, new Float32Array(3))).toThrow(/outIm/)
    expect(() => f.forwardXY(new Float32Array(64), s, s.slice(), 2, 5)).toThrow(/z range \[2, 5\)/)
    expect(() => f.inverseZ(s, s.slice(), -1, 2)).toThrow(/y range/)
  })
})

describe('3D transforms against a separable naive DFT', () => {
  it.each(shapes)('real forward %i x %i x %i matches the half of the complex DFT', (nx, ny, nz) => {
    const dims: Dims = [nx, ny, nz]
    const n = nx * ny * nz
    const x = randomArray(n, n + 7)
    const [wr, wi] = naiveDft3d(x, new Float64Array(n), dims, -1)
    const [hr, hi] = halfOf(wr, wi, dims)
    const [re, im] = realForward(createFft3d(nx, ny, nz, { zBlock: 5 }), x)
    expect(relErr(re, hr, im, hi)).toBeLessThan(1e-12)
  })

  it.each(shapes)('complex forward and inverse %i x %i x %i', (nx, ny, nz) => {
    const dims: Dims = [nx, ny, nz]
    const n = nx * ny * nz
    const xr = randomArray(n, 3 * n)
    const xi = randomArray(n, 3 * n + 1)
    const f = createFft3d(nx, ny, nz, { zBlock: 7 })
    const [wr, wi] = naiveDft3d(xr, xi, dims, -1)
    const re = Float64Array.from(xr)
    const im = Float64Array.from(xi)
    f.forwardComplex(re, im)
    expect(relErr(re, wr, im, wi)).toBeLessThan(1e-12)
    f.inverseComplex(re, im)
    expect(relErr(re, xr, im, xi)).toBeLessThan(1e-13)
  })

  it('real forward equals the complex forward on a real input (same instance, both paths)', () => {
    for (const [nx, ny, nz] of [
      [8, 6, 10],
      [9, 5, 7],
      [12, 7, 4],
    ] as Dims[]) {
      const n = nx * ny * nz
      const f = createFft3d(nx, ny, nz)
      const x = randomArray(n, n)
      const re = Float64Array.from(x)
      const im = new Float64Array(n)
      f.forwardComplex(re, im)
      const [hr, hi] = halfOf(re, im, [nx, ny, nz])
      const [rr, ri] = realForward(f, x)
      expect(relErr(rr, hr, ri, hi)).toBeLessThan(1e-13)
    }
  })
})

describe('3D real round trip and invariants', () => {
  it.each([
    [6, 10, 12],
    [5, 7, 9],
    [16, 12, 10],
    [15, 9, 5],
    [1, 4, 3],
  ] as Dims[])('inverse(forward(x)) = x for %i x %i x %i (float64 storage)', (nx, ny, nz) => {
    const n = nx * ny * nz
    const f = createFft3d(nx, ny, nz, { zBlock: 6 })
    const x = randomArray(n, 11 * n)
    const [re, im] = realForward(f, x)
    const back = new Float64Array(n)
    f.inverse(re, im, back)
    expect(relErr(back, x)).toBeLessThan(1e-14)
  })

  it('satisfies Parseval over the half spectrum', () => {
    for (const [nx, ny, nz] of [
      [10, 6, 8],
      [9, 7, 5],
    ] as Dims[]) {
      const n = nx * ny * nz
      const f = createFft3d(nx, ny, nz)
      const x = randomArray(n, n + 3)
      const [re, im] = realForward(f, x)
      let energy = 0
      for (const v of x) energy += v * v
      let spec = 0
      for (let z = 0; z < nz; z++) {
        for (let y = 0; y < ny; y++) {
          for (let k = 0; k < f.nxh; k++) {
            const j = k + f.nxh * (y + ny * z)
            // Bins kx = 1 .. ceil(nx/2)-1 stand for themselves and their mirror nx - kx.
            const w = k === 0 || 2 * k === nx ? 1 : 2
            spec += w * (re[j]! ** 2 + im[j]! ** 2)
          }
        }
      }
      expect(Math.abs(spec / n - energy) / energy).toBeLessThan(1e-13)
    }
  })

  it('inverse follows irfftn semantics on a non-Hermitian half spectrum', () => {
    // Complex inverse along z and y, then along x the Hermitian extension of kx <= nx/2 with the
    // imaginary parts at kx = 0 and kx = nx/2 dropped.
    for (const [nx, ny, nz] of [
      [6, 4, 5],
      [7, 3, 4],
    ] as Dims[]) {
      const f = createFft3d(nx, ny, nz)
      const nxh = f.nxh
      const sr = randomArray(f.spectrumLength, 5)
      const si = randomArray(f.spectrumLength, 6)
      const full = nx * ny * nz
      const er = new Float64Array(full)
      const ei = new Float64Array(full)
      // Inverse along y and z of each kx column, done with the naive 3D DFT on a width-nxh grid
      // whose x axis is left alone (nx = 1 per column).
      for (let k = 0; k < nxh; k++) {
        const cr = new Float64Array(ny * nz)
        const ci = new Float64Array(ny * nz)
        for (let j = 0; j < ny * nz; j++) {
          cr[j] = sr[k + nxh * j]!
          ci[j] = si[k + nxh * j]!
        }
        const [yr, yi] = naiveDft3d(cr, ci, [1, ny, nz], 1)
        for (let j = 0; j < ny * nz; j++) {
          const drop = k === 0 || 2 * k === nx
          er[k + nx * j] = yr[j]!
          ei[k + nx * j] = drop ? 0 : yi[j]!
          if (k > 0 && nx - k > k) {
            er[nx - k + nx * j] = yr[j]!
            ei[nx - k + nx * j] = -yi[j]!
          }
        }
      }
      const want = new Float64Array(full)
      for (let j = 0; j < ny * nz; j++) {
        const [lr, li] = naiveDft(er.slice(nx * j, nx * (j + 1)), ei.slice(nx * j, nx * (j + 1)), nx, 1, 1)
        for (let k = 0; k < nx; k++) {
          want[k + nx * j] = lr[k]! / full
          // The reference itself must come out real, or the extension above is wrong.
          expect(Math.abs(li[k]!)).toBeLessThan(1e-12)
        }
      }
      const out = new Float64Array(full)
      f.inverse(Float64Array.from(sr), Float64Array.from(si), out)
      expect(relErr(out, want)).toBeLessThan(1e-13)
    }
  })

  it('gives the same result when the stages are split into ranges (worker split)', () => {
    const [nx, ny, nz] = [12, 10, 9]
    const f = createFft3d(nx, ny, nz, { zBlock: 8 })
    const g = createFft3d(nx, ny, nz, { zBlock: 8 })
    const x = Float32Array.from(randomArray(f.realLength, 99))
    const a = [new Float32Array(f.spectrumLength), new Float32Array(f.spectrumLength)] as const
    const b = [new Float32Array(f.spectrumLength), new Float32Array(f.spectrumLength)] as const
    f.forward(x, a[0], a[1])
    f.forwardXY(x, b[0], b[1], 0, 4)
    g.forwardXY(x, b[0], b[1], 4, nz)
    g.forwardZ(b[0], b[1], 0, 3)
    f.forwardZ(b[0], b[1], 3, ny)
    expect(b[0]).toEqual(a[0])
    expect(b[1]).toEqual(a[1])

    const outA = new Float32Array(f.realLength)
    const outB = new Float32Array(f.realLength)
    f.inverse(a[0], a[1], outA)
    g.inverseZ(b[0], b[1], 0, 5)
    f.inverseZ(b[0], b[1], 5, ny)
    f.inverseXY(b[0], b[1], outB, 0, 2)
    g.inverseXY(b[0], b[1], outB, 2, nz)
    expect(outB).toEqual(outA)

    const cr = Float32Array.from(randomArray(f.realLength, 7))
    const ci = Float32Array.from(randomArray(f.realLength, 8))
    const dr = cr.slice()
    const di = ci.slice()
    f.forwardComplex(cr, ci)
    g.forwardComplexXY(dr, di, 0, 5)
    f.forwardComplexXY(dr, di, 5, nz)
    f.forwardComplexZ(dr, di, 0, 6)
    g.forwardComplexZ(dr, di, 6, ny)
    expect(dr).toEqual(cr)
    expect(di).toEqual(ci)
    f.inverseComplex(cr, ci)
    g.inverseComplexZ(dr, di, 0, 1)
    f.inverseComplexZ(dr, di, 1, ny)
    g.inverseComplexXY(dr, di, 0, nz)
    expect(dr).toEqual(cr)
    expect(di).toEqual(ci)
  })
})

describe('float32 storage accuracy', () => {
  it('stays within ~1e-7 of the float64 transform (solver needs 1e-5)', () => {
    const [nx, ny, nz] = [64, 48, 40]
    const f = createFft3d(nx, ny, nz)
    const x64 = randomArray(f.realLength, 2024)
    // A smooth field plus noise, closer to a pressure field than white noise alone.
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        for (let xx = 0; xx < nx; xx++) {
          const j = xx + nx * (y + ny * z)
          x64[j] = x64[j]! * 0.1 + Math.sin((2 * Math.PI * xx) / nx) * Math.cos((4 * Math.PI * z) / nz)
        }
      }
    }
    const x32 = Float32Array.from(x64)
    const [wr, wi] = realForward(f, Float64Array.from(x32))
    const re = new Float32Array(f.spectrumLength)
    const im = new Float32Array(f.spectrumLength)
    f.forward(x32, re, im)
    expect(relErr(re, wr, im, wi)).toBeLessThan(1e-7)
    const back = new Float32Array(f.realLength)
    f.inverse(re, im, back)
    expect(relErr(back, x32)).toBeLessThan(1e-7)
  })
})
