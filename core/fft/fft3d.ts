/**
 * 3D FFTs over an nx * ny * nz grid stored x-fastest: index = x + nx * (y + ny * z).
 *
 * Two transforms are offered:
 * - real-to-complex `forward` / complex-to-real `inverse` (what the solver uses: its fields are
 *   real, so only the half spectrum kx = 0 .. nx/2 is kept, which halves the work);
 * - complex-to-complex `forwardComplex` / `inverseComplex`, in place.
 * Sign convention as in ./plan.ts (forward exp(-i...)); the inverses here are normalised by
 * 1 / (nx * ny * nz), so inverse(forward(x)) = x. The half spectrum has shape nxh * ny * nz with
 * nxh = floor(nx / 2) + 1, kx fastest, i.e. NumPy's rfftn / irfftn layout with the axes reversed.
 *
 * Storage is the caller's Float32Array or Float64Array (float32 intended: the solver's fields);
 * all arithmetic runs in float64 scratch buffers owned by the instance. With float32 storage the
 * data is rounded to float32 twice (between the xy and z stages, and at the end): measured RMS
 * error relative to the float64 transform 3e-8 for the forward and 1e-8..5e-8 for a round trip,
 * from 64x48x40 to 270x162x162, far below the ~1e-5 the solver needs, and it does not grow with
 * the grid size because the float64 kernels add only ~1e-16 per stage. Float32 storage is also the faster one overall, conversions included
 * (128^3 real pair 57 vs 64 ms, 270x162x162 234 vs 246 ms on the 2-core EPYC; the conversions
 * ride along copies that happen anyway) and it halves the memory.
 *
 * How the work is organised (each stage streams the grid through the cache once):
 * - xy stage, one z-plane at a time: the plane (<= ~1 MB in float64) stays in L2 while the x lines
 *   are transformed (rows transposed into the batched layout of ./plan.ts, two real rows packed as
 *   one complex row) and then the y lines (the plane's natural layout already is the batched
 *   layout, with all kx columns of the plane as the batch);
 * - z stage: the z lines are indexed by the flat (x, y) position, so blocks of `zBlock`
 *   neighbouring lines are contiguous in every plane; each block is gathered from the nz planes
 *   into a contiguous buffer, transformed as one batch, and scattered back, so every read and
 *   write of the grid uses whole cache lines.
 *
 * Splitting across threads (e.g. 2 workers sharing SharedArrayBuffer-backed arrays): the stages
 * are exposed with index ranges. Within a stage, different z ranges (xy stage) or y ranges (z
 * stage) touch disjoint memory, so each worker creates its own `createFft3d` instance (scratch is
 * per instance, never shared) and runs, for a forward transform,
 *   forwardXY(src, re, im, z0, z1)  ->  barrier  ->  forwardZ(re, im, y0, y1)
 * and for an inverse
 *   inverseZ(re, im, y0, y1)  ->  barrier  ->  inverseXY(re, im, dst, z0, z1)
 * where the barrier is e.g. an Atomics counter on a shared Int32Array. The full-range calls
 * `forward` / `inverse` are exactly these two stages run back to back.
 */

import { createFftPlan } from './plan.ts'
import type { FftPlan } from './plan.ts'

export type FftArray = Float32Array | Float64Array

/**
 * The four range-limited stages of the real transform on float32 grids: what the solver's team
 * members call (core/solver/cpu/engine.ts). The TypeScript `Fft3d` provides them, and so does the
 * native build (electron/adapters/native-kernels.ts), which the solver prefers when it loads.
 */
export interface Fft3dStages {
  readonly nx: number
  readonly ny: number
  readonly nz: number
  readonly nxh: number
  forwardXY(src: Float32Array, outRe: Float32Array, outIm: Float32Array, z0: number, z1: number): void
  forwardZ(outRe: Float32Array, outIm: Float32Array, y0: number, y1: number): void
  inverseZ(inRe: Float32Array, inIm: Float32Array, y0: number, y1: number): void
  inverseXY(inRe: Float32Array, inIm: Float32Array, dst: Float32Array, z0: number, z1: number): void
}

/** Makes one team member's FFT (each member owns its scratch). */
export type Fft3dFactory = (nx: number, ny: number, nz: number) => Fft3dStages

