/**
 * What the preload exposes as `window.tfusBridge`, derived from the API contract: `invoke` for
 * the methods PLANNER_API names (anything else is refused here, before IPC) and `onEvent` for the
 * event channel. The Electron event object never reaches the page, only payloads.
 */
import { IPC_CHANNEL_PREFIX, IPC_EVENT_CHANNEL, PLANNER_METHODS } from '../../core/contracts/api.ts'

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown
}

const methods = new Set<string>(PLANNER_METHODS as readonly string[])

export function createBridge(ipcRenderer: IpcRendererLike) {
  return Object.freeze({
    invoke(method: string, params: unknown): Promise<unknown> {
      if (typeof method !== 'string' || !methods.has(method))
        return Promise.resolve({ ok: false, error: { name: 'BridgeError', code: 'not-found', message: `unknown method "${String(method)}"` } })
      return ipcRenderer.invoke(`${IPC_CHANNEL_PREFIX}${method}`, params)
    },
    onEvent(listener: (event: unknown) => void): () => void {
      const handler = (_event: unknown, payload: unknown) => listener(payload)
      ipcRenderer.on(IPC_EVENT_CHANNEL, handler)
      return () => void ipcRenderer.removeListener(IPC_EVENT_CHANNEL, handler)
    },
  })
}
