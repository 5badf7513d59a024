/**
 * The browser-fallback server: token on every API request, Host and Origin checks, the session
 * cookie, the body cap, CSP, the same contract as IPC (JSON calls, binary results and params,
 * SSE events), nothing served outside the app; and the browser-mode entry, which opens the
 * browser on a private launch file, never with the token in an argument.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import * as http from 'node:http'
import { MAX_BODY_BYTES, sessionCookieName, startServer, type RunningServer } from '../../../electron/server/server.ts'
import { browserOpener, runBrowserFallback } from '../../../electron/server/main.ts'
import { dataLayout, resolveDataDir } from '../../../electron/adapters/db/data-dir.ts'
import { PLANNER_API, createClient, type ApiEvent, type ApiImplementation, type PlannerApi } from '../../../core/contracts/api.ts'
import type { PlannerService } from '../../../electron/app/service.ts'
import { httpTransport } from '../../../renderer/src/api/transports.ts'

let server: RunningServer
let emit: (e: ApiEvent) => void = () => {}
const uploads: { name: string; size: number; first: number }[] = []

const impl = {
  cancelPlan: async ({ runId }: { runId: string }) => ({ cancelled: runId === 'r1' }),
  getVolume: async ({ volumeId }: { volumeId: string }) => ({
    header: {
      volumeId,
      dims: [2, 1, 1],
      spacingM: [0.001, 0.001, 0.001],
      originM: [0, 0, 0],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      dataType: 'int16',
      range: [-5, 7],
      stride: 1,
    },
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

function request(
  pathname: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; port?: number } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: init.port ?? server.port, path: pathname, method: init.method ?? 'GET', headers: init.headers ?? {} },
      (res) => {
        let body = ''
        res.on('data', (c) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      },
    )
    req.on('error', reject)
    req.end(init.body)
  })
}

let staticDir = ''
beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfus-server-'))
  mkdirSync(path.join(dir, 'assets'))
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><html><head><title>t</title></head><body></body></html>')
  writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)')
  staticDir = dir
  server = await startServer({ service, staticDir: dir })
})

/** The session cookie the server sets for the launch URL, as a Cookie header value. */
async function sessionCookie(): Promise<string> {
  const r = await request(`/?session=${server.token}`)
  return String(r.headers['set-cookie']?.[0]).split(';')[0]!
}
afterAll(async () => server.close())

