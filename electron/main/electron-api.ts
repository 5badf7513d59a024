/**
 * The part of Electron's API the main process uses, typed here because the `electron` package is
 * an optional dependency (its binary cannot be downloaded everywhere; the browser fallback runs
 * without it). `loadElectron()` is the one place that imports it; every module receives what it
 * needs as parameters, which is also what lets the unit tests pass a mocked `electron`.
 */
export interface WebPreferencesLike {
  readonly preload: string
  readonly contextIsolation: true
  readonly sandbox: true
  readonly nodeIntegration: false
  readonly nodeIntegrationInWorker: false
  readonly nodeIntegrationInSubFrames: false
  readonly webviewTag: false
  readonly webSecurity: true
  readonly allowRunningInsecureContent: false
  readonly experimentalFeatures: false
  readonly enableBlinkFeatures: ''
  readonly spellcheck: false
  readonly devTools: boolean
}

export interface FrameLike {
  readonly url: string
  readonly parent: FrameLike | null
}

export interface WebContentsLike {
  readonly id: number
  readonly mainFrame: FrameLike
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' | 'allow' }): void
  on(event: 'will-navigate' | 'will-redirect', listener: (event: { preventDefault(): void }, url: string) => void): void
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): void
  send(channel: string, payload: unknown): void
  isDestroyed(): boolean
}

export interface IpcMainInvokeEventLike {
  readonly sender: WebContentsLike
  readonly senderFrame: FrameLike | null
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcMainInvokeEventLike, ...args: unknown[]) => Promise<unknown>): void
  removeHandler(channel: string): void
}

export interface SessionLike {
  setPermissionRequestHandler(handler: ((webContents: unknown, permission: string, callback: (granted: boolean) => void) => void) | null): void
  setPermissionCheckHandler(handler: ((webContents: unknown, permission: string) => boolean) | null): void
  webRequest: {
    onHeadersReceived(
      listener: (details: { responseHeaders?: Record<string, string[]> }, callback: (response: { responseHeaders?: Record<string, string[]> }) => void) => void,
    ): void
  }
}

export interface BrowserWindowLike {
  readonly webContents: WebContentsLike
  loadURL(url: string): Promise<void>
  once(event: 'ready-to-show', listener: () => void): void
  show(): void
}

export interface BrowserWindowConstructorLike {
  new (options: { width: number; height: number; show: boolean; title: string; backgroundColor: string; webPreferences: WebPreferencesLike }): BrowserWindowLike
  fromWebContents(contents: WebContentsLike): BrowserWindowLike | null
  getAllWindows(): BrowserWindowLike[]
}

export interface AppLike {
  whenReady(): Promise<void>
  on(event: 'web-contents-created', listener: (event: unknown, contents: WebContentsLike) => void): void
  on(event: 'window-all-closed' | 'before-quit', listener: () => void): void
  quit(): void
  getPath(name: 'userData'): string
  /** Before 'ready' only. */
  setPath(name: 'userData', value: string): void
  requestSingleInstanceLock(): boolean
  readonly isPackaged: boolean
}

/** Privileges of a custom scheme (Electron's CustomScheme['privileges']). */
export interface SchemePrivilegesLike {
  readonly standard?: boolean
  readonly secure?: boolean
  readonly bypassCSP?: boolean
  readonly allowServiceWorkers?: boolean
  readonly supportFetchAPI?: boolean
  readonly corsEnabled?: boolean
  readonly stream?: boolean
  readonly codeCache?: boolean
}

export interface ProtocolLike {
  /** Before 'ready' only. */
  registerSchemesAsPrivileged(schemes: { scheme: string; privileges: SchemePrivilegesLike }[]): void
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void
}

export interface ElectronLike {
  readonly app: AppLike
  readonly protocol: ProtocolLike
  readonly BrowserWindow: BrowserWindowConstructorLike
  readonly ipcMain: IpcMainLike
  readonly session: { readonly defaultSession: SessionLike }
  readonly shell: { openExternal(url: string): Promise<void> }
  /** Native open dialogs (optional in the type: test doubles may leave it out, and the app then offers typed paths only). */
  readonly dialog?: {
    showOpenDialog(
      window: BrowserWindowLike,
      options: { title: string; properties: ('openFile' | 'openDirectory' | 'createDirectory')[]; filters?: { name: string; extensions: string[] }[] },
    ): Promise<{ canceled: boolean; filePaths: string[] }>
  }
}

/** Imports `electron` (a non-literal specifier: the package may be absent where the CLI and the browser mode run). */
export async function loadElectron(): Promise<ElectronLike> {
  const name = 'electron'
  return (await import(/* @vite-ignore */ name)) as ElectronLike
}
