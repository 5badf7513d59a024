/**
 * From plain inputs to a checked, fully derived simulation plan: the computational grid (user
 * domain + room for the source stencil + PML + FFT padding), the time axis, the absorption
 * coefficients and every warning. Pure, and cheap next to the run: only the model coefficients
 * are computed per point, so the CLI validates a scene before committing minutes of compute.
 */
import type { Vec3 } from '../volume/types.ts'
import { nextFftFriendly } from '../fft/plan.ts'
import { SimulationInputError } from './errors.ts'
import { compensatedMedium, plainAlpha0 } from './absorption.ts'
import { bliHalfWidth, integrationPointCount, sourceBounds } from './source-grid.ts'
import {
  ACCURATE_POINTS_PER_WAVELENGTH,
  checkComputationalGrid,
  checkFrequency,
  checkSolverSettings,
  checkTimeSteps,
  checkUserGrid,
  formatCount,
  MAX_SOURCE_POINTS,
  MIN_POINTS_PER_WAVELENGTH,
  type MemoryBudget,
} from './limits.ts'
import { makeTimeAxis, stabilityLimitS, type TimeAxis } from './time.ts'
import { fieldMax, fieldMin, gridPointCount, type Field, type Grid, type Medium, type Settings, type Source } from './model.ts'

export interface AxisLayout {
  /** Total computational points along the axis (FFT-friendly). */
  readonly total: number
  /** Index of the user's first grid point in the computational grid. */
  readonly userStart: number
  readonly userSize: number
  readonly pml: number
}

export interface SimulationSetup {
  readonly grid: Grid
  readonly medium: Medium
  readonly source: Source
  readonly settings: Settings
  readonly axes: readonly [AxisLayout, AxisLayout, AxisLayout]
  /** Position of computational point (0, 0, 0) [m]. */
  readonly computeOriginM: Vec3
  readonly time: TimeAxis
  /** The coefficients the equations run with (compensated for y != 2). */
  readonly model: ModelParameters
  /** Reference sound speed of the k-space operator (k-Wave default: max c) [m/s]. */
  readonly cRef: number
  readonly cMin: number
  readonly cMax: number
  readonly pointsPerWavelength: number
  /** True when alpha_0 was corrected so the realised attenuation equals the request (y != 2). */
  readonly absorptionCompensated: boolean
  readonly absorbing: boolean
  /** Peak memory of a CPU solver run of this plan [bytes] (limits.ts estimateSolverMemory). */
  readonly estimatedMemoryBytes: number
  readonly warnings: readonly string[]
}

export interface PlanOptions {
  /** What the run may allocate on this machine; without it only the fixed caps apply (core cannot read the machine's memory). */
  readonly memory?: MemoryBudget
  /** Worker threads of the CPU backend (each holds its own FFT scratch). */
  readonly threads?: number
}

function checkField(field: Field, name: string, positive: boolean): void {
  const bad = (v: number) => !Number.isFinite(v) || (positive ? v <= 0 : v < 0)
  if (typeof field === 'number') {
    if (bad(field)) throw new SimulationInputError(name, `must be ${positive ? 'positive' : 'non-negative'} and finite, got ${field}`)
    return
  }
  for (let i = 0; i < field.length; i++) {
    if (bad(field[i]!)) throw new SimulationInputError(name, `must be ${positive ? 'positive' : 'non-negative'} and finite, got ${field[i]} at grid index ${i}`)
  }
}

/** The coefficients the k-Wave equations are run with (after any compensation). */
export interface ModelParameters {
  /** Sound speed c0 in the equations [m/s]. */
  readonly c0: Field
  /** Power-law prefactor alpha_0 [Np (rad/s)^-y m^-1]. */
  readonly alpha0: Field
}

