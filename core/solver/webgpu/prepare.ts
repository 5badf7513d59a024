/**
 * Host-side arrays of one simulation, derived from the plan exactly as the CPU reference engine
 * derives them (core/solver/cpu/engine.ts buildEngineData; not called here because it also
 * allocates the CPU's fields and scratch, ~12 grid-sized arrays a GPU run does not need), in
 * the shapes the kernels read: operators from core/solver/kspace.ts, medium on the
 * computational grid (a uniform quantity stays one value, read with stride 0), PML profiles,
 * and the filtered sparse source. Runs once per run on the CPU; nothing here is per step.
 */
import { createFft3d } from '../../fft/fft3d.ts'
import { expandField, staggeredDensity } from '../cpu/engine.ts'
import { halfSpectrumAxes, pmlProfile, radialSpectrum, shiftedDerivative, sinc } from '../kspace.ts'
import { fieldAt, type Field } from '../model.ts'
import type { SimulationPlan } from '../setup.ts'
import { sourceDistribution } from '../source-grid.ts'

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
  readonly sourceIndex: Uint32Array
  /** (in-phase, quadrature) weight per listed source point. */
  readonly sourceWeight: Float32Array
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

export function prepareHostArrays(plan: SimulationPlan): HostArrays {
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
  for (const [sign, offsets] of [[1, positive], [-1, negative]] as const) {
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
  const dtOverDensity = ([0, 1, 2] as const).map((a) => mapGrid(staggeredDensity(rho0, size, a, (m) => new Float32Array(m)), (r) => dt / r)) as unknown as [GridArray, GridArray, GridArray]
  let tau: GridArray = one(0)
  let eta: GridArray = one(0)
  if (plan.absorbing) {
    // tau = -2 alpha0 c0^(y-1), eta = 2 alpha0 c0^y tan(pi y / 2) (Treeby & Cox 2010 Eq. 11).
    const a0 = expandField(plan.model.alpha0, plan)
    const tanTerm = Math.tan((Math.PI * y) / 2)
    if (typeof a0 === 'number' && typeof c0 === 'number') {
      tau = one(-2 * a0 * Math.pow(c0, y - 1))
      eta = one(fractional ? 2 * a0 * Math.pow(c0, y) * tanTerm : 0)
    } else {
      const t = new Float32Array(n)
      const e = new Float32Array(n)
      for (let i = 0; i < n; i++) {
        const a = typeof a0 === 'number' ? a0 : a0[i]!
        const c = typeof c0 === 'number' ? c0 : c0[i]!
        t[i] = -2 * a * Math.pow(c, y - 1)
        e[i] = fractional ? 2 * a * Math.pow(c, y) * tanTerm : 0
      }
      tau = t
      eta = e
    }
  }

  const profiles = [false, true].flatMap((staggered) => ([0, 1, 2] as const).map((a) => pmlProfile(size[a], plan.axes[a].pml, plan.settings.pmlAlpha, plan.cRef, dx, dt, staggered)))
  const pml = new Float32Array(2 * (nx + ny + nz))
  const pmlStarts: number[] = []
  let offset = 0
  for (const p of profiles) {
    pmlStarts.push(offset)
    pml.set(p, offset)
    offset += p.length
  }

  const source = filteredSource(plan, size, c0, axes)
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
    ...source,
  }
}

/**
 * The CW source maps, as the CPU engine builds them: band-limited spread of the elements,
 * scaled by k-Wave's additive-source factor 2 dt / (N c0 dx) (N = 3; physics.md 6.5), filtered
 * once by cos(c_ref |k| dt / 2) (linear and time-invariant, so filtering the two maps equals
 * filtering the drive every step) and kept where above 1e-7 of the peak.
 */
function filteredSource(plan: SimulationPlan, size: readonly [number, number, number], c0: Field, axes: ReturnType<typeof halfSpectrumAxes>): { sourceIndex: Uint32Array; sourceWeight: Float32Array } {
  const [nx, ny, nz] = size
  const n = nx * ny * nz
  const dx = plan.grid.spacingM
  const dt = plan.time.dtS
  const fft = createFft3d(nx, ny, nz)
  const dist = sourceDistribution(plan.source.elements, { originM: plan.computeOriginM, spacingM: dx, size }, { upsampling: plan.settings.sourceUpsampling, bliTolerance: plan.settings.bliTolerance })
  const srcRe = new Float32Array(n)
  const srcIm = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const scale = (2 * dt) / (3 * fieldAt(c0, i) * dx)
    srcRe[i] = dist.re[i]! * scale
    srcIm[i] = dist.im[i]! * scale
  }
  const specRe = new Float32Array(fft.spectrumLength)
  const specIm = new Float32Array(fft.spectrumLength)
  const sourceKappa = radialSpectrum(axes, (k) => Math.cos((plan.cRef * k * dt) / 2))
  for (const map of [srcRe, srcIm]) {
    fft.forward(map, specRe, specIm)
    for (let i = 0; i < specRe.length; i++) {
      specRe[i] = specRe[i]! * sourceKappa[i]!
      specIm[i] = specIm[i]! * sourceKappa[i]!
    }
    fft.inverse(specRe, specIm, map)
  }
  let peak = 0
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.hypot(srcRe[i]!, srcIm[i]!))
  const keep: number[] = []
  for (let i = 0; i < n; i++) if (Math.hypot(srcRe[i]!, srcIm[i]!) > 1e-7 * peak) keep.push(i)
  const sourceWeight = new Float32Array(2 * keep.length)
  keep.forEach((i, s) => {
    sourceWeight[2 * s] = srcRe[i]!
    sourceWeight[2 * s + 1] = srcIm[i]!
  })
  return { sourceIndex: Uint32Array.from(keep), sourceWeight }
}
