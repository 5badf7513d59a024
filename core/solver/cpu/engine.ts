/**
 * CPU reference backend: the k-Wave kspaceFirstOrder3D time step (docs/physics.md §6.2) on real
 * float32 fields with our real-to-complex FFT. Per step: 1 forward FFT of p, 3 inverse for the
 * pressure gradient, 3 forward + 3 inverse for the velocity divergence (the split-field PML
 * needs each component), plus 2 + 2 for the fractional Laplacians when y != 2. At y = 2 the
 * absorption operator |k|^(y-2) is the identity (k-Wave keeps k = 0 as 0^0 = 1) and the
 * dispersion term vanishes, so no extra FFT is needed.
 *
 * The work is written for a team of threads sharing the arrays: real-space passes split the
 * z-planes, spectrum passes split the y-rows (matching the FFT's stages, core/fft/fft3d.ts), and
 * barriers separate the phases that read what other members wrote. With a team of one the
 * barriers are no-ops; the host supplies real threads (electron/adapters/cpu-parallel.ts).
 * `buildEngineData` runs once; `createStepper` runs in every member.
 */
import { createFft3d } from '../../fft/fft3d.ts'
import { typescriptKernels, type GridField, type StepKernels } from './kernels.ts'
import type { SimulationSetup } from '../setup.ts'
import type { Field } from '../model.ts'
import { halfSpectrumAxes, pmlProfile, radialSpectrum, shiftedDerivative, sinc } from '../kspace.ts'
import { sourceDistribution } from '../source-grid.ts'

export type { GridField } from './kernels.ts'

export type Allocate = (length: number) => Float32Array
export type Allocate64 = (length: number) => Float64Array

/** Everything a team member needs: plain numbers and typed arrays (shareable across threads). */
export interface EngineData {
  readonly size: readonly [number, number, number]
  readonly nxh: number
  readonly dtS: number
  readonly omega: number
  readonly rampSteps: number
  readonly absorbing: boolean
  readonly fractional: boolean
  readonly kappa: Float32Array
  /** i k e^{+- i k dx / 2} per axis, re/im interleaved per axis: [re_x, im_x, re_y, ...]. */
  readonly ddPos: readonly Float64Array[]
  readonly ddNeg: readonly Float64Array[]
  readonly nabla1?: Float32Array
  readonly nabla2?: Float32Array
  readonly c0sq: GridField
  /** rho0 and tau: only for the fractional (y != 2) update, 0 otherwise. */
  readonly rho0: GridField
  readonly dtRho0: GridField
  readonly dtOverRhoSg: readonly GridField[]
  readonly tau: GridField
  /** tau rho0: the y = 2 absorbing update's coefficient (0 when lossless or y != 2). */
  readonly tauRho0: GridField
  readonly eta: GridField
  readonly pml: readonly Float32Array[]
  readonly pmlSg: readonly Float32Array[]
  readonly sourceIndex: Uint32Array
  readonly sourceRe: Float32Array
  readonly sourceIm: Float32Array
  readonly p: Float32Array
  readonly u: readonly Float32Array[]
  readonly rho: readonly Float32Array[]
  /**
   * A grid-sized scratch for the inverse FFT's output, where the kernels need one: the TypeScript
   * kernels and the y != 2 filters. The native kernels update in the FFT pass and need none
   * (buildEngineData's `gradScratch: false`).
   */
  readonly grad?: Float32Array
  readonly div?: Float32Array
  readonly work?: Float32Array
  readonly specRe: Float32Array
  readonly specIm: Float32Array
  readonly tmpRe: Float32Array
  readonly tmpIm: Float32Array
  /** The user's sub-grid: start and size per axis, for the window DFT. */
  readonly userStart: readonly [number, number, number]
  readonly userSize: readonly [number, number, number]
  readonly sumCos: Float64Array
  readonly sumSin: Float64Array
}

