// As plan-worker-bootstrap.mjs: the TypeScript loader and the .wgsl hook, then the preview worker.
import { register as registerHook } from 'node:module'
import { register } from 'tsx/esm/api'

registerHook('../node/wgsl-loader.mjs', import.meta.url)
register()
await import('./preview-worker.ts')
