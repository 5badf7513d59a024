/**
 * The `slurm` executor: the campaign as a job array. `submit` writes slurm/campaign.sbatch
 * (kept for the user to read) and runs `sbatch --array`; `status` merges the done-markers with
 * what squeue and sacct say; `resubmit` submits only the tasks neither done nor queued. Array
 * tasks never write the database: `tfus campaign collect` does, once, afterwards.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { indexRanges } from '../../core/campaign/expand.ts'
import { parseSacct, parseSqueue, sbatchScript, type SchedulerState } from '../../core/campaign/slurm.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'
import { appPath } from '../adapters/app-paths.ts'
import { writeFileAtomic } from '../adapters/atomic-file.ts'
import { runTool } from '../adapters/slurm.ts'
import { readCampaignStatus, readManifest, type CampaignManifest, type TaskStatus } from './campaign.ts'

export interface SlurmOptions {
  readonly partition?: string
  readonly gres?: string
  readonly time?: string
  readonly mem?: string
  /** At most this many array tasks at once (`--array=...%limit`). */
  readonly arrayLimit?: number
}

interface SubmittedJob {
  readonly job_id: string
  readonly array: string
  readonly submitted_at: string
  readonly options: SlurmOptions
}

const slurmDir = (dir: string) => path.join(dir, 'slurm')
const jobsFile = (dir: string) => path.join(slurmDir(dir), 'jobs.json')
export const sbatchFile = (dir: string) => path.join(slurmDir(dir), 'campaign.sbatch')

/** The array job's name: squeue and sacct are asked about this campaign's jobs only. */
const jobName = (m: CampaignManifest) => `tfus-${m.name}-${m.campaign_id.slice(0, 8)}`

async function readJobs(dir: string): Promise<SubmittedJob[]> {
  try {
    return JSON.parse(await fs.readFile(jobsFile(dir), 'utf8')) as SubmittedJob[]
  } catch {
    return []
  }
}

async function submitIndices(dir: string, manifest: CampaignManifest, indices: readonly number[], options: SlurmOptions): Promise<SubmittedJob> {
  const absDir = path.resolve(dir)
  await fs.mkdir(path.join(slurmDir(dir), 'logs'), { recursive: true })
  const script = sbatchScript({
    jobName: jobName(manifest),
    node: process.execPath,
    // The built CLI, not bin/tfus.mjs: array tasks starting together must not race to rebuild it.
    tfus: appPath('dist', 'node', 'cli.mjs'),
    campaignDir: absDir,
    logDir: path.join(absDir, 'slurm', 'logs'),
    ...options,
  })
  await writeFileAtomic(sbatchFile(dir), script)
  await fs.chmod(sbatchFile(dir), 0o755)
  const array = indexRanges(indices) + (options.arrayLimit ? `%${options.arrayLimit}` : '')
  const r = await runTool('sbatch', ['--parsable', `--array=${array}`, sbatchFile(dir)])
  if (r.code !== 0) throw new SimulationInputError('sbatch', `refused the job array (exit ${r.code}): ${r.stderr.trim().split('\n')[0] ?? ''}`)
  const jobId = r.stdout.trim().split(';')[0]!.split('\n').pop()!.trim()
  const job: SubmittedJob = { job_id: jobId, array, submitted_at: new Date().toISOString(), options }
  await writeFileAtomic(jobsFile(dir), JSON.stringify([...(await readJobs(dir)), job], null, 2) + '\n')
  return job
}

export async function submitCampaign(dir: string, options: SlurmOptions): Promise<{ job: SubmittedJob | null; tasks: number }> {
  const manifest = await readManifest(dir)
  const status = await readCampaignStatus(dir, manifest)
  const todo = status.filter((s) => s.state !== 'done').map((s) => s.task.index)
  if (todo.length === 0) return { job: null, tasks: 0 }
  return { job: await submitIndices(dir, manifest, todo, options), tasks: todo.length }
}

export interface SlurmTaskStatus extends TaskStatus {
  /** squeue's state while queued or running, else sacct's last record (when accounting is on). */
  readonly scheduler?: { readonly job: string; readonly state: SchedulerState; readonly exitCode?: string }
}

export async function slurmCampaignStatus(dir: string): Promise<{ tasks: SlurmTaskStatus[]; notes: string[]; jobs: SubmittedJob[] }> {
  const manifest = await readManifest(dir)
  const status = await readCampaignStatus(dir, manifest)
  const jobs = await readJobs(dir)
  const notes: string[] = []
  if (jobs.length === 0) return { tasks: status, notes: ['no Slurm jobs submitted for this campaign (tfus campaign submit)'], jobs }
  const q = await runTool('squeue', ['-h', '-o', '%i %T', `--name=${jobName(manifest)}`])
  if (q.code !== 0) notes.push(`squeue failed: ${q.stderr.trim().split('\n')[0] ?? ''}`)
  const queued = parseSqueue(q.code === 0 ? q.stdout : '')
  const a = await runTool('sacct', ['-n', '-P', '-X', '-o', 'JobID,State,ExitCode', '-j', jobs.map((j) => j.job_id).join(',')])
  // Without accounting storage (small clusters), sacct says so and the markers are what count.
  if (a.code !== 0) notes.push(`sacct unavailable: ${a.stderr.trim().split('\n')[0] ?? ''}`)
  const accounted = parseSacct(a.code === 0 ? a.stdout : '')
  return {
    tasks: status.map((s) => {
      const sq = queued.get(s.task.index)
      const sa = accounted.get(s.task.index)
      const scheduler = sq ? { job: sq.job, state: sq.state } : sa ? { job: sa.job, state: sa.state, exitCode: sa.exitCode } : undefined
      return scheduler ? { ...s, scheduler } : s
    }),
    notes,
    jobs,
  }
}

/** `tfus campaign resubmit`: the tasks neither done nor pending/running, as one new array job. */
export async function resubmitCampaign(dir: string, options: SlurmOptions): Promise<{ job: SubmittedJob | null; indices: number[] }> {
  const manifest = await readManifest(dir)
  const { tasks, jobs } = await slurmCampaignStatus(dir)
  const indices = tasks
    .filter((t) => t.state !== 'done' && !(t.scheduler && (t.scheduler.state === 'pending' || t.scheduler.state === 'running')))
    .map((t) => t.task.index)
  if (indices.length === 0) return { job: null, indices }
  // The last submission's resources, unless new ones are given.
  const last = jobs.at(-1)?.options ?? {}
  const merged = { ...last, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as SlurmOptions
  return { job: await submitIndices(dir, manifest, indices, merged), indices }
}