/** Expands a user-grid field to the computational grid, replicating edge values outward (k-Wave expandMatrix). */
export function expandField(field: Field, plan: SimulationSetup, allocate: Allocate = (n) => new Float32Array(n)): GridField {
  if (typeof field === 'number') return field
  const [ax, ay, az] = plan.axes
  const out = allocate(ax.total * ay.total * az.total)
  const [ux, uy] = [ax.userSize, ay.userSize]
  const clampIndex = (i: number, a: typeof ax) => Math.min(a.userSize - 1, Math.max(0, i - a.userStart))
  let index = 0
  for (let k = 0; k < az.total; k++) {
    const kk = clampIndex(k, az)
    for (let j = 0; j < ay.total; j++) {
      const row = ux * (clampIndex(j, ay) + uy * kk)
      for (let i = 0; i < ax.total; i++) out[index++] = field[row + clampIndex(i, ax)]!
    }
  }
  return out
}

function sharedCopy(f: GridField, allocate: Allocate): GridField {
  if (typeof f === 'number') return f
  const out = allocate(f.length)
  out.set(f)
  return out
}

function mapField(f: GridField, fn: (v: number) => number, allocate: Allocate): GridField {
  if (typeof f === 'number') return fn(f)
  const out = allocate(f.length)
  for (let i = 0; i < f.length; i++) out[i] = fn(f[i]!)
  return out
}

/**
 * rho0 at the staggered points along one axis: the mean of the two neighbours, the last point
 * keeping its own value (k-Wave interpolates linearly and replaces the NaN edge by the
 * unshifted value). k-Wave's C++ code reads these raw densities (rho0_sg*) and forms dt/rho.
 */
export function staggeredDensity(rho: GridField, size: readonly [number, number, number], axis: 0 | 1 | 2, allocate: Allocate): GridField {
  if (typeof rho === 'number') return rho
  const [nx, ny, nz] = size
  const stride = axis === 0 ? 1 : axis === 1 ? nx : nx * ny
  const extent = size[axis]!
  const out = allocate(rho.length)
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const index = i + nx * (j + ny * k)
        const pos = axis === 0 ? i : axis === 1 ? j : k
        out[index] = pos < extent - 1 ? 0.5 * (rho[index]! + rho[index + stride]!) : rho[index]!
      }
  return out
}

function interleave(d: { re: Float64Array; im: Float64Array }): Float64Array {
  const out = new Float64Array(2 * d.re.length)
  for (let i = 0; i < d.re.length; i++) {
    out[2 * i] = d.re[i]!
    out[2 * i + 1] = d.im[i]!
  }
  return out
}

/**
 * Absorption coefficients on the computational grid (Treeby & Cox 2010):
 * tau = -2 alpha0 c0^(y-1), eta = 2 alpha0 c0^y tan(pi y / 2); eta only for y != 2.
 */
export function absorptionTerms(plan: SimulationSetup, c0: GridField, allocate: Allocate = (n) => new Float32Array(n)): { tau: GridField; eta: GridField } {
  if (!plan.absorbing) return { tau: 0, eta: 0 }
  const y = plan.medium.alphaPower
  const fractional = Math.abs(y - 2) > 1e-12
  const a0 = expandField(plan.model.alpha0, plan)
  const tanTerm = Math.tan((Math.PI * y) / 2)
  if (typeof a0 === 'number' && typeof c0 === 'number') {
    return { tau: -2 * a0 * Math.pow(c0, y - 1), eta: fractional ? 2 * a0 * Math.pow(c0, y) * tanTerm : 0 }
  }
  const n = typeof a0 === 'number' ? (c0 as Float32Array).length : a0.length
  const t = allocate(n)
  const e = fractional ? allocate(n) : undefined
  for (let i = 0; i < n; i++) {
    const a = typeof a0 === 'number' ? a0 : a0[i]!
    const c = typeof c0 === 'number' ? c0 : c0[i]!
    t[i] = -2 * a * Math.pow(c, y - 1)
    if (e) e[i] = 2 * a * Math.pow(c, y) * tanTerm
  }
  return { tau: t, eta: e ?? 0 }
}

