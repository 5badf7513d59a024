/**
 * The renderer is served to the Electron window through a custom privileged protocol,
 * `app://planner/index.html`, not `file://` (Electron's security checklist, item 18): a page on
 * file:// can read any file the user can, and its origin is shared with every local file. Here the
 * window's origin is `app://planner`, and the handler answers only files strictly inside the
 * built renderer folder (dist/renderer): `..` (plain or percent-encoded), absolute paths, other
 * hosts and anything that would leave the folder are refused before the disk is touched.
 * `registerAppScheme` must run before the app's 'ready' event, `handleAppProtocol` after it.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { MIME, securityHeaders } from '../server/server.ts'
import type { ProtocolLike, SchemePrivilegesLike } from './electron-api.ts'

export const APP_SCHEME = 'app'
export const APP_HOST = 'planner'
/** The window's page. */
export const APP_INDEX_URL = `${APP_SCHEME}://${APP_HOST}/index.html`

/**
 * standard: relative URLs and the origin `app://planner` work as on http; secure: a secure
 * context, as https; fetch for the page's own assets. No CSP bypass, no service workers, no CORS.
 */
export const APP_SCHEME_PRIVILEGES: SchemePrivilegesLike = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  stream: true,
  codeCache: true,
  bypassCSP: false,
  allowServiceWorkers: false,
  corsEnabled: false,
}

export function registerAppScheme(protocol: Pick<ProtocolLike, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }])
}

/**
 * The file an `app://planner/...` request names inside `rootDir`, or null when it is refused:
 * another scheme or host, an empty, `.` or `..` segment (also percent-encoded), a segment that
 * decodes to a slash, backslash, colon or NUL, malformed percent-encoding, or a result outside
 * `rootDir`. `/` is index.html; query and fragment are ignored. The raw URL is checked, not
 * a parsed one: URL parsing would quietly fold `/../` away and turn a refusal into another file.
 */
export function resolveAppPath(rootDir: string, requestUrl: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/i.exec(requestUrl)
  if (!m || m[1]!.toLowerCase() !== APP_SCHEME || m[2]!.toLowerCase() !== APP_HOST) return null
  const rawPath = m[3] || '/'
  if (!rawPath.startsWith('/')) return null
  const segments: string[] = []
  if (rawPath !== '/') {
    for (const raw of rawPath.slice(1).split('/')) {
      let seg: string
      try {
        seg = decodeURIComponent(raw)
      } catch {
        return null
      }
      if (seg === '' || seg === '.' || seg === '..' || /[/\\:\0]/.test(seg)) return null
      segments.push(seg)
    }
  } else segments.push('index.html')
  const root = path.resolve(rootDir)
  const file = path.resolve(root, ...segments)
  const rel = path.relative(root, file)
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null
  return file
}

function answer(status: number, text: string): Response {
  return new Response(text, { status, headers: { ...securityHeaders(), 'content-type': 'text/plain; charset=utf-8' } })
}

/** The `app:` handler: GET/HEAD of files inside `rootDir`, each with the CSP and the other security headers. */
export function appProtocolHandler(
  rootDir: string,
  readFile: (file: string) => Promise<Uint8Array> = (f) => fs.readFile(f),
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return answer(405, 'method not allowed')
    const file = resolveAppPath(rootDir, request.url)
    if (!file) return answer(403, 'outside the app')
    let body: Uint8Array
    try {
      body = await readFile(file)
    } catch {
      return answer(404, 'not found')
    }
    const headers = { ...securityHeaders(), 'content-type': MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream', 'cache-control': 'no-cache' }
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers })
  }
}

export function handleAppProtocol(protocol: Pick<ProtocolLike, 'handle'>, rootDir: string): void {
  protocol.handle(APP_SCHEME, appProtocolHandler(rootDir))
}
