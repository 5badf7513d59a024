/**
 * The acoustic solver's input caps and memory estimate: one source of truth for the scene
 * parser, the solver's validate step (`setupSimulation`), the plan pipeline, the API contract and
 * the README's "Limits" table. Every cap is a SimulationInputError naming the setting, raised
 * before anything grid-sized is allocated, so a mistaken input is one line instead of a
 * multi-gigabyte allocation, a RangeError or a run that never ends.
 *
 * The memory estimate counts the CPU solver's arrays honestly (core/solver/cpu/engine.ts
 * buildEngineData and the FFT's scratch); core cannot read the machine's memory, so the caller
 * (electron/adapters/host-memory.ts) passes what is available and the comparison happens here.
 */
import { SimulationInputError } from './errors.ts'

/**
 * Drive frequencies the solver accepts [Hz]. 20 kHz is where ultrasound starts (below it is
 * audible sound, not a transcranial ultrasound device); transcranial devices run at 0.2-1 MHz
 * (ITRUSST benchmarks at 500 kHz, Aubry et al. 2022), and by 10 MHz the skull's attenuation
 * (~20+ dB/cm per MHz in bone) leaves no transcranial field while a head at 2 points per
 * wavelength would need ~10^11 cells. Outside it the input is a unit mistake (kHz, MHz, THz).
 */
export const MIN_FREQUENCY_HZ = 20e3
export const MAX_FREQUENCY_HZ = 10e6

/**
 * Points per wavelength. Below 2 (Nyquist) a pseudospectral grid cannot carry the drive
 * frequency at all; the solver refuses it in the slowest medium and the planner in water.
 */
export const MIN_POINTS_PER_WAVELENGTH = 2
/** Below this the solver and the planner warn: errors of several per cent (a preview, not a plan). */
export const ACCURATE_POINTS_PER_WAVELENGTH = 6
/**
 * The planner's resolution choice (`tfus plan --ppw`, the app's planRequest): from Nyquist to 12.
 * The k-space scheme is spectrally accurate (focal pressure within ~1 % by 6-8 points per
 * wavelength), while cells grow as ppw^3 and steps as ppw: 12 at 500 kHz is a 0.25 mm grid of
 * ~10^8 cells for a head domain, ~10 GiB on the CPU; more buys no accuracy a plan can use.
 * Scene files (research use) are bounded by the cell, step and memory caps instead.
 */
export const PLAN_POINTS_PER_WAVELENGTH = { min: MIN_POINTS_PER_WAVELENGTH, max: 12 } as const

/**
 * PML thickness per side. k-Wave's 3D default is 10 and 20 already absorbs to below -60 dB;
 * thicker layers only add cells. 64 leaves room for experiments.
 */
export const MAX_PML_POINTS = 64
/**
 * Integration points per dx^2 of element surface (k-Wave kWaveArray UpsamplingRate, default 10):
 * the off-grid source converges well before 100 (Wise et al., JASA 146(1):278, 2019).
 */
export const MAX_SOURCE_UPSAMPLING = 100
/** All elements' integration points together: 24 bytes each, and each is spread over the interpolant's stencil (79 grid points at the default tolerance). */
export const MAX_SOURCE_POINTS = 10_000_000
/**
 * Band-limited interpolant tolerance (k-Wave BLITolerance, default 0.05). The stencil's
 * half-width is ceil(1 / (pi tol)): 32 points at 0.01, and the grid grows by it on each side.
 */
export const MIN_BLI_TOLERANCE = 0.01
/** Start-up ramp (k-Wave createCWSignals default 4 periods): a longer ramp only delays the steady state. */
export const MAX_RAMP_PERIODS = 100
/** Periods per amplitude-extraction window (default 2): the DFT bin is exact for any whole number. */
export const MAX_WINDOW_PERIODS = 100
/**
 * Run length in domain traversals (default 4): a skull's reverberation settles within a few;
 * 50 is far beyond any converging run.
 */
export const MAX_TRAVERSALS = 50
/**
 * Cells of the computational grid (user grid + source margin + PML + FFT padding). 2^30 cells
 * is the largest 4-byte field one WebGPU storage binding can hold (maxStorageBufferBindingSize
 * is at most 4 GiB on current adapters) and ~90 GiB of CPU solver arrays; a head at 6 points per
 * wavelength and 500 kHz is ~10^7.
 */
