/**
 * `tfus campaign plan|run-task|run|submit|status|resubmit|collect` (issue 18); see
 * electron/app/campaign.ts for the campaign folder.
 */
import * as path from 'node:path'
import { planCampaign, readManifest, runCampaignTask } from '../app/campaign.ts'
import { PARENT_ENV, runCampaignLocal } from '../app/campaign-local.ts'
import { resubmitCampaign, sbatchFile, slurmCampaignStatus, submitCampaign, type SlurmOptions } from '../app/campaign-slurm.ts'
import { collectCampaign } from '../app/campaign-collect.ts'
import { readCampaignStatus } from '../app/campaign.ts'
import { resolveDataDir } from '../adapters/db/data-dir.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'
import { formatDuration } from '../../core/planning/progress.ts'
import { CELL_STEP_RATES, formatEstimate, type CostBackend } from '../../core/campaign/cost.ts'

interface CliArgs {
  readonly positional: string[]
  readonly flags: Map<string, string | true>
}
type Out = (line: string) => void

const SUBCOMMANDS = ['plan', 'run-task', 'run', 'submit', 'status', 'resubmit', 'collect'] as const

function str(args: CliArgs, name: string): string | undefined {
  const v = args.flags.get(name)
  if (v === true) throw new SimulationInputError(`--${name}`, 'needs a value')
  return v
}

function positiveInt(args: CliArgs, name: string, fallback?: number, min = 1): number | undefined {
  const v = str(args, name)
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) throw new SimulationInputError(`--${name}`, `must be a whole number of at least ${min}, got ${v}`)
  return n
}

function slurmOptions(args: CliArgs): SlurmOptions {
  const executor = str(args, 'executor') ?? 'slurm'
  if (executor !== 'slurm')
    throw new SimulationInputError('--executor', `${executor}: submit is for the slurm executor (run the local one with tfus campaign run <dir>)`)
  const o: Record<string, string | number> = {}
  for (const k of ['partition', 'gres', 'time', 'mem'] as const) {
    const v = str(args, k)
    if (v !== undefined) {
      if (!/^[A-Za-z0-9_:.,+=\-/]+$/.test(v)) throw new SimulationInputError(`--${k}`, `"${v}" has characters Slurm does not take there`)
      o[k] = v
    }
  }
  const limit = positiveInt(args, 'array-limit')
  if (limit !== undefined) o.arrayLimit = limit
  return o as SlurmOptions
}

/** In a run-task started by the local runner: stop (as Ctrl-C does) when that runner is gone. */
function watchParent(signalController: AbortController): () => void {
  const parent = Number(process.env[PARENT_ENV])
  if (!(parent > 0)) return () => {}
  const timer = setInterval(() => {
    let alive = true
    try {
      process.kill(parent, 0)
    } catch {
      alive = false
    }
    if (!alive || process.ppid !== parent) signalController.abort()
  }, 500)
  timer.unref()
  return () => clearInterval(timer)
}

