/**
 * The plan run inside a worker thread: the plan pipeline (`runPlanPipeline`) with progress posted to the parent at
 * most every PROGRESS_INTERVAL_MS, and cancellation by the call's signal (worker-rpc.ts). A throw
 * becomes a serialized error; a crash of the thread itself is caught by the parent
 * (plan-runs.ts), so the host process stays up either way.
 */
import { runPlanPipeline, type PlanInput } from '../app/pipeline/index.ts'
import { serializeError } from '../../core/contracts/api.ts'
import type { PlanWorkerEvent, PlanWorkerResult } from '../app/plan-worker-protocol.ts'
import { serveRpc } from '../adapters/worker-rpc.ts'

const PROGRESS_INTERVAL_MS = 200

serveRpc<PlanInput, PlanWorkerResult, PlanWorkerEvent>(
  async (input, call) => {
    let lastPost = 0
    let lastStage = ''
    const out = await runPlanPipeline(input, {
      signal: call.signal,
      onStage(stage, progress) {
        const now = Date.now()
        // Stage changes always go out; solver steps are throttled (thousands per run).
        if (stage === lastStage && now - lastPost < PROGRESS_INTERVAL_MS) return
        lastStage = stage
        lastPost = now
        call.emit({ type: 'stage', stage, ...(progress ? { step: progress.step, maxSteps: progress.maxSteps, fraction: progress.fraction } : {}) })
      },
      onNote(line) {
        call.emit({ type: 'note', line })
      },
    })
    return { plan: out.plan, metrics: out.metrics, files: [...out.files] }
  },
  {
    encodeError: (e, cancelled) => (cancelled ? { name: 'AbortError', message: 'the run was cancelled', code: 'cancelled' } : serializeError(e)),
    // One run per thread: the port closes after the answer, so the CPU backend's own worker pool
    // winds down and the thread ends (the parent terminates it if it lingers).
    once: true,
  },
)
