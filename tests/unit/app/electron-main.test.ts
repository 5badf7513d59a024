/**
 * The Electron security baseline and the IPC wrapper, with `electron` mocked (vi.mock): the real
 * binary is not installed here, and these checks must not need it.
 */
import { beforeEach, describe, expect, test, vi } from 'vitest'
import { z } from 'zod'

type Listener = (...args: unknown[]) => unknown

const mock = vi.hoisted(() => {
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
    loadFile = async (file: string) => {
      this.webContents.mainFrame.url = new URL(`file://${file}`).href
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
      whenReady: async () => {},
      requestSingleInstanceLock: () => true,
      quit: () => {},
      getPath: () => '/tmp/tfus-electron-test',
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
    shell: { openExternal: async () => {} },
  }
  return { electron, appListeners, handlers, windows, session }
})

vi.mock('electron', () => mock.electron)

const { startElectronApp } = await import('../../../electron/main/main.ts')
const { secureWindowOptions, lockDownWebContents, appUrlMatcher } = await import('../../../electron/main/security.ts')
const { ipcHandler } = await import('../../../electron/main/ipc.ts')
const { SimulationInputError } = await import('../../../core/solver/errors.ts')

const paths = { indexHtml: '/opt/tfus/dist/renderer/index.html', preload: '/opt/tfus/dist/electron/preload.cjs' }
const appUrl = 'file:///opt/tfus/dist/renderer/index.html'

describe('Electron security baseline', () => {
  beforeEach(() => {
    mock.windows.length = 0
    mock.handlers.clear()
    mock.appListeners.clear()
  })

  test('secureWindowOptions: isolation, sandbox, no Node, no webview', () => {
    const o = secureWindowOptions('/p/preload.cjs')
    expect(o).toMatchObject({ preload: '/p/preload.cjs', contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false, webviewTag: false, webSecurity: true, allowRunningInsecureContent: false, devTools: false })
  })

  test('the app (through the mocked electron module) opens its window with the baseline and registers every API method', async () => {
    await startElectronApp(undefined, paths)
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
    expect(nav(`${appUrl}#reload`)).toBe(false)
    let webviewPrevented = false
    on.get('will-attach-webview')!({ preventDefault: () => (webviewPrevented = true) })
    expect(webviewPrevented).toBe(true)
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
    const notOurWindow = await ipcHandler(impl, 'cancelPlan', policy)(event({ sender: foreignContents, senderFrame: foreignContents.mainFrame }), { runId: 'abc' })
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
    expect(input).toEqual({ ok: false, error: { name: 'SimulationInputError', code: 'bad-request', field: '--transducer', message: expect.stringContaining('roc_m') } })
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
