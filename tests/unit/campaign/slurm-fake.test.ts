/**
 * The Slurm executor's commands against stand-in sbatch/squeue/sacct on PATH (no cluster; the
 * real one is slurm.test.ts): the array submitted, status merged from markers, squeue and sacct
 * (with accounting on, which the test cluster has not), and resubmit leaving queued tasks alone.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { cli } from '../../helpers/cli.ts'
import { tinyDataDir, tinySweep } from '../../helpers/campaign.ts'

let dir: string
let bin: string
const saved = { PATH: process.env.PATH, TFUS_DATA_DIR: process.env.TFUS_DATA_DIR }
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-campaign-fake-slurm-'))
  bin = path.join(dir, 'bin')
  await fs.mkdir(bin)
  // sbatch: records its arguments, answers job ids 77, 78, ...; squeue/sacct: print their files.
  const script = (body: string) => `#!/bin/sh\n${body}\n`
  await fs.writeFile(path.join(bin, 'sbatch'), script(`echo "$@" >> "${dir}/sbatch.args"; n=$(wc -l < "${dir}/sbatch.args"); echo $((76 + n))`), {
    mode: 0o755,
  })
  await fs.writeFile(path.join(bin, 'squeue'), script(`echo "$@" > "${dir}/squeue.args"; cat "${dir}/squeue.out" 2>/dev/null; true`), { mode: 0o755 })
  await fs.writeFile(path.join(bin, 'sacct'), script(`cat "${dir}/sacct.out"`), { mode: 0o755 })
  process.env.PATH = `${bin}:${process.env.PATH}`
  process.env.TFUS_DATA_DIR = await tinyDataDir(dir)
})
afterAll(async () => {
  process.env.PATH = saved.PATH
  if (saved.TFUS_DATA_DIR === undefined) delete process.env.TFUS_DATA_DIR
  else process.env.TFUS_DATA_DIR = saved.TFUS_DATA_DIR
  await fs.rm(dir, { recursive: true, force: true })
})

describe('tfus campaign submit/status/resubmit with stand-in Slurm commands', () => {
  it('submits the array, reads squeue and sacct, and resubmits only failed or missing tasks', async () => {
    const file = path.join(dir, 'sweep.json')
    await fs.writeFile(file, JSON.stringify(tinySweep('fake', 6)))
    const campaign = path.join(dir, 'c')
    expect((await cli(['campaign', 'plan', file, '--dir', campaign])).code).toBe(0)
    const submit = await cli([
      'campaign',
      'submit',
      campaign,
      '--executor',
      'slurm',
      '--partition',
      'gpu',
      '--gres',
      'gpu:1',
      '--mem',
      '8G',
      '--array-limit',
      '3',
    ])
    expect(submit.code, submit.err).toBe(0)
    expect(submit.out).toMatch(/submitted 6 task\(s\) as Slurm job 77 \(--array=0-5%3\)/)
    expect(await fs.readFile(path.join(dir, 'sbatch.args'), 'utf8')).toBe(`--parsable --array=0-5%3 ${path.join(campaign, 'slurm/campaign.sbatch')}\n`)
    const script = await fs.readFile(path.join(campaign, 'slurm/campaign.sbatch'), 'utf8')
    expect(script).toMatch(/#SBATCH --partition=gpu\n#SBATCH --gres=gpu:1\n#SBATCH --mem=8G/)
    const bad = await cli(['campaign', 'submit', campaign, '--executor', 'slurm', '--partition', 'gpu; rm -rf /'])
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/--partition: "gpu; rm -rf \/" has characters Slurm does not take there/)

    // Task 0 finished (its marker), 1 failed (sacct), 2 cancelled (sacct), 3 running, 4-5 pending.
    const manifest = JSON.parse(await fs.readFile(path.join(campaign, 'manifest.json'), 'utf8'))
    const t0 = path.join(campaign, 'tasks/0000')
    await fs.mkdir(path.join(t0, 'plan'), { recursive: true })
    await fs.writeFile(path.join(t0, 'plan/plan.json'), '{}')
    await fs.writeFile(
      path.join(t0, 'done.json'),
      JSON.stringify({ index: 0, id: manifest.tasks[0].id, label: manifest.tasks[0].label, finished_at: 'x', wall_s: 12, host: 'n1' }),
    )
    await fs.writeFile(path.join(dir, 'squeue.out'), '77_3 RUNNING\n77_[4-5%3] PENDING\n')
    await fs.writeFile(path.join(dir, 'sacct.out'), '77_0|COMPLETED|0:0\n77_1|FAILED|3:0\n77_2|CANCELLED by 0|0:15\n77_3|RUNNING|0:0\n')
    const status = await cli(['campaign', 'status', campaign])
    expect(status.code, status.err).toBe(0)
    expect(status.out).toMatch(/campaign fake: 6 tasks; done 1, failed 2, running 1, pending 2, missing 0; measured 12\.0 s per finished task/)
    expect(status.out).toMatch(/task 1 \S+: failed \(Slurm job 77: failed, exit 3:0\)/)
    expect(status.out).toMatch(/task 2 \S+: failed \(Slurm job 77: cancelled, exit 0:15\)/)
    expect(status.out).toMatch(/task 3 \S+: running \(Slurm job 77: running\)/)
    expect(await fs.readFile(path.join(dir, 'squeue.args'), 'utf8')).toMatch(new RegExp(`--name=tfus-fake-${manifest.campaign_id.slice(0, 8)}`))

    const resubmit = await cli(['campaign', 'resubmit', campaign])
    expect(resubmit.code, resubmit.err).toBe(0)
    // Not 0 (done), not 3-5 (queued): the last submission's limit carries over.
    expect(resubmit.out).toMatch(/resubmitted 2 task\(s\) as Slurm job 78 \(--array=1-2%3\)/)
  })
})