export interface Fft3dOptions {
  /**
   * Number of neighbouring z lines gathered and transformed together. 48..136 measured equally
   * fast at 128^3 and 270x162x162 (16 is ~40% slower, 32 ~15%), hence the default 64.
   */
  readonly zBlock?: number
}

export interface Fft3d {
  readonly nx: number
  readonly ny: number
  readonly nz: number
  /** floor(nx / 2) + 1: the x extent of the half spectrum. */
  readonly nxh: number
  /** nx * ny * nz. */
  readonly realLength: number
  /** nxh * ny * nz: length of each of the spectrum's re and im arrays. */
  readonly spectrumLength: number
  /** [nxh, ny, nz], kx fastest. */
  readonly spectrumShape: readonly [number, number, number]

  /** Real-to-complex forward transform; `src` is left untouched. */
  forward(src: FftArray, outRe: FftArray, outIm: FftArray): void
  /**
   * Complex-to-real inverse, normalised. `inRe` / `inIm` are used as scratch and overwritten
   * (as FFTW's c2r does), which saves a grid-sized copy. Like NumPy's irfftn, the imaginary
   * parts that a Hermitian spectrum cannot have (kx = 0 and kx = nx/2 after the y and z
   * inverses) are ignored.
   */
  inverse(inRe: FftArray, inIm: FftArray, dst: FftArray): void
  /** In-place complex forward transform of nx * ny * nz values. */
  forwardComplex(re: FftArray, im: FftArray): void
  /** In-place complex inverse transform, normalised. */
  inverseComplex(re: FftArray, im: FftArray): void

  /** Stage 1 of `forward` for planes z0 <= z < z1 (x and y transforms). */
  forwardXY(src: FftArray, outRe: FftArray, outIm: FftArray, z0: number, z1: number): void
  /** Stage 2 of `forward` for rows y0 <= y < y1 (z transforms, in place on the spectrum). */
  forwardZ(outRe: FftArray, outIm: FftArray, y0: number, y1: number): void
  /** Stage 1 of `inverse` for rows y0 <= y < y1 (z inverses, in place on the spectrum). */
  inverseZ(inRe: FftArray, inIm: FftArray, y0: number, y1: number): void
  /**
   * Stage 2 of `inverse` for planes z0 <= z < z1 (y and x inverses, scaled, written to dst).
   * Creates two subarray views per plane (the native float32 -> float64 copy they feed is ~8x
   * faster than a JS loop); nothing else in the transforms allocates.
   */
  inverseXY(inRe: FftArray, inIm: FftArray, dst: FftArray, z0: number, z1: number): void
  /** Stage 1 of `forwardComplex` for planes z0 <= z < z1. */
  forwardComplexXY(re: FftArray, im: FftArray, z0: number, z1: number): void
  /** Stage 2 of `forwardComplex` for rows y0 <= y < y1. */
  forwardComplexZ(re: FftArray, im: FftArray, y0: number, y1: number): void
  /** Stage 1 of `inverseComplex` for rows y0 <= y < y1. */
  inverseComplexZ(re: FftArray, im: FftArray, y0: number, y1: number): void
  /** Stage 2 of `inverseComplex` for planes z0 <= z < z1 (scaled). */
  inverseComplexXY(re: FftArray, im: FftArray, z0: number, z1: number): void
}

export const DEFAULT_Z_BLOCK = 64

/**
 * Creates the transforms for an nx * ny * nz grid (each a positive integer with prime factors in
 * {2, 3, 5, 7}; RangeError naming the axis and its factors otherwise). Allocates about
 * 4 nx ny + 2 zBlock nz + 2 max(nx ny, zBlock nz) float64 of scratch, once.
 */
export function createFft3d(nx: number, ny: number, nz: number, options: Fft3dOptions = {}): Fft3d {
  const zBlock = options.zBlock ?? DEFAULT_Z_BLOCK
  if (!Number.isSafeInteger(zBlock) || zBlock < 1) throw new RangeError(`zBlock must be a positive integer, got ${zBlock}`)
  return new Fft3dImpl(nx, ny, nz, zBlock)
}

class Fft3dImpl implements Fft3d {
  readonly nx: number
  readonly ny: number
  readonly nz: number
  readonly nxh: number
  readonly realLength: number
  readonly spectrumLength: number
  readonly spectrumShape: readonly [number, number, number]

