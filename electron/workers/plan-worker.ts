/**
 * The plan run inside a worker thread: the plan pipeline (`runPlanPipeline`) with progress posted to the parent at
 * most every PROGRESS_INTERVAL_MS, and cancellation by message. A throw becomes a serialized
 * error message; a crash of the thread itself is caught by the parent (plan-runs.ts), so the
 * host process stays up either way.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { runPlanPipeline, type PlanInput } from '../app/pipeline/index.ts'
import { serializeError } from '../../core/contracts/api.ts'
import type { WorkerToParent, ParentToWorker } from '../app/plan-worker-protocol.ts'

const PROGRESS_INTERVAL_MS = 200

const port = parentPort
if (!port) throw new Error('plan-worker.ts must run in a worker thread')
const post = (message: WorkerToParent) => port.postMessage(message)

const controller = new AbortController()
port.on('message', (message: ParentToWorker) => {
  if (message.type === 'cancel') controller.abort()
})

const input = workerData as PlanInput
let lastPost = 0
let lastStage = ''
try {
  const out = await runPlanPipeline(input, {
    signal: controller.signal,
    onStage(stage, progress) {
      const now = Date.now()
      // Stage changes always go out; solver steps are throttled (thousands per run).
      if (stage === lastStage && now - lastPost < PROGRESS_INTERVAL_MS) return
      lastStage = stage
      lastPost = now
      post({ type: 'stage', stage, ...(progress ? { step: progress.step, maxSteps: progress.maxSteps, fraction: progress.fraction } : {}) })
    },
    onNote(line) {
      post({ type: 'note', line })
    },
  })
  post({ type: 'done', plan: out.plan, metrics: out.metrics, files: [...out.files] })
} catch (e) {
  post({ type: 'error', error: controller.signal.aborted ? { name: 'AbortError', message: 'the run was cancelled', code: 'cancelled' } : serializeError(e) })
}
// Let the CPU backend's own worker pool wind down; the parent terminates us if it lingers.
port.close()
