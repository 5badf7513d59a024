/**
 * The browser fallback: the planner's back end behind a Node HTTP server bound to 127.0.0.1 on a
 * random port, for machines without the Electron binary. The same API contract as the Electron
 * IPC (core/contracts/api.ts):
 *   POST /api/call/<method>   JSON params -> { ok, result } | { ok: false, error }
 *                             (binary params: octet-stream body + x-tfus-params JSON header;
 *                              binary results: octet-stream body + x-tfus-header JSON header)
 *   GET  /api/events?token=   Server-Sent Events, one `data:` line of JSON per ApiEvent
 * Every API request must carry the session token (x-tfus-token header; the events stream takes
 * it in the query because EventSource cannot set headers). The page itself is served only at the
 * launch URL, which carries the token (`/?session=<token>`, printed or opened for the user who
 * started the app) and receives it in a <meta> tag: other local users and web pages cannot learn
 * it, so they cannot drive the API. The Host header must name our own address (DNS-rebinding
 * defence); no CORS headers are sent, so other origins cannot read any answer.
 */
import * as http from 'node:http'
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { PLANNER_API, dispatchCall, type ApiEvent, type CallResponse, type MethodSpec } from '../../core/contracts/api.ts'
import type { PlannerService } from '../backend/service.ts'
import { CONTENT_SECURITY_POLICY } from './security.ts'

export const TOKEN_META = 'tfus-session-token'
/** Largest request body (a dropped CT, uncompressed) [bytes]. */
const MAX_BODY_BYTES = 1024 * 1024 * 1024

export interface ServerOptions {
  readonly service: PlannerService
  /** The built renderer (dist/renderer). */
  readonly staticDir: string
  /** 0 (default) picks a free port. */
  readonly port?: number
  /** Fixed token (tests); random otherwise. */
  readonly token?: string
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

const MIME: Record<string, string> = {
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

function securityHeaders(): Record<string, string> {
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

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new Error('request body too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...securityHeaders(), 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

function errorResponse(code: string, message: string): CallResponse {
  return { ok: false, error: { name: 'HttpError', code, message } }
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(24).toString('base64url')
  const staticRoot = path.resolve(options.staticDir)
  let port = 0
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`])
  const streams = new Set<http.ServerResponse>()
  const unsubscribe = options.service.onEvent((event: ApiEvent) => {
    const line = `data: ${JSON.stringify(event)}\n\n`
    for (const s of streams) s.write(line)
  })

  const serveStatic = async (res: http.ServerResponse, urlPath: string, session: string | null) => {
    const rel = urlPath === '/' ? 'index.html' : decodeURIComponent(urlPath).replace(/^\/+/, '')
    if (rel === 'index.html' && !sameToken(session, token)) {
      res.writeHead(401, { ...securityHeaders(), 'content-type': 'text/plain; charset=utf-8' })
      return void res.end('Open TFUS Planner with the address npm start printed (it carries this session\'s key).')
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
      body = Buffer.from(body.toString('utf8').replace('<head>', `<head>\n    <meta name="${TOKEN_META}" content="${token}">`))
    }
    res.writeHead(200, { ...securityHeaders(), 'content-type': MIME[ext] ?? 'application/octet-stream', 'cache-control': rel === 'index.html' ? 'no-store' : 'max-age=300' })
    res.end(body)
  }

  const handleCall = async (req: http.IncomingMessage, res: http.ServerResponse, method: string) => {
    const spec: MethodSpec | undefined = Object.hasOwn(PLANNER_API, method) ? PLANNER_API[method as keyof typeof PLANNER_API] : undefined
    let params: unknown
    try {
      if (spec?.binary === 'params') {
        const header = req.headers['x-tfus-params']
        const json = typeof header === 'string' ? (JSON.parse(decodeURIComponent(header)) as Record<string, unknown>) : {}
        const body = await readBody(req)
        params = { ...json, bytes: body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) }
      } else {
        const body = await readBody(req)
        params = body.length ? JSON.parse(body.toString('utf8')) : {}
      }
    } catch (e) {
      return sendJson(res, 400, errorResponse('bad-request', `unreadable request: ${e instanceof Error ? e.message : String(e)}`))
    }
    const response = await dispatchCall(PLANNER_API, options.service.impl, method, params)
    if (response.ok && spec?.binary === 'result') {
      const { header, bytes } = response.result as { header: unknown; bytes: ArrayBuffer }
      res.writeHead(200, { ...securityHeaders(), 'content-type': 'application/octet-stream', 'cache-control': 'no-store', 'x-tfus-header': encodeURIComponent(JSON.stringify(header)) })
      return void res.end(Buffer.from(bytes))
    }
    sendJson(res, response.ok ? 200 : response.error.code === 'not-found' ? 404 : response.error.code === 'bad-request' ? 400 : 200, response)
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      if (!allowedHosts().has(req.headers.host ?? '')) return sendJson(res, 403, errorResponse('forbidden', 'unexpected Host header'))
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`)
      if (url.pathname.startsWith('/api/')) {
        const given = url.pathname === '/api/events' ? url.searchParams.get('token') : (req.headers['x-tfus-token'] as string | undefined)
        if (!sameToken(given, token)) return sendJson(res, 401, errorResponse('forbidden', 'missing or wrong session token'))
        if (url.pathname === '/api/events' && req.method === 'GET') {
          res.writeHead(200, { ...securityHeaders(), 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
          res.write(': connected\n\n')
          streams.add(res)
          req.on('close', () => streams.delete(res))
          return
        }
        const m = /^\/api\/call\/([A-Za-z]+)$/.exec(url.pathname)
        if (m && req.method === 'POST') return handleCall(req, res, m[1]!)
        return sendJson(res, 404, errorResponse('not-found', `${req.method} ${url.pathname} is not part of the API`))
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, errorResponse('bad-request', 'method not allowed'))
      return serveStatic(res, url.pathname, url.searchParams.get('session'))
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
