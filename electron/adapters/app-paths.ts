/**
 * Where the application's own files are, and how its worker threads start, the same whether it
 * runs from the sources (development and tests, through tsx) or from the build in dist/node/
 * (the CLI, the browser-mode server and the Electron app; scripts/build.mjs).
 *
 * Both this file (electron/adapters/) and every built file (dist/node/, flat: entries and chunks)
 * sit two folders below the application's root, so one relative URL finds the root from either.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads'
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** Replaced by `true` in the build (esbuild `define`); absent when the sources run. */
declare const __TFUS_BUILT__: boolean | undefined

/** True in the built application (dist/node/), false when the TypeScript sources run. */
export const RUNNING_BUILT = typeof __TFUS_BUILT__ !== 'undefined' && __TFUS_BUILT__ === true

/** The application's root folder: package.json, resources/, dist/. */
export const APP_ROOT = path.resolve(fileURLToPath(new URL('../../', import.meta.url)))

/** A path under the application's root. */
export function appPath(...parts: string[]): string {
  return path.join(APP_ROOT, ...parts)
}

/**
 * Every worker thread the application starts: its source is electron/workers/<name>.ts and its
 * built entry dist/node/<name>.mjs (scripts/build.mjs builds one entry per file in electron/workers/).
 */
export type WorkerName = 'plan-worker' | 'preview-worker' | 'cpu-worker' | 'db-worker' | 'elastix-worker'

/**
 * Starts one of the application's workers. From the sources a worker thread has no TypeScript
 * loader, so it starts through electron/workers/dev-entry.mjs, which registers tsx and then
 * imports the source named in its last argument; the build needs neither.
 */
export function startWorker(name: WorkerName, options: WorkerOptions = {}): Worker {
  if (RUNNING_BUILT) return new Worker(new URL(`./${name}.mjs`, import.meta.url), options)
  const source = pathToFileURL(appPath('electron', 'workers', `${name}.ts`)).href
  return new Worker(new URL('../workers/dev-entry.mjs', import.meta.url), { ...options, argv: [...(options.argv ?? []), source] })
}
