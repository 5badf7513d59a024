/**
 * The browser fallback: the planner's back end behind a Node HTTP server bound to 127.0.0.1 on a
 * random port, for machines without the Electron binary. The same API contract as the Electron
 * IPC (core/contracts/api.ts):
 *   POST /api/call/<method>   JSON params -> { ok, result } | { ok: false, error }
 *                             (binary params: octet-stream body + x-tfus-params JSON header;
 *                              binary results: octet-stream body + x-tfus-header JSON header)
 *   GET  /api/events?token=   Server-Sent Events, one `data:` line of JSON per ApiEvent
 * Every API request must carry the session token: the x-tfus-token header (the renderer reads it
 * from a <meta> tag of the page) or the session cookie; the events stream takes it in the query
 * (EventSource cannot set headers) or the cookie. The launch URL carries the token
 * (`/?session=<token>`, printed for the user who started the app and reached through a private
 * launch file, never through any process's argv, see main.ts); the server trades it for an
 * HttpOnly, SameSite=Strict cookie and redirects to `/`, so the token does not stay in the
 * address bar or the history. `/` is served only with that cookie: other local users and web
 * pages cannot learn the token, so they cannot drive the API. The Host header must name our own
 * address (DNS-rebinding defence); an API request from a browser page of any other origin (its
 * Origin header, or Sec-Fetch-Site cross-site/same-site) is refused; no CORS headers are sent,
 * so other origins cannot read any answer. Request bodies are capped (MAX_BODY_BYTES, 413).
 */
import * as http from 'node:http'
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { PLANNER_API, dispatchCall, type ApiEvent, type CallResponse, type MethodSpec } from '../../core/contracts/api.ts'
import type { PlannerService } from '../app/service.ts'
import { CONTENT_SECURITY_POLICY } from './security.ts'

export const TOKEN_META = 'tfus-session-token'
/**
 * Largest request body [bytes]. The largest real upload is one CT or MRI volume dropped on the
 * window (importBytes): a 512 x 512 x 1000-slice int16 CT, uncompressed, is 500 MiB, and a
 * high-resolution MRI is well under that; JSON calls are kilobytes. 512 MiB lets those through
 * and keeps one request from holding gigabytes in memory.
 */
export const MAX_BODY_BYTES = 512 * 1024 * 1024
/** The session cookie's name (per port: cookies do not separate ports, two sessions may run at once). */
export function sessionCookieName(port: number): string {
  return `tfus-session-${port}`
}

export interface ServerOptions {
  readonly service: PlannerService
  /** The built renderer (dist/renderer). */
  readonly staticDir: string
  /** 0 (default) picks a free port. */
  readonly port?: number
  /** Fixed token (tests); random otherwise. */
  readonly token?: string
  /** Request body cap [bytes] (tests); MAX_BODY_BYTES otherwise. */
  readonly maxBodyBytes?: number
}

export interface RunningServer {
  /** The origin, e.g. http://127.0.0.1:43417/ (API calls go below it). */
  readonly url: string
  /** The page's address with the session token: what the browser opens. */
  readonly launchUrl: string
  readonly port: number
  readonly token: string
  close(): Promise<void>
}

/** Content types of the built renderer's files (also served by Electron's app:// protocol). */
export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.ico': 'image/x-icon',
}

/** Headers on every answer (also on Electron's app:// protocol). */
export function securityHeaders(): Record<string, string> {
  return {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'x-frame-options': 'DENY',
  }
}

function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** The value of cookie `name` in a Cookie header, or null. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return null
}