export const MAX_GRID_CELLS = 2 ** 30
/**
 * Time steps of one run. A continuous-wave steady state in a head needs a few thousand; a
 * million steps of even a 128^3 grid is days of CPU time (~13 FFTs per step).
 */
export const MAX_TIME_STEPS = 1_000_000

/** Bytes as "~12.3 GiB" / "~850 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(bytes >= 100 * 2 ** 30 ? 0 : 1)} GiB`
  return `${Math.max(1, Math.round(bytes / 2 ** 20))} MiB`
}

/** A count or value as "8.0e9" when large, else as written. */
export function formatCount(v: number): string {
  return Math.abs(v) >= 1e5 ? v.toExponential(1).replace('e+', 'e') : String(v)
}
const sci = formatCount
const dims = (s: readonly number[]) => s.join(' x ')

/** The drive frequency: finite and within [MIN_FREQUENCY_HZ, MAX_FREQUENCY_HZ]. */
export function checkFrequency(frequencyHz: number, field = 'frequency_hz'): void {
  if (!(Number.isFinite(frequencyHz) && frequencyHz >= MIN_FREQUENCY_HZ && frequencyHz <= MAX_FREQUENCY_HZ)) {
    throw new SimulationInputError(
      field,
      `${sci(frequencyHz)} Hz is outside the solver's range ${MIN_FREQUENCY_HZ / 1e3} kHz to ${MAX_FREQUENCY_HZ / 1e6} MHz (transcranial ultrasound; a unit mistake?)`,
    )
  }
}

/** The planner's points-per-wavelength choice (in water). */
export function checkPlanPointsPerWavelength(ppw: number, field = '--ppw'): void {
  const { min, max } = PLAN_POINTS_PER_WAVELENGTH
  if (!(Number.isFinite(ppw) && ppw >= min && ppw <= max)) {
    throw new SimulationInputError(field, `must be between ${min} (Nyquist) and ${max} points per wavelength, got ${ppw}`)
  }
}

/** The settings a scene's "solver" block sets, checked against the caps above. */
export interface SolverSettingsToCheck {
  readonly pmlPoints: readonly [number, number, number]
  readonly sourceUpsampling: number
  readonly bliTolerance: number
  readonly rampPeriods: number
  readonly windowPeriods: number
  readonly windowStartTraversals: number
  readonly maxTraversals: number
}

export function checkSolverSettings(settings: SolverSettingsToCheck, gridSize?: readonly [number, number, number]): void {
  settings.pmlPoints.forEach((p, d) => {
    if (!(Number.isInteger(p) && p >= 0)) throw new SimulationInputError(`solver.pml_points[${d}]`, `must be a non-negative integer, got ${p}`)
    if (p > MAX_PML_POINTS)
      throw new SimulationInputError(
        `solver.pml_points[${d}]`,
        `${sci(p)} points is more than ${MAX_PML_POINTS} per side (k-Wave's default is 10; 20 absorbs to below -60 dB)`,
      )
    if (gridSize && p > gridSize[d]!)
      throw new SimulationInputError(
        `solver.pml_points[${d}]`,
        `${p} points per side is thicker than the grid it surrounds (${gridSize[d]} points along axis ${d})`,
      )
  })
  const range = (value: number, field: string, lo: number, hi: number, why: string, exclusiveLo = false) => {
    if (!(Number.isFinite(value) && (exclusiveLo ? value > lo : value >= lo) && value <= hi)) {
      throw new SimulationInputError(field, `must be ${exclusiveLo ? 'above' : 'at least'} ${lo} and at most ${hi}, got ${sci(value)} (${why})`)
    }
  }
  range(settings.sourceUpsampling, 'solver.source_upsampling', 0, MAX_SOURCE_UPSAMPLING, "k-Wave's default is 10; the source converges well before 100", true)
  range(
    settings.bliTolerance,
    'solver.bli_tolerance',
    MIN_BLI_TOLERANCE,
    1,
    `k-Wave's default is 0.05; below ${MIN_BLI_TOLERANCE} the interpolant's stencil passes 32 points per side`,
  )
  range(settings.rampPeriods, 'solver.ramp_periods', 0, MAX_RAMP_PERIODS, 'the default is 4; a longer ramp only delays the steady state')
  range(settings.windowPeriods, 'solver.window_periods', 1, MAX_WINDOW_PERIODS, 'the default is 2')
  range(settings.windowStartTraversals, 'solver.window_start_traversals', 0, settings.maxTraversals, 'the default is 0.5; at most max_traversals')
  range(settings.maxTraversals, 'solver.max_traversals', 0, MAX_TRAVERSALS, 'the default is 4; a steady state settles within a few traversals', true)
}