  private readonly planX: FftPlan
  private readonly planY: FftPlan
  private readonly planZ: FftPlan
  private readonly zBlock: number
  /** Number of packed row pairs in the real x transform: ceil(ny / 2). */
  private readonly pairs: number
  // Plane scratch: x-major ("transposed") and y-major (natural) layouts of one z-plane; the
  // gathered block of z lines; the Stockham work buffers shared by the three plans (their calls
  // never overlap). All carved from one allocation, see `carve`.
  private readonly tRe: Float64Array
  private readonly tIm: Float64Array
  private readonly pRe: Float64Array
  private readonly pIm: Float64Array
  private readonly gRe: Float64Array
  private readonly gIm: Float64Array
  private readonly wRe: Float64Array
  private readonly wIm: Float64Array
  /** The first nxh * ny values of pRe / pIm: one plane of the half spectrum. */
  private readonly pReSpec: Float64Array
  private readonly pImSpec: Float64Array

  constructor(nx: number, ny: number, nz: number, zBlock: number) {
    this.nx = nx
    this.ny = ny
    this.nz = nz
    this.nxh = (nx >> 1) + 1
    this.realLength = nx * ny * nz
    this.spectrumLength = this.nxh * ny * nz
    this.spectrumShape = [this.nxh, ny, nz]
    // Equal lengths share a plan (its twiddles); work buffers are passed in by this class.
    const plans = new Map<number, FftPlan>()
    const plan = (n: number, axis: string): FftPlan => {
      let p = plans.get(n)
      if (!p) {
        try {
          p = createFftPlan(n)
        } catch (e) {
          // The plan's message lists the prime factors; add which axis it was.
          throw new RangeError(`createFft3d: ${axis} = ${n}: ${(e as Error).message}`)
        }
        plans.set(n, p)
      }
      return p
    }
    this.planX = plan(nx, 'nx')
    this.planY = plan(ny, 'ny')
    this.planZ = plan(nz, 'nz')
    this.zBlock = zBlock
    this.pairs = (ny + 1) >> 1
    // The complex path's plane needs nx * ny, more than the real path's nx * pairs / nxh * ny.
    const plane = nx * ny
    const gather = zBlock * nz
    const work = Math.max(plane, gather)
    ;[this.tRe, this.tIm, this.pRe, this.pIm, this.gRe, this.gIm, this.wRe, this.wIm] = carve([plane, plane, plane, plane, gather, gather, work, work]) as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ]
    this.pReSpec = this.pRe.subarray(0, this.nxh * ny)
    this.pImSpec = this.pIm.subarray(0, this.nxh * ny)
  }

  // ---------------------------------------------------------------------------------------
  // Real transforms
  // ---------------------------------------------------------------------------------------

  forward(src: FftArray, outRe: FftArray, outIm: FftArray): void {
    this.forwardXY(src, outRe, outIm, 0, this.nz)
    this.forwardZ(outRe, outIm, 0, this.ny)
  }

  inverse(inRe: FftArray, inIm: FftArray, dst: FftArray): void {
    this.inverseZ(inRe, inIm, 0, this.ny)
    this.inverseXY(inRe, inIm, dst, 0, this.nz)
  }

  forwardXY(src: FftArray, outRe: FftArray, outIm: FftArray, z0: number, z1: number): void {
    const { nx, ny, nxh, pairs } = this
    checkLength('src', src, this.realLength)
    checkLength('outRe', outRe, this.spectrumLength)
    checkLength('outIm', outIm, this.spectrumLength)
    checkRange('z', z0, z1, this.nz)
    const tr = this.tRe,
      ti = this.tIm,
      pr = this.pRe,
      pi = this.pIm
    for (let z = z0; z < z1; z++) {
      gatherRowPairs(src, z * nx * ny, nx, ny, tr, ti, pairs)
      this.planX.forwardBatch(tr, ti, pairs, this.wRe, this.wIm)
      // Unpack Z = FFT(a + i b): A[k] = (Z[k] + conj Z[-k]) / 2, B[k] = (Z[k] - conj Z[-k]) / 2i,
      // written straight into the plane's natural layout (kx fastest) for the y transforms.
      unpackPairs(tr, ti, pr, pi, nx, nxh, ny, pairs)
      this.planY.forwardBatch(pr, pi, nxh, this.wRe, this.wIm)
      // Native set converts and copies ~2x faster than a JS loop can.
      outRe.set(this.pReSpec, z * nxh * ny)
      outIm.set(this.pImSpec, z * nxh * ny)
    }
  }

  forwardZ(outRe: FftArray, outIm: FftArray, y0: number, y1: number): void {
    checkLength('outRe', outRe, this.spectrumLength)
    checkLength('outIm', outIm, this.spectrumLength)
    checkRange('y', y0, y1, this.ny)
    this.zPass(outRe, outIm, this.nxh, y0, y1, false)
  }

  inverseZ(inRe: FftArray, inIm: FftArray, y0: number, y1: number): void {
    checkLength('inRe', inRe, this.spectrumLength)
    checkLength('inIm', inIm, this.spectrumLength)
    checkRange('y', y0, y1, this.ny)
    this.zPass(inRe, inIm, this.nxh, y0, y1, true)
  }

  inverseXY(inRe: FftArray, inIm: FftArray, dst: FftArray, z0: number, z1: number): void {
    const { nx, ny, nxh, pairs } = this
    checkLength('inRe', inRe, this.spectrumLength)
    checkLength('inIm', inIm, this.spectrumLength)
    checkLength('dst', dst, this.realLength)
    checkRange('z', z0, z1, this.nz)
    const tr = this.tRe,
      ti = this.tIm,
      pr = this.pRe,
      pi = this.pIm
    const scale = 1 / this.realLength
    const len = nxh * ny
    for (let z = z0; z < z1; z++) {
      // Native set converts ~8x faster than a JS loop; the two views are the only allocation.
      pr.set(inRe.subarray(z * len, (z + 1) * len))
      pi.set(inIm.subarray(z * len, (z + 1) * len))
      this.planY.inverseBatch(pr, pi, nxh, this.wRe, this.wIm)
      packPairs(pr, pi, tr, ti, nx, nxh, ny, pairs)
      this.planX.inverseBatch(tr, ti, pairs, this.wRe, this.wIm)
      scatterRowPairs(tr, ti, pairs, dst, z * nx * ny, nx, ny, scale)
    }
  }

  // ---------------------------------------------------------------------------------------
  // Complex transforms
  // ---------------------------------------------------------------------------------------

  forwardComplex(re: FftArray, im: FftArray): void {
    this.forwardComplexXY(re, im, 0, this.nz)
    this.forwardComplexZ(re, im, 0, this.ny)
  }

  inverseComplex(re: FftArray, im: FftArray): void {
    this.inverseComplexZ(re, im, 0, this.ny)
    this.inverseComplexXY(re, im, 0, this.nz)
  }

  forwardComplexXY(re: FftArray, im: FftArray, z0: number, z1: number): void {
    this.complexXY(re, im, z0, z1, false)
  }

  inverseComplexXY(re: FftArray, im: FftArray, z0: number, z1: number): void {
    this.complexXY(re, im, z0, z1, true)
  }

  forwardComplexZ(re: FftArray, im: FftArray, y0: number, y1: number): void {
    checkLength('re', re, this.realLength)
    checkLength('im', im, this.realLength)
    checkRange('y', y0, y1, this.ny)
    this.zPass(re, im, this.nx, y0, y1, false)
  }

  inverseComplexZ(re: FftArray, im: FftArray, y0: number, y1: number): void {
    checkLength('re', re, this.realLength)
    checkLength('im', im, this.realLength)
    checkRange('y', y0, y1, this.ny)
    this.zPass(re, im, this.nx, y0, y1, true)
  }

  private complexXY(re: FftArray, im: FftArray, z0: number, z1: number, inverse: boolean): void {
    const { nx, ny } = this
    checkLength('re', re, this.realLength)
    checkLength('im', im, this.realLength)
    checkRange('z', z0, z1, this.nz)
    const len = nx * ny
    const pr = this.pRe,
      pi = this.pIm,
      tr = this.tRe,
      ti = this.tIm,
      wr = this.wRe,
      wi = this.wIm
    const scale = inverse ? 1 / this.realLength : 1
    for (let z = z0; z < z1; z++) {
      const base = z * len
      for (let j = 0; j < len; j++) {
        pr[j] = re[base + j]!
        pi[j] = im[base + j]!
      }
      // The natural plane layout is already batched for y (batch = the nx columns).
      if (inverse) this.planY.inverseBatch(pr, pi, nx, wr, wi)
      else this.planY.forwardBatch(pr, pi, nx, wr, wi)
      transpose(pr, pi, 0, tr, ti, 0, ny, nx, 1)
      if (inverse) this.planX.inverseBatch(tr, ti, ny, wr, wi)
      else this.planX.forwardBatch(tr, ti, ny, wr, wi)
      // Transpose back straight into the caller's storage.
      transpose(tr, ti, 0, re, im, base, nx, ny, scale)
    }
  }

  // ---------------------------------------------------------------------------------------
  // z stage, shared by both transforms (row = nxh spectrum columns or nx complex columns)
  // ---------------------------------------------------------------------------------------

  private zPass(re: FftArray, im: FftArray, row: number, y0: number, y1: number, inverse: boolean): void {
    const nz = this.nz
    const plane = row * this.ny
    // The z lines of rows y0..y1-1 are contiguous in (x, y), so blocks may span rows: the block
    // width is independent of the row length and only the very last block can be narrower.
    const lo = y0 * row
    const hi = y1 * row
    const width = this.zBlock
    const gr = this.gRe,
      gi = this.gIm,
      wr = this.wRe,
      wi = this.wIm
    for (let x0 = lo; x0 < hi; x0 += width) {
      const w = Math.min(width, hi - x0)
      gatherLines(re, im, gr, gi, x0, plane, nz, w)
      if (inverse) this.planZ.inverseBatch(gr, gi, w, wr, wi)
      else this.planZ.forwardBatch(gr, gi, w, wr, wi)
      scatterLines(gr, gi, re, im, x0, plane, nz, w)
    }
  }
}

