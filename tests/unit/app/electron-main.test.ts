/**
 * The Electron security baseline and the IPC wrapper, with `electron` mocked (vi.mock): the real
 * binary is not installed here, and these checks must not need it. Also: the app:// protocol
 * that serves the renderer (not file://) and where the app keeps its data (the CLI's folder).
 */
import { afterAll, beforeEach, describe, expect, test, vi } from 'vitest'
import { z } from 'zod'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'

type Listener = (...args: unknown[]) => unknown

const mock = vi.hoisted(() => {
  const order: string[] = []
  const serviceOptions: Record<string, unknown>[] = []
  const protocol = {
    schemes: [] as { scheme: string; privileges: Record<string, unknown> }[],
    handlers: new Map<string, (request: Request) => Promise<Response>>(),
    registerSchemesAsPrivileged(schemes: { scheme: string; privileges: Record<string, unknown> }[]) {
      order.push('registerSchemesAsPrivileged')
      this.schemes.push(...schemes)
    },
    handle(scheme: string, handler: (request: Request) => Promise<Response>) {
      order.push('protocol.handle')
      this.handlers.set(scheme, handler)
    },
  }
  const appListeners = new Map<string, Listener[]>()
  const handlers = new Map<string, Listener>()
  const windows: { options: Record<string, unknown>; webContents: Record<string, unknown> }[] = []
  const session = {
    permissionRequest: null as Listener | null,
    permissionCheck: null as Listener | null,
    headers: null as Listener | null,
    setPermissionRequestHandler(h: Listener) {
      this.permissionRequest = h
    },
    setPermissionCheckHandler(h: Listener) {
      this.permissionCheck = h
    },
    webRequest: {
      onHeadersReceived(h: Listener) {
        session.headers = h
      },
    },
  }
  class BrowserWindow {
    webContents = { id: 1, mainFrame: { url: '', parent: null }, send: () => {}, isDestroyed: () => false }
    constructor(readonly options: Record<string, unknown>) {
      windows.push(this as never)
    }
    loadURL = async (url: string) => {
      order.push(`loadURL ${url}`)
      this.webContents.mainFrame.url = url
    }
    once() {}
    show() {}
    static fromWebContents(wc: unknown) {
      return windows.find((w) => w.webContents === wc) ?? null
    }
    static getAllWindows() {
      return windows
    }
  }
  const electron = {
    app: {
      isPackaged: true,
      userData: '/tmp/tfus-electron-test',
      whenReady: async () => {
        order.push('ready')
      },
      requestSingleInstanceLock: () => (order.push('requestSingleInstanceLock'), true),
      quit: () => {},
      getPath() {
        return this.userData
      },
      setPath(_name: string, value: string) {
        order.push('setPath')
        this.userData = value
      },
      on(event: string, l: Listener) {
        appListeners.set(event, [...(appListeners.get(event) ?? []), l])
      },
    },
    BrowserWindow,
    ipcMain: {
      handle: (channel: string, l: Listener) => handlers.set(channel, l),
      removeHandler: (channel: string) => handlers.delete(channel),
    },
    session: { defaultSession: session },
    protocol,
    shell: { openExternal: async () => {} },
    dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] as string[] }) },
  }
  return { electron, appListeners, handlers, windows, session, protocol, order, serviceOptions }
})

vi.mock('electron', () => mock.electron)
// The real back end, with the options the app gives it recorded.
vi.mock('../../../electron/app/service.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../electron/app/service.ts')>()
  return {
    ...real,
    createPlannerService: (options: Parameters<typeof real.createPlannerService>[0]) => {
      mock.serviceOptions.push({ ...options })
      return real.createPlannerService(options)
    },
  }
})

const { startElectronApp } = await import('../../../electron/main/main.ts')
const { secureWindowOptions, lockDownWebContents, appUrlMatcher } = await import('../../../electron/main/security.ts')
const { ipcHandler } = await import('../../../electron/main/ipc.ts')
const { APP_INDEX_URL, APP_SCHEME_PRIVILEGES, appProtocolHandler, resolveAppPath } = await import('../../../electron/main/app-protocol.ts')
const { dataLayout, resolveDataDir } = await import('../../../electron/adapters/db/data-dir.ts')
const { SimulationInputError } = await import('../../../core/solver/errors.ts')

