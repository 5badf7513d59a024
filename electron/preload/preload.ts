/**
 * The preload script (bundled by scripts/start.mjs with esbuild into dist/electron/preload.cjs: a
 * sandboxed preload cannot import modules, only `require('electron')`).
 */
import { createBridge, type IpcRendererLike } from './bridge.ts'

interface PreloadElectron {
  readonly contextBridge: { exposeInMainWorld(key: string, api: unknown): void }
  readonly ipcRenderer: IpcRendererLike
}

// `electron` is an optional dependency without types here; the sandbox provides this require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { contextBridge, ipcRenderer } = require('electron') as PreloadElectron
contextBridge.exposeInMainWorld('tfusBridge', createBridge(ipcRenderer))
