// Worker threads start without the TypeScript loader or the .wgsl hook (the WebGPU backend
// imports its kernels as text): register both, then run the plan worker.
import { register as registerHook } from 'node:module'
import { register } from 'tsx/esm/api'

registerHook('../node/wgsl-loader.mjs', import.meta.url)
register()
await import('./plan-worker.ts')
