/**
 * The shipped CLI, server and workers run the build (dist/node, scripts/build.mjs): plain
 * JavaScript with no TypeScript loader. Each command here runs under a hook that fails any
 * import of a .ts file or of tsx, in the main thread and in every worker it starts.
 */
import { describe, expect, test } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

const root = path.resolve(import.meta.dirname, '../../..')
const hook = path.join(root, 'tests', 'helpers', 'no-typescript.mjs')

function tfus(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', hook, path.join(root, 'bin', 'tfus.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe('the built application runs without TypeScript', () => {
  test('the hook itself refuses TypeScript (the check can fail)', () => {
    const r = spawnSync(process.execPath, ['--import', hook, '--import', 'tsx', '-e', '0'], { cwd: root, encoding: 'utf8' })
    expect(r.status).not.toBe(0)
    expect(r.stderr).toContain('TypeScript at run time')
  })

  test('tfus info, and a strict-option refusal', () => {
    const info = tfus(['info', 'resources/samples/cranium-ct.nii.gz', '--json'])
    expect(info.err).toBe('')
    expect(info.code).toBe(0)
    expect(JSON.parse(info.out).dims).toEqual([256, 256, 108])
    const typo = tfus(['info', 'x', '--jsno'])
    expect(typo.code).toBe(2)
    expect(typo.err.trim()).toBe('tfus: unknown option --jsno for info (tfus info --help for usage)')
  })

  test('workers: the CPU solver team (tfus simulate) and the database worker (tfus db init)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tfus-built-'))
    try {
      const sim = tfus(['simulate', 'resources/scenes/layer-plane-wave.json', '--out', path.join(dir, 'sim'), '--backend', 'cpu'])
      expect(sim.err).not.toContain('TypeScript at run time')
      expect(sim.code).toBe(0)
      expect(sim.out).toContain('on CPU')
      const db = tfus(['db', 'init'], { TFUS_DATA_DIR: path.join(dir, 'data') })
      expect(db.code).toBe(0)
      expect(db.out).toContain('plan database ready')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