/** The user's grid before anything is allocated for it (the scene parser rasterises the medium on it). */
export function checkUserGrid(size: readonly [number, number, number], field = 'grid'): void {
  const cells = size[0] * size[1] * size[2]
  if (!(cells <= MAX_GRID_CELLS)) {
    const need = estimateSolverMemory({
      paddedSize: size,
      userSize: size,
      heterogeneousSoundSpeed: true,
      heterogeneousDensity: true,
      absorbing: true,
      fractional: false,
    }).bytes
    throw new SimulationInputError(
      field,
      `${dims(size)} = ${sci(cells)} points is more than the solver's ${sci(MAX_GRID_CELLS)} cells (2^30; it would need ~${formatBytes(need)}): use a coarser grid.spacing_m or a smaller domain`,
    )
  }
}

/** What the CPU solver allocates for one run; see estimateSolverMemory. */
export interface SolverMemoryInput {
  /** Computational grid (PML and padding included). */
  readonly paddedSize: readonly [number, number, number]
  /** The user's grid (the window DFT sums and the results live on it). */
  readonly userSize: readonly [number, number, number]
  /** Sound speed (or the absorption it is compensated with) varies: c0 is a field, not a scalar. */
  readonly heterogeneousSoundSpeed: boolean
  readonly heterogeneousDensity: boolean
  readonly absorbing: boolean
  /** y != 2: the fractional-Laplacian operators and their work arrays. */
  readonly fractional: boolean
  /** Worker threads, each with its own FFT scratch (default 1). */
  readonly threads?: number
}

export interface MemoryEstimate {
  readonly bytes: number
  /** Computational cells. */
  readonly cells: number
  /** Bytes per computational cell (user-grid and scratch terms spread over them). */
  readonly bytesPerCell: number
}

/**
 * Peak memory of a CPU solver run [bytes], from the arrays buildEngineData allocates (n cells,
 * s = (nx/2 + 1) ny nz half-spectrum entries, u user cells; float32 unless said):
 *  - fields p, u_x,y,z, rho_x,y,z and the gradient: 8 n; the divergence when absorbing, a work
 *    array when fractional: +1 n each;
 *  - spectra kappa, spec re/im, tmp re/im: 5 s; nabla1, nabla2 when fractional: +2 s;
 *  - a varying medium: c0^2, rho0, dt rho0, dt/rho at three staggered positions, tau (absorbing)
 *    and eta (fractional): up to 8 n;
 *  - the sparse filtered source list (index, re, im): up to 3 n (it keeps the points above
 *    1e-7 of the peak, bounded by the grid);
 *  - while the source is built (before the fields exist): its float64 distribution (4 n), two
 *    float32 maps, the filter and a spectrum pair (2 n + 3 s), c0 expanded (1 n) and a
 *    radialSpectrum temporary (1 s); the peak is the larger of this phase and the final state;
 *  - on the user grid: the float64 DFT sums (4 u), the results and the windows (6 u), the model's
 *    c0 and alpha0 when the medium varies (2 u);
 *  - per thread, the FFT's float64 scratch: 4 planes, 2 gather blocks of 64 z-lines, 2 work rows.
 * Medium arrays the caller already holds (the scene's rasterised fields) are not counted.
 */
