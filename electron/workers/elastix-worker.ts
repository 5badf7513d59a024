/**
 * The elastix registration in a worker thread (electron/adapters/registration.ts runElastix): the
 * WebAssembly pipeline blocks its thread for the whole optimisation, so it runs here, where
 * the caller can time it, show progress and terminate it on cancel.
 */
import { parentPort, workerData } from 'node:worker_threads'

interface Request {
  readonly parameterObject: unknown
  readonly fixed: unknown
  readonly moving: unknown
}

const port = parentPort
if (!port) throw new Error('elastix-worker must run in a worker thread')
const { parameterObject, fixed, moving } = workerData as Request

try {
  const elastix = await import('@itk-wasm/elastix').catch((e: unknown) => {
    throw new Error(`cannot load @itk-wasm/elastix: ${e instanceof Error ? e.message : String(e)}`)
  })
  // elastixNode's option types name the itk-wasm Image; the images arrive structured-cloned.
  const result = await elastix.elastixNode(parameterObject as never, { fixed, moving } as never)
  port.postMessage({ ok: true, transformParameterObject: result.transformParameterObject })
} catch (e) {
  // The pipeline aborts with a bare number when the optimiser fails inside the WebAssembly.
  const reason = e instanceof Error ? e.message : typeof e === 'number' ? 'the elastix pipeline aborted without a message' : String(e)
  port.postMessage({ ok: false, reason })
}
