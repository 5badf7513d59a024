/**
 * The Slurm executor on a real single-node cluster (tests/helpers/slurm-cluster.ts): a campaign
 * of 6 tiny tasks submitted as a job array, one running task cancelled with scancel, the rest
 * resubmitted, collected into the plan database exactly once (twice collecting imports nothing
 * more), and every task's result equal to the same task run by the local executor.
 * Without slurm-wlm and munge the test is skipped, except under CI, where it fails.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { exists, tfus, tinyDataDir, tinySweep, waitFor } from '../../helpers/campaign.ts'
import { missingSlurmBinaries, startSlurmCluster, type SlurmCluster } from '../../helpers/slurm-cluster.ts'
import { openPlanStore } from '../../../electron/adapters/db/client.ts'
import { parseCampaignNote } from '../../../core/campaign/summary.ts'

const missing = missingSlurmBinaries()
const inCi = process.env.CI === 'true'
const TASKS = 6

let dir: string
let cluster: SlurmCluster | undefined
let env: NodeJS.ProcessEnv
beforeAll(async () => {
  if (missing.length > 0) return
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-campaign-slurm-'))
  cluster = await startSlurmCluster(path.join(dir, 'cluster'))
  env = { ...cluster.env, TFUS_DATA_DIR: await tinyDataDir(dir), XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? os.tmpdir() }
}, 120_000)
afterAll(async () => {
  await cluster?.stop()
  if (dir) await fs.rm(dir, { recursive: true, force: true })
})

const task = (campaign: string, i: number, file: string) => path.join(campaign, 'tasks', String(i).padStart(4, '0'), file)
const squeue = () => execFileSync('squeue', ['-h', '-o', '%i %T'], { env: { ...process.env, ...env }, encoding: 'utf8' })

describe.skipIf(missing.length > 0 && !inCi)('tfus campaign on a real Slurm cluster', () => {
  it('submits, survives a scancel, resubmits and collects each task exactly once, equal to the local executor', async () => {
    expect(missing, `slurm-wlm and munge are needed (.ci/run installs them); missing: ${missing.join(', ')}`).toEqual([])
    const file = path.join(dir, 'sweep.json')
    await fs.writeFile(file, JSON.stringify(tinySweep('slurm-sweep', TASKS)))
    const campaign = path.join(dir, 'on-slurm')
    expect((await tfus(['campaign', 'plan', file, '--dir', campaign], env).done).code).toBe(0)

    const submit = await tfus(['campaign', 'submit', campaign, '--executor', 'slurm', '--array-limit', '2', '--time', '30:00'], env).done
    expect(submit.code, submit.err).toBe(0)
    const job = /as Slurm job (\d+) \(--array=0-5%2\)/.exec(submit.out)?.[1]
    expect(job, submit.out).toBeDefined()
    const script = await fs.readFile(path.join(campaign, 'slurm/campaign.sbatch'), 'utf8')
    expect(script).toContain('#SBATCH --time=30:00')
    expect(script).toContain(`campaign run-task '${campaign}' --index "$SLURM_ARRAY_TASK_ID"`)

    // Cancel the first task seen running that has not finished.
    let cancelled = -1
    await waitFor(
      async () => {
        const running = [...squeue().matchAll(new RegExp(`^${job}_(\\d+) RUNNING$`, 'gm'))].map((m) => Number(m[1]))
        for (const i of running) {
          if (await exists(task(campaign, i, 'done.json'))) continue
          execFileSync('scancel', [`${job}_${i}`], { env: { ...process.env, ...env } })
          cancelled = i
          return true
        }
        return false
      },
      300_000,
      'a running array task',
    )
    const status1 = await tfus(['campaign', 'status', campaign], env).done
    expect(status1.code, status1.err).toBe(0)
    expect(status1.out).toMatch(/campaign slurm-sweep: 6 tasks; done \d/)
    await waitFor(async () => !new RegExp(`^${job}_`, 'm').test(squeue()), 900_000, 'the array job to drain')
    expect(await exists(task(campaign, cancelled, 'done.json'))).toBe(false)
    const status2 = await tfus(['campaign', 'status', campaign], env).done
    expect(status2.out).toMatch(/done 5, failed 0, running 0, pending 0, missing 1/)
    expect(status2.out).toMatch(new RegExp(`task ${cancelled} head1000/placement${cancelled}/\\S+: missing`))
    expect(status2.out).toMatch(/note: sacct unavailable: .*accounting storage is disabled/)

    const resubmit = await tfus(['campaign', 'resubmit', campaign], env).done
    expect(resubmit.code, resubmit.err).toBe(0)
    expect(resubmit.out).toMatch(new RegExp(`resubmitted 1 task\\(s\\) as Slurm job \\d+ \\(--array=${cancelled}%2\\)`))
    await waitFor(async () => exists(task(campaign, cancelled, 'done.json')), 600_000, 'the resubmitted task')
    await waitFor(async () => squeue().trim() === '', 60_000, 'the queue to empty')
    const status3 = await tfus(['campaign', 'status', campaign], env).done
    expect(status3.out).toMatch(/done 6, failed 0, running 0, pending 0, missing 0/)
    const nothing = await tfus(['campaign', 'resubmit', campaign], env).done
    expect(nothing.out).toMatch(/nothing to resubmit/)

    const dataDir = path.join(dir, 'db')
    const collect = await tfus(['campaign', 'collect', campaign, '--data-dir', dataDir], env).done
    expect(collect.code, collect.err).toBe(0)
    expect(collect.out).toMatch(/collected: 6 imported, 0 already in the database, 0 not done/)
    const twice = await tfus(['campaign', 'collect', campaign, '--data-dir', dataDir], env).done
    expect(twice.out).toMatch(/collected: 0 imported, 6 already in the database/)
    const csv = (await fs.readFile(path.join(campaign, 'summary.csv'), 'utf8')).trim().split('\n')
    expect(csv).toHaveLength(TASKS + 1)

    // The same campaign with the local executor.
    const local = path.join(dir, 'local')
    expect((await tfus(['campaign', 'plan', file, '--dir', local], env).done).code).toBe(0)
    const run = await tfus(['campaign', 'run', local, '--jobs', '2'], env).done
    expect(run.code, run.err).toBe(0)

    const manifest = JSON.parse(await fs.readFile(path.join(campaign, 'manifest.json'), 'utf8'))
    const store = await openPlanStore(dataDir)
    try {
      const plans = await store.listPlans()
      expect(plans).toHaveLength(TASKS)
      const byTask = new Map<string, number[]>()
      for (const p of plans) {
        const n = parseCampaignNote(p.note)
        expect(n?.campaignId).toBe(manifest.campaign_id)
        byTask.set(n!.taskId, [...(byTask.get(n!.taskId) ?? []), p.planId])
      }
      for (const t of manifest.tasks as { index: number; id: string }[]) {
        expect(byTask.get(t.id), `task ${t.index}`).toHaveLength(1)
        const stored = await store.getPlan(byTask.get(t.id)![0]!)
        const localMetrics = JSON.parse(await fs.readFile(task(local, t.index, 'plan/metrics.json'), 'utf8'))
        const localPlan = JSON.parse(await fs.readFile(task(local, t.index, 'plan/plan.json'), 'utf8'))
        expect(stored.metrics.peak_pressure_pa, `task ${t.index}`).toBe(localMetrics.peak_pressure_pa)
        expect(stored.metrics.peak_position_ras_m).toEqual(localMetrics.peak_position_ras_m)
        expect(stored.metrics.insertion_loss_db).toBe(localMetrics.insertion_loss_db)
        expect(stored.record.pose.transducer_to_ras).toEqual(localPlan.pose.transducer_to_ras)
        expect(stored.record.target_ras_m).toEqual(localPlan.target_ras_m)
      }
    } finally {
      await store.close()
    }
  }, 2_400_000)
})
