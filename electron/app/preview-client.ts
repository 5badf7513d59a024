/**
 * The live preview's worker from the service's side: one long-lived worker (model and CT stay
 * loaded, surrogate-preview.ts), started on the first call; calls queue behind it (worker-rpc.ts).
 * A worker that stops fails the calls in flight; the next call starts a new one.
 */
import { startWorker } from '../adapters/app-paths.ts'
import { workerRpc, type WorkerRpc } from '../adapters/worker-rpc.ts'
import { ApiError, deserializeError, type SerializedError } from '../../core/contracts/api.ts'
import type { PreviewRequest, PreviewResult } from './surrogate-preview.ts'

export type PreviewReply = PreviewResult & { readonly notes: readonly string[] }

export class PreviewClient {
  private rpc: WorkerRpc<PreviewRequest, PreviewReply> | undefined

  constructor(private readonly modelFile: string) {}

  call(request: PreviewRequest): Promise<PreviewReply> {
    if (!this.rpc) {
      const rpc: WorkerRpc<PreviewRequest, PreviewReply> = workerRpc(
        startWorker('preview-worker', { workerData: { modelFile: this.modelFile, provider: 'auto' } }),
        {
          decodeError: (e) => deserializeError(e as SerializedError),
          workerFailed: (why) => {
            if (this.rpc === rpc) this.rpc = undefined
            return new ApiError('internal', `the preview worker stopped: ${'error' in why ? why.error.message : `exit code ${why.exitCode}`}`)
          },
        },
      )
      this.rpc = rpc
    }
    return this.rpc.call(request)
  }

  async close(): Promise<void> {
    if (this.rpc) await this.rpc.worker.terminate()
  }
}
