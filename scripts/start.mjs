#!/usr/bin/env node
// `npm start`: build the renderer when it is missing or older than its sources, then run the
// planner in Electron when its binary is installed, else in the browser fallback (a local
// server on 127.0.0.1 opened in the default browser; the URL is printed when none can be opened).
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire, register as registerHook } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)))
const rendererOut = path.join(root, 'dist', 'renderer', 'index.html')
const preloadOut = path.join(root, 'dist', 'electron', 'preload.cjs')

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

const electron = process.env.TFUS_FORCE_BROWSER === '1' ? null : electronBinary()
if (electron) {
  if (outdated(preloadOut, [path.join(root, 'electron', 'preload'), path.join(root, 'core', 'contracts')])) {
    // A sandboxed preload cannot import: it is bundled into one CommonJS file.
    run(process.execPath, [path.join(root, 'node_modules', 'esbuild', 'bin', 'esbuild'), 'electron/preload/preload.ts', '--bundle', '--format=cjs', '--platform=node', '--external:electron', `--outfile=${preloadOut}`, '--log-level=warning'])
  }
  process.stdout.write('Starting TFUS Planner (Electron)...\n')
  const child = spawn(electron, [path.join(root, 'electron', 'main', 'entry.mjs'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' })
  child.on('exit', (code) => process.exit(code ?? 0))
} else {
  process.stdout.write('Electron is not installed here: starting the browser mode.\n')
  registerHook('../electron/node/wgsl-loader.mjs', import.meta.url)
  const { register } = await import('tsx/esm/api')
  register()
  const { runBrowserFallback } = await import('../electron/server/main.ts')
  await runBrowserFallback(process.argv.slice(2))
}
