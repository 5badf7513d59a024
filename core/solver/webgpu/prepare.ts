/**
 * Host-side arrays of one simulation, derived from the plan exactly as the CPU reference engine
 * derives them (core/solver/cpu/engine.ts buildEngineData; not called here because it also
 * allocates the CPU's fields and scratch, ~12 grid-sized arrays a GPU run does not need), in
 * the shapes the kernels read: operators from core/solver/kspace.ts, medium on the
 * computational grid (a uniform quantity stays one value, read with stride 0), PML profiles,
 * and the source (filtered here, or left to the backend). Runs once per run on the CPU; nothing
 * here is per step.
 */
import { absorptionTerms, expandField, filteredSourceList, sourceMaps, staggeredDensity } from '../cpu/engine.ts'
import { halfSpectrumAxes, pmlProfile, radialSpectrum, shiftedDerivative, sinc } from '../kspace.ts'
import type { SimulationSetup } from '../setup.ts'

/** A medium quantity on the computational grid: one value when uniform, else one per point. */
export type GridArray = Float32Array

export interface HostArrays {
  readonly size: readonly [number, number, number]
  readonly n: number
  readonly nxh: number
  readonly spectrumLength: number
  readonly kappa: Float32Array
  /** (re, im) of i k e^{+i k dx/2} for x (nxh entries), y, z, then e^{-i k dx/2} likewise. */
  readonly shift: Float32Array
  readonly shiftOffsets: { readonly positive: readonly [number, number, number]; readonly negative: readonly [number, number, number] }
  /** |k|^(y-2) and |k|^(y-1) (0 at k = 0), only when absorbing with y != 2. */
  readonly fractional?: { readonly absorption: Float32Array; readonly dispersion: Float32Array }
  readonly soundSpeedSq: GridArray
  readonly density: GridArray
  readonly dtOverDensity: readonly [GridArray, GridArray, GridArray]
  readonly tau: GridArray
  readonly eta: GridArray
  /** Regular-point profiles of x, y, z back to back, then the staggered ones. */
  readonly pml: Float32Array
  readonly pmlOffsets: { readonly regular: readonly [number, number, number]; readonly staggered: readonly [number, number, number] }
  readonly source: HostSource
}

/**
 * The CW source: filtered on the host as a sparse list (index, (in-phase, quadrature) weight per
 * point), or as its two unfiltered maps and the filter's half spectrum, for the backend to filter
 * with its own FFT (engine.ts sourceMaps, sparseSource).
 */
export type HostSource =
  | { readonly kind: 'sparse'; readonly index: Uint32Array; readonly weight: Float32Array }
  | { readonly kind: 'maps'; readonly re: Float32Array; readonly im: Float32Array; readonly filter: Float32Array }

/** Interleaves a sparse list's weights as the source kernel reads them. */
export function sparseWeights(re: Float32Array, im: Float32Array): Float32Array {
  const weight = new Float32Array(2 * re.length)
  for (let s = 0; s < re.length; s++) {
    weight[2 * s] = re[s]!
    weight[2 * s + 1] = im[s]!
  }
  return weight
}

const one = (v: number) => Float32Array.of(v)

function toGrid(f: number | Float32Array): GridArray {
  return typeof f === 'number' ? one(f) : f
}

function mapGrid(f: number | Float32Array, fn: (v: number) => number): GridArray {
  if (typeof f === 'number') return one(fn(f))
  const out = new Float32Array(f.length)
  for (let i = 0; i < f.length; i++) out[i] = fn(f[i]!)
  return out
}

export function prepareHostArrays(plan: SimulationSetup, options: { readonly sourceFilter?: 'host' | 'device' } = {}): HostArrays {
  const size = [plan.axes[0].total, plan.axes[1].total, plan.axes[2].total] as const
  const [nx, ny, nz] = size
  const n = nx * ny * nz
  const dx = plan.grid.spacingM
  const dt = plan.time.dtS
  const y = plan.medium.alphaPower
  const axes = halfSpectrumAxes(nx, ny, nz, dx)
  const spectrumLength = axes.nxh * ny * nz

  const kappa = radialSpectrum(axes, (k) => sinc((plan.cRef * k * dt) / 2))
  const shift = new Float32Array(2 * 2 * (axes.nxh + ny + nz))
  const positive: number[] = []
  const negative: number[] = []
  let at = 0
  for (const [sign, offsets] of [
    [1, positive],
    [-1, negative],
  ] as const) {
    for (const k of [axes.kx, axes.ky, axes.kz]) {
      const d = shiftedDerivative(k, dx, sign)
      offsets.push(at)
      for (let i = 0; i < k.length; i++, at++) {
        shift[2 * at] = d.re[i]!
        shift[2 * at + 1] = d.im[i]!
      }
    }
  }
  const fractional = plan.absorbing && Math.abs(y - 2) > 1e-12

  const c0 = expandField(plan.model.c0, plan)
  const rho0 = expandField(plan.medium.density, plan)
  const dtOverDensity = ([0, 1, 2] as const).map((a) =>
    mapGrid(
      staggeredDensity(rho0, size, a, (m) => new Float32Array(m)),
      (r) => dt / r,
    ),
  ) as unknown as [GridArray, GridArray, GridArray]
  // tau and eta as the CPU engine forms them (Treeby & Cox 2010).
  const terms = absorptionTerms(plan, c0)
  const tau = toGrid(terms.tau)
  const eta = toGrid(terms.eta)

  const profiles = [false, true].flatMap((staggered) =>
    ([0, 1, 2] as const).map((a) => pmlProfile(size[a], plan.axes[a].pml, plan.settings.pmlAlpha, plan.cRef, dx, dt, staggered)),
  )
  const pml = new Float32Array(2 * (nx + ny + nz))
  const pmlStarts: number[] = []
  let offset = 0
  for (const p of profiles) {
    pmlStarts.push(offset)
    pml.set(p, offset)
    offset += p.length
  }

  let source: HostSource
  if (options.sourceFilter === 'device') {
    source = { kind: 'maps', ...sourceMaps(plan, c0) }
  } else {
    const list = filteredSourceList(plan, c0)
    source = { kind: 'sparse', index: list.index, weight: sparseWeights(list.re, list.im) }
  }
  return {
    size,
    n,
    nxh: axes.nxh,
    spectrumLength,
    kappa,
    shift,
    shiftOffsets: { positive: positive as unknown as [number, number, number], negative: negative as unknown as [number, number, number] },
    ...(fractional
      ? {
          fractional: {
            absorption: radialSpectrum(axes, (k) => (k === 0 ? 0 : Math.pow(k, y - 2))),
            dispersion: radialSpectrum(axes, (k) => (k === 0 ? 0 : Math.pow(k, y - 1))),
          },
        }
      : {}),
    soundSpeedSq: mapGrid(c0, (c) => c * c),
    density: toGrid(rho0),
    dtOverDensity,
    tau,
    eta,
    pml,
    pmlOffsets: { regular: pmlStarts.slice(0, 3) as unknown as [number, number, number], staggered: pmlStarts.slice(3) as unknown as [number, number, number] },
    source,
  }
}
