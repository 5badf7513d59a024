#!/usr/bin/env node
// `npm start`: build the renderer when it is missing or older than its sources, then run the
// planner in Electron when its binary is installed, else in the browser fallback (a local
// server on 127.0.0.1 opened in the default browser; the URL is printed when none can be opened).
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)))
const rendererOut = path.join(root, 'dist', 'renderer', 'index.html')

function newestMtime(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

function outdated(output, sources) {
  if (!existsSync(output)) return true
  const built = statSync(output).mtimeMs
  return sources.some((s) => existsSync(s) && (statSync(s).isDirectory() ? newestMtime(s) : statSync(s).mtimeMs) > built)
}

function run(command, args) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
  if (r.status !== 0) {
    process.stderr.write(`${command} ${args.join(' ')} failed (exit ${r.status})\n`)
    process.exit(r.status ?? 1)
  }
}

const rendererSources = [path.join(root, 'renderer'), path.join(root, 'core', 'contracts')]
if (outdated(rendererOut, rendererSources)) {
  process.stdout.write('Building the renderer (vite build)...\n')
  run(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'])
}

/** The Electron binary's path when the optional dependency and its download are present. */
function electronBinary() {
  try {
    const p = createRequire(import.meta.url)('electron')
    return typeof p === 'string' && existsSync(p) ? p : null
  } catch {
    return null
  }
}

// The main process, the server and their workers run from dist/node (scripts/build.mjs), remade
// here when a source is newer than the last build.
const { isStale, build } = await import('./build.mjs')
if (isStale()) {
  process.stdout.write('Building the application (esbuild)...\n')
  await build({ log: () => {} })
}

const electron = process.env.TFUS_FORCE_BROWSER === '1' ? null : electronBinary()
if (electron) {
  process.stdout.write('Starting TFUS Planner (Electron)...\n')
  const child = spawn(electron, [path.join(root, 'dist', 'node', 'main.mjs'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' })
  child.on('exit', (code) => process.exit(code ?? 0))
} else {
  process.stdout.write('Electron is not installed here: starting the browser mode.\n')
  await import('../dist/node/server.mjs')
}