class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body too large (the limit is ${Math.round(limit / (1024 * 1024))} MiB)`)
  }
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) throw new BodyTooLargeError(limit)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...securityHeaders(), 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

/** 413, then the connection is closed: the rest of the body is never read. */
function sendTooLarge(req: http.IncomingMessage, res: http.ServerResponse, limit: number): void {
  res.shouldKeepAlive = false
  res.once('finish', () => req.destroy())
  res.writeHead(413, { ...securityHeaders(), 'content-type': 'application/json', 'cache-control': 'no-store', connection: 'close' })
  res.end(JSON.stringify(errorResponse('too-large', new BodyTooLargeError(limit).message)))
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function errorResponse(code: string, message: string): CallResponse {
  return { ok: false, error: { name: 'HttpError', code, message } }
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(24).toString('base64url')
  const staticRoot = path.resolve(options.staticDir)
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES
  let port = 0
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`])
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`])
  const cookieToken = (req: http.IncomingMessage) => cookieValue(req.headers.cookie, sessionCookieName(port))
  /** Why a browser page of another origin may not use the API, or null (no Origin: a non-browser client, which still needs the token). */
  const foreignRequest = (req: http.IncomingMessage): string | null => {
    const origin = req.headers.origin
    if (origin !== undefined && !allowedOrigins().has(origin)) return `requests from ${origin.slice(0, 100)} are refused`
    const site = req.headers['sec-fetch-site']
    if (site === 'cross-site' || site === 'same-site') return 'requests from another site are refused'
    return null
  }
  const streams = new Set<http.ServerResponse>()
  const unsubscribe = options.service.onEvent((event: ApiEvent) => {
    const line = `data: ${JSON.stringify(event)}\n\n`
    for (const s of streams) s.write(line)
  })

  /**
   * `/?session=<token>`: the token becomes the session cookie and the browser goes on to `/`.
   * A 303 redirect, except for a navigation another site started (the launch file is a file://
   * page): the browser would withhold a SameSite=Strict cookie from the redirected request, so
   * it gets a page that sets the cookie and moves on to `/` itself (a same-origin navigation).
   */
  const exchangeSession = (req: http.IncomingMessage, res: http.ServerResponse, session: string) => {
    if (!sameToken(session, token)) {
      res.writeHead(401, { ...securityHeaders(), 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
      return void res.end("This address does not carry this session's key: open TFUS Planner with the address npm start printed.")
    }
    const cookie = `${sessionCookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`
    if (req.headers['sec-fetch-site'] === 'cross-site') {
      res.writeHead(200, { ...securityHeaders(), 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'set-cookie': cookie })
      return void res.end(
        '<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=/"><title>TFUS Planner</title></head><body><a href="/">Open TFUS Planner</a></body></html>\n',
      )
    }
    res.writeHead(303, { ...securityHeaders(), location: '/', 'cache-control': 'no-store', 'set-cookie': cookie })
    res.end()
  }

  const serveStatic = async (req: http.IncomingMessage, res: http.ServerResponse, urlPath: string) => {
    let rel: string
    try {
      rel = urlPath === '/' ? 'index.html' : decodeURIComponent(urlPath).replace(/^\/+/, '')
    } catch {
      return sendJson(res, 400, errorResponse('bad-request', 'malformed path'))
    }
    if (rel === 'index.html' && !sameToken(cookieToken(req), token)) {
      res.writeHead(401, { ...securityHeaders(), 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
      return void res.end("Open TFUS Planner with the address npm start printed (it carries this session's key).")
    }
    const file = path.resolve(staticRoot, rel)
    if (file !== staticRoot && !file.startsWith(staticRoot + path.sep)) return sendJson(res, 403, errorResponse('forbidden', 'outside the app'))
    let body: Buffer
    try {
      body = await fs.readFile(file)
    } catch {
      if (rel === 'index.html') {
        res.writeHead(503, { ...securityHeaders(), 'content-type': 'text/plain; charset=utf-8' })
        return void res.end(`The renderer is not built (${staticRoot}): run npm run build:renderer`)
      }
      return sendJson(res, 404, errorResponse('not-found', `${urlPath} not found`))
    }
    const ext = path.extname(file)
    if (rel === 'index.html') {
      // The page learns the session token from a meta tag (no inline script under the CSP).
      body = Buffer.from(body.toString('utf8').replace('<head>', `<head>\n    <meta name="${TOKEN_META}" content="${escapeHtml(token)}">`))
    }
    res.writeHead(200, {
      ...securityHeaders(),
      'content-type': MIME[ext] ?? 'application/octet-stream',
      'cache-control': rel === 'index.html' ? 'no-store' : 'max-age=300',
    })
    res.end(body)
  }

  const handleCall = async (req: http.IncomingMessage, res: http.ServerResponse, method: string) => {
    const spec: MethodSpec | undefined = Object.hasOwn(PLANNER_API, method) ? PLANNER_API[method as keyof typeof PLANNER_API] : undefined
    let params: unknown
    try {
      if (spec?.binary === 'params') {
        const header = req.headers['x-tfus-params']
        const json = typeof header === 'string' ? (JSON.parse(decodeURIComponent(header)) as Record<string, unknown>) : {}
        const body = await readBody(req, maxBody)
        params = { ...json, bytes: body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) }
      } else {
        const body = await readBody(req, maxBody)
        params = body.length ? JSON.parse(body.toString('utf8')) : {}
      }
    } catch (e) {
      if (e instanceof BodyTooLargeError) return sendTooLarge(req, res, maxBody)
      return sendJson(res, 400, errorResponse('bad-request', `unreadable request: ${e instanceof Error ? e.message : String(e)}`))
    }
    const response = await dispatchCall(PLANNER_API, options.service.impl, method, params)
    if (response.ok && spec?.binary === 'result') {
      const { header, bytes } = response.result as { header: unknown; bytes: ArrayBuffer }
      res.writeHead(200, {
        ...securityHeaders(),
        'content-type': 'application/octet-stream',
        'cache-control': 'no-store',
        'x-tfus-header': encodeURIComponent(JSON.stringify(header)),
      })
      return void res.end(Buffer.from(bytes))
    }
    sendJson(res, response.ok ? 200 : response.error.code === 'not-found' ? 404 : response.error.code === 'bad-request' ? 400 : 200, response)
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      if (!allowedHosts().has(req.headers.host ?? '')) return sendJson(res, 403, errorResponse('forbidden', 'unexpected Host header'))
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`)
      if (url.pathname.startsWith('/api/')) {
        const foreign = foreignRequest(req)
        if (foreign) return sendJson(res, 403, errorResponse('forbidden', foreign))
        const given = url.pathname === '/api/events' ? url.searchParams.get('token') : (req.headers['x-tfus-token'] as string | undefined)
        if (!sameToken(given, token) && !sameToken(cookieToken(req), token))
          return sendJson(res, 401, errorResponse('forbidden', 'missing or wrong session token'))
        if (url.pathname === '/api/events' && req.method === 'GET') {
          res.writeHead(200, { ...securityHeaders(), 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
          res.write(': connected\n\n')
          streams.add(res)
          req.on('close', () => streams.delete(res))
          return
        }
        const m = /^\/api\/call\/([A-Za-z]+)$/.exec(url.pathname)
        if (m && req.method === 'POST') {
          // A declared size over the cap is refused before a byte of the body is read.
          const declared = Number(req.headers['content-length'] ?? 0)
          if (!Number.isFinite(declared) || declared > maxBody) return sendTooLarge(req, res, maxBody)
          return handleCall(req, res, m[1]!)
        }
        return sendJson(res, 404, errorResponse('not-found', `${req.method} ${url.pathname} is not part of the API`))
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, errorResponse('bad-request', 'method not allowed'))
      const session = url.searchParams.get('session')
      if (url.pathname === '/' && session !== null) return exchangeSession(req, res, session)
      return serveStatic(req, res, url.pathname)
    })().catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorResponse('internal', e instanceof Error ? e.message : String(e)))
      else res.end()
    })
  })
  // SSE streams stay open; keep-alive comments stop proxies and browsers from timing them out.
  const keepAlive = setInterval(() => {
    for (const s of streams) s.write(': keep-alive\n\n')
  }, 15_000)
  keepAlive.unref()

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/`,
    launchUrl: `http://127.0.0.1:${port}/?session=${token}`,
    port,
    token,
    async close() {
      clearInterval(keepAlive)
      unsubscribe()
      for (const s of streams) s.end()
      streams.clear()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
