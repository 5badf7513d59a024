// Electron's entry: the main process runs the TypeScript sources through tsx (no build step for
// main, as for the CLI); .wgsl imports become text.
import { register as registerHook } from 'node:module'
import { register } from 'tsx/esm/api'

registerHook('../node/wgsl-loader.mjs', import.meta.url)
register()
const { startElectronApp } = await import('./main.ts')
await startElectronApp()
