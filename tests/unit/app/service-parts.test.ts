/**
 * The planner service's parts, each on its own: run folders (removed when retired, never outside
 * runs/ nor when the database refers to a file in them, the session's leftovers on close), the
 * result volumes' LRU (a volume evicted is read again, a dropped run's volumes are unknown) and
 * upload folders (kept while read, removed when their image closes).
 */
import { afterAll, describe, expect, test } from 'vitest'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { BackgroundWork } from '../../../electron/app/background.ts'
import { isInside, RunFolders } from '../../../electron/app/run-folders.ts'
import { ResultVolumes } from '../../../electron/app/result-volumes.ts'
import { UploadFolders } from '../../../electron/app/uploads.ts'
import type { PlanRun } from '../../../electron/app/plan-runs.ts'
import type { PlanInput } from '../../../electron/app/pipeline/index.ts'
import { IDENTITY3, type Volume } from '../../../core/volume/types.ts'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tfus-service-parts-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

function folderWithPlan(dir: string): string {
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'plan.json'), '{}')
  return dir
}

/** A finished run whose worker has exited, writing into `outDir`. */
function finishedRun(runId: string, outDir: string): PlanRun {
  const state = { status: 'failed' as const, error: { name: 'Error', message: 'x', code: 'failed' } }
  return { runId, input: { outDir } as PlanInput, startedAt: 0, state, finished: Promise.resolve(state), exited: Promise.resolve() }
}

function runFolders(runsDir: string, referenced: (folder: string) => boolean = () => false) {
  const lines: string[] = []
  const forgotten: string[] = []
  const dropped: string[] = []
  const background = new BackgroundWork((line) => lines.push(line))
  const folders = new RunFolders({
    runsDir,
    background,
    referencedByDatabase: async (folder) => referenced(folder),
    beforeRemove: (runId) => dropped.push(runId),
    forget: (run) => forgotten.push(run.runId),
    report: (line) => lines.push(line),
  })
  return { folders, background, lines, forgotten, dropped }
}

describe('run folders', () => {
  test('a retired run loses its folder and a temporary sibling once its readers settle; then it is forgotten', async () => {
    const runsDir = path.join(root, 'a', 'runs')
    const dir = folderWithPlan(path.join(runsDir, 'run-1'))
    folderWithPlan(path.join(runsDir, '.run-1.partial-1'))
    const keep = folderWithPlan(path.join(runsDir, 'run-2'))
    const { folders, background, forgotten, dropped } = runFolders(runsDir)
    let release!: () => void
    const reader = folders.reading('r1', () => new Promise<void>((r) => (release = r)))
    folders.retire(finishedRun('r1', dir), 'a newer plan run replaced it')
    expect(folders.removedReason('r1')).toBe('a newer plan run replaced it')
    await new Promise((r) => setTimeout(r, 50))
    expect(fs.existsSync(dir)).toBe(true) // still read
    release()
    await reader
    await background.settle()
    await new Promise((r) => setImmediate(r))
    expect(fs.readdirSync(runsDir)).toEqual([path.basename(keep)])
    expect(dropped).toEqual(['r1'])
    expect(forgotten).toEqual(['r1'])
  })

  test('a folder outside runs/ is never removed, nor one the plan database refers to; each says why', async () => {
    const runsDir = path.join(root, 'b', 'runs')
    const users = folderWithPlan(path.join(root, 'b', 'my-plan'))
    const imported = folderWithPlan(path.join(runsDir, 'run-imported'))
    const { folders, background, lines } = runFolders(runsDir, (folder) => folder === imported)
    folders.retire(finishedRun('u', users), 'superseded')
    folders.retire(finishedRun('i', imported), 'superseded')
    await background.settle()
    expect(fs.existsSync(path.join(users, 'plan.json'))).toBe(true)
    expect(fs.existsSync(path.join(imported, 'plan.json'))).toBe(true)
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/kept .*my-plan: not a run folder of this planner/),
        expect.stringMatching(/kept .*run-imported: the plan database refers to a file in it/),
      ]),
    )
  })

  test("on close, the session's own entries in runs/ go (transform files, comparison folders); a neighbour's stay", async () => {
    const runsDir = path.join(root, 'c', 'runs')
    folderWithPlan(path.join(runsDir, 's1-aaaaaaaa-compare'))
    fs.writeFileSync(path.join(runsDir, 's1-aaaaaaaa-x.registration.json'), '{}')
    folderWithPlan(path.join(runsDir, '.s1-aaaaaaaa-y.partial-3'))
    folderWithPlan(path.join(runsDir, 's2-bbbbbbbb-other'))
    const { folders } = runFolders(runsDir)
    await folders.removeSessionEntries('s1-aaaaaaaa')
    expect(fs.readdirSync(runsDir)).toEqual(['s2-bbbbbbbb-other'])
  })

  test('isInside: strictly inside, never the folder itself, a sibling with the same prefix or a parent', () => {
    expect(isInside('/w/runs', '/w/runs/a')).toBe(true)
    expect(isInside('/w/runs', '/w/runs/a/b')).toBe(true)
    expect(isInside('/w/runs', '/w/runs')).toBe(false)
    expect(isInside('/w/runs', '/w/runs-old/a')).toBe(false)
    expect(isInside('/w/runs', '/w/runs/../exports/a')).toBe(false)
    expect(isInside('/w/runs', '/w')).toBe(false)
  })
})

