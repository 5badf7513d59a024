/**
 * Opening the plan store empties `blobs/tmp` of what interrupted writes left there, but leaves
 * the temp files of a writer that still runs (the app and the CLI may share a data folder).
 */
import { afterEach, expect, test } from 'vitest'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { PlanStoreEngine } from '../../../electron/adapters/db/engine.ts'
import { openPlanStore } from '../../../electron/adapters/db/client.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

/** The pid of a process that has exited. */
function exitedPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(child.stdout)
}

function seed(dataDir: string, livePid: number): { stale: string[]; live: string[] } {
  const tmp = path.join(dataDir, 'blobs', 'tmp')
  fs.mkdirSync(tmp, { recursive: true })
  const name = (pid: number, i: number) => `${'0123456789abcdef'}.${pid}.${i.toString(16).padStart(12, '0')}`
  const stale = [name(exitedPid(), 1), name(999_999_999, 2), 'left-by-an-older-version']
  const live = [name(livePid, 3), name(process.pid, 4)]
  for (const f of [...stale, ...live]) fs.writeFileSync(path.join(tmp, f), 'partial blob')
  return { stale, live }
}

test('the engine removes temp files of writers that are gone and keeps those of live ones', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfus-blob-tmp-'))
  dirs.push(dataDir)
  // pid 1 always runs: a writer in another process.
  const { live } = seed(dataDir, 1)
  const engine = await PlanStoreEngine.open(dataDir)
  try {
    expect(fs.readdirSync(path.join(dataDir, 'blobs', 'tmp')).sort()).toEqual([...live].sort())
    expect(engine.check().tempFiles).toBe(2)
  } finally {
    engine.close()
  }
})

test('openPlanStore (the worker) does the same', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfus-blob-tmp-'))
  dirs.push(dataDir)
  const { live } = seed(dataDir, 1)
  const store = await openPlanStore(dataDir)
  try {
    expect(fs.readdirSync(path.join(dataDir, 'blobs', 'tmp')).sort()).toEqual([...live].sort())
  } finally {
    await store.close()
  }
})
