/**
 * The Electron main process as a composition root: single instance, security baseline, the
 * shared back end (electron/app), the IPC wrapper, the window. Each step is a small module;
 * this file only wires them.
 *
 * Data: the same folder as the `tfus` CLI (resolveDataDir: $TFUS_DATA_DIR, else the user-data
 * folder), which also becomes Electron's userData; one plan database, `<data>/plans.db`; the
 * app's scratch files in `<data>/app`. Everything is created private (umask 077, folder 0700).
 * The page is served as app://planner/index.html from dist/renderer (app-protocol.ts), never
 * from file://.
 */
import * as path from 'node:path'
import { createPlannerService, type PathPickKind } from '../app/service.ts'
import { appWorkDir, legacyAppDatabaseDir, prepareDataDir, resolveDataDir } from '../adapters/db/data-dir.ts'
import { ensurePrivateDir, restrictUmask } from '../adapters/private-dir.ts'
import { loadElectron, type AppLike, type BrowserWindowLike, type ElectronLike } from './electron-api.ts'
import { appUrlMatcher, applySecurityBaseline, secureWindowOptions } from './security.ts'
import { forwardEvents, registerIpc } from './ipc.ts'
import { APP_INDEX_URL, handleAppProtocol, registerAppScheme } from './app-protocol.ts'
import { APP_ROOT } from '../adapters/app-paths.ts'

export interface AppPaths {
  /** The built renderer (dist/renderer): the only folder app:// serves. */
  readonly rendererDir: string
  readonly preload: string
}

export function defaultPaths(root = APP_ROOT): AppPaths {
  return { rendererDir: path.join(root, 'dist', 'renderer'), preload: path.join(root, 'dist', 'electron', 'preload.cjs') }
}

export interface ElectronStorage {
  /** The data folder shared with the CLI: `<data>/plans.db` is the plan database. */
  readonly dataDir: string
  /** `<data>/app`: uploads, runs, exports. */
  readonly workDir: string
  /** Where earlier versions kept the app's database (moved into dataDir once). */
  readonly legacyDatabaseDirs: readonly string[]
}

/** The app's folders; call before app.setPath('userData'): Electron's own default userData is where older versions kept their data. */
export function electronStorage(app: Pick<AppLike, 'getPath'>, env: NodeJS.ProcessEnv = process.env): ElectronStorage {
  const dataDir = resolveDataDir(null, env)
  const electronDefault = app.getPath('userData')
  return { dataDir, workDir: appWorkDir(dataDir), legacyDatabaseDirs: [...new Set([legacyAppDatabaseDir(dataDir), legacyAppDatabaseDir(electronDefault)])] }
}

export async function startElectronApp(electron?: ElectronLike, paths: AppPaths = defaultPaths(), env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // Before anything is written: uploads, runs, exports, the database are the user's only.
  restrictUmask()
  const { app, BrowserWindow, ipcMain, session, protocol, dialog } = electron ?? (await loadElectron())
  // Before 'ready' (Electron refuses it later); the handler is installed after.
  registerAppScheme(protocol)
  const storage = electronStorage(app, env)
  // One folder for the app, its Chromium profile and the CLI (the single-instance lock lives there too).
  app.setPath('userData', storage.dataDir)
  if (!app.requestSingleInstanceLock()) return app.quit()
  // Only the instance that runs moves an old database in: nothing has it open yet.
  for (const line of prepareDataDir(storage.dataDir, storage.legacyDatabaseDirs)) process.stdout.write(`${line}\n`)
  ensurePrivateDir(storage.workDir)
  await app.whenReady()
  handleAppProtocol(protocol, paths.rendererDir)
  const isAppUrl = appUrlMatcher(APP_INDEX_URL)
  applySecurityBaseline(app, session.defaultSession, isAppUrl)
  const service = createPlannerService({
    host: 'electron',
    workDir: storage.workDir,
    dataDir: storage.dataDir,
    ...(dialog ? { pickPath: nativePicker(dialog, () => BrowserWindow.getAllWindows()[0]) } : {}),
  })
  registerIpc(ipcMain, service.impl, { BrowserWindow, isAppUrl })
  service.onEvent(forwardEvents(() => BrowserWindow.getAllWindows()))
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    show: false,
    title: 'TFUS Planner',
    backgroundColor: '#14161b',
    webPreferences: secureWindowOptions(paths.preload, { devTools: !app.isPackaged }),
  })
  win.once('ready-to-show', () => win.show())
  await win.loadURL(APP_INDEX_URL)
  app.on('window-all-closed', () => app.quit())
  app.on('before-quit', () => void service.dispose())
}

/** The native picker the service offers the renderer (pickPath): Electron's open dialog on the app window. */
export function nativePicker(dialog: NonNullable<ElectronLike['dialog']>, window: () => BrowserWindowLike | undefined) {
  const options = {
    'image-file': {
      title: 'Open an image (NIfTI, NRRD, MHA, DICOM file)',
      properties: ['openFile' as const],
      filters: [{ name: 'Images', extensions: ['nii', 'gz', 'nrrd', 'nhdr', 'mha', 'mhd', 'dcm'] }],
    },
    'dicom-folder': { title: 'Open a DICOM series folder', properties: ['openDirectory' as const] },
    'export-folder': { title: 'Export into this folder', properties: ['openDirectory' as const, 'createDirectory' as const] },
    'campaign-folder': { title: 'Open a campaign folder (tfus campaign plan --dir)', properties: ['openDirectory' as const] },
  }
  return async (kind: PathPickKind): Promise<string | null> => {
    const win = window()
    if (!win) return null
    const r = await dialog.showOpenDialog(win, options[kind])
    return r.canceled ? null : (r.filePaths[0] ?? null)
  }
}