/**
 * The CW source as a sparse list on the computational grid: S(x) spread by the band-limited
 * interpolant, scaled as k-Wave's additive pressure source (2 dt / (N c0 dx), N = 3, c0 at each
 * source point; docs/physics.md §6.5) and filtered once by cos(c_ref |k| dt / 2). The filter is linear
 * and time-invariant, so filtering the two spatial maps of the CW drive equals k-Wave filtering
 * the source at every step. After filtering it rings over the whole grid at tiny amplitude;
 * entries below 1e-7 of the peak change the field by less than that and are dropped.
 */
export function filteredSourceList(plan: SimulationSetup, c0: GridField): SparseSource {
  const [nx, ny, nz] = [plan.axes[0].total, plan.axes[1].total, plan.axes[2].total] as const
  const fft = createFft3d(nx, ny, nz)
  const maps = sourceMaps(plan, c0)
  const specRe = new Float32Array(fft.spectrumLength)
  const specIm = new Float32Array(fft.spectrumLength)
  for (const map of [maps.re, maps.im]) {
    fft.forward(map, specRe, specIm)
    for (let i = 0; i < specRe.length; i++) {
      specRe[i] = specRe[i]! * maps.filter[i]!
      specIm[i] = specIm[i]! * maps.filter[i]!
    }
    fft.inverse(specRe, specIm, map)
  }
  return sparseSource(maps.re, maps.im)
}

export interface SparseSource {
  readonly index: Uint32Array
  readonly re: Float32Array
  readonly im: Float32Array
}

/**
 * The two spatial maps of the CW drive before filtering (scaled as in filteredSourceList) and
 * the filter's half spectrum cos(c_ref |k| dt / 2): what a backend filters with its own FFT (the
 * WebGPU backend does it on the device; at 256^3 the two host round trips take seconds).
 */
export function sourceMaps(plan: SimulationSetup, c0: GridField): { re: Float32Array; im: Float32Array; filter: Float32Array } {
  const size = [plan.axes[0].total, plan.axes[1].total, plan.axes[2].total] as const
  const [nx, ny, nz] = size
  const n = nx * ny * nz
  const dx = plan.grid.spacingM
  const dt = plan.time.dtS
  const dist = sourceDistribution(
    plan.source.elements,
    { originM: plan.computeOriginM, spacingM: dx, size },
    { upsampling: plan.settings.sourceUpsampling, bliTolerance: plan.settings.bliTolerance },
  )
  const re = new Float32Array(n)
  const im = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    if (dist.re[i] === 0 && dist.im[i] === 0) continue
    const scale = (2 * dt) / (3 * (typeof c0 === 'number' ? c0 : c0[i]!) * dx)
    re[i] = dist.re[i]! * scale
    im[i] = dist.im[i]! * scale
  }
  const filter = radialSpectrum(halfSpectrumAxes(nx, ny, nz, dx), (k) => Math.cos((plan.cRef * k * dt) / 2))
  return { re, im, filter }
}

/** The filtered maps as a sparse list: the points above 1e-7 of the peak magnitude, in index order. */
export function sparseSource(mapRe: ArrayLike<number>, mapIm: ArrayLike<number>): SparseSource {
  const n = mapRe.length
  let peakSq = 0
  for (let i = 0; i < n; i++) peakSq = Math.max(peakSq, mapRe[i]! * mapRe[i]! + mapIm[i]! * mapIm[i]!)
  const floorSq = 1e-14 * peakSq
  let count = 0
  for (let i = 0; i < n; i++) if (mapRe[i]! * mapRe[i]! + mapIm[i]! * mapIm[i]! > floorSq) count++
  const index = new Uint32Array(count)
  const re = new Float32Array(count)
  const im = new Float32Array(count)
  for (let i = 0, s = 0; i < n; i++) {
    if (mapRe[i]! * mapRe[i]! + mapIm[i]! * mapIm[i]! > floorSq) {
      index[s] = i
      re[s] = mapRe[i]!
      im[s] = mapIm[i]!
      s++
    }
  }
  return { index, re, im }
}

