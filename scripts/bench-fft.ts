/**
 * Single-thread benchmark of the 3D FFTs in core/fft against fft.js and @echogarden/pffft-wasm
 * (SIMD build), the latter two only where installed (devDependencies) and where they support the
 * size (fft.js: powers of two; pffft complex: multiples of 16 with factors 2, 3, 5).
 *
 *   npx tsx scripts/bench-fft.ts            # the five solver-sized grids
 *   npx tsx scripts/bench-fft.ts --quick    # 64^3 and 128^3 only
 *
 * Every figure is milliseconds per forward + inverse pair (the unit a k-space step consumes),
 * median of the timed repetitions after two warm-up pairs. "real" is our r2c forward + c2r inverse
 * (half spectrum), "complex" our in-place c2c pair; f32 / f64 is the storage type of the grid
 * arrays (our arithmetic is float64 either way). The libraries run line by line with a
 * gather/scatter per line, as in shared/reference/cpu-performance.md: fft.js on float64 arrays,
 * pffft on float32. Each column runs in its own child process (see the note at the bottom).
 */

import { spawnSync } from 'node:child_process'
import { createFft3d } from '../core/fft/fft3d.ts'
import { seededRandom } from '../core/math/random.ts'
import type { FftArray } from '../core/fft/fft3d.ts'

type Dims = readonly [number, number, number]

const ALL_SIZES: Dims[] = [
  [64, 64, 64],
  [96, 96, 96],
  [128, 128, 128],
  [160, 100, 100],
  [270, 162, 162],
]
const QUICK_SIZES: Dims[] = [
  [64, 64, 64],
  [128, 128, 128],
]

const args = process.argv.slice(2)
const sizes = args.includes('--quick') ? QUICK_SIZES : ALL_SIZES

/** Median ms per call of fn, after two warm-up calls; at least 5 runs or ~2 s, at most 21. */
function timeMs(fn: () => void): number {
  fn()
  fn()
  const times: number[] = []
  const start = performance.now()
  while (times.length < 5 || (times.length < 21 && performance.now() - start < 2000)) {
    const t0 = performance.now()
    fn()
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  return times[times.length >> 1]!
}

function randomFill<T extends FftArray>(a: T, seed: number): T {
  const random = seededRandom(seed)
  for (let i = 0; i < a.length; i++) a[i] = random() - 0.5
  return a
}

// ---------------------------------------------------------------------------------------
// Ours
// ---------------------------------------------------------------------------------------

function benchOursReal(d: Dims, storage: 'f32' | 'f64'): number {
  const f = createFft3d(d[0], d[1], d[2])
  const Arr = storage === 'f32' ? Float32Array : Float64Array
  const x = randomFill(new Arr(f.realLength), 1)
  const re = new Arr(f.spectrumLength)
  const im = new Arr(f.spectrumLength)
  const y = new Arr(f.realLength)
  return timeMs(() => {
    f.forward(x, re, im)
    f.inverse(re, im, y)
  })
}

function benchOursComplex(d: Dims): number {
  const f = createFft3d(d[0], d[1], d[2])
  const re = randomFill(new Float32Array(f.realLength), 2)
  const im = randomFill(new Float32Array(f.realLength), 3)
  return timeMs(() => {
    f.forwardComplex(re, im)
    f.inverseComplex(re, im)
  })
}

// ---------------------------------------------------------------------------------------
// Libraries, line by line over the three axes
// ---------------------------------------------------------------------------------------

/** Calls line(n, base, stride) for every line of every axis. */
function forEachLine(d: Dims, line: (n: number, base: number, stride: number) => void): void {
  const [nx, ny, nz] = d
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) line(nx, nx * (y + ny * z), 1)
  for (let z = 0; z < nz; z++) for (let x = 0; x < nx; x++) line(ny, x + nx * ny * z, nx)
  for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) line(nz, x + nx * y, nx * ny)
}

interface FftJs {
  transform(out: Float64Array, data: Float64Array): void
  inverseTransform(out: Float64Array, data: Float64Array): void
}
type FftJsCtor = new (n: number) => FftJs

async function loadFftJs(): Promise<FftJsCtor | null> {
  const spec = 'fft.js'
  try {
    const mod = (await import(spec)) as { default: FftJsCtor }
    return mod.default
  } catch {
    return null
  }
}

