#!/usr/bin/env node
/**
 * Builds the native CPU kernels (native/: the solver's FFT and fused step kernels in C++) with
 * node-gyp, from source, as better-sqlite3 builds at `npm install`. Runs from the `install`
 * script; also `npm run build:native`.
 *
 * A machine without a C++ compiler (or with TFUS_SKIP_NATIVE=1) still installs: the build is
 * skipped with one line saying so, and the solver runs its TypeScript kernels (slower, same
 * results). The add-on uses Node-API, whose ABI is stable, so the same build loads in Node, in
 * worker threads and in Electron.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import * as path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const NATIVE = path.join(ROOT, 'native')
const OUTPUT = path.join(NATIVE, 'build', 'Release', 'tfus_native.node')

/** node-gyp: the one npm runs scripts with, a local install, or the one bundled with npm. */
function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp]
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'))
  } catch {
    // not installed locally
  }
  const prefix = path.resolve(path.dirname(process.execPath), '..')
  candidates.push(
    path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  )
  return candidates.find((c) => c && existsSync(c))
}

function skip(why) {
  process.stderr.write(`tfus: native CPU kernels not built (${why}); the solver will use its TypeScript kernels (slower, same results)\n`)
  process.exit(0)
}

if (process.env.TFUS_SKIP_NATIVE === '1') skip('TFUS_SKIP_NATIVE=1')
const nodeGyp = findNodeGyp()
if (!nodeGyp) skip('node-gyp not found')
// A failed build must not leave an older add-on that no longer matches the sources.
rmSync(OUTPUT, { force: true })
const started = performance.now()
const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--release'], { cwd: NATIVE, encoding: 'utf8', timeout: 600_000 })
if (result.status !== 0 || !existsSync(OUTPUT)) {
  const lines = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.split('\n').filter((l) => /error/i.test(l))
  skip(lines.slice(0, 3).join(' | ').trim() || (result.error ? result.error.message : `node-gyp exited with ${result.status}`))
}
process.stderr.write(`built ${path.relative(ROOT, OUTPUT)} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
