/**
 * The passes of one CPU time step (engine.ts orders them and places the barriers), as an
 * interface with two implementations: this file's TypeScript reference, and the native build
 * (native/src, wrapped by electron/adapters/native-kernels.ts) that fuses each spectral
 * multiply into the FFT stage next to it, so the spectrum and the gradient never make an extra
 * trip through memory. Both compute the same sums in float32 storage; tests/unit/solver/
 * native-kernels.test.ts holds them to each other.
 *
 * Ranges: z stages and derivatives run over this member's spectrum rows [y0, y1) (all z), xy
 * stages and point-wise passes over its z-planes [z0, z1) (flat indices [from, to)).
 */
import type { Fft3dStages } from '../../fft/fft3d.ts'

/** A medium property on the computational grid: a scalar when uniform, else one value per point. */
export type GridField = number | Float32Array

export interface StepKernels {
  readonly fft: Fft3dStages
  /**
   * out := inverse z stage of (spec * dd[axis index] * kappa): the spectral derivative along
   * `axis` (dd interleaved re, im per index along the axis; kappa the k-space correction).
   */
  derivativeInverseZ(
    specRe: Float32Array,
    specIm: Float32Array,
    outRe: Float32Array,
    outIm: Float32Array,
    dd: Float64Array,
    axis: 0 | 1 | 2,
    kappa: Float32Array,
    y0: number,
    y1: number,
  ): void
  /**
   * g := inverse xy stage of (re, im); field := m (m field - coef g), m the absorbing layer's
   * profile along `axis` (k-Wave's split-field update); div := g when axis is 0, else div += g.
   */
  inverseXYUpdate(
    re: Float32Array,
    im: Float32Array,
    field: Float32Array,
    m: Float32Array,
    coef: GridField,
    axis: 0 | 1 | 2,
    div: Float32Array | undefined,
    z0: number,
    z1: number,
  ): void
  /**
   * p := c0^2 (rho_x + rho_y + rho_z), plus tau rho0 div inside the bracket when `div` is given
   * (absorption at y = 2, Treeby & Cox 2010; `tauRho0` the product tau rho0).
   */
  pressure(
    p: Float32Array,
    rho: readonly [Float32Array, Float32Array, Float32Array],
    c0sq: GridField,
    tauRho0: GridField,
    div: Float32Array | undefined,
    from: number,
    to: number,
  ): void
  /** The window DFT over the user's sub-grid planes [uz0, uz1): sumCos += p c, sumSin += p s. */
  accumulate(window: WindowSums, uz0: number, uz1: number, c: number, s: number): void
}

/** The window DFT's sums and where the user's sub-grid sits in the computational grid. */
export interface WindowSums {
  readonly p: Float32Array
  readonly sumCos: Float64Array
  readonly sumSin: Float64Array
  readonly size: readonly [number, number, number]
  readonly userStart: readonly [number, number, number]
  readonly userSize: readonly [number, number, number]
}

const at = (f: GridField, i: number) => (typeof f === 'number' ? f : f[i]!)

/**
 * The TypeScript reference. `grad` is a grid-sized scratch array shared by the team (each member
 * writes only its own planes), where the inverse stage puts g before the update reads it.
 */
export function typescriptKernels(fft: Fft3dStages, grad: Float32Array): StepKernels {
  const { nx, ny, nz, nxh } = fft
  return {
    fft,
    // The loops are specialised by axis and by scalar/array medium (V8 does not hoist those tests).
    derivativeInverseZ(specRe, specIm, outRe, outIm, dd, axis, kappa, y0, y1) {
      for (let c = 0; c < nz; c++)
        for (let b = y0; b < y1; b++) {
          let index = nxh * (b + ny * c)
          if (axis === 0) {
            for (let a = 0; a < nxh; a++, index++) {
              const k = kappa[index]!
              const dr = dd[2 * a]! * k
              const di = dd[2 * a + 1]! * k
              const sr = specRe[index]!
              const si = specIm[index]!
              outRe[index] = sr * dr - si * di
              outIm[index] = sr * di + si * dr
            }
          } else {
            const m = axis === 1 ? b : c
            const ddr = dd[2 * m]!
            const ddi = dd[2 * m + 1]!
            for (let a = 0; a < nxh; a++, index++) {
              const k = kappa[index]!
              const dr = ddr * k
              const di = ddi * k
              const sr = specRe[index]!
              const si = specIm[index]!
              outRe[index] = sr * dr - si * di
              outIm[index] = sr * di + si * dr
            }
          }
        }
      fft.inverseZ(outRe, outIm, y0, y1)
    },
    inverseXYUpdate(re, im, field, m, coef, axis, div, z0, z1) {
      fft.inverseXY(re, im, grad, z0, z1)
      for (let k = z0; k < z1; k++)
        for (let j = 0; j < ny; j++) {
          const row = nx * (j + ny * k)
          if (axis === 0) {
            if (typeof coef === 'number')
              for (let i = 0; i < nx; i++) {
                const mi = m[i]!
                field[row + i] = mi * (mi * field[row + i]! - coef * grad[row + i]!)
              }
            else
              for (let i = 0; i < nx; i++) {
                const mi = m[i]!
                field[row + i] = mi * (mi * field[row + i]! - coef[row + i]! * grad[row + i]!)
              }
          } else {
            const mi = m[axis === 1 ? j : k]!
            if (typeof coef === 'number') for (let i = row; i < row + nx; i++) field[i] = mi * (mi * field[i]! - coef * grad[i]!)
            else for (let i = row; i < row + nx; i++) field[i] = mi * (mi * field[i]! - coef[i]! * grad[i]!)
          }
        }
      if (div) {
        const [r0, r1] = [z0 * nx * ny, z1 * nx * ny]
        if (axis === 0) div.set(grad.subarray(r0, r1), r0)
        else for (let i = r0; i < r1; i++) div[i] = div[i]! + grad[i]!
      }
    },
    pressure(p, [rx, ry, rz], c0sq, tauRho0, div, from, to) {
      if (!div) {
        if (typeof c0sq === 'number') for (let i = from; i < to; i++) p[i] = c0sq * (rx[i]! + ry[i]! + rz[i]!)
        else for (let i = from; i < to; i++) p[i] = c0sq[i]! * (rx[i]! + ry[i]! + rz[i]!)
        return
      }
      if (typeof c0sq !== 'number' && typeof tauRho0 !== 'number')
        for (let i = from; i < to; i++) p[i] = c0sq[i]! * (rx[i]! + ry[i]! + rz[i]! + tauRho0[i]! * div[i]!)
      else for (let i = from; i < to; i++) p[i] = at(c0sq, i) * (rx[i]! + ry[i]! + rz[i]! + at(tauRho0, i) * div[i]!)
    },
    accumulate(w, uz0, uz1, c, s) {
      const [wx, wy] = w.size
      const [ux, uy] = w.userSize
      const [sx, sy, sz] = w.userStart
      for (let k = uz0; k < uz1; k++)
        for (let j = 0; j < uy; j++) {
          const src = sx + wx * (sy + j + wy * (sz + k))
          const dst = ux * (j + uy * k)
          for (let i = 0; i < ux; i++) {
            const v = w.p[src + i]!
            w.sumCos[dst + i] = w.sumCos[dst + i]! + v * c
            w.sumSin[dst + i] = w.sumSin[dst + i]! + v * s
          }
        }
    },
  }
}
