/**
 * Plan runs off the host's main thread: one worker thread per run (plan-worker.ts), progress
 * turned into `progress` events with an ETA, cancellation (the call's signal, which aborts the
 * solver in the worker; `terminate()` if it has not stopped after CANCEL_GRACE_MS) and crash isolation (a
 * worker that dies reports a serialized error; the host keeps running).
 */
import { Worker } from 'node:worker_threads'
import { startWorker } from '../adapters/app-paths.ts'
import { randomUUID } from 'node:crypto'
import { deserializeError, serializeError, type ApiEvent, type SerializedError } from '../../core/contracts/api.ts'
import type { PlanMetricsRecord, PlanRecord } from '../../core/contracts/plan.ts'
import type { PlanInput } from './pipeline/index.ts'
import { OverallProgress, stageWeights } from '../../core/planning/progress.ts'
import type { PlanWorkerEvent, PlanWorkerResult } from './plan-worker-protocol.ts'
import { workerRpc } from '../adapters/worker-rpc.ts'

const CANCEL_GRACE_MS = 5000

export type RunState =
  | { readonly status: 'running' }
  | { readonly status: 'done'; readonly plan: PlanRecord; readonly metrics: PlanMetricsRecord; readonly files: readonly string[] }
  | { readonly status: 'failed'; readonly error: SerializedError }

export interface PlanRun {
  readonly runId: string
  readonly input: PlanInput
  readonly startedAt: number
  state: RunState
  /** Resolves with the outcome as soon as it is known (the worker may still be winding down). */
  readonly finished: Promise<RunState>
  /** Resolves when the worker thread has exited: nothing writes into the run folder any more. */
  readonly exited: Promise<void>
}

export interface PlanRunsOptions {
  readonly emit: (event: ApiEvent) => void
  /** The worker entry (tests pass one that crashes); defaults to the application's plan worker. */
  readonly workerUrl?: URL
  /** How long a cancelled worker gets to stop before it is terminated [ms]. */
  readonly cancelGraceMs?: number
}

export class PlanRuns {
  private readonly runs = new Map<string, PlanRun>()
  private readonly workers = new Map<string, Worker>()
  private readonly workerUrl: URL | undefined
  private readonly cancelRequested = new Set<string>()
  private readonly cancels = new Map<string, AbortController>()

  constructor(private readonly options: PlanRunsOptions) {
    this.workerUrl = options.workerUrl
  }

  get(runId: string): PlanRun | undefined {
    return this.runs.get(runId)
  }

  isRunning(runId: string): boolean {
    return this.runs.get(runId)?.state.status === 'running'
  }

