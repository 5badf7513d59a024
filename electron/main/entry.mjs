// Electron's entry: the main process runs the TypeScript sources through tsx (no build step for
// main, as for the CLI); .wgsl imports become text.
import { register as registerHook } from 'node:module'
import { register } from 'tsx/esm/api'

// Before anything is written: what this process creates is the user's only (folders 0700, files
// 0600). startElectronApp sets it again (electron/node/private-dir.ts restrictUmask).
if (process.platform !== 'win32') process.umask(0o077)
registerHook('../node/wgsl-loader.mjs', import.meta.url)
register()
const { startElectronApp } = await import('./main.ts')
await startElectronApp()