describe('browser-fallback server', () => {
  test('binds 127.0.0.1 on a random port and hands the page its token under a strict CSP', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect(server.token.length).toBeGreaterThanOrEqual(24)
    // The page is served only with the session (the launch URL's key, traded for a cookie).
    expect((await request('/')).status).toBe(401)
    expect((await request('/?session=wrong')).status).toBe(401)
    expect(server.launchUrl).toBe(`${server.url}?session=${server.token}`)
    const page = await request('/', { headers: { cookie: await sessionCookie() } })
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

  test('the launch URL is traded for an HttpOnly SameSite=Strict cookie and a redirect to /; the page then needs only the cookie', async () => {
    const launch = await request(`/?session=${server.token}`)
    expect([302, 303]).toContain(launch.status)
    expect(launch.headers.location).toBe('/')
    const setCookie = launch.headers['set-cookie']
    expect(setCookie).toHaveLength(1)
    const attrs = setCookie![0]!.split(';').map((a) => a.trim())
    expect(attrs[0]).toBe(`${sessionCookieName(server.port)}=${server.token}`)
    expect(attrs).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/']))
    expect(launch.headers['cache-control']).toBe('no-store')
    const cookie = attrs[0]!
    const page = await request('/', { headers: { cookie: `other=1; ${cookie}` } })
    expect(page.status).toBe(200)
    expect(page.body).toContain(`<meta name="tfus-session-token" content="${server.token}">`)
    // A wrong key or a wrong cookie gets nothing, and no cookie.
    const wrong = await request('/?session=wrong-token')
    expect(wrong.status).toBe(401)
    expect(wrong.headers['set-cookie']).toBeUndefined()
    expect((await request('/', { headers: { cookie: `${sessionCookieName(server.port)}=wrong` } })).status).toBe(401)
    expect((await request('/', { headers: { cookie: `${sessionCookieName(server.port + 1)}=${server.token}` } })).status).toBe(401)
    // The cookie also authenticates the API and the events stream (the token header stays valid).
    const call = await request('/api/call/cancelPlan', { method: 'POST', body: JSON.stringify({ runId: 'r1' }), headers: { cookie } })
    expect(JSON.parse(call.body)).toEqual({ ok: true, result: { cancelled: true } })
    expect(
      (await request('/api/call/cancelPlan', { method: 'POST', body: '{"runId":"r1"}', headers: { cookie: `${sessionCookieName(server.port)}=nope` } })).status,
    ).toBe(401)
    const events = await fetch(`${server.url}api/events`, { headers: { cookie } })
    expect(events.status).toBe(200)
    await events.body!.cancel()
  })

  test('a launch started by another page (the file:// launch file) gets the cookie with a same-origin hop to /', async () => {
    // A browser withholds a Strict cookie from a redirect that another site's page started; the
    // page that sets it moves on to / itself, so the request for / is same-origin.
    const r = await request(`/?session=${server.token}`, { headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' } })
    expect(r.status).toBe(200)
    expect(r.headers['set-cookie']![0]).toMatch(/HttpOnly; SameSite=Strict; Path=\//)
    expect(r.body).toContain('<meta http-equiv="refresh" content="0; url=/">')
    expect(r.body).not.toContain(server.token)
  })

  test('API requests from another origin are refused (403), with or without the token', async () => {
    const body = JSON.stringify({ runId: 'r1' })
    const headers = { 'x-tfus-token': server.token }
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${server.port + 1}`, `https://127.0.0.1:${server.port}`]) {
      const r = await request('/api/call/cancelPlan', { method: 'POST', body, headers: { ...headers, origin } })
      expect(r.status, origin).toBe(403)
      expect(r.body.split('\n').filter(Boolean), origin).toHaveLength(1)
      expect(JSON.parse(r.body), origin).toMatchObject({ ok: false, error: { code: 'forbidden' } })
      expect((await request(`/api/events?token=${server.token}`, { headers: { origin } })).status, origin).toBe(403)
    }
    for (const site of ['cross-site', 'same-site']) {
      expect((await request('/api/call/cancelPlan', { method: 'POST', body, headers: { ...headers, 'sec-fetch-site': site } })).status, site).toBe(403)
      expect((await request(`/api/events?token=${server.token}`, { headers: { 'sec-fetch-site': site } })).status, site).toBe(403)
    }
    // Our own origin (either name), and a client that sends no Origin, get through.
    for (const origin of [`http://127.0.0.1:${server.port}`, `http://localhost:${server.port}`]) {
      const r = await request('/api/call/cancelPlan', { method: 'POST', body, headers: { ...headers, origin, 'sec-fetch-site': 'same-origin' } })
      expect(JSON.parse(r.body), origin).toEqual({ ok: true, result: { cancelled: true } })
    }
    expect((await request('/api/call/cancelPlan', { method: 'POST', body, headers })).status).toBe(200)
    const events = await fetch(`${server.url}api/events?token=${server.token}`)
    expect(events.status).toBe(200)
    await events.body!.cancel()
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

/** A request that sends `declared` as its Content-Length (or chunks), writes `send` bytes and never ends its body. */
function unfinishedUpload(
  port: number,
  token: string,
  send: number,
  declared: number | null,
): Promise<{ status: number; body: string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      'x-tfus-token': token,
      'content-type': 'application/octet-stream',
      'x-tfus-params': encodeURIComponent(JSON.stringify({ name: 'ct.nii', role: 'ct' })),
    }
    if (declared !== null) headers['content-length'] = String(declared)
    const req = http.request({ host: '127.0.0.1', port, path: '/api/call/importBytes', method: 'POST', headers })
    const noAnswer = setTimeout(() => reject(new Error('no answer within 10 s: the server is still reading the body')), 10_000)
    req.on('response', () => clearTimeout(noAnswer))
    const closed = new Promise<void>((done) => req.on('close', () => done()))
    req.on('error', () => {})
    req.on('response', (res) => {
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, closed }))
      res.on('error', reject)
    })
    // Written in pieces; the body is never ended.
    for (let sent = 0; sent < send; sent += 1024) req.write(Buffer.alloc(Math.min(1024, send - sent), 7))
  })
}

describe('the request body cap', () => {
  let small: RunningServer
  beforeAll(async () => {
    small = await startServer({ service, staticDir, maxBodyBytes: 4096 })
  })
  afterAll(async () => small.close())

  test('the cap is sized to the largest real upload, one CT or MRI volume (512 MiB), not gigabytes', () => {
    expect(MAX_BODY_BYTES).toBe(512 * 1024 * 1024)
  })

  test('a declared Content-Length over the cap is 413 before the body is read, and the connection is closed', async () => {
    const before = uploads.length
    const r = await unfinishedUpload(small.port, small.token, 1024, 10 * 1024 ** 3)
    expect(r.status).toBe(413)
    expect(r.body.trim().split('\n')).toHaveLength(1)
    expect(JSON.parse(r.body)).toMatchObject({ ok: false, error: { code: 'too-large', message: expect.stringContaining('too large') } })
    // The client never finished its 10 GiB: the server hung up instead of reading on.
    await expect(Promise.race([r.closed.then(() => 'closed'), new Promise((ok) => setTimeout(() => ok('still open'), 5000))])).resolves.toBe('closed')
    expect(uploads.length).toBe(before)
  })

  test('a body over the cap without a declared length is 413 (not 400 or 500) once the cap is passed', async () => {
    const before = uploads.length
    const r = await unfinishedUpload(small.port, small.token, 8192, null)
    expect(r.status).toBe(413)
    expect(JSON.parse(r.body)).toMatchObject({ ok: false, error: { code: 'too-large' } })
    await expect(Promise.race([r.closed.then(() => 'closed'), new Promise((ok) => setTimeout(() => ok('still open'), 5000))])).resolves.toBe('closed')
    expect(uploads.length).toBe(before)
    // A body within the cap still goes through (the stub answers "not a volume").
    const ok = await fetch(`${small.url}api/call/importBytes`, {
      method: 'POST',
      headers: {
        'x-tfus-token': small.token,
        'content-type': 'application/octet-stream',
        'x-tfus-params': encodeURIComponent(JSON.stringify({ name: 'ct.nii', role: 'ct' })),
      },
      body: new Uint8Array(4096),
    })
    expect(await ok.json()).toMatchObject({ ok: false, error: { message: 'not a volume' } })
    expect(uploads.length).toBe(before + 1)
  })
})

describe('the browser-mode entry', () => {
  test('the browser opens a private launch file: no argument carries the token, the file is 0600 in a 0700 folder and leads to the launch URL', async () => {
    const previousUmask = process.umask()
    const data = path.join(mkdtempSync(path.join(tmpdir(), 'tfus-browser-mode-')), 'data')
    const env = { TFUS_DATA_DIR: data }
    const spawned: { command: string; args: string[] }[] = []
    const lines: string[] = []
    const serviceOptions: unknown[] = []
    const mode = await runBrowserFallback([], {
      env,
      platform: 'linux',
      out: (t) => lines.push(t),
      staticDir,
      handleSignals: false,
      createService: (o) => (serviceOptions.push(o), service),
      spawn: (command, args) => {
        spawned.push({ command, args })
        return { on: () => {}, unref: () => {} }
      },
    })
    try {
      const token = mode.server.token
      expect(spawned).toHaveLength(1)
      expect(spawned[0]!.command).toBe('xdg-open')
      expect(spawned[0]!.args).toEqual([mode.launchFile])
      for (const arg of [spawned[0]!.command, ...spawned[0]!.args]) expect(arg).not.toContain(token)
      const file = mode.launchFile!
      expect(path.dirname(file)).toBe(path.join(data, 'app', 'launch'))
      expect(statSync(file).mode & 0o777).toBe(0o600)
      expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700)
      const html = readFileSync(file, 'utf8')
      expect(html).toContain(`<meta http-equiv="refresh" content="0; url=${mode.server.launchUrl}">`)
      expect(html).toContain(`href="${mode.server.launchUrl}"`)
      // The user's own stdout still shows the address.
      expect(lines.join('')).toContain(mode.server.launchUrl)
      // The launch URL in the file works against the running server.
      const launch = await fetch(mode.server.launchUrl, { redirect: 'manual' })
      expect(launch.status).toBe(303)
      // Data: private folders, and the same database as the CLI.
      expect(statSync(data).mode & 0o777).toBe(0o700)
      expect(statSync(path.join(data, 'app')).mode & 0o777).toBe(0o700)
      expect(process.umask()).toBe(0o077)
      expect(serviceOptions).toEqual([{ host: 'browser', workDir: path.join(data, 'app'), dataDir: data }])
      expect(dataLayout((serviceOptions[0] as { dataDir: string }).dataDir).database).toBe(dataLayout(resolveDataDir(undefined, env)).database)
    } finally {
      await mode.stop()
      process.umask(previousUmask)
    }
    // Stopping removes the launch file.
    expect(existsSync(mode.launchFile!)).toBe(false)
  })

  test('the launch file is removed after its lifetime; --no-open writes none', async () => {
    const data = path.join(mkdtempSync(path.join(tmpdir(), 'tfus-browser-mode-')), 'data')
    const previousUmask = process.umask()
    const common = {
      env: { TFUS_DATA_DIR: data },
      platform: 'linux' as const,
      out: () => {},
      staticDir,
      handleSignals: false,
      createService: () => service,
      spawn: () => ({ on: () => {}, unref: () => {} }),
    }
    const mode = await runBrowserFallback([], { ...common, launchFileLifetimeMs: 100 })
    try {
      expect(existsSync(mode.launchFile!)).toBe(true)
      await expect.poll(() => existsSync(mode.launchFile!), { timeout: 5000 }).toBe(false)
    } finally {
      await mode.stop()
    }
    let spawnedAtAll = false
    const quiet = await runBrowserFallback(['--no-open'], { ...common, spawn: () => ((spawnedAtAll = true), { on: () => {}, unref: () => {} }) })
    await quiet.stop()
    process.umask(previousUmask)
    expect(quiet.launchFile).toBeNull()
    expect(spawnedAtAll).toBe(false)
  })

  test('every platform opener takes the launch file as its only argument', () => {
    for (const platform of ['linux', 'darwin', 'win32', 'freebsd'] as const) {
      const opener = browserOpener(platform)!
      expect(opener.args('/data/app/launch/x.html'), platform).toEqual(['/data/app/launch/x.html'])
    }
    expect(browserOpener('aix')).toBeNull()
  })
})