export function estimateSolverMemory(input: SolverMemoryInput): MemoryEstimate {
  const [nx, ny, nz] = input.paddedSize
  const n = nx * ny * nz
  const s = (Math.floor(nx / 2) + 1) * ny * nz
  const u = input.userSize[0] * input.userSize[1] * input.userSize[2]
  const F = 4
  const { absorbing, fractional } = input
  const hetC = input.heterogeneousSoundSpeed
  const hetRho = input.heterogeneousDensity
  const varying = hetC || hetRho
  const medium = F * n * ((hetC ? 1 : 0) + (hetRho ? 5 : 0) + (absorbing && varying ? 1 : 0) + (fractional && varying ? 1 : 0))
  const operators = F * s * (1 + (fractional ? 2 : 0))
  const fields = F * n * (8 + (absorbing ? 1 : 0) + (fractional ? 1 : 0)) + F * s * 4
  const sourceList = F * n * 3
  const building = medium + operators + F * n * (hetC ? 1 : 0) + F * s + 8 * n * 2 + F * n * 2 + F * s * 3
  const final = medium + operators + fields + sourceList
  const user = 8 * u * 2 + F * u * 6 + (varying ? F * u * 2 : 0)
  const scratch = 8 * (4 * nx * ny + 2 * 64 * nz + 2 * Math.max(nx * ny, 64 * nz)) * ((input.threads ?? 1) + 1)
  const bytes = Math.max(building, final) + user + scratch
  return { bytes, cells: n, bytesPerCell: bytes / n }
}

/** Memory a run may use on this machine: measured by the host, compared here. */
export interface MemoryBudget {
  /** What a run may allocate [bytes]. */
  readonly availableBytes: number
  /** The machine's (or container's) memory, for the message [bytes]. */
  readonly totalBytes?: number
}

/** Refuses an estimate over the budget, naming `field` (the setting that sized the grid). */
export function checkMemory(estimate: MemoryEstimate, budget: MemoryBudget | undefined, field: string, what: string): void {
  if (!budget || !Number.isFinite(budget.availableBytes)) return
  if (estimate.bytes > budget.availableBytes) {
    const total = budget.totalBytes ? ` (of ${formatBytes(budget.totalBytes)})` : ''
    throw new SimulationInputError(
      field,
      `${what} needs ~${formatBytes(estimate.bytes)}, more than the ${formatBytes(budget.availableBytes)} this machine can give it${total}: use a coarser grid or a smaller domain`,
    )
  }
}

/** The padded grid: cells cap and memory. */
export function checkComputationalGrid(input: SolverMemoryInput, budget: MemoryBudget | undefined, field = 'grid.size'): MemoryEstimate {
  const estimate = estimateSolverMemory(input)
  const what = `${dims(input.userSize)} (computational grid ${dims(input.paddedSize)} = ${sci(estimate.cells)} cells with the PML and FFT padding)`
  if (!(estimate.cells <= MAX_GRID_CELLS)) {
    throw new SimulationInputError(
      field,
      `${what} is more than the solver's ${sci(MAX_GRID_CELLS)} cells (2^30; it would need ~${formatBytes(estimate.bytes)}): use a coarser grid or a smaller domain`,
    )
  }
  checkMemory(estimate, budget, field, what)
  return estimate
}

/** The run length: MAX_TIME_STEPS, naming the setting that contributes most. */
export function checkTimeSteps(time: {
  readonly maxSteps: number
  readonly rampSteps: number
  readonly windowSteps: number
  readonly pointsPerPeriod: number
  readonly dtS: number
  readonly cfl: number
}): void {
  if (time.maxSteps <= MAX_TIME_STEPS) return
  const ramp = time.rampSteps
  const windows = 3 * time.windowSteps
  const traversals = time.maxSteps - ramp
  const field =
    ramp >= windows && ramp >= traversals
      ? 'solver.ramp_periods'
      : windows >= traversals
        ? 'solver.window_periods'
        : time.pointsPerPeriod <= 1000
          ? 'solver.max_traversals'
          : time.cfl < 0.05
            ? 'solver.cfl'
            : 'grid.spacing_m'
  throw new SimulationInputError(
    field,
    `the run would take up to ${sci(time.maxSteps)} time steps of ${(time.dtS * 1e9).toPrecision(3)} ns (${time.pointsPerPeriod} per period; ramp ${sci(ramp)}, windows ${sci(windows)}), more than the solver's ${sci(MAX_TIME_STEPS)}`,
  )
}