/**
 * Carves float64 arrays out of one allocation, their starts staggered by 66 doubles (528 bytes)
 * modulo 4 KiB. Separate allocations tend to share their offset within a page; a kernel that then
 * loads from one array and stores to another at indices differing by a multiple of 512 (routine
 * with power-of-two grids and batches) trips the CPU's 4K-aliasing check on every load. Measured
 * at 128^3: the xy stage took 20 or 29 ms from one process to the next, depending on allocation.
 */
function carve(lengths: readonly number[]): Float64Array[] {
  const PAGE = 512
  const STAGGER = 66
  const starts: number[] = []
  let end = 0
  for (let j = 0; j < lengths.length; j++) {
    const start = Math.ceil(end / PAGE) * PAGE + ((j * STAGGER) % PAGE)
    starts.push(start)
    end = start + lengths[j]!
  }
  const buf = new Float64Array(end)
  return lengths.map((len, j) => buf.subarray(starts[j]!, starts[j]! + len))
}

// Gather and scatter are unrolled by 4: V8 does not unroll or vectorise, and at ~4 cycles per
// element of loop overhead these copies cost as much as an FFT stage (measured 1.7x faster).

function gatherLines(re: FftArray, im: FftArray, gr: Float64Array, gi: Float64Array, start: number, stride: number, n: number, w: number): void {
  const w4 = w & ~3
  for (let j = 0, s = start, o = 0; j < n; j++, s += stride, o += w) {
    let b = 0
    for (; b < w4; b += 4) {
      const q = s + b,
        t = o + b
      gr[t] = re[q]!
      gr[t + 1] = re[q + 1]!
      gr[t + 2] = re[q + 2]!
      gr[t + 3] = re[q + 3]!
      gi[t] = im[q]!
      gi[t + 1] = im[q + 1]!
      gi[t + 2] = im[q + 2]!
      gi[t + 3] = im[q + 3]!
    }
    for (; b < w; b++) {
      gr[o + b] = re[s + b]!
      gi[o + b] = im[s + b]!
    }
  }
}

