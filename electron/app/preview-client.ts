/**
 * The live preview's worker from the service's side: one long-lived worker (model and CT stay
 * loaded, surrogate-preview.ts), started on the first call; calls queue behind it. A worker that
 * stops fails the calls in flight; the next call starts a new one.
 */
import type { Worker } from 'node:worker_threads'
import { startWorker } from '../adapters/app-paths.ts'
import { ApiError, deserializeError, type SerializedError } from '../../core/contracts/api.ts'
import type { PlanMetricsRecord, PlanRecord } from '../../core/contracts/plan.ts'
import type { PreviewRequest } from './surrogate-preview.ts'

export type PreviewReply = { ok: true; plan: PlanRecord; metrics: PlanMetricsRecord; pressureCt: Float32Array; notes: string[] } | { ok: false; error: SerializedError }

export class PreviewClient {
  private worker: Worker | undefined
  private seq = 0
  private readonly pending = new Map<number, { resolve: (v: PreviewReply) => void; reject: (e: unknown) => void }>()

  constructor(private readonly modelFile: string) {}

  call(request: PreviewRequest): Promise<PreviewReply> {
    if (!this.worker) {
      const w = startWorker('preview-worker', { workerData: { modelFile: this.modelFile, provider: 'auto' } })
      w.on('message', (m: PreviewReply & { id: number }) => {
        const p = this.pending.get(m.id)
        this.pending.delete(m.id)
        if (!p) return
        if (m.ok) p.resolve(m)
        else p.reject(deserializeError(m.error))
      })
      const fail = (e: unknown) => {
        for (const p of this.pending.values()) p.reject(new ApiError('internal', `the preview worker stopped: ${e instanceof Error ? e.message : String(e)}`))
        this.pending.clear()
        this.worker = undefined
      }
      w.on('error', fail)
      w.on('exit', (code) => fail(new Error(`exit code ${code}`)))
      this.worker = w
    }
    const id = ++this.seq
    const worker = this.worker
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      worker.postMessage({ id, request })
    })
  }

  async close(): Promise<void> {
    if (this.worker) await this.worker.terminate()
  }
}