export function buildEngineData(
  plan: SimulationSetup,
  allocate: Allocate = (n) => new Float32Array(n),
  allocate64: Allocate64 = (n) => new Float64Array(n),
  options: { readonly gradScratch?: boolean } = {},
): EngineData {
  const size = [plan.axes[0].total, plan.axes[1].total, plan.axes[2].total] as const
  const [nx, ny, nz] = size
  const n = nx * ny * nz
  const dx = plan.grid.spacingM
  const dt = plan.time.dtS
  const y = plan.medium.alphaPower
  // The source list first: building it takes two grid-sized maps and an FFT's worth of scratch for
  // a moment, which then come before the engine's arrays instead of on top of them (peak memory).
  // c0 and rho0 themselves are temporaries (plain arrays) unless a pass reads them.
  const c0 = expandField(plan.model.c0, plan)
  const source = filteredSourceList(plan, c0)
  const axes = halfSpectrumAxes(nx, ny, nz, dx)
  const spectrumLength = axes.nxh * ny * nz
  const kappa = allocate(spectrumLength)
  kappa.set(radialSpectrum(axes, (k) => sinc((plan.cRef * k * dt) / 2)))
  const ddPos = [axes.kx, axes.ky, axes.kz].map((k) => interleave(shiftedDerivative(k, dx, 1)))
  const ddNeg = [axes.kx, axes.ky, axes.kz].map((k) => interleave(shiftedDerivative(k, dx, -1)))
  const fractional = plan.absorbing && Math.abs(y - 2) > 1e-12
  let nabla1: Float32Array | undefined
  let nabla2: Float32Array | undefined
  if (fractional) {
    nabla1 = allocate(spectrumLength)
    nabla1.set(radialSpectrum(axes, (k) => (k === 0 ? 0 : Math.pow(k, y - 2))))
    nabla2 = allocate(spectrumLength)
    nabla2.set(radialSpectrum(axes, (k) => (k === 0 ? 0 : Math.pow(k, y - 1))))
  }

  const rho0 = expandField(plan.medium.density, plan)
  const c0sq = mapField(c0, (c) => c * c, allocate)
  const dtRho0 = mapField(rho0, (r) => dt * r, allocate)
  const dtOverRhoSg = ([0, 1, 2] as const).map((a) =>
    mapField(
      staggeredDensity(rho0, size, a, (m) => new Float32Array(m)),
      (r) => dt / r,
      allocate,
    ),
  )
  const { tau, eta } = absorptionTerms(plan, c0, fractional ? allocate : undefined)
  // At y = 2 the pressure update needs tau and rho0 only as their product (one array, not two).
  const tauRho0: GridField =
    plan.absorbing && !fractional
      ? typeof tau === 'number' && typeof rho0 === 'number'
        ? tau * rho0
        : (() => {
            const out = allocate(n)
            for (let i = 0; i < n; i++) out[i] = (typeof tau === 'number' ? tau : tau[i]!) * (typeof rho0 === 'number' ? rho0 : rho0[i]!)
            return out
          })()
      : 0
  const pml = ([0, 1, 2] as const).map((a) => pmlProfile(size[a], plan.axes[a].pml, plan.settings.pmlAlpha, plan.cRef, dx, dt, false))
  const pmlSg = ([0, 1, 2] as const).map((a) => pmlProfile(size[a], plan.axes[a].pml, plan.settings.pmlAlpha, plan.cRef, dx, dt, true))

  // Shared copies, so that worker threads see the same source list.
  const sourceIndexBuffer = allocate(source.index.length)
  const sourceIndex = new Uint32Array(sourceIndexBuffer.buffer, sourceIndexBuffer.byteOffset, source.index.length)
  sourceIndex.set(source.index)
  const sourceRe = allocate(source.re.length)
  sourceRe.set(source.re)
  const sourceIm = allocate(source.im.length)
  sourceIm.set(source.im)
  const specRe = allocate(spectrumLength)
  const specIm = allocate(spectrumLength)

  const userSize = [plan.axes[0].userSize, plan.axes[1].userSize, plan.axes[2].userSize] as const
  const userN = userSize[0] * userSize[1] * userSize[2]
  return {
    size,
    nxh: axes.nxh,
    dtS: dt,
    omega: 2 * Math.PI * plan.source.frequencyHz,
    rampSteps: plan.time.rampSteps,
    absorbing: plan.absorbing,
    fractional,
    kappa,
    ddPos,
    ddNeg,
    ...(nabla1 ? { nabla1 } : {}),
    ...(nabla2 ? { nabla2 } : {}),
    c0sq,
    rho0: fractional ? sharedCopy(rho0, allocate) : 0,
    dtRho0,
    dtOverRhoSg,
    tau: fractional ? tau : 0,
    tauRho0,
    eta,
    pml,
    pmlSg,
    sourceIndex,
    sourceRe,
    sourceIm,
    p: allocate(n),
    u: [allocate(n), allocate(n), allocate(n)],
    rho: [allocate(n), allocate(n), allocate(n)],
    ...(options.gradScratch !== false || fractional ? { grad: allocate(n) } : {}),
    ...(plan.absorbing ? { div: allocate(n) } : {}),
    ...(fractional ? { work: allocate(n) } : {}),
    specRe,
    specIm,
    tmpRe: allocate(spectrumLength),
    tmpIm: allocate(spectrumLength),
    userStart: [plan.axes[0].userStart, plan.axes[1].userStart, plan.axes[2].userStart],
    userSize,
    sumCos: allocate64(userN),
    sumSin: allocate64(userN),
  }
}