function scatterLines(gr: Float64Array, gi: Float64Array, re: FftArray, im: FftArray, start: number, stride: number, n: number, w: number): void {
  const w4 = w & ~3
  for (let j = 0, s = start, o = 0; j < n; j++, s += stride, o += w) {
    let b = 0
    for (; b < w4; b += 4) {
      const q = s + b,
        t = o + b
      re[q] = gr[t]!
      re[q + 1] = gr[t + 1]!
      re[q + 2] = gr[t + 2]!
      re[q + 3] = gr[t + 3]!
      im[q] = gi[t]!
      im[q + 1] = gi[t + 1]!
      im[q + 2] = gi[t + 2]!
      im[q + 3] = gi[t + 3]!
    }
    for (; b < w; b++) {
      re[s + b] = gr[o + b]!
      im[s + b] = gi[o + b]!
    }
  }
}

// The plane reshuffles below work on tiles of TILE lines so that each pass writes (or reads) a
// whole cache line per TILE elements instead of one strided element per line: with power-of-two
// strides the untiled loops map every access into a handful of L1 sets and thrash.
const TILE = 8

/**
 * (rows x cols) row-major from a[aOff..] -> (cols x rows) row-major into b[bOff..], split complex,
 * times `scale`.
 */
function transpose(ar: FftArray, ai: FftArray, aOff: number, br: FftArray, bi: FftArray, bOff: number, rows: number, cols: number, scale: number): void {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const re = Math.min(r0 + TILE, rows)
    for (let c = 0; c < cols; c++) {
      const o = bOff + c * rows
      for (let r = r0, a = aOff + r0 * cols + c; r < re; r++, a += cols) {
        br[o + r] = ar[a]! * scale
        bi[o + r] = ai[a]! * scale
      }
    }
  }
}

