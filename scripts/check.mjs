#!/usr/bin/env node
/**
 * `npm run check`: the static checks, each run to the end so one run lists every problem.
 *
 *   tsc        the root project (core, electron, tests, scripts), strict
 *   vue-tsc    the renderer (renderer/tsconfig.json)
 *   eslint     the whole tree: layering, TypeScript, eslint-plugin-vue over renderer .vue files
 *   prettier   `prettier --check .` (the style; `npm run format` rewrites)
 *   black      `black --check training` (line length in training/pyproject.toml)
 *   flake8     `flake8 training` (config in training/.flake8)
 *
 * black and flake8 are Debian packages (`apt-get install black flake8`), which .ci/run installs.
 * Outside CI a missing one is reported on one line and not counted as a failure; under CI (CI set
 * and not 0/false) it is a failure. Exits 1 when any check fails.
 */
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '..')
const IN_CI = !!process.env.CI && !/^(0|false)$/i.test(process.env.CI)
const PYTHON = process.env.TFUS_PYTHON ?? '/usr/bin/python3'
const bin = (pkg, file) => path.join(ROOT, 'node_modules', pkg, file)

const checks = [
  { name: 'tsc', cmd: process.execPath, args: [bin('typescript', 'bin/tsc'), '--noEmit', '-p', 'tsconfig.json'] },
  { name: 'vue-tsc', cmd: process.execPath, args: [bin('vue-tsc', 'bin/vue-tsc.js'), '--noEmit', '-p', 'renderer/tsconfig.json'] },
  { name: 'eslint', cmd: process.execPath, args: [bin('eslint', 'bin/eslint.js'), '.'] },
  { name: 'prettier', cmd: process.execPath, args: [bin('prettier', 'bin/prettier.cjs'), '--check', '--log-level', 'warn', '.'] },
  { name: 'black', cmd: PYTHON, args: ['-m', 'black', '--check', '--quiet', 'training'], python: 'black' },
  { name: 'flake8', cmd: PYTHON, args: ['-m', 'flake8', '--config', 'training/.flake8', 'training'], python: 'flake8' },
]

const only = process.argv.slice(2)
const failed = []
for (const c of checks) {
  if (only.length > 0 && !only.includes(c.name)) continue
  if (c.python && spawnSync(PYTHON, ['-c', `import ${c.python}`], { stdio: 'ignore' }).status !== 0) {
    const line = `check: ${c.name}: ${PYTHON} cannot import ${c.python} (apt-get install ${c.python})`
    if (IN_CI) {
      console.log(`${line}: FAILED (CI installs it)`)
      failed.push(c.name)
    } else console.log(`${line}: not run`)
    continue
  }
  const started = Date.now()
  const r = spawnSync(c.cmd, c.args, { cwd: ROOT, stdio: 'inherit' })
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  if (r.status === 0) console.log(`check: ${c.name} clean (${seconds} s)`)
  else {
    console.log(`check: ${c.name} FAILED (${r.error ? r.error.message : `exit ${r.status}`}, ${seconds} s)`)
    failed.push(c.name)
  }
}
console.log(failed.length === 0 ? 'check: all clean' : `check: ${failed.length} failed: ${failed.join(', ')}`)
process.exit(failed.length === 0 ? 0 : 1)