/** A member of a team of threads working on one EngineData. */
export interface Team {
  readonly rank: number
  readonly size: number
  /** Waits until every member has reached the same barrier. */
  barrier(): void
}

export const SOLO: Team = { rank: 0, size: 1, barrier() {} }

function share(total: number, team: Team): [number, number] {
  const base = Math.floor(total / team.size)
  const extra = total % team.size
  const start = team.rank * base + Math.min(team.rank, extra)
  return [start, start + base + (team.rank < extra ? 1 : 0)]
}

export interface Stepper {
  /** Advances one step; `step` is the index of the new time level (time = step * dt). */
  step(step: number): void
  /** Adds p(step * dt) to the window DFT sums over the user's sub-grid. */
  accumulate(step: number): void
}

/**
 * Makes one member's kernels over the shared data: the TypeScript reference by default, the
 * native build where the host has it (electron/adapters/native-kernels.ts).
 */
export type KernelsFactory = (d: EngineData) => StepKernels

export const typescriptKernelsFor: KernelsFactory = (d) => {
  if (!d.grad) throw new Error('the TypeScript kernels need the grad scratch (buildEngineData gradScratch)')
  return typescriptKernels(createFft3d(...d.size), d.grad)
}

export function createStepper(d: EngineData, team: Team, kernelsFor: KernelsFactory = typescriptKernelsFor): Stepper {
  const [nx, ny, nz] = d.size
  const nxh = d.nxh
  const plane = nx * ny
  const kernels = kernelsFor(d)
  const fft = kernels.fft
  const [z0, z1] = share(nz, team)
  const [y0, y1] = share(ny, team)
  const r0 = z0 * plane
  const r1 = z1 * plane
  const { p, u, rho, grad, div, work, specRe, specIm, tmpRe, tmpIm, kappa } = d
  const window = { p, sumCos: d.sumCos, sumSin: d.sumSin, size: d.size, userStart: d.userStart, userSize: d.userSize }

  // This member's slice of the (sorted) sparse source list: the entries in its z-planes.
  const lowerBound = (value: number) => {
    let lo = 0
    let hi = d.sourceIndex.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (d.sourceIndex[mid]! < value) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  const s0 = lowerBound(r0)
  const s1 = lowerBound(r1)
  // The window DFT reads p on the user's planes that this member itself updated (no barrier
  // separates the pressure update from it).
  const uz0 = Math.max(0, z0 - d.userStart[2])
  const uz1 = Math.min(d.userSize[2], z1 - d.userStart[2])

  function addSource(step: number) {
    const t = step * d.dtS
    const ramp = step >= d.rampSteps ? 1 : 0.5 * (1 - Math.cos((Math.PI * step) / d.rampSteps))
    const a = ramp * Math.cos(d.omega * t)
    const b = -ramp * Math.sin(d.omega * t)
    const [rx, ry, rz] = rho as [Float32Array, Float32Array, Float32Array]
    for (let s = s0; s < s1; s++) {
      const index = d.sourceIndex[s]!
      const v = a * d.sourceRe[s]! + b * d.sourceIm[s]!
      rx[index] = rx[index]! + v
      ry[index] = ry[index]! + v
      rz[index] = rz[index]! + v
    }
  }

  /** dst(z-slab) = IFFT(FFT(src) * weight); every member calls it (it has barriers). */
  function radialFilter(src: Float32Array, weight: Float32Array, dst: Float32Array) {
    team.barrier()
    fft.forwardXY(src, tmpRe, tmpIm, z0, z1)
    team.barrier()
    fft.forwardZ(tmpRe, tmpIm, y0, y1)
    for (let c = 0; c < nz; c++)
      for (let b = y0; b < y1; b++) {
        const start = nxh * (b + ny * c)
        for (let index = start; index < start + nxh; index++) {
          tmpRe[index] = tmpRe[index]! * weight[index]!
          tmpIm[index] = tmpIm[index]! * weight[index]!
        }
      }
    fft.inverseZ(tmpRe, tmpIm, y0, y1)
    team.barrier()
    fft.inverseXY(tmpRe, tmpIm, dst, z0, z1)
  }

  function updatePressure() {
    const rhos = rho as [Float32Array, Float32Array, Float32Array]
    if (!d.fractional) {
      kernels.pressure(p, rhos, d.c0sq, d.tauRho0, d.absorbing ? div : undefined, r0, r1)
      return
    }
    // y != 2: p = c0^2 (rho + tau L1{rho0 div u} - eta L2{rho}).
    const [rx, ry, rz] = rhos
    const { c0sq, tau, rho0 } = d
    const dv = div!
    const w = work!
    const eta = d.eta
    for (let i = r0; i < r1; i++) w[i] = (typeof rho0 === 'number' ? rho0 : rho0[i]!) * dv[i]!
    radialFilter(w, d.nabla1!, dv) // div := L1{rho0 div u} on this member's planes
    for (let i = r0; i < r1; i++) w[i] = rx[i]! + ry[i]! + rz[i]!
    radialFilter(w, d.nabla2!, grad!) // grad := L2{rho}
    for (let i = r0; i < r1; i++) {
      const c2 = typeof c0sq === 'number' ? c0sq : c0sq[i]!
      const t = typeof tau === 'number' ? tau : tau[i]!
      const e = typeof eta === 'number' ? eta : eta[i]!
      p[i] = c2 * (w[i]! + t * dv[i]! - e * grad![i]!)
    }
  }

  function step(stepIndex: number) {
    // p's planes were written by this member in the previous step: no barrier before the xy stage.
    fft.forwardXY(p, specRe, specIm, z0, z1)
    team.barrier()
    fft.forwardZ(specRe, specIm, y0, y1)
    for (const axis of [0, 1, 2] as const) {
      kernels.derivativeInverseZ(specRe, specIm, tmpRe, tmpIm, d.ddPos[axis]!, axis, kappa, y0, y1)
      team.barrier()
      kernels.inverseXYUpdate(tmpRe, tmpIm, u[axis]!, d.pmlSg[axis]!, d.dtOverRhoSg[axis]!, axis, undefined, z0, z1)
      team.barrier()
    }
    for (const axis of [0, 1, 2] as const) {
      fft.forwardXY(u[axis]!, specRe, specIm, z0, z1)
      team.barrier()
      fft.forwardZ(specRe, specIm, y0, y1)
      kernels.derivativeInverseZ(specRe, specIm, tmpRe, tmpIm, d.ddNeg[axis]!, axis, kappa, y0, y1)
      team.barrier()
      kernels.inverseXYUpdate(tmpRe, tmpIm, rho[axis]!, d.pml[axis]!, d.dtRho0, axis, div, z0, z1)
      team.barrier()
    }
    addSource(stepIndex)
    updatePressure()
  }

  function accumulate(stepIndex: number) {
    const t = stepIndex * d.dtS
    kernels.accumulate(window, uz0, uz1, Math.cos(d.omega * t), Math.sin(d.omega * t))
  }

  return { step, accumulate }
}
