// Development only (sources run through tsx: tests and `npm run` scripts): a worker thread starts
// without the TypeScript loader and the .wgsl text hook, so register both, then run the worker
// source named in the last argument (electron/adapters/app-paths.ts startWorker). The built
// application starts dist/node/<worker>.mjs directly and never loads this file.
import { register as registerHook } from 'node:module'
import { register } from 'tsx/esm/api'

registerHook('../adapters/wgsl-loader.mjs', import.meta.url)
register()
await import(process.argv[process.argv.length - 1])