/**
 * At y = 2 the requested values are used as k-Wave uses them (alpha_0 = alpha / omega^2, c0 = c:
 * the realised attenuation equals the request by Treeby & Cox Eq. 40). For y != 2 with
 * compensation on, (alpha_0, c0) are solved per material so that the model's dispersion
 * relation gives exactly the requested attenuation and phase speed at the drive frequency
 * (compensatedMedium); without it, k-Wave's plain alpha_0 = alpha / omega^y.
 */
export function modelParameters(medium: Medium, frequencyHz: number, compensate: boolean): ModelParameters {
  const omega = 2 * Math.PI * frequencyHz
  const y = medium.alphaPower
  const exact = Math.abs(y - 2) < 1e-12
  const cache = new Map<string, { alpha0: number; c0: number }>()
  const one = (alpha: number, c: number) => {
    if (alpha === 0 || exact || !compensate) return { alpha0: plainAlpha0(alpha, y, omega), c0: c }
    const key = `${alpha}:${c}`
    let hit = cache.get(key)
    if (!hit) {
      hit = compensatedMedium(alpha, c, y, omega)
      if (!hit) {
        throw new SimulationInputError(
          'medium.alpha',
          `an attenuation of ${alpha.toFixed(2)} Np/m at c = ${c} m/s cannot be realised by the fractional-Laplacian model at y = ${y}; use y = 2`,
        )
      }
      cache.set(key, hit)
    }
    return hit
  }
  if (typeof medium.alphaNpM === 'number' && typeof medium.soundSpeed === 'number') {
    const r = one(medium.alphaNpM, medium.soundSpeed)
    return { c0: r.c0, alpha0: r.alpha0 }
  }
  const n = typeof medium.alphaNpM === 'number' ? (medium.soundSpeed as Float32Array).length : medium.alphaNpM.length
  const c0 = new Float32Array(n)
  const alpha0 = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const r = one(
      typeof medium.alphaNpM === 'number' ? medium.alphaNpM : medium.alphaNpM[i]!,
      typeof medium.soundSpeed === 'number' ? medium.soundSpeed : medium.soundSpeed[i]!,
    )
    c0[i] = r.c0
    alpha0[i] = r.alpha0
  }
  return { c0, alpha0 }
}

/**
 * The validate step every caller goes through (runSimulation, `tfus simulate`, the planner, the
 * surrogate's data generator): every input and cap (limits.ts) is checked before anything the
 * size of the grid is allocated; the memory estimate is compared with `options.memory`.
 */
