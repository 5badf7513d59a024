/**
 * The browser-fallback server: token on every API request, Host check, CSP, the same contract
 * as IPC (JSON calls, binary results and params, SSE events), nothing served outside the app.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import * as http from 'node:http'
import { startServer, type RunningServer } from '../../../electron/server/server.ts'
import { PLANNER_API, createClient, type ApiEvent, type ApiImplementation, type PlannerApi } from '../../../core/contracts/api.ts'
import type { PlannerService } from '../../../electron/backend/service.ts'
import { httpTransport } from '../../../renderer/src/api/transports.ts'

let server: RunningServer
let emit: (e: ApiEvent) => void = () => {}
const uploads: { name: string; size: number; first: number }[] = []

const impl = {
  cancelPlan: async ({ runId }: { runId: string }) => ({ cancelled: runId === 'r1' }),
  getVolume: async ({ volumeId }: { volumeId: string }) => ({
    header: { volumeId, dims: [2, 1, 1], spacingM: [0.001, 0.001, 0.001], originM: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], dataType: 'int16', range: [-5, 7], stride: 1 },
    bytes: new Int16Array([-5, 7]).buffer,
  }),
  importBytes: async ({ name, bytes }: { name: string; bytes: ArrayBuffer }) => {
    uploads.push({ name, size: bytes.byteLength, first: new Uint8Array(bytes)[0]! })
    throw new Error('not a volume')
  },
} as unknown as ApiImplementation<PlannerApi>

const service: PlannerService = {
  impl,
  onEvent(l) {
    emit = l
    return () => (emit = () => {})
  },
  dispose: async () => {},
}

function request(pathname: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: pathname, method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfus-server-'))
  mkdirSync(path.join(dir, 'assets'))
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><html><head><title>t</title></head><body></body></html>')
  writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)')
  server = await startServer({ service, staticDir: dir })
})
afterAll(async () => server.close())

describe('browser-fallback server', () => {
  test('binds 127.0.0.1 on a random port and hands the page its token under a strict CSP', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect(server.token.length).toBeGreaterThanOrEqual(24)
    // The page is served only at the launch URL (it carries the session key).
    expect((await request('/')).status).toBe(401)
    expect((await request('/?session=wrong')).status).toBe(401)
    expect(server.launchUrl).toBe(`${server.url}?session=${server.token}`)
    const page = await request(`/?session=${server.token}`)
    expect(page.status).toBe(200)
    expect(page.body).toContain(`<meta name="tfus-session-token" content="${server.token}">`)
    expect(page.headers['content-security-policy']).toContain("default-src 'none'")
    expect(page.headers['content-security-policy']).toContain("script-src 'self'")
    expect((await request('/assets/app.js')).status).toBe(200)
    expect((await request('/../../etc/passwd')).status).not.toBe(200)
    expect((await request('/..%2F..%2F..%2Fetc%2Fpasswd')).status).toBe(403)
  })

  test('API calls need the token and our Host', async () => {
    const body = JSON.stringify({ runId: 'r1' })
    expect((await request('/api/call/cancelPlan', { method: 'POST', body })).status).toBe(401)
    expect((await request('/api/call/cancelPlan', { method: 'POST', body, headers: { 'x-tfus-token': 'wrong' } })).status).toBe(401)
    expect((await request('/api/call/cancelPlan', { method: 'POST', body, headers: { 'x-tfus-token': server.token, host: 'evil.example' } })).status).toBe(403)
    const ok = await request('/api/call/cancelPlan', { method: 'POST', body, headers: { 'x-tfus-token': server.token } })
    expect(JSON.parse(ok.body)).toEqual({ ok: true, result: { cancelled: true } })
    const bad = await request('/api/call/cancelPlan', { method: 'POST', body: '{"runId":5}', headers: { 'x-tfus-token': server.token } })
    expect(JSON.parse(bad.body)).toMatchObject({ ok: false, error: { code: 'bad-request', field: 'runId' } })
  })

  test('the renderer client over HTTP: JSON, binary results, binary params and events', async () => {
    const transport = httpTransport(server.url, server.token)
    const client = createClient(PLANNER_API, transport)
    expect(await client.cancelPlan({ runId: 'r2' })).toEqual({ cancelled: false })
    const vol = await client.getVolume({ volumeId: 'v1' })
    expect(vol.header.dims).toEqual([2, 1, 1])
    expect([...new Int16Array(vol.bytes)]).toEqual([-5, 7])
    await expect(client.importBytes({ name: 'ct.nii.gz', bytes: new Uint8Array([31, 139, 8]).buffer })).rejects.toThrow('not a volume')
    expect(uploads).toEqual([{ name: 'ct.nii.gz', size: 3, first: 31 }])
    // Events: SSE with the token in the query.
    const res = await fetch(`${server.url}api/events?token=${server.token}`)
    const reader = res.body!.getReader()
    await reader.read() // ': connected'
    emit({ type: 'log', line: 'hello' })
    const { value } = await reader.read()
    expect(new TextDecoder().decode(value)).toContain('"line":"hello"')
    await reader.cancel()
    expect((await fetch(`${server.url}api/events?token=nope`)).status).toBe(401)
  })
})
