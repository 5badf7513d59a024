/**
 * The two transports of the API contract (DOM-free apart from fetch and EventSource, so the
 * server tests run the same client in Node): Electron IPC through the preload bridge, and HTTP +
 * Server-Sent Events against the browser-fallback server (session token from the page's meta tag).
 */
import type { CallResponse, MethodSpec, Transport } from '../../../core/contracts/api.ts'

/** What electron/preload exposes as `window.tfusBridge`. */
export interface PreloadBridge {
  invoke(method: string, params: unknown): Promise<CallResponse>
  onEvent(listener: (event: unknown) => void): () => void
}

export function ipcTransport(bridge: PreloadBridge): Transport {
  return {
    call: (method, params) => bridge.invoke(method, params),
    subscribe: (listener) => bridge.onEvent(listener),
  }
}

export const TOKEN_META = 'tfus-session-token'

export function httpTransport(base: string, token: string): Transport {
  const url = (p: string) => new URL(p, base).toString()
  return {
    async call(method: string, params: unknown, binary: MethodSpec['binary']): Promise<CallResponse> {
      const headers: Record<string, string> = { 'x-tfus-token': token }
      let body: string | ArrayBuffer
      if (binary === 'params') {
        const { bytes, ...rest } = params as { bytes: ArrayBuffer }
        headers['content-type'] = 'application/octet-stream'
        headers['x-tfus-params'] = encodeURIComponent(JSON.stringify(rest))
        body = bytes
      } else {
        headers['content-type'] = 'application/json'
        body = JSON.stringify(params ?? {})
      }
      let res: Response
      try {
        res = await fetch(url(`api/call/${method}`), { method: 'POST', headers, body })
      } catch (e) {
        return {
          ok: false,
          error: {
            name: 'NetworkError',
            code: 'unreachable',
            message: `the planner's back end does not answer (${e instanceof Error ? e.message : String(e)}); is it still running?`,
          },
        }
      }
      if (res.headers.get('content-type')?.startsWith('application/octet-stream')) {
        const header: unknown = JSON.parse(decodeURIComponent(res.headers.get('x-tfus-header') ?? '%7B%7D'))
        return { ok: true, result: { header, bytes: await res.arrayBuffer() } }
      }
      const text = await res.text()
      try {
        return JSON.parse(text) as CallResponse
      } catch {
        return { ok: false, error: { name: 'HttpError', code: 'internal', message: `HTTP ${res.status}: ${text.slice(0, 200)}` } }
      }
    },
    subscribe(listener) {
      const source = new EventSource(url(`api/events?token=${encodeURIComponent(token)}`))
      source.onmessage = (m) => {
        try {
          listener(JSON.parse(m.data as string))
        } catch {
          // Not JSON: ignore (the contract check in subscribeEvents reports malformed events).
        }
      }
      return () => source.close()
    },
  }
}
