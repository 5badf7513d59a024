/** Picks the transport of this page (DOM: reads window and the page's meta tag). */
import type { Transport } from '../../../core/contracts/api.ts'
import { httpTransport, ipcTransport, TOKEN_META, type PreloadBridge } from './transports.ts'

declare global {
  interface Window {
    tfusBridge?: PreloadBridge
  }
}

/** The transport for this page: the preload bridge under Electron, else HTTP with the page's token. */
export function detectTransport(): Transport {
  if (window.tfusBridge) return ipcTransport(window.tfusBridge)
  const token = document.querySelector<HTMLMetaElement>(`meta[name="${TOKEN_META}"]`)?.content
  if (!token) throw new Error('This page was not opened by TFUS Planner (no session token): start it with npm start.')
  return httpTransport(window.location.href, token)
}