function isPow2(n: number): boolean {
  return n >= 2 && (n & (n - 1)) === 0
}

function fftJs3d(FFT: FftJsCtor, d: Dims): ((re: Float64Array, im: Float64Array, inverse: boolean) => void) | null {
  if (!d.every(isPow2)) return null
  const plans = new Map<number, { f: FftJs; a: Float64Array; b: Float64Array }>()
  for (const n of d) if (!plans.has(n)) plans.set(n, { f: new FFT(n), a: new Float64Array(2 * n), b: new Float64Array(2 * n) })
  return (re, im, inverse) => {
    forEachLine(d, (n, base, stride) => {
      const p = plans.get(n)!
      const a = p.a
      const b = p.b
      for (let j = 0, s = base; j < n; j++, s += stride) {
        a[2 * j] = re[s]!
        a[2 * j + 1] = im[s]!
      }
      if (inverse) p.f.inverseTransform(b, a)
      else p.f.transform(b, a)
      for (let j = 0, s = base; j < n; j++, s += stride) {
        re[s] = b[2 * j]!
        im[s] = b[2 * j + 1]!
      }
    })
  }
}

interface PffftModule {
  HEAPF32: Float32Array
  _pffft_new_setup(n: number, kind: number): number
  _pffft_aligned_malloc(bytes: number): number
  _pffft_transform_ordered(setup: number, input: number, output: number, work: number, direction: number): void
}

async function loadPffft(): Promise<PffftModule | null> {
  const spec = '@echogarden/pffft-wasm/simd'
  try {
    const mod = (await import(spec)) as { default: () => Promise<PffftModule> }
    return await mod.default()
  } catch {
    return null
  }
}

const PFFFT_COMPLEX = 1
const PFFFT_FORWARD = 0
const PFFFT_BACKWARD = 1

function pffftSupports(n: number): boolean {
  if (n % 16 !== 0) return false
  let m = n
  for (const p of [2, 3, 5]) while (m % p === 0) m /= p
  return m === 1
}

function pffft3d(m: PffftModule, d: Dims): ((re: Float32Array, im: Float32Array, inverse: boolean) => void) | null {
  if (!d.every(pffftSupports)) return null
  const setups = new Map<number, number>()
  for (const n of d) if (!setups.has(n)) setups.set(n, m._pffft_new_setup(n, PFFFT_COMPLEX))
  const maxN = Math.max(...d)
  const inPtr = m._pffft_aligned_malloc(8 * maxN)
  const outPtr = m._pffft_aligned_malloc(8 * maxN)
  const workPtr = m._pffft_aligned_malloc(8 * maxN)
  return (re, im, inverse) => {
    // Read after the allocations above: a memory growth replaces the view.
    const heap = m.HEAPF32
    const i0 = inPtr >> 2
    const o0 = outPtr >> 2
    forEachLine(d, (n, base, stride) => {
      for (let j = 0, s = base; j < n; j++, s += stride) {
        heap[i0 + 2 * j] = re[s]!
        heap[i0 + 2 * j + 1] = im[s]!
      }
      m._pffft_transform_ordered(setups.get(n)!, inPtr, outPtr, workPtr, inverse ? PFFFT_BACKWARD : PFFFT_FORWARD)
      // pffft's backward transform is unnormalised.
      const scale = inverse ? 1 / n : 1
      for (let j = 0, s = base; j < n; j++, s += stride) {
        re[s] = heap[o0 + 2 * j]! * scale
        im[s] = heap[o0 + 2 * j + 1]! * scale
      }
    })
  }
}

/**
 * RMS error of a library's forward transform relative to ours (sanity check of the wiring). Ours
 * runs on float32 storage here too, so this process never feeds it float64 arrays.
 */