/**
 * Real plane -> packed complex lines in the batched x-major layout: rows 2p and 2p+1 become the
 * real and imaginary parts of line p (element x at x * pairs + p); an odd last row gets a zero
 * partner.
 */
function gatherRowPairs(src: FftArray, base: number, nx: number, ny: number, tr: Float64Array, ti: Float64Array, pairs: number): void {
  const full = ny >> 1
  const nx2 = 2 * nx
  let p0 = 0
  // Four pairs (eight rows) per sweep, unrolled: each x then writes four neighbouring values.
  for (; p0 + 4 <= full; p0 += 4) {
    const r = base + p0 * nx2
    for (let x = 0; x < nx; x++) {
      const o = x * pairs + p0
      const q = r + x
      tr[o] = src[q]!
      ti[o] = src[q + nx]!
      tr[o + 1] = src[q + nx2]!
      ti[o + 1] = src[q + nx2 + nx]!
      tr[o + 2] = src[q + 2 * nx2]!
      ti[o + 2] = src[q + 2 * nx2 + nx]!
      tr[o + 3] = src[q + 3 * nx2]!
      ti[o + 3] = src[q + 3 * nx2 + nx]!
    }
  }
  for (; p0 < full; p0++) {
    const r = base + p0 * nx2
    for (let x = 0, o = p0; x < nx; x++, o += pairs) {
      tr[o] = src[r + x]!
      ti[o] = src[r + nx + x]!
    }
  }
  if (full < pairs) {
    const r = base + full * nx2
    for (let x = 0, o = full; x < nx; x++, o += pairs) {
      tr[o] = src[r + x]!
      ti[o] = 0
    }
  }
}

/** Inverse of gatherRowPairs, times `scale`. */
function scatterRowPairs(tr: Float64Array, ti: Float64Array, pairs: number, dst: FftArray, base: number, nx: number, ny: number, scale: number): void {
  const full = ny >> 1
  const nx2 = 2 * nx
  let p0 = 0
  for (; p0 + 4 <= full; p0 += 4) {
    const r = base + p0 * nx2
    for (let x = 0; x < nx; x++) {
      const o = x * pairs + p0
      const q = r + x
      dst[q] = tr[o]! * scale
      dst[q + nx] = ti[o]! * scale
      dst[q + nx2] = tr[o + 1]! * scale
      dst[q + nx2 + nx] = ti[o + 1]! * scale
      dst[q + 2 * nx2] = tr[o + 2]! * scale
      dst[q + 2 * nx2 + nx] = ti[o + 2]! * scale
      dst[q + 3 * nx2] = tr[o + 3]! * scale
      dst[q + 3 * nx2 + nx] = ti[o + 3]! * scale
    }
  }
  for (; p0 < full; p0++) {
    const r = base + p0 * nx2
    for (let x = 0, o = p0; x < nx; x++, o += pairs) {
      dst[r + x] = tr[o]! * scale
      dst[r + nx + x] = ti[o]! * scale
    }
  }
  if (full < pairs) {
    const r = base + full * nx2
    for (let x = 0, o = full; x < nx; x++, o += pairs) dst[r + x] = tr[o]! * scale
  }
}

