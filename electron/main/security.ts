/**
 * The Electron security baseline in one place (Electron's security checklist,
 * https://www.electronjs.org/docs/latest/tutorial/security): context isolation, the renderer
 * sandbox, no Node in any renderer or worker, no <webview>; every new window, navigation away
 * from the app, <webview> attachment and permission request (camera, geolocation, notifications,
 * ...) denied; the same strict CSP as the browser fallback on every response. The page is
 * app://planner/index.html (app-protocol.ts), never file://: file:// pages are not the app, and a
 * navigation to one is blocked like any other.
 */
import { CONTENT_SECURITY_POLICY } from '../server/security.ts'
import { APP_INDEX_URL } from './app-protocol.ts'
import type { AppLike, SessionLike, WebContentsLike, WebPreferencesLike } from './electron-api.ts'

export function secureWindowOptions(preloadPath: string, options: { devTools?: boolean } = {}): WebPreferencesLike {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webviewTag: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    enableBlinkFeatures: '',
    spellcheck: false,
    devTools: options.devTools ?? false,
  }
}

/** Rules applied to every webContents the app ever creates (windows, frames, devtools). */
export function lockDownWebContents(contents: WebContentsLike, isAppUrl: (url: string) => boolean): void {
  // New windows (window.open, target=_blank): never; the app has one window.
  contents.setWindowOpenHandler(() => ({ action: 'deny' }))
  // Navigation away from the app (a dropped link, a compromised page): blocked.
  const block = (event: { preventDefault(): void }, url: string) => {
    if (!isAppUrl(url)) event.preventDefault()
  }
  contents.on('will-navigate', block)
  contents.on('will-redirect', block)
  contents.on('will-attach-webview', (event) => event.preventDefault())
}

export function applySecurityBaseline(app: AppLike, session: SessionLike, isAppUrl: (url: string) => boolean): void {
  app.on('web-contents-created', (_event, contents) => lockDownWebContents(contents, isAppUrl))
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  session.setPermissionCheckHandler(() => false)
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } })
  })
}

/**
 * True for the app's own page (default app://planner/index.html, any query or hash). A file://
 * URL is never the app: the window does not load from file://, and such a page could read any of
 * the user's files.
 */
export function appUrlMatcher(appIndexUrl: string = APP_INDEX_URL): (url: string) => boolean {
  const expected = new URL(appIndexUrl)
  if (expected.protocol === 'file:') throw new Error(`${appIndexUrl}: the app is not served from file://`)
  return (url: string) => {
    try {
      const u = new URL(url)
      if (u.protocol === 'file:') return false
      return u.protocol === expected.protocol && u.host.toLowerCase() === expected.host.toLowerCase() && u.pathname === expected.pathname
    } catch {
      return false
    }
  }
}
