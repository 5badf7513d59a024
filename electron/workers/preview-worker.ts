/**
 * The live preview's worker thread: one PreviewEngine (model, CT and segmentation stay loaded),
 * one request at a time (worker-rpc.ts); the host sends only the latest pose while one is in
 * flight. Errors go back serialized; the thread stays up. The pressure volume is moved, not copied.
 */
import { workerData } from 'node:worker_threads'
import { PreviewEngine, type PreviewRequest, type PreviewResult } from '../app/surrogate-preview.ts'
import type { ProviderChoice } from '../adapters/onnx-runtime.ts'
import { serveRpc } from '../adapters/worker-rpc.ts'
import { serializeError } from '../../core/contracts/api.ts'

const { modelFile, provider } = workerData as { modelFile: string; provider: ProviderChoice }
const engine = new PreviewEngine(modelFile, provider)
serveRpc<PreviewRequest, PreviewResult & { readonly notes: readonly string[] }>(
  async (request, call) => {
    const out = await engine.predict(request)
    const notes = await engine.notes()
    call.transferWithReply([out.pressureCt.buffer as ArrayBuffer])
    return { plan: out.plan, metrics: out.metrics, pressureCt: out.pressureCt, notes }
  },
  { encodeError: (e) => serializeError(e) },
)
