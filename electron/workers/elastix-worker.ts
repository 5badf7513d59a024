/**
 * The elastix registration in a worker thread (electron/adapters/registration.ts runElastix): the
 * WebAssembly pipeline blocks its thread for the whole optimisation, so it runs here, where
 * the caller can time it, show progress and terminate it on cancel. One call (worker-rpc.ts).
 */
import { serveRpc } from '../adapters/worker-rpc.ts'
import type { ElastixRequest } from '../adapters/registration.ts'

serveRpc<ElastixRequest, unknown>(
  async ({ parameterObject, fixed, moving }) => {
    const elastix = await import('@itk-wasm/elastix').catch((e: unknown) => {
      throw new Error(`cannot load @itk-wasm/elastix: ${e instanceof Error ? e.message : String(e)}`)
    })
    // elastixNode's option types name the itk-wasm Image; the images arrive structured-cloned.
    const result = await elastix.elastixNode(parameterObject as never, { fixed, moving } as never)
    return result.transformParameterObject
  },
  {
    // The pipeline aborts with a bare number when the optimiser fails inside the WebAssembly.
    encodeError: (e) => (e instanceof Error ? e.message : typeof e === 'number' ? 'the elastix pipeline aborted without a message' : String(e)),
    once: true,
  },
)
