/**
 * The Electron main process as a composition root: single instance, security baseline, the
 * shared back end (electron/backend), the IPC wrapper, the window. Each step is a small module;
 * this file only wires them.
 */
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createPlannerService } from '../backend/service.ts'
import { loadElectron, type ElectronLike } from './electron-api.ts'
import { appUrlMatcher, applySecurityBaseline, secureWindowOptions } from './security.ts'
import { forwardEvents, registerIpc } from './ipc.ts'

const repoRoot = path.resolve(fileURLToPath(new URL('../../', import.meta.url)))

export interface AppPaths {
  readonly indexHtml: string
  readonly preload: string
}

export function defaultPaths(root = repoRoot): AppPaths {
  return { indexHtml: path.join(root, 'dist', 'renderer', 'index.html'), preload: path.join(root, 'dist', 'electron', 'preload.cjs') }
}

export async function startElectronApp(electron?: ElectronLike, paths: AppPaths = defaultPaths()): Promise<void> {
  const { app, BrowserWindow, ipcMain, session } = electron ?? (await loadElectron())
  if (!app.requestSingleInstanceLock()) return app.quit()
  await app.whenReady()
  const isAppUrl = appUrlMatcher(pathToFileURL(paths.indexHtml).href)
  applySecurityBaseline(app, session.defaultSession, isAppUrl)
  const service = createPlannerService({ host: 'electron', workDir: path.join(app.getPath('userData'), 'app') })
  registerIpc(ipcMain, service.impl, { BrowserWindow, isAppUrl })
  service.onEvent(forwardEvents(() => BrowserWindow.getAllWindows()))
  const win = new BrowserWindow({ width: 1400, height: 900, show: false, title: 'TFUS Planner', backgroundColor: '#14161b', webPreferences: secureWindowOptions(paths.preload, { devTools: !app.isPackaged }) })
  win.once('ready-to-show', () => win.show())
  await win.loadFile(paths.indexHtml)
  app.on('window-all-closed', () => app.quit())
  app.on('before-quit', () => void service.dispose())
}