export async function commandCampaign(args: CliArgs, signal: AbortSignal, out: Out, err: Out): Promise<number> {
  const [sub, target, ...rest] = args.positional
  if (!SUBCOMMANDS.includes(sub as (typeof SUBCOMMANDS)[number]))
    throw new SimulationInputError(
      'campaign',
      sub === undefined ? `needs a subcommand: ${SUBCOMMANDS.join(', ')}` : `unknown subcommand "${sub}"; one of ${SUBCOMMANDS.join(', ')}`,
    )
  if (rest.length > 0) throw new SimulationInputError('campaign', `unexpected argument "${rest[0]}"`)
  if (!target) throw new SimulationInputError('campaign', sub === 'plan' ? 'plan needs the campaign file' : `${sub} needs the campaign folder`)
  switch (sub) {
    case 'plan': {
      const dir = str(args, 'dir')
      if (!dir) throw new SimulationInputError('--dir', 'is missing: give the campaign folder to create')
      const { manifest, estimates, existed } = await planCampaign(target, dir)
      const n = manifest.tasks.length
      out(`${existed ? 'campaign unchanged' : 'planned'}: ${manifest.name} (${manifest.kind}), ${n} task${n === 1 ? '' : 's'} in ${path.resolve(dir)}`)
      let totalCells = 0
      const totalSeconds: Partial<Record<CostBackend, number>> = {}
      const perTask = (seconds: Partial<Record<CostBackend, number>>) =>
        Object.entries(seconds)
          .map(([b, sec]) => `${formatEstimate(sec)} on ${b}`)
          .join(', ')
      for (const e of estimates) {
        out(
          `  ${e.tasks} x ${e.transducer} at ${e.ppw} ppw: grid ${e.gridSize.join('x')} (at least; ${(e.paddedCells / 1e6).toFixed(2)} M cells with the PML), ~${(e.memoryBytes / 2 ** 20).toFixed(0)} MiB, ~${e.steps.head.expected + e.steps.water.expected} steps (head ${e.steps.head.expected}, free water ${e.steps.water.expected}; at most ${e.steps.head.cap + e.steps.water.cap}): ~${perTask(e.seconds)} per task`,
        )
        totalCells += e.tasks * e.paddedCells
        for (const [b, sec] of Object.entries(e.seconds) as [CostBackend, number][]) totalSeconds[b] = (totalSeconds[b] ?? 0) + e.tasks * sec
      }
      out(
        `estimated cost: ${(totalCells / n / 1e6).toFixed(2)} M cells per task on average, ${(totalCells / 1e6).toFixed(1)} M cells in total; solver time ~${perTask(totalSeconds)} in total`,
      )
      const rates = Object.keys(totalSeconds) as CostBackend[]
      out(
        `  (one worker, at ${rates.map((b) => `${b} ${(CELL_STEP_RATES[b].cellStepsPerS / 1e6).toFixed(0)} M cell-steps/s: ${CELL_STEP_RATES[b].measured}`).join('; ')}; steps until steady state, segmentation and I/O not counted; tfus campaign run/status report measured times)`,
      )
      return 0
    }
    case 'run-task': {
      const index = positiveInt(args, 'index', undefined, 0)
      if (index === undefined) throw new SimulationInputError('--index', 'is missing: the task number (0-based; $SLURM_ARRAY_TASK_ID in an array job)')
      const controller = new AbortController()
      const onAbort = () => controller.abort()
      signal.addEventListener('abort', onAbort, { once: true })
      const stopWatching = watchParent(controller)
      try {
        const r = await runCampaignTask(target, index, { signal: controller.signal, onNote: (l) => err(`tfus: ${l}`) })
        out(
          r.state === 'skipped'
            ? `task ${index} (${r.marker.label}) was done already (${r.marker.finished_at}): nothing to do`
            : `task ${index} (${r.marker.label}) done in ${r.marker.wall_s.toFixed(1)} s`,
        )
        return 0
      } finally {
        stopWatching()
        signal.removeEventListener('abort', onAbort)
      }
    }
    case 'run': {
      const executor = str(args, 'executor') ?? 'local'
      if (executor !== 'local')
        throw new SimulationInputError('--executor', `run is the local executor; for Slurm use tfus campaign submit ${target} --executor slurm`)
      const jobs = positiveInt(args, 'jobs', 1)!
      const tty = process.stderr.isTTY
      const r = await runCampaignLocal(target, {
        jobs,
        signal,
        out: (l) => (tty ? process.stderr.write(`\r${' '.repeat(100)}\r`) && out(l) : out(l)),
        progress: (l) => (tty ? process.stderr.write(`\r${l}`.padEnd(100).slice(0, 100)) : err(l)),
      })
      if (tty) process.stderr.write('\n')
      out(
        `campaign: ${r.alreadyDone + r.ran} of ${r.total} done (${r.ran} run now in ${formatDuration(r.wallS)}, ${r.alreadyDone} done before), ${r.failed} failed`,
      )
      return r.failed > 0 ? 3 : 0
    }
    case 'submit': {
      const r = await submitCampaign(target, slurmOptions(args))
      if (!r.job) out('every task is done: nothing to submit')
      else out(`submitted ${r.tasks} task(s) as Slurm job ${r.job.job_id} (--array=${r.job.array}); script: ${sbatchFile(target)}`)
      return 0
    }
    case 'resubmit': {
      const r = await resubmitCampaign(target, { ...slurmOptions(args) })
      if (!r.job) out('no failed or missing task (every task is done, queued or running): nothing to resubmit')
      else out(`resubmitted ${r.indices.length} task(s) as Slurm job ${r.job.job_id} (--array=${r.job.array})`)
      return 0
    }
    case 'status': {
      const manifest = await readManifest(target)
      const slurm = await slurmCampaignStatus(target).catch(async (e: unknown) => {
        // Not on a Slurm machine: the markers alone.
        if (e instanceof SimulationInputError && e.field === '--executor')
          return { tasks: await readCampaignStatus(target, manifest), notes: [e.problem], jobs: [] }
        throw e
      })
      type Row = (typeof slurm.tasks)[number]
      const sched = (t: Row) => ('scheduler' in t ? t.scheduler : undefined)
      // One state per task: done (its marker) wins; then queued (squeue); then failed (an error
      // record, or sacct's failed/cancelled/timeout); else missing (never run, or killed unrecorded).
      const stateOf = (t: Row): string => {
        if (t.state === 'done') return 'done'
        const s = sched(t)?.state
        if (s === 'running' || s === 'pending') return s
        if (t.state === 'failed' || s === 'failed' || s === 'cancelled' || s === 'timeout') return 'failed'
        return 'missing'
      }
      const count = (state: string) => slurm.tasks.filter((t) => stateOf(t) === state).length
      const done = slurm.tasks.filter((t) => t.state === 'done')
      const meanS = done.length ? done.reduce((a, t) => a + (t.done?.wall_s ?? 0), 0) / done.length : undefined
      out(
        `campaign ${manifest.name}: ${manifest.tasks.length} tasks; done ${done.length}, failed ${count('failed')}, running ${count('running')}, pending ${count('pending')}, missing ${count('missing')}${meanS === undefined ? '' : `; measured ${meanS.toFixed(1)} s per finished task`}`,
      )
      for (const t of slurm.tasks) {
        if (t.state === 'done') continue
        const s = sched(t)
        out(
          `  task ${t.task.index} ${t.task.label}: ${stateOf(t)}${s ? ` (Slurm job ${s.job}: ${s.state}${'exitCode' in s && s.exitCode ? `, exit ${s.exitCode}` : ''})` : ''}${t.error ? ` — ${t.error.error}` : ''}`,
        )
      }
      for (const n of slurm.notes) out(`note: ${n}`)
      return 0
    }
    case 'collect': {
      const dataDir = resolveDataDir(str(args, 'data-dir'))
      const r = await collectCampaign(target, dataDir, out)
      out(
        `collected: ${r.imported} imported, ${r.alreadyInDatabase} already in the database, ${r.notDone} not done; summary: ${r.csv}; plots: ${r.plots.map((p) => path.basename(p)).join(', ')}`,
      )
      return 0
    }
  }
  return 2
}
