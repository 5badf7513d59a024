#!/usr/bin/env node
/**
 * Builds what the application runs, as plain JavaScript (esbuild), so that no TypeScript loader
 * runs in the CLI, the browser-mode server, the Electron app or their workers:
 *
 *   dist/node/cli.mjs, server.mjs, main.mjs   the three entry points (electron/{cli,server,main}/entry.ts)
 *   dist/node/<worker>.mjs                    one per electron/workers/*.ts
 *   dist/node/chunk-*.mjs                     code they share (ESM code splitting)
 *   dist/electron/preload.cjs                 Electron's sandboxed preload (one CommonJS file)
 *
 * Every file in dist/node/ sits two folders below the root, as electron/adapters/app-paths.ts does,
 * so resources/ and package.json are found the same way from the build and from the sources.
 * npm packages stay outside the bundle (imported from node_modules at run time: native add-ons,
 * WebAssembly pipelines and dawn.node are loaded by path). `.wgsl` shaders become their text.
 *
 *   node scripts/build.mjs            build (the `prepare` script runs it at `npm install`)
 *   node scripts/build.mjs --if-stale build only when a source is newer than the last build
 *
 * A build is written beside dist/node and swapped in whole: a process that starts during a
 * build runs the previous build or the new one, never half of each.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
/** The folders whose files go into the build: a change there makes the build stale. */
const SOURCE_DIRS = ['core', 'electron']
const SOURCE_FILE = /\.(ts|mts|mjs|wgsl|json)$/

function newestSource(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p))
    else if (SOURCE_FILE.test(entry.name)) newest = Math.max(newest, statSync(p).mtimeMs)
  }
  return newest
}

/** The newest modification time among the build's sources, or null where they are not here (an installed build). */
export function sourcesMtime(root = ROOT) {
  const dirs = SOURCE_DIRS.map((d) => path.join(root, d))
  if (!dirs.every((d) => existsSync(d))) return null
  return Math.max(...dirs.map(newestSource), statSync(path.join(root, 'package.json')).mtimeMs)
}

/** True when dist/node is missing, or older than its sources (when they are here). */
export function isStale(root = ROOT) {
  const info = path.join(root, 'dist', 'node', 'build-info.json')
  if (!existsSync(info)) return true
  const newest = sourcesMtime(root)
  if (newest === null) return false
  try {
    return JSON.parse(readFileSync(info, 'utf8')).sourcesMtime < newest
  } catch {
    return true
  }
}

const wgslAsText = {
  name: 'wgsl-as-text',
  setup(b) {
    b.onLoad({ filter: /\.wgsl$/ }, (args) => ({ contents: `export default ${JSON.stringify(readFileSync(args.path, 'utf8'))};`, loader: 'js' }))
  },
}

export function entryPoints(root = ROOT) {
  const workers = readdirSync(path.join(root, 'electron', 'workers')).filter((f) => f.endsWith('.ts'))
  return {
    cli: path.join(root, 'electron', 'cli', 'entry.ts'),
    server: path.join(root, 'electron', 'server', 'entry.ts'),
    main: path.join(root, 'electron', 'main', 'entry.ts'),
    ...Object.fromEntries(workers.map((f) => [f.replace(/\.ts$/, ''), path.join(root, 'electron', 'workers', f)])),
  }
}

/** Builds dist/node and dist/electron/preload.cjs. */
export async function build({ root = ROOT, log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  // esbuild is a development dependency: only a checkout that builds needs it.
  const esbuild = await import('esbuild')
  const started = Date.now()
  const mtime = sourcesMtime(root)
  const tmp = `${path.join(root, 'dist', 'node')}.tmp-${process.pid}`
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp, { recursive: true })
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: entryPoints(root),
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    packages: 'external',
    define: { __TFUS_BUILT__: 'true' },
    plugins: [wgslAsText],
    sourcemap: 'linked',
    logLevel: 'warning',
  })
  writeFileSync(path.join(tmp, 'build-info.json'), `${JSON.stringify({ sourcesMtime: mtime, builtAt: new Date().toISOString() })}\n`)
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: [path.join(root, 'electron', 'preload', 'preload.ts')],
    outfile: path.join(root, 'dist', 'electron', 'preload.cjs'),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    external: ['electron'],
    logLevel: 'warning',
  })
  const out = path.join(root, 'dist', 'node')
  const old = `${out}.old-${process.pid}`
  if (existsSync(out)) renameSync(out, old)
  renameSync(tmp, out)
  rmSync(old, { recursive: true, force: true })
  log(`built dist/node and dist/electron/preload.cjs in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ifStale = process.argv.includes('--if-stale')
  if (!ifStale || isStale()) await build()
}