/**
 * Forward real-pair unpack: packed line p (batched layout, x-major) holds FFT(row 2p + i row 2p+1);
 * writes the half spectra of both rows to the plane (kx fastest, row y at y * nxh).
 */
function unpackPairs(tr: Float64Array, ti: Float64Array, pr: Float64Array, pi: Float64Array, nx: number, nxh: number, ny: number, pairs: number): void {
  const full = ny >> 1
  const nxh2 = 2 * nxh
  for (let p0 = 0; p0 < full; p0 += TILE) {
    const pe = Math.min(p0 + TILE, full)
    for (let k = 0; k < nxh; k++) {
      const zb = k * pairs
      const wb = (k === 0 ? 0 : nx - k) * pairs
      for (let p = p0, o = p0 * nxh2 + k; p < pe; p++, o += nxh2) {
        const zr = tr[zb + p]!,
          zi = ti[zb + p]!,
          wr = tr[wb + p]!,
          wi = ti[wb + p]!
        pr[o] = 0.5 * (zr + wr)
        pi[o] = 0.5 * (zi - wi)
        pr[o + nxh] = 0.5 * (zi + wi)
        pi[o + nxh] = 0.5 * (wr - zr)
      }
    }
  }
  if (full < pairs) {
    // Odd ny: the last row was packed with a zero partner, so Z is its spectrum already.
    for (let k = 0, o = full * nxh2; k < nxh; k++, o++) {
      pr[o] = tr[k * pairs + full]!
      pi[o] = ti[k * pairs + full]!
    }
  }
}

/**
 * Inverse real-pair pack: from the half spectra A (row 2p) and B (row 2p+1), builds the full
 * Z[k] = A[k] + i B[k] using A[nx-k] = conj A[k]; the inverse of Z then carries row 2p in its
 * real part and row 2p+1 in its imaginary part. The imaginary parts at kx = 0 and kx = nx/2
 * are dropped: a real row cannot have them, and kept they would leak into the partner row.
 */
function packPairs(pr: Float64Array, pi: Float64Array, tr: Float64Array, ti: Float64Array, nx: number, nxh: number, ny: number, pairs: number): void {
  const full = ny >> 1
  const nxh2 = 2 * nxh
  const nyq = (nx & 1) === 0 ? nx >> 1 : -1
  for (let p0 = 0; p0 < full; p0 += TILE) {
    const pe = Math.min(p0 + TILE, full)
    for (let k = 0; k < nxh; k++) {
      const zb = k * pairs
      const mirror = k > 0 && nx - k >= nxh
      const wb = (nx - k) * pairs
      const selfConj = k === 0 || k === nyq
      for (let p = p0, o = p0 * nxh2 + k; p < pe; p++, o += nxh2) {
        const ar = pr[o]!,
          br = pr[o + nxh]!
        const ai = selfConj ? 0 : pi[o]!
        const bi = selfConj ? 0 : pi[o + nxh]!
        tr[zb + p] = ar - bi
        ti[zb + p] = ai + br
        if (mirror) {
          tr[wb + p] = ar + bi
          ti[wb + p] = br - ai
        }
      }
    }
  }
  if (full < pairs) {
    for (let k = 0, o = full * nxh2; k < nxh; k++, o++) {
      const ar = pr[o]!
      const ai = k === 0 || k === nyq ? 0 : pi[o]!
      tr[k * pairs + full] = ar
      ti[k * pairs + full] = ai
      if (k > 0 && nx - k >= nxh) {
        tr[(nx - k) * pairs + full] = ar
        ti[(nx - k) * pairs + full] = -ai
      }
    }
  }
}

function checkLength(name: string, a: FftArray, n: number): void {
  if (a.length < n) throw new RangeError(`fft3d: ${name} has length ${a.length}, needs ${n}`)
}

function checkRange(axis: string, lo: number, hi: number, n: number): void {
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 0 && lo <= hi && hi <= n)) {
    throw new RangeError(`fft3d: ${axis} range [${lo}, ${hi}) is not within [0, ${n})`)
  }
}
