/**
 * runSimulation: one entry for every backend. Plans and validates, runs the ramp and one
 * domain traversal, then measures the steady state window by window: each window is a
 * whole number of periods, so the drive frequency is exactly one DFT bin, and the relative
 * change of the amplitude between two windows is the steady-state residual. k-Wave leaves
 * "is it converged?" to the user; we measure it and stop when it is below the tolerance.
 */
import type { Grid, Medium, Settings, Source } from './model.ts'
import { DEFAULT_SETTINGS } from './model.ts'
import { setupSimulation, type SimulationSetup } from './setup.ts'
import type { MemoryBudget } from './limits.ts'
import { abortError, SimulationNumericalError } from './errors.ts'

export interface Progress {
  /** 0..1, against the maximum run length (the run usually stops earlier). */
  readonly fraction: number
  readonly step: number
  readonly maxSteps: number
  /** Latest steady-state residual, once two windows exist. */
  readonly residual?: number
  readonly phase: 'setup' | 'ramp' | 'steady-state'
}

/** What a backend does; the runner owns the schedule. */
export interface SolverBackend {
  readonly name: 'cpu' | 'webgpu'
  /** The device in words (e.g. "CPU, 2 threads" or the GPU adapter's description). */
  readonly device: string
  /** Advances `steps` time steps; with `accumulate`, adds each step's pressure to the window DFT. */
  advance(steps: number, accumulate: boolean): Promise<void>
  /**
   * Complex amplitude A e^{i phi} (p = A cos(omega t + phi)) of the window accumulated since the
   * last call, on the user's grid (x fastest); resets the accumulators.
   */
  takeWindow(windowSteps: number): Promise<{ re: Float32Array; im: Float32Array }>
  dispose(): void
}

/**
 * Makes a backend for a plan. A host backend that allocates the engine in this process's memory
 * (the CPU backends) says how much it may use (`memoryBudget`, measured by the host when a run
 * starts: core cannot read it), so runSimulation refuses a plan whose estimate exceeds it before
 * the backend allocates anything; `threads` counts its FFT scratch copies.
 */
export type BackendFactory = ((plan: SimulationSetup) => Promise<SolverBackend>) & {
  readonly memoryBudget?: () => MemoryBudget
  readonly threads?: number
}

export interface RunOptions {
  readonly grid: Grid
  readonly medium: Medium
  readonly source: Source
  readonly settings?: Partial<Settings>
  readonly backend: BackendFactory
  readonly signal?: AbortSignal
  readonly onProgress?: (progress: Progress) => void
  /** Steps per chunk between progress reports and cancellation checks. */
  readonly chunkSteps?: number
  /** What the run may allocate; default: the backend's own memoryBudget, if it has one. */
  readonly memory?: MemoryBudget
}

export interface SimulationResult {
  readonly plan: SimulationSetup
  /** Steady-state pressure amplitude [Pa] on the user's grid. */
  readonly amplitudePa: Float32Array
  /** Phase [rad] relative to a cos(omega t) drive of phase 0. */
  readonly phaseRad: Float32Array
  readonly steps: number
  readonly steadyStateResidual: number
  readonly converged: boolean
  readonly backend: string
  readonly device: string
  readonly wallS: number
  readonly warnings: readonly string[]
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

export async function runSimulation(options: RunOptions): Promise<SimulationResult> {
  const started = performance.now()
  const settings: Settings = { ...DEFAULT_SETTINGS, ...options.settings }
  const memory = options.memory ?? options.backend.memoryBudget?.()
  const plan = setupSimulation(options.grid, options.medium, options.source, settings, {
    ...(memory ? { memory } : {}),
    ...(options.backend.threads ? { threads: options.backend.threads } : {}),
  })
  const warnings = [...plan.warnings]
  const { signal, onProgress } = options
  if (signal?.aborted) throw abortError()
  onProgress?.({ fraction: 0, step: 0, maxSteps: plan.time.maxSteps, phase: 'setup' })
  const backend = await options.backend(plan)
  try {
    const chunk = options.chunkSteps ?? 20
    let step = 0
    const advance = async (count: number, accumulate: boolean, phase: Progress['phase'], residual?: number) => {
      let left = count
      while (left > 0) {
        if (signal?.aborted) throw abortError()
        const n = Math.min(chunk, left)
        await backend.advance(n, accumulate)
        step += n
        left -= n
        onProgress?.({
          fraction: Math.min(1, step / plan.time.maxSteps),
          step,
          maxSteps: plan.time.maxSteps,
          phase,
          ...(residual === undefined ? {} : { residual }),
        })
        await yieldToEventLoop()
      }
    }
    await advance(plan.time.firstWindowStartStep, false, 'ramp')
    const windowSteps = plan.time.windowSteps
    let previous: Float32Array | undefined
    let current: { re: Float32Array; im: Float32Array } | undefined
    let residual = Number.POSITIVE_INFINITY
    let converged = false
    while (step + windowSteps <= plan.time.maxSteps || previous === undefined) {
      await advance(windowSteps, true, 'steady-state', Number.isFinite(residual) ? residual : undefined)
      current = await backend.takeWindow(windowSteps)
      const amplitude = new Float32Array(current.re.length)
      let sumSq = 0
      for (let i = 0; i < amplitude.length; i++) {
        const a = Math.hypot(current.re[i]!, current.im[i]!)
        if (!Number.isFinite(a)) {
          throw new SimulationNumericalError(`the field became non-finite by step ${step} (instability: check the time step, the medium contrast and the PML)`)
        }
        amplitude[i] = a
        sumSq += a * a
      }
      if (previous) {
        let diffSq = 0
        for (let i = 0; i < amplitude.length; i++) diffSq += (amplitude[i]! - previous[i]!) ** 2
        residual = sumSq > 0 ? Math.sqrt(diffSq / sumSq) : 0
        if (residual < settings.steadyTolerance) {
          converged = true
          break
        }
      }
      previous = amplitude
    }
    if (!converged)
      warnings.push(
        `steady state not reached within ${step} steps: the amplitude still changed by ${(residual * 100).toFixed(3)} % between the last two windows (tolerance ${(settings.steadyTolerance * 100).toFixed(3)} %)`,
      )
    const win = current!
    const amplitudePa = new Float32Array(win.re.length)
    const phaseRad = new Float32Array(win.re.length)
    for (let i = 0; i < amplitudePa.length; i++) {
      amplitudePa[i] = Math.hypot(win.re[i]!, win.im[i]!)
      phaseRad[i] = Math.atan2(win.im[i]!, win.re[i]!)
    }
    onProgress?.({ fraction: 1, step, maxSteps: plan.time.maxSteps, residual, phase: 'steady-state' })
    return {
      plan,
      amplitudePa,
      phaseRad,
      steps: step,
      steadyStateResidual: residual,
      converged,
      backend: backend.name,
      device: backend.device,
      wallS: (performance.now() - started) / 1000,
      warnings,
    }
  } finally {
    backend.dispose()
  }
}