function checkAgainstOurs(d: Dims, run: (re: FftArray, im: FftArray) => void, Arr: typeof Float32Array | typeof Float64Array): number {
  const f = createFft3d(d[0], d[1], d[2])
  const re = randomFill(new Arr(f.realLength), 9)
  const im = randomFill(new Arr(f.realLength), 10)
  const ourRe = Float32Array.from(re)
  const ourIm = Float32Array.from(im)
  f.forwardComplex(ourRe, ourIm)
  run(re, im)
  let num = 0
  let den = 0
  for (let i = 0; i < re.length; i++) {
    num += (re[i]! - ourRe[i]!) ** 2 + (im[i]! - ourIm[i]!) ** 2
    den += ourRe[i]! ** 2 + ourIm[i]! ** 2
  }
  return Math.sqrt(num / den)
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------

function fmt(ms: number | null): string {
  return ms === null ? 'n/a' : ms.toFixed(1)
}

function label(d: Dims): string {
  return d[0] === d[1] && d[1] === d[2] ? `${d[0]}^3` : d.join('x')
}

type Column = 'ours-real-f32' | 'ours-real-f64' | 'ours-complex-f32' | 'fftjs' | 'pffft'
const COLUMNS: Column[] = ['ours-real-f32', 'ours-real-f64', 'ours-complex-f32', 'fftjs', 'pffft']
const HEADERS = ['size', 'ours real f32', 'ours real f64', 'ours complex f32', 'fft.js complex', 'pffft complex']

/** Child mode: one column, as one line of JSON; sizes a library does not support are left out. */
async function runColumn(column: Column): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {}
  if (column === 'ours-real-f32' || column === 'ours-real-f64' || column === 'ours-complex-f32') {
    for (const d of sizes) {
      out[label(d)] = column === 'ours-complex-f32' ? benchOursComplex(d) : benchOursReal(d, column === 'ours-real-f32' ? 'f32' : 'f64')
    }
    return out
  }
  if (column === 'fftjs') {
    const FFT = await loadFftJs()
    if (!FFT) return { note: 'fft.js not installed' }
    for (const d of sizes) {
      const run = fftJs3d(FFT, d)
      if (!run) continue
      const re = randomFill(new Float64Array(d[0] * d[1] * d[2]), 4)
      const im = randomFill(new Float64Array(d[0] * d[1] * d[2]), 5)
      out[label(d)] = timeMs(() => {
        run(re, im, false)
        run(re, im, true)
      })
      // Checked after timing: running our code first would change what V8 compiles for this process.
      const err = checkAgainstOurs(d, (r, i) => run(r as Float64Array, i as Float64Array, false), Float64Array)
      if (!(err < 1e-6)) out.note = `fft.js differs from ours at ${label(d)}: ${err}`
    }
    return out
  }
  const pffft = await loadPffft()
  if (!pffft) return { note: '@echogarden/pffft-wasm not installed' }
  for (const d of sizes) {
    const run = pffft3d(pffft, d)
    if (!run) continue
    const re = randomFill(new Float32Array(d[0] * d[1] * d[2]), 6)
    const im = randomFill(new Float32Array(d[0] * d[1] * d[2]), 7)
    out[label(d)] = timeMs(() => {
      run(re, im, false)
      run(re, im, true)
    })
    const err = checkAgainstOurs(d, (r, i) => run(r as Float32Array, i as Float32Array, false), Float32Array)
    if (!(err < 1e-5)) out.note = `pffft differs from ours at ${label(d)}: ${err}`
  }
  return out
}

const childArg = args.find((a) => a.startsWith('--child='))
if (childArg) {
  console.log(JSON.stringify(await runColumn(childArg.slice('--child='.length) as Column)))
} else {
  // Every column runs in its own process: V8 specialises code for what a process meets first
  // (float32 vs float64 arrays), and even importing fft.js slowed our kernels by ~25% in one
  // process, so sharing a process would measure the interactions rather than the transforms.
  console.log(`node ${process.version}, single thread; ms per forward+inverse pair (median)`)
  const results = new Map<Column, Record<string, number | string>>()
  for (const column of COLUMNS) {
    const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, ...args, `--child=${column}`], {
      encoding: 'utf8',
    })
    try {
      results.set(column, JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as Record<string, number | string>)
    } catch {
      results.set(column, { note: `failed: ${child.stderr.slice(0, 300)}` })
    }
    const note = results.get(column)!.note
    console.log(`  ${column} done${note ? `: ${note}` : ''}`)
  }
  const rows = sizes.map((d) => [
    label(d),
    ...COLUMNS.map((c) => {
      const v = results.get(c)?.[label(d)]
      return typeof v === 'number' ? fmt(v) : 'n/a'
    }),
  ])
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`
  console.log()
  console.log(line(HEADERS))
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
  for (const r of rows) console.log(line(r))
}