  start(input: PlanInput): PlanRun {
    const runId = randomUUID()
    const emit = this.options.emit
    const startedAt = Date.now()
    const worker = this.workerUrl ? new Worker(this.workerUrl) : startWorker('plan-worker')
    this.workers.set(runId, worker)
    const cancel = new AbortController()
    this.cancels.set(runId, cancel)
    let stageStart = startedAt
    let currentStage = ''
    const overall = new OverallProgress(
      stageWeights({
        thermal: input.thermalProtocolFile !== undefined,
        mri: input.mriPath !== undefined,
        registers: input.mriPath !== undefined && input.registrationPath === undefined,
      }),
    )
    let settle!: (s: RunState) => void
    const finished = new Promise<RunState>((resolve) => (settle = resolve))
    let markExited!: () => void
    const exited = new Promise<void>((resolve) => (markExited = resolve))
    const run: PlanRun = { runId, input, startedAt, state: { status: 'running' }, finished, exited }
    this.runs.set(runId, run)

    const finish = (state: RunState) => {
      if (run.state.status !== 'running') return
      run.state = state
      if (state.status === 'done') emit({ type: 'done', runId, wallS: (Date.now() - startedAt) / 1000 })
      else if (state.status === 'failed') emit({ type: 'error', runId, error: state.error })
      settle(state)
    }
    const onEvent = (m: PlanWorkerEvent) => {
      const now = Date.now()
      switch (m.type) {
        case 'stage': {
          if (m.stage !== currentStage) {
            currentStage = m.stage
            stageStart = now
          }
          const elapsedStage = (now - stageStart) / 1000
          // Rate over this stage's steps so far, against the step limit: an upper bound, since the
          // solver stops as soon as the field is steady.
          const etaS = m.step && m.maxSteps && m.step > 0 ? (elapsedStage / m.step) * Math.max(0, m.maxSteps - m.step) : undefined
          const stageFraction = m.fraction ?? (m.step !== undefined && m.maxSteps ? m.step / m.maxSteps : undefined)
          const whole = overall.update(m.stage, stageFraction, (now - startedAt) / 1000)
          emit({
            type: 'progress',
            runId,
            stage: m.stage,
            ...(m.step !== undefined ? { step: m.step } : {}),
            ...(m.maxSteps ? { maxSteps: m.maxSteps } : {}),
            ...(m.fraction !== undefined ? { fraction: Math.min(1, Math.max(0, m.fraction)) } : {}),
            ...(etaS !== undefined && Number.isFinite(etaS) ? { etaS } : {}),
            elapsedS: (now - startedAt) / 1000,
            overall: { fraction: whole.fraction, ...(whole.etaS !== undefined && Number.isFinite(whole.etaS) ? { etaS: whole.etaS } : {}) },
          })
          break
        }
        case 'note':
          emit({ type: 'log', runId, line: m.line })
          break
      }
    }
    const rpc = workerRpc<PlanInput, PlanWorkerResult, PlanWorkerEvent>(worker, {
      decodeError: (e) => deserializeError(e as SerializedError),
      workerFailed: (why) =>
        'error' in why
          ? // An uncaught throw or an out-of-memory inside the thread: report it, keep the host up.
            deserializeError({ name: why.error.name || 'Error', message: `the plan worker crashed: ${why.error.message}`, code: 'worker-crashed' })
          : this.cancelRequested.has(runId)
            ? deserializeError({ name: 'AbortError', message: 'the run was cancelled (its worker was stopped)', code: 'cancelled' })
            : deserializeError({
                name: 'WorkerExit',
                message: `the plan worker stopped (exit code ${why.exitCode}) before reporting a result`,
                code: 'worker-crashed',
              }),
    })
    rpc.call(input, { signal: cancel.signal, onEvent }).then(
      (r) => finish({ status: 'done', plan: r.plan, metrics: r.metrics, files: r.files }),
      (e: unknown) => finish({ status: 'failed', error: serializeError(e) }),
    )
    worker.on('exit', () => {
      this.workers.delete(runId)
      this.cancels.delete(runId)
      this.cancelRequested.delete(runId)
      markExited()
    })
    return run
  }

  /** Asks the run to stop; terminates its thread if it has not stopped within CANCEL_GRACE_MS. */
  cancel(runId: string): boolean {
    const run = this.runs.get(runId)
    const worker = this.workers.get(runId)
    if (!run || run.state.status !== 'running' || !worker) return false
    this.cancelRequested.add(runId)
    this.cancels.get(runId)?.abort()
    const timer = setTimeout(() => {
      if (this.workers.has(runId)) void worker.terminate()
    }, this.options.cancelGraceMs ?? CANCEL_GRACE_MS)
    timer.unref()
    void run.finished.then(() => clearTimeout(timer))
    return true
  }

  /** Drops a run that has stopped (its folder was removed): `get` no longer finds it. */
  forget(runId: string): boolean {
    if (this.workers.has(runId)) return false
    this.cancelRequested.delete(runId)
    return this.runs.delete(runId)
  }

  /** Every run still known, oldest first. */
  /**
   * A finished run that no worker produced: a stored plan written back to a folder (reopened from
   * the database). It is served, saved, exported and retired like any finished run.
   */
  adopt(input: PlanInput, state: Extract<RunState, { status: 'done' }>): PlanRun {
    const runId = randomUUID()
    const run: PlanRun = { runId, input, startedAt: Date.now(), state, finished: Promise.resolve(state), exited: Promise.resolve() }
    this.runs.set(runId, run)
    return run
  }

  list(): PlanRun[] {
    return [...this.runs.values()]
  }

  /** Stops every run (host shutdown). */
  async dispose(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.terminate()))
  }
}