function volume(value: number): Volume {
  return {
    data: new Float32Array([value]),
    dims: [1, 1, 1],
    spacingM: [1e-3, 1e-3, 1e-3],
    originM: [0, 0, 0],
    direction: IDENTITY3,
    meta: { modality: 'OT' },
    warnings: [],
  }
}

describe('result volumes', () => {
  test('loaded volumes are an LRU: the least recently used beyond the bound is read again', async () => {
    const volumes = new ResultVolumes(2)
    const loads: string[] = []
    for (const id of ['a', 'b', 'c']) {
      volumes.set(id, async () => {
        loads.push(id)
        return volume(id.charCodeAt(0))
      })
    }
    await volumes.get('a')
    await volumes.get('b')
    await volumes.get('a') // a is the most recent now
    await volumes.get('c') // evicts b
    await volumes.get('a')
    await volumes.get('b')
    expect(loads).toEqual(['a', 'b', 'c', 'b'])
    expect(volumes.get('unknown')).toBeUndefined()
  })

  test("a dropped run's volumes are unknown; a failed load is not cached", async () => {
    const volumes = new ResultVolumes()
    let fail = true
    volumes.addRun('r', path.join(root, 'no-such-run'), (work) => work())
    volumes.set('flaky', async () => {
      if (fail) throw new Error('not yet')
      return volume(1)
    })
    await expect(volumes.get('flaky')).rejects.toThrow('not yet')
    fail = false
    expect((await volumes.get('flaky'))!.data[0]).toBe(1)
    expect(volumes.get('pressure-r')).toBeDefined()
    await volumes.get('pressure-r')!.catch(() => undefined)
    volumes.dropRun('r')
    expect(volumes.get('pressure-r')).toBeUndefined()
    expect(volumes.get('brain-pressure-r')).toBeUndefined()
    expect(volumes.get('temperature-rise-r')).toBeUndefined()
  })
})

describe('upload folders', () => {
  test('an upload whose image closes while a run reads it goes when the run lets go; otherwise at once', async () => {
    const background = new BackgroundWork(() => {})
    const uploads = new UploadFolders(background)
    const read = folderWithPlan(path.join(root, 'uploads', 'read'))
    const idle = folderWithPlan(path.join(root, 'uploads', 'idle'))
    const release = uploads.use(read, undefined)
    uploads.imageClosed(read)
    uploads.imageClosed(idle)
    await background.settle()
    expect(fs.existsSync(read)).toBe(true)
    expect(fs.existsSync(idle)).toBe(false)
    release()
    release() // twice is once
    await background.settle()
    expect(fs.existsSync(read)).toBe(false)
  })
})