const previousUmask = process.umask()
afterAll(() => void process.umask(previousUmask))
const scratch = mkdtempSync(path.join(tmpdir(), 'tfus-electron-main-'))
const rendererDir = path.join(scratch, 'renderer')
mkdirSync(path.join(rendererDir, 'assets'), { recursive: true })
writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><html><head></head><body></body></html>')
writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)')
writeFileSync(path.join(scratch, 'secret.txt'), 'not part of the app')
const paths = { rendererDir, preload: '/opt/tfus/dist/electron/preload.cjs' }
const appUrl = 'app://planner/index.html'

describe('Electron security baseline', () => {
  beforeEach(() => {
    mock.windows.length = 0
    mock.handlers.clear()
    mock.appListeners.clear()
    mock.order.length = 0
    mock.serviceOptions.length = 0
    mock.protocol.schemes.length = 0
    mock.protocol.handlers.clear()
    mock.electron.app.userData = path.join(scratch, `electron-default-${Math.random().toString(36).slice(2)}`)
  })

  test('secureWindowOptions: isolation, sandbox, no Node, no webview', () => {
    const o = secureWindowOptions('/p/preload.cjs')
    expect(o).toMatchObject({
      preload: '/p/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      devTools: false,
    })
  })

  test('the app (through the mocked electron module) opens its window with the baseline and registers every API method', async () => {
    await startElectronApp(undefined, paths, { TFUS_DATA_DIR: path.join(scratch, 'data-baseline') })
    expect(mock.windows).toHaveLength(1)
    const prefs = (mock.windows[0]!.options as { webPreferences: Record<string, unknown> }).webPreferences
    expect(prefs).toEqual(secureWindowOptions(paths.preload))
    const { PLANNER_METHODS } = await import('../../../core/contracts/api.ts')
    expect([...mock.handlers.keys()].sort()).toEqual(PLANNER_METHODS.map((m) => `tfus:${m}`).sort())
    // Permission requests and checks are denied.
    let granted: boolean | undefined
    mock.session.permissionRequest!(null, 'media', (g: boolean) => (granted = g))
    expect(granted).toBe(false)
    expect(mock.session.permissionCheck!(null, 'geolocation')).toBe(false)
    // Every response carries the strict CSP.
    let headers: Record<string, string[]> | undefined
    mock.session.headers!({ responseHeaders: { a: ['b'] } }, (r: { responseHeaders: Record<string, string[]> }) => (headers = r.responseHeaders))
    expect(headers!['Content-Security-Policy']![0]).toContain("script-src 'self'")
    expect(headers!['Content-Security-Policy']![0]).not.toContain('unsafe-eval')
    // New webContents get the navigation rules.
    const created = mock.appListeners.get('web-contents-created')
    expect(created).toHaveLength(1)
  })

  test('new windows, navigation away and webviews are denied', () => {
    const on = new Map<string, Listener>()
    let openHandler: Listener | undefined
    const contents = { setWindowOpenHandler: (h: Listener) => (openHandler = h), on: (e: string, l: Listener) => on.set(e, l) }
    lockDownWebContents(contents as never, appUrlMatcher(appUrl))
    expect(openHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' })
    const nav = (url: string) => {
      let prevented = false
      on.get('will-navigate')!({ preventDefault: () => (prevented = true) }, url)
      return prevented
    }
    expect(nav('https://example.com/')).toBe(true)
    expect(nav('file:///etc/passwd')).toBe(true)
    // The built page on file:// is not the app either: the app is app://planner only.
    expect(nav('file:///opt/tfus/dist/renderer/index.html')).toBe(true)
    expect(nav('app://evil/index.html')).toBe(true)
    expect(nav('app://planner/assets/app.js')).toBe(true)
    expect(nav(`${appUrl}#reload`)).toBe(false)
    expect(appUrlMatcher()('app://planner/index.html?x=1')).toBe(true)
    expect(() => appUrlMatcher('file:///opt/tfus/dist/renderer/index.html')).toThrow(/file:/)
    let webviewPrevented = false
    on.get('will-attach-webview')!({ preventDefault: () => (webviewPrevented = true) })
    expect(webviewPrevented).toBe(true)
  })

  test('the page is app://planner/index.html through a privileged scheme registered before ready, never file://', async () => {
    await startElectronApp(undefined, paths, { TFUS_DATA_DIR: path.join(scratch, 'data-protocol') })
    expect(APP_INDEX_URL).toBe('app://planner/index.html')
    expect(mock.protocol.schemes).toEqual([{ scheme: 'app', privileges: APP_SCHEME_PRIVILEGES }])
    expect(APP_SCHEME_PRIVILEGES).toMatchObject({ standard: true, secure: true, bypassCSP: false, allowServiceWorkers: false, corsEnabled: false })
    const at = (step: string) => mock.order.indexOf(step)
    expect(at('registerSchemesAsPrivileged')).toBeGreaterThanOrEqual(0)
    expect(at('registerSchemesAsPrivileged')).toBeLessThan(at('ready'))
    expect(at('setPath')).toBeLessThan(at('requestSingleInstanceLock'))
    expect(at('protocol.handle')).toBeGreaterThan(at('ready'))
    expect(mock.order.filter((s) => s.startsWith('loadURL'))).toEqual(['loadURL app://planner/index.html'])
    // The installed handler serves the renderer folder, with the CSP, and nothing outside it.
    const handler = mock.protocol.handlers.get('app')!
    const page = await handler(new Request('app://planner/index.html'))
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(await page.text()).toContain('<!doctype html>')
    expect((await handler(new Request('app://planner/assets/app.js'))).status).toBe(200)
    expect((await handler(new Request('app://planner/assets/nope.js'))).status).toBe(404)
  })

  test('the app and the CLI use one database: <data>/plans.db (the app passes dataDir explicitly)', async () => {
    const env = { TFUS_DATA_DIR: path.join(scratch, 'data-shared') }
    await startElectronApp(undefined, paths, env)
    expect(mock.serviceOptions).toHaveLength(1)
    const options = mock.serviceOptions[0] as { dataDir: string; workDir: string }
    expect(options.dataDir).toBe(resolveDataDir(undefined, env))
    expect(dataLayout(options.dataDir).database).toBe(dataLayout(resolveDataDir(undefined, env)).database)
    expect(options.workDir).toBe(path.join(env.TFUS_DATA_DIR, 'app'))
    // The native dialog reaches the service as its picker.
    expect(typeof (mock.serviceOptions[0] as { pickPath?: unknown }).pickPath).toBe('function')
    // Electron's userData is the same folder, private.
    expect(mock.electron.app.userData).toBe(env.TFUS_DATA_DIR)
    expect(statSync(env.TFUS_DATA_DIR).mode & 0o777).toBe(0o700)
    expect(statSync(options.workDir).mode & 0o777).toBe(0o700)
  })

  test("the app's old database in Electron's own userData folder (<userData>/app/db) is moved to <data>/plans.db at start-up", async () => {
    const env = { TFUS_DATA_DIR: path.join(scratch, 'data-moved') }
    const oldDb = path.join(mock.electron.app.userData, 'app', 'db')
    mkdirSync(path.join(oldDb, 'blobs', 'ab'), { recursive: true })
    writeFileSync(path.join(oldDb, 'plans.db'), 'old database')
    writeFileSync(path.join(oldDb, 'blobs', 'ab', 'cdef'), 'blob')
    await startElectronApp(undefined, paths, env)
    expect(readFileSync(path.join(env.TFUS_DATA_DIR, 'plans.db'), 'utf8')).toBe('old database')
    expect(readFileSync(path.join(env.TFUS_DATA_DIR, 'blobs', 'ab', 'cdef'), 'utf8')).toBe('blob')
    expect(existsSync(path.join(oldDb, 'plans.db'))).toBe(false)
  })
})

describe('the IPC wrapper', () => {
  const mainFrame = { url: appUrl, parent: null }
  const ourContents = { mainFrame }
  const policy = { BrowserWindow: { fromWebContents: (wc: unknown) => (wc === ourContents ? ({} as never) : null) }, isAppUrl: appUrlMatcher(appUrl) }
  const calls: unknown[] = []
  const impl = {
    cancelPlan: async (p: { runId: string }) => {
      calls.push(p)
      return { cancelled: true }
    },
    listTransducers: async () => {
      throw new SimulationInputError('--transducer', 'resources/transducers/x.json: roc_m: must be positive')
    },
    capabilities: async () => {
      throw new Error('disk on fire')
    },
  } as never
  const event = (over: Partial<{ sender: unknown; senderFrame: unknown }> = {}) => ({ sender: ourContents, senderFrame: mainFrame, ...over }) as never

  test('a call from our window runs and is validated', async () => {
    const r = await ipcHandler(impl, 'cancelPlan', policy)(event(), { runId: 'abc' })
    expect(r).toEqual({ ok: true, result: { cancelled: true } })
    expect(calls).toEqual([{ runId: 'abc' }])
  })

  test('a wrong sender is rejected before the service runs', async () => {
    calls.length = 0
    const otherPage = await ipcHandler(impl, 'cancelPlan', policy)(event({ senderFrame: { url: 'https://evil.example/', parent: null } }), { runId: 'abc' })
    const subFrame = await ipcHandler(impl, 'cancelPlan', policy)(event({ senderFrame: { url: appUrl, parent: mainFrame } }), { runId: 'abc' })
    const foreignContents = { mainFrame: { url: appUrl, parent: null } }
    const notOurWindow = await ipcHandler(
      impl,
      'cancelPlan',
      policy,
    )(event({ sender: foreignContents, senderFrame: foreignContents.mainFrame }), { runId: 'abc' })
    const gone = await ipcHandler(impl, 'cancelPlan', policy)(event({ senderFrame: null }), { runId: 'abc' })
    for (const r of [otherPage, subFrame, notOurWindow, gone]) expect(r).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    expect(calls).toEqual([])
  })

  test('a bad payload is rejected with the field named', async () => {
    const r = await ipcHandler(impl, 'cancelPlan', policy)(event(), { runId: 42 })
    expect(r).toMatchObject({ ok: false, error: { code: 'bad-request', field: 'runId' } })
    const unknown = await ipcHandler(impl, 'rmRf', policy)(event(), {})
    expect(unknown).toMatchObject({ ok: false, error: { code: 'not-found' } })
  })

  test('errors come back serialized: name, code, field, no stack', async () => {
    const input = await ipcHandler(impl, 'listTransducers', policy)(event(), {})
    expect(input).toEqual({
      ok: false,
      error: { name: 'SimulationInputError', code: 'bad-request', field: '--transducer', message: expect.stringContaining('roc_m') },
    })
    const internal = await ipcHandler(impl, 'capabilities', policy)(event(), {})
    expect(internal).toEqual({ ok: false, error: { name: 'Error', code: 'internal', message: 'disk on fire' } })
    expect(JSON.stringify(internal)).not.toContain('at ')
    z.object({ ok: z.literal(false) }).parse(internal)
  })
})

describe('the preload bridge', () => {
  test('only contract methods reach IPC; listeners get payloads, not Electron events', async () => {
    const { createBridge } = await import('../../../electron/preload/bridge.ts')
    const invoked: unknown[][] = []
    const listeners = new Map<string, Listener>()
    const bridge = createBridge({
      invoke: async (...args: unknown[]) => (invoked.push(args), { ok: true, result: {} }),
      on: (c: string, l: Listener) => listeners.set(c, l),
      removeListener: (c: string) => listeners.delete(c),
    })
    await bridge.invoke('cancelPlan', { runId: 'x' })
    expect(invoked).toEqual([['tfus:cancelPlan', { runId: 'x' }]])
    expect(await bridge.invoke('__proto__', {})).toMatchObject({ ok: false, error: { code: 'not-found' } })
    expect(invoked).toHaveLength(1)
    const got: unknown[] = []
    const off = bridge.onEvent((e) => got.push(e))
    listeners.get('tfus:event')!({ senderId: 0, sender: 'electron internals' }, { type: 'log', line: 'hi' })
    expect(got).toEqual([{ type: 'log', line: 'hi' }])
    off()
    expect(listeners.size).toBe(0)
  })
})

describe('the app:// protocol: path resolution', () => {
  const root = '/opt/tfus/dist/renderer'
  test('a file inside the renderer folder resolves to its path', () => {
    expect(resolveAppPath(root, 'app://planner/index.html')).toBe(path.join(root, 'index.html'))
    expect(resolveAppPath(root, 'app://planner/')).toBe(path.join(root, 'index.html'))
    expect(resolveAppPath(root, 'app://planner')).toBe(path.join(root, 'index.html'))
    expect(resolveAppPath(root, 'app://planner/assets/app.js?v=1#x')).toBe(path.join(root, 'assets', 'app.js'))
    expect(resolveAppPath(root, 'APP://Planner/assets/a%20b.css')).toBe(path.join(root, 'assets', 'a b.css'))
  })

  test('.., encoded .., absolute paths, other hosts and schemes are refused', () => {
    for (const url of [
      'app://planner/../../etc/passwd',
      'app://planner/assets/../../../etc/passwd',
      'app://planner/assets/../index.html',
      'app://planner/./index.html',
      'app://planner/%2e%2e/%2e%2e/etc/passwd',
      'app://planner/%2E%2E/secret.txt',
      'app://planner/.%2e/secret.txt',
      'app://planner/..%2f..%2fetc%2fpasswd',
      'app://planner/assets%2F..%2F..%2Fsecret.txt',
      'app://planner/..%5c..%5csecret.txt',
      'app://planner//etc/passwd',
      'app://planner/%2Fetc%2Fpasswd',
      'app://planner/C:%5CWindows%5Cwin.ini',
      'app://planner/C:/Windows/win.ini',
      'app://planner/index.html%00.png',
      'app://planner/%E0%A4%A',
      'app://planner/assets/',
      'app://evil/index.html',
      'app://planner.evil/index.html',
      'file:///etc/passwd',
      'https://planner/index.html',
      '/etc/passwd',
    ])
      expect(resolveAppPath(root, url), url).toBeNull()
  })

  test('the handler never reads a refused path and answers 403', async () => {
    const read: string[] = []
    const handler = appProtocolHandler(rendererDir, async (f) => (read.push(f), new Uint8Array([1])))
    expect((await handler(new Request('app://planner/..%2fsecret.txt'))).status).toBe(403)
    expect((await handler(new Request('app://planner/assets%2F..%2F..%2Fsecret.txt'))).status).toBe(403)
    expect((await handler(new Request('app://planner/index.html', { method: 'POST', body: 'x' }))).status).toBe(405)
    expect(read).toEqual([])
    // A URL parser folds plain and %2e dot segments before the handler sees them (Chromium does
    // too): what is left is still inside the renderer folder.
    await handler(new Request('app://planner/%2e%2e/%2e%2e/secret.txt'))
    expect(read).toEqual([path.join(rendererDir, 'secret.txt')])
    // The real reader, on the real folder: the file beside the renderer folder stays out.
    const real = appProtocolHandler(rendererDir)
    expect((await real(new Request('app://planner/index.html'))).status).toBe(200)
    expect(existsSync(path.join(scratch, 'secret.txt'))).toBe(true)
    expect((await real(new Request('app://planner/..%2fsecret.txt'))).status).toBe(403)
  })
})
