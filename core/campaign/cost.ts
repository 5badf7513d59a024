/**
 * A campaign task's cost before it runs (`tfus campaign plan`): cells from the grid probe, steps
 * from the solver's own time axis, seconds from a measured solver rate. The rates live here and
 * only here, with how each was measured, so that a new benchmark changes one line.
 */
import { makeTimeAxis } from '../solver/time.ts'
import { DEFAULT_SETTINGS } from '../solver/model.ts'

export type CostBackend = 'cpu' | 'webgpu'

export interface CellStepRate {
  /** Solver throughput [cell-steps per second], on the computational (padded) grid. */
  readonly cellStepsPerS: number
  readonly measured: string
}

/**
 * Measured solver throughput per backend (docs/benchmarks.md):
 *   cpu     `npm run bench:solver -- --backend cpu --quick --sizes 128,192`, 2 worker threads on the
 *           2-core development machine (AMD EPYC), heterogeneous medium, native kernels
 *           (2026-12-06): 38.9 and 47.7 Mcell-steps/s at 128^3 and 192^3 at load average 1.3-2.7,
 *           22-26 under heavier load; 25 M is taken (a shared workstation). The TypeScript
 *           kernels (no C++ compiler at install) run at about 5 M. More threads run faster.
 *   webgpu  ITRUSST BM1 at 0.5 mm on an NVIDIA H200 (`validate --backend webgpu --only bm1`):
 *           270 x 162 x 162 cells x 1198 steps in 8 s, about 1.06 Gcell-steps/s end to end
 *           (the bench's 256^3 step, 9-10 ms, is 1.7-1.9 G; the end-to-end figure is kept).
 */
export const CELL_STEP_RATES: Readonly<Record<CostBackend, CellStepRate>> = {
  cpu: { cellStepsPerS: 25e6, measured: 'bench:solver, native kernels, 2 CPU threads, docs/benchmarks.md' },
  webgpu: { cellStepsPerS: 1.06e9, measured: 'BM1 0.5 mm on an NVIDIA H200, docs/benchmarks.md' },
}

/** Water, and cortical bone's upper sound speed (Aubry 2003's c at zero porosity, core/skull/mappings.ts). */
const WATER_M_S = 1500
const BONE_MAX_M_S = 3100

export interface SolveSteps {
  /** Steps at which a solve can first stop: the ramp, one domain crossing, then two windows that agree. */
  readonly expected: number
  /** The solver's cap (core/solver/time.ts: ramp plus maxTraversals crossings). */
  readonly cap: number
}

/**
 * The steps of one plan's two solves (through the head, then in free water for the insertion
 * loss) from the solver's own time axis on the probe's grid. A solve stops at the first pair of
 * windows whose amplitudes agree (core/solver/run.ts); a plan's solves usually do right after
 * the wave has crossed the domain, so that is the estimate. Against docs/benchmarks.md: the 6-ppw
 * sample plan on the H200, 3329 steps x 5.9 M cells, is 18 s at the rate below (23-27 s measured
 * for the whole plan); at 3 ppw on the 2-core CPU, 1665 steps x 0.74 M cells, about 50 s of solving at the native rate
 * (264 s measured for the whole plan with the TypeScript kernels, before the native ones),
 * and the cap is the most a slow-converging solve can take. The absorbing medium's stability
 * limit can shorten the step and add steps, which a probe that reads no CT cannot know.
 */
export function planSolveSteps(gridSize: readonly [number, number, number], spacingM: number, frequencyHz: number): { head: SolveSteps; water: SolveSteps } {
  const lengths = gridSize.map((s) => (s - 1) * spacingM) as unknown as [number, number, number]
  const steps = (cMax: number): SolveSteps => {
    const time = makeTimeAxis({
      frequencyHz,
      spacingM,
      domainLengthsM: lengths,
      cMin: WATER_M_S,
      cMax,
      cfl: DEFAULT_SETTINGS.cfl,
      dtStabilityLimitS: Infinity,
      rampPeriods: DEFAULT_SETTINGS.rampPeriods,
      windowPeriods: DEFAULT_SETTINGS.windowPeriods,
      windowStartTraversals: DEFAULT_SETTINGS.windowStartTraversals,
      maxTraversals: DEFAULT_SETTINGS.maxTraversals,
    })
    return { expected: Math.min(time.maxSteps, time.traversalEndStep + 2 * time.windowSteps), cap: time.maxSteps }
  }
  return { head: steps(BONE_MAX_M_S), water: steps(WATER_M_S) }
}

/** Solver seconds for `cellSteps` on a backend at its measured rate. */
export function solverSeconds(cellSteps: number, backend: CostBackend): number {
  return cellSteps / CELL_STEP_RATES[backend].cellStepsPerS
}

/** The backends a task's time is given for: `auto` picks the GPU where a node has one, so both. */
export function costBackends(backend: 'auto' | CostBackend): CostBackend[] {
  return backend === 'auto' ? ['webgpu', 'cpu'] : [backend]
}

/** Seconds as a person reads an estimate: seconds, minutes or hours. */
export function formatEstimate(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`
  return `${(seconds / 3600).toFixed(1)} h`
}
