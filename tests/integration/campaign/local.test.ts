/**
 * The local executor on tiny tasks (a procedural head at 2 mm, a 200 kHz test bowl at 2 points
 * per wavelength): killed with SIGKILL mid-campaign, a second run finishes the rest and redoes
 * no finished task; a task that fails records its error and leaves finished tasks as they were.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { exists, tfus, tinyDataDir, tinySweep, waitFor } from '../../helpers/campaign.ts'

let dir: string
let env: NodeJS.ProcessEnv
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-campaign-local-'))
  env = { TFUS_DATA_DIR: await tinyDataDir(dir), XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? os.tmpdir() }
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

const task = (campaign: string, i: number, file: string) => path.join(campaign, 'tasks', String(i).padStart(4, '0'), file)

describe('tfus campaign run (local executor)', () => {
  it('survives SIGKILL: the rerun finishes the rest without redoing finished tasks', async () => {
    const file = path.join(dir, 'sweep.json')
    await fs.writeFile(file, JSON.stringify(tinySweep('local-sweep', 3)))
    const campaign = path.join(dir, 'sweep')
    const planned = await tfus(['campaign', 'plan', file, '--dir', campaign], env).done
    expect(planned.code, planned.err).toBe(0)
    expect(planned.out).toMatch(/3 tasks/)

    const first = tfus(['campaign', 'run', campaign, '--jobs', '1'], env)
    // Killed once the runner has seen task 0 finish (task 1 is then in flight).
    await waitFor(
      async () => /task 0 head1000\/placement0\/tiny-bowl\/source-60kpa\/kplan\/ppw2: done in [\d.]+ s/.test(first.output()),
      280_000,
      'the first task',
    )
    first.child.kill('SIGKILL')
    const killed = await first.done
    expect(killed.signal).toBe('SIGKILL')
    const marker0 = await fs.readFile(task(campaign, 0, 'done.json'), 'utf8')
    const plan0 = await fs.stat(task(campaign, 0, 'plan/plan.json'))
    // The task in flight stops with its runner (it watches its parent) and leaves no plan folder
    // half-written: only complete folders are ever renamed into place.
    await new Promise((r) => setTimeout(r, 2000))
    expect(await exists(task(campaign, 2, 'done.json'))).toBe(false)

    const second = await tfus(['campaign', 'run', campaign, '--jobs', '2'], env).done
    expect(second.code, second.err).toBe(0)
    const skipped = Number(/(\d) of 3 tasks already done \(skipped\)/.exec(second.out)?.[1])
    expect(skipped).toBeGreaterThanOrEqual(1)
    expect(second.out).toMatch(/campaign: 3 of 3 done/)
    expect(second.out).not.toMatch(/task 0 /)
    // Task 0 was not run again: its marker and plan are the first run's.
    expect(await fs.readFile(task(campaign, 0, 'done.json'), 'utf8')).toBe(marker0)
    expect((await fs.stat(task(campaign, 0, 'plan/plan.json'))).mtimeMs).toBe(plan0.mtimeMs)
    expect(second.err).toMatch(/\[#{20}\] 3\/3 done, 0 failed, 0 running/)
    for (const i of [0, 1, 2]) {
      const plan = JSON.parse(await fs.readFile(task(campaign, i, 'plan/plan.json'), 'utf8'))
      expect(plan.transducer.id).toBe('tiny-bowl')
      expect(plan.simulation.grid_size).toEqual([11, 11, expect.any(Number)])
    }
    // run-task on a finished task does nothing.
    const again = await tfus(['campaign', 'run-task', campaign, '--index', '1'], env).done
    expect(again.code).toBe(0)
    expect(again.out).toMatch(/task 1 .* was done already/)

    // A failing task (its CT unreadable) records its error, exits 3 for the campaign, and the
    // finished plan in the same campaign is untouched.
    const broken = path.join(dir, 'broken.nii.gz')
    await fs.writeFile(broken, 'not an image')
    const head = path.join(campaign, 'heads', 'head-1000-2mm.nii.gz')
    const done0 = JSON.parse(await fs.readFile(task(campaign, 0, 'plan/plan.json'), 'utf8'))
    const mm = (v: number[]) => v.map((x) => x * 1000)
    const mixed = {
      name: 'mixed',
      kind: 'plans',
      subjects: [
        { id: 'good', ct: head, targets: [{ id: 't', ras_mm: mm(done0.target_ras_m), entries: [mm(done0.entry_ras_m)] }] },
        { id: 'bad', ct: broken, targets: [{ id: 't', ras_mm: mm(done0.target_ras_m) }] },
      ],
      transducers: ['tiny-bowl'],
      ppw: [2],
      backend: 'cpu',
    }
    const mixedFile = path.join(dir, 'mixed.json')
    await fs.writeFile(mixedFile, JSON.stringify(mixed))
    const mixedDir = path.join(dir, 'mixed')
    expect((await tfus(['campaign', 'plan', mixedFile, '--dir', mixedDir], env).done).code).toBe(0)
    const run = await tfus(['campaign', 'run', mixedDir, '--jobs', '2'], env).done
    expect(run.code, run.err).toBe(3)
    expect(run.out).toMatch(/task 1 bad\/t\/proposed\/.*: FAILED \(.*broken\.nii\.gz/)
    expect(run.out).toMatch(/campaign: 1 of 2 done .* 1 failed/)
    const error = JSON.parse(await fs.readFile(task(mixedDir, 1, 'error.json'), 'utf8'))
    expect(error).toMatchObject({ index: 1, kind: 'bad-input', error: expect.stringMatching(/broken\.nii\.gz/) as string })
    expect(await exists(task(mixedDir, 1, 'plan'))).toBe(false)
    const goodMarker = await fs.readFile(task(mixedDir, 0, 'done.json'), 'utf8')
    // The same plan as the sweep's task 0 (same CT, target, entry, device): the same peak.
    const m0 = JSON.parse(await fs.readFile(task(campaign, 0, 'plan/metrics.json'), 'utf8'))
    const mGood = JSON.parse(await fs.readFile(task(mixedDir, 0, 'plan/metrics.json'), 'utf8'))
    expect(mGood.peak_pressure_pa).toBe(m0.peak_pressure_pa)
    const rerun = await tfus(['campaign', 'run', mixedDir], env).done
    expect(rerun.code).toBe(3)
    expect(rerun.out).toMatch(/1 of 2 tasks already done \(skipped\)/)
    expect(await fs.readFile(task(mixedDir, 0, 'done.json'), 'utf8')).toBe(goodMarker)
  }, 900_000)

  it('stops on Ctrl-C (SIGINT): exit 130, no partial plan folder, the task left to the next run', async () => {
    const file = path.join(dir, 'one.json')
    await fs.writeFile(file, JSON.stringify(tinySweep('interrupted', 1)))
    const campaign = path.join(dir, 'interrupted')
    expect((await tfus(['campaign', 'plan', file, '--dir', campaign], env).done).code).toBe(0)
    const run = tfus(['campaign', 'run', campaign], env)
    // Interrupted while the task runs (its folder exists once it has started).
    await waitFor(() => exists(path.join(campaign, 'tasks', '0000')), 120_000, 'the task to start')
    await new Promise((r) => setTimeout(r, 1500))
    run.child.kill('SIGINT')
    const r = await run.done
    expect(r.code, r.err).toBe(130)
    expect(r.err).toMatch(/tfus: cancelled/)
    expect(await exists(task(campaign, 0, 'done.json'))).toBe(false)
    expect(await exists(task(campaign, 0, 'plan'))).toBe(false)
    // A cancel is not a failure: no error record, and the runner's lock is gone.
    expect(await exists(task(campaign, 0, 'error.json'))).toBe(false)
    expect(await exists(path.join(campaign, 'run.lock'))).toBe(false)
  }, 300_000)
})
