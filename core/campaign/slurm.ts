/**
 * The Slurm executor's text: the sbatch script kept beside the campaign, and what `squeue` and
 * `sacct` print, read back into per-task states. Pure: the adapter runs the commands.
 */

export interface SbatchOptions {
  readonly jobName: string
  /** Absolute paths: node, this install's bin/tfus.mjs, the campaign folder, the log folder. */
  readonly node: string
  readonly tfus: string
  readonly campaignDir: string
  readonly logDir: string
  readonly partition?: string
  readonly gres?: string
  readonly time?: string
  readonly mem?: string
  /** Extra environment for the tasks (e.g. TFUS_DATA_DIR for user transducers). */
  readonly env?: Readonly<Record<string, string>>
}

/** Single-quotes a string for bash. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/**
 * The array job's script: each array task runs one campaign task by its index. The database is
 * never written here (only `tfus campaign collect` writes it), so tasks on many nodes never
 * compete for it.
 */
export function sbatchScript(o: SbatchOptions): string {
  const directives = [
    `#SBATCH --job-name=${o.jobName}`,
    `#SBATCH --output=${o.logDir}/%A_%a.out`,
    `#SBATCH --error=${o.logDir}/%A_%a.out`,
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.gres ? [`#SBATCH --gres=${o.gres}`] : []),
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
    ...(o.mem ? [`#SBATCH --mem=${o.mem}`] : []),
  ]
  const env = Object.entries(o.env ?? {}).map(([k, v]) => `export ${k}=${shellQuote(v)}`)
  return [
    '#!/bin/bash',
    `# TFUS Planner campaign ${o.jobName}: one array task = one campaign task (tfus campaign run-task).`,
    '# Submitted by `tfus campaign submit`; resubmit failed or missing tasks with `tfus campaign resubmit`.',
    '# A task that finished before is skipped (its done-marker), so rerunning any index is safe.',
    ...directives,
    'set -euo pipefail',
    ...env,
    `exec ${shellQuote(o.node)} ${shellQuote(o.tfus)} campaign run-task ${shellQuote(o.campaignDir)} --index "$SLURM_ARRAY_TASK_ID"`,
    '',
  ].join('\n')
}

export type SchedulerState = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'timeout' | 'other'

function normalizeState(raw: string): SchedulerState {
  const s = raw.trim().split(/\s+/)[0]!.toUpperCase()
  if (['PENDING', 'CONFIGURING', 'REQUEUED', 'RESIZING', 'SUSPENDED'].includes(s)) return 'pending'
  if (['RUNNING', 'COMPLETING', 'STAGE_OUT', 'SIGNALING'].includes(s)) return 'running'
  if (s === 'COMPLETED') return 'completed'
  if (['FAILED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'PREEMPTED'].includes(s)) return 'failed'
  if (s === 'CANCELLED') return 'cancelled'
  if (s === 'TIMEOUT') return 'timeout'
  return 'other'
}

/** Array indices of a job id column: "12_3" -> [3]; "12_[4-6,9%2]" -> [4,5,6,9]; "12" -> []. */
export function arrayIndices(jobId: string): { job: string; indices: number[] } {
  const m = /^(\d+)_(.+)$/.exec(jobId.trim())
  if (!m) return { job: jobId.trim(), indices: [] }
  const spec = m[2]!.replace(/^\[/, '').replace(/\]$/, '').replace(/%\d+$/, '')
  const indices: number[] = []
  for (const part of spec.split(',')) {
    const r = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part)
    if (!r) continue
    const a = Number(r[1])
    const b = r[2] === undefined ? a : Number(r[2])
    const step = r[3] === undefined ? 1 : Number(r[3])
    for (let i = a; i <= b; i += step) indices.push(i)
  }
  return { job: m[1]!, indices }
}

/** `squeue -h -o "%i %T"` output: every listed array index with its state. */
export function parseSqueue(text: string): Map<number, { job: string; state: SchedulerState }> {
  const out = new Map<number, { job: string; state: SchedulerState }>()
  for (const line of text.split('\n')) {
    const [id, state] = line.trim().split(/\s+/)
    if (!id || !state) continue
    const { job, indices } = arrayIndices(id)
    for (const i of indices) out.set(i, { job, state: normalizeState(state) })
  }
  return out
}

/**
 * `sacct -n -P -X -o JobID,State,ExitCode` output: the latest record per array index (a job
 * submitted later wins: job ids grow).
 */
export function parseSacct(text: string): Map<number, { job: string; state: SchedulerState; exitCode: string }> {
  const out = new Map<number, { job: string; state: SchedulerState; exitCode: string }>()
  for (const line of text.split('\n')) {
    const [id, state, exitCode] = line.trim().split('|')
    if (!id || !state) continue
    const { job, indices } = arrayIndices(id)
    for (const i of indices) {
      const before = out.get(i)
      if (before && Number(before.job) > Number(job)) continue
      out.set(i, { job, state: normalizeState(state), exitCode: exitCode ?? '' })
    }
  }
  return out
}