export function setupSimulation(grid: Grid, medium: Medium, source: Source, settings: Settings, options: PlanOptions = {}): SimulationSetup {
  const warnings: string[] = []
  const n = gridPointCount(grid)
  if (!(grid.spacingM > 0 && Number.isFinite(grid.spacingM))) throw new SimulationInputError('grid.spacing_m', 'must be positive')
  grid.size.forEach((s, d) => {
    if (!Number.isInteger(s) || s < 4) throw new SimulationInputError(`grid.size[${d}]`, `needs at least 4 points, got ${s}`)
  })
  checkUserGrid(grid.size, 'grid.size')
  checkFrequency(source.frequencyHz)
  checkSolverSettings(settings, grid.size)
  for (const [field, name, positive] of [
    [medium.soundSpeed, 'medium.sound_speed', true],
    [medium.density, 'medium.density', true],
    [medium.alphaNpM, 'medium.alpha', false],
  ] as const) {
    if (typeof field !== 'number' && field.length !== n) throw new SimulationInputError(name, `has ${field.length} values for a grid of ${n} points`)
    checkField(field, name, positive)
  }
  const y = medium.alphaPower
  if (!(y >= 0 && y < 3) || Math.abs(y - 1) < 1e-9) throw new SimulationInputError('medium.alpha_power', `must be in [0, 3) and not 1, got ${y}`)
  if (source.elements.length === 0) throw new SimulationInputError('source', 'has no elements')
  for (const e of source.elements) {
    if (e.kind !== 'plane') continue
    for (let d = 0; d < 3; d++) {
      if (d !== e.axis && settings.pmlPoints[d] !== 0) {
        throw new SimulationInputError('solver.pml_points', `a plane source needs periodic boundaries across it: set pml_points to 0 on axis ${d}`)
      }
    }
  }

  const absorbing = fieldMax(medium.alphaNpM) > 0
  const dx = grid.spacingM
  const cSlowest = fieldMin(medium.soundSpeed)
  const ppw = cSlowest / (source.frequencyHz * dx)
  if (ppw < MIN_POINTS_PER_WAVELENGTH)
    throw new SimulationInputError(
      'grid.spacing_m',
      `${(dx * 1e3).toFixed(3)} mm gives ${ppw.toFixed(2)} points per wavelength in the slowest medium; at least ${MIN_POINTS_PER_WAVELENGTH} are needed (${ACCURATE_POINTS_PER_WAVELENGTH} or more for accuracy)`,
    )
  if (ppw < ACCURATE_POINTS_PER_WAVELENGTH)
    warnings.push(
      `only ${ppw.toFixed(2)} points per wavelength in the slowest medium (${cSlowest} m/s): below ${ACCURATE_POINTS_PER_WAVELENGTH}, expect errors of several per cent`,
    )

  // The off-grid source's integration points (made below for the bounding box, and per run).
  let sourcePoints = 0
  for (const e of source.elements) if (e.kind !== 'plane') sourcePoints += integrationPointCount(e, dx, Math.max(1, settings.sourceUpsampling))
  if (sourcePoints > MAX_SOURCE_POINTS) {
    throw new SimulationInputError(
      'solver.source_upsampling',
      `the transducer surface would be sampled by ${formatCount(sourcePoints)} integration points at ${settings.sourceUpsampling} per dx^2 (${(dx * 1e3).toFixed(3)} mm grid), more than ${formatCount(MAX_SOURCE_POINTS)}: lower source_upsampling or coarsen the grid`,
    )
  }

  // Room for the band-limited source stencil: the user's domain must contain the transducer
  // surface; the stencil's tails may extend past it into an extra margin (never into the PML).
  const halfWidth = bliHalfWidth(settings.bliTolerance)
  const bounds = sourceBounds(source.elements, dx)
  const margins = [0, 1, 2].map((d) => {
    const lo = grid.originM[d]!
    const hi = grid.originM[d]! + (grid.size[d]! - 1) * dx
    const tol = 1e-9 + 1e-6 * dx
    if (!Number.isFinite(bounds.min[d]!)) return [0, 0] as const
    if (bounds.min[d]! < lo - tol || bounds.max[d]! > hi + tol) {
      const axis = 'xyz'[d]
      throw new SimulationInputError(
        'source',
        `the transducer surface spans ${axis} = ${(bounds.min[d]! * 1e3).toFixed(2)}..${(bounds.max[d]! * 1e3).toFixed(2)} mm, outside the grid's ${axis} range ${(lo * 1e3).toFixed(2)}..${(hi * 1e3).toFixed(2)} mm: enlarge grid.min_m/max_m`,
      )
    }
    const needLo = Math.max(0, Math.ceil((lo - bounds.min[d]!) / dx + halfWidth + 1))
    const needHi = Math.max(0, Math.ceil((bounds.max[d]! - hi) / dx + halfWidth + 1))
    return [needLo, needHi] as const
  })
  const extended = margins.some(([lo, hi]) => lo > 0 || hi > 0)
  if (extended) {
    warnings.push(
      `the source's interpolation stencil (${halfWidth} points) reaches past the requested domain; the computational grid was extended by ${margins.map(([lo, hi], d) => `${'xyz'[d]} -${lo}/+${hi}`).join(', ')} points outside it (the PML lies beyond)`,
    )
  }
  const axes = [0, 1, 2].map((d) => {
    const [lo, hi] = margins[d]!
    const pml = settings.pmlPoints[d]!
    if (pml === 0 && (lo > 0 || hi > 0))
      throw new SimulationInputError('source', `axis ${d} is periodic (no PML) but the source stencil needs room outside the grid along it`)
    const needed = pml + lo + grid.size[d]! + hi + pml
    const total = nextFftFriendly(needed)
    return { total, userStart: pml + lo, userSize: grid.size[d]!, pml }
  }) as unknown as [AxisLayout, AxisLayout, AxisLayout]
  const computeOriginM: Vec3 = [0, 1, 2].map((d) => grid.originM[d]! - axes[d]!.userStart * dx) as unknown as Vec3
  const fractional = absorbing && Math.abs(y - 2) > 1e-12
  const memory = checkComputationalGrid(
    {
      paddedSize: [axes[0].total, axes[1].total, axes[2].total],
      userSize: grid.size,
      heterogeneousSoundSpeed: typeof medium.soundSpeed !== 'number' || typeof medium.alphaNpM !== 'number',
      heterogeneousDensity: typeof medium.density !== 'number',
      absorbing,
      fractional,
      ...(options.threads ? { threads: options.threads } : {}),
    },
    options.memory,
  )

  // Allocates the model's coefficients on the user grid: only after the caps.
  const model = modelParameters(medium, source.frequencyHz, settings.compensateAbsorption)
  const cMin = fieldMin(model.c0)
  const cMax = fieldMax(model.c0)
  const cRef = cMax

  const compensated = absorbing && Math.abs(y - 2) > 1e-12 && settings.compensateAbsorption
  if (absorbing && Math.abs(y - 2) > 1e-12 && !settings.compensateAbsorption) {
    warnings.push(`absorption compensation is off: at y = ${y} the realised attenuation differs from the requested one (docs/physics.md §6.1)`)
  }
  let minTau = 0
  let minEta = 0
  if (absorbing) {
    const a0 = model.alpha0
    const tan = Math.tan((Math.PI * y) / 2)
    const count = typeof a0 === 'number' ? 1 : a0.length
    for (let i = 0; i < count; i++) {
      const alpha0 = typeof a0 === 'number' ? a0 : a0[i]!
      const c = typeof model.c0 === 'number' ? model.c0 : model.c0[i]!
      minTau = Math.min(minTau, -2 * alpha0 * Math.pow(c, y - 1))
      minEta = Math.min(minEta, 2 * alpha0 * Math.pow(c, y) * tan)
    }
  }
  const kMax = Math.sqrt(3) * (Math.PI / dx)
  const dtLimit = stabilityLimitS({ kMax, cRef, cMax, minTau, minEta, alphaPower: y, absorbing })
  const lengths = grid.size.map((s) => (s - 1) * dx) as unknown as [number, number, number]
  const time = makeTimeAxis({
    frequencyHz: source.frequencyHz,
    spacingM: dx,
    domainLengthsM: lengths,
    cMin,
    cMax,
    cfl: settings.cfl,
    dtStabilityLimitS: dtLimit,
    rampPeriods: settings.rampPeriods,
    windowPeriods: settings.windowPeriods,
    windowStartTraversals: settings.windowStartTraversals,
    maxTraversals: settings.maxTraversals,
  })
  checkTimeSteps(time)
  if (Number.isFinite(dtLimit) && time.dtS < (settings.cfl * dx) / cMax - 1e-15) {
    warnings.push(`time step reduced below the CFL choice by the absorbing-medium stability limit (${(dtLimit * 1e9).toFixed(2)} ns; k-Wave checkStability)`)
  }
  return {
    grid,
    medium,
    source,
    settings,
    axes,
    computeOriginM,
    time,
    model,
    cRef,
    cMin,
    cMax,
    pointsPerWavelength: ppw,
    absorptionCompensated: compensated,
    absorbing,
    estimatedMemoryBytes: memory.bytes,
    warnings,
  }
}
