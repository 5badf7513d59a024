/**
 * The live preview's worker thread: one PreviewEngine (model, CT and segmentation stay loaded),
 * one request at a time; the host sends only the latest pose while one is in flight. Errors go
 * back serialized; the thread stays up.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { PreviewEngine, type PreviewRequest } from '../app/surrogate-preview.ts'
import type { ProviderChoice } from '../adapters/onnx-runtime.ts'
import { serializeError } from '../../core/contracts/api.ts'

const port = parentPort
if (!port) throw new Error('preview-worker.ts must run in a worker thread')
const { modelFile, provider } = workerData as { modelFile: string; provider: ProviderChoice }
const engine = new PreviewEngine(modelFile, provider)
port.on('message', async (message: { id: number; request: PreviewRequest } | { id: number; close: true }) => {
  if ('close' in message) {
    await engine.dispose()
    port.close()
    return
  }
  try {
    const out = await engine.predict(message.request)
    const notes = await engine.notes()
    port.postMessage({ id: message.id, ok: true, plan: out.plan, metrics: out.metrics, pressureCt: out.pressureCt, notes }, [out.pressureCt.buffer as ArrayBuffer])
  } catch (e) {
    port.postMessage({ id: message.id, ok: false, error: serializeError(e) })
  }
})
