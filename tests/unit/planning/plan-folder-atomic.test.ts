/**
 * Issue 13: a plan that failed at the end left a complete-looking folder (volumes, no
 * plan.json). Plan folders are now built in a hidden sibling and renamed into place when
 * complete, and --out is checked before any simulation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { replaceFolderAtomically } from '../../../electron/adapters/atomic-file.ts'
import { checkPlanOutDir, runPlanPipeline } from '../../../electron/app/pipeline/index.ts'
import { SimulationInputError } from '../../../core/solver/errors.ts'
import { DEFAULT_PULSE_TIMING } from '../../../core/planning/metrics.ts'

let root: string
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-plan-folder-'))
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

async function fresh(name: string): Promise<string> {
  const parent = path.join(root, name)
  await fs.mkdir(parent)
  return parent
}

describe('replaceFolderAtomically', () => {
  it('a failure part way leaves nothing: no target, no temporary sibling', async () => {
    const parent = await fresh('fails')
    const target = path.join(parent, 'plan')
    await expect(
      replaceFolderAtomically(target, async (tmp) => {
        await fs.writeFile(path.join(tmp, 'pressure.nii.gz'), 'x')
        throw new Error('metrics record did not validate')
      }),
    ).rejects.toThrow(/did not validate/)
    expect(await fs.readdir(parent)).toEqual([])
  })

  it('the target appears only complete, and replaces an older folder as a whole', async () => {
    const parent = await fresh('replaces')
    const target = path.join(parent, 'plan')
    await fs.mkdir(target)
    await fs.writeFile(path.join(target, 'plan.json'), 'old')
    await fs.writeFile(path.join(target, 'thermal.json'), 'stale')
    const value = await replaceFolderAtomically(target, async (tmp) => {
      // While it is being written the old folder is still there, untouched.
      expect(await fs.readFile(path.join(target, 'plan.json'), 'utf8')).toBe('old')
      await fs.writeFile(path.join(tmp, 'plan.json'), 'new')
      return 42
    })
    expect(value).toBe(42)
    expect(await fs.readdir(target)).toEqual(['plan.json'])
    expect(await fs.readFile(path.join(target, 'plan.json'), 'utf8')).toBe('new')
    expect(await fs.readdir(parent)).toEqual(['plan'])
  })

  it('a failure keeps the older folder as it was', async () => {
    const parent = await fresh('keeps')
    const target = path.join(parent, 'plan')
    await fs.mkdir(target)
    await fs.writeFile(path.join(target, 'plan.json'), 'old')
    await expect(replaceFolderAtomically(target, () => Promise.reject(new Error('disk full')))).rejects.toThrow(/disk full/)
    expect(await fs.readFile(path.join(target, 'plan.json'), 'utf8')).toBe('old')
    expect(await fs.readdir(parent)).toEqual(['plan'])
  })
})

describe('checkPlanOutDir', () => {
  it('accepts a new folder, an empty one and a plan folder; refuses files, folders under files and folders of other things', async () => {
    const parent = await fresh('check')
    await expect(checkPlanOutDir(path.join(parent, 'new', 'deeper'))).resolves.toBeUndefined()
    await fs.mkdir(path.join(parent, 'empty'))
    await expect(checkPlanOutDir(path.join(parent, 'empty'))).resolves.toBeUndefined()
    const plan = path.join(parent, 'old-plan')
    await fs.mkdir(path.join(plan, 'medium'), { recursive: true })
    for (const f of ['plan.json', 'metrics.json', 'pressure.nii.gz', 'thermal.json', 'temperature_rise_max.nii.gz', '.plan.json.123.456.tmp'])
      await fs.writeFile(path.join(plan, f), '')
    await expect(checkPlanOutDir(plan)).resolves.toBeUndefined()
    const file = path.join(parent, 'a-file')
    await fs.writeFile(file, '')
    await expect(checkPlanOutDir(file)).rejects.toThrow(/--out: .*a-file is a file/)
    await expect(checkPlanOutDir(path.join(file, 'plan'))).rejects.toThrow(/--out: .* cannot be created: .*a-file is a file/)
    const home = path.join(parent, 'home')
    await fs.mkdir(home)
    await fs.writeFile(path.join(home, 'thesis.docx'), '')
    await expect(checkPlanOutDir(home)).rejects.toThrow(/--out: .*holds thesis\.docx, which is not part of a plan folder/)
  })

  it('runPlanPipeline refuses a bad --out before reading anything', async () => {
    const parent = await fresh('early')
    const file = path.join(parent, 'a-file')
    await fs.writeFile(file, '')
    const started = performance.now()
    const run = runPlanPipeline({
      ctPath: path.join(parent, 'no-such-ct.nii.gz'),
      targetRasM: [0, 0, 0],
      transducerId: 'itrusst-bm-bowl',
      mappingId: 'kplan',
      pointsPerWavelength: 2,
      backend: 'cpu',
      drive: { kind: 'source', amplitudePa: 6e4 },
      pulseTiming: DEFAULT_PULSE_TIMING,
      outDir: path.join(file, 'plan'),
    })
    await expect(run).rejects.toThrow(SimulationInputError)
    await expect(run).rejects.toThrow(/^--out:/)
    expect(performance.now() - started).toBeLessThan(5000)
  })
})
