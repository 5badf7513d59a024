/**
 * The `local` executor: a pool of `tfus campaign run-task` child processes on this machine. One
 * progress line for the campaign (done, failed, ETA from the tasks timed in this run) and one
 * line per finished task. Ctrl-C passes to the children, which stop and leave no partial plan
 * folder; a runner killed outright (SIGKILL) loses only the tasks in flight: their children see
 * their parent gone and stop (run-task watches its parent), and the next run skips every task
 * whose done-marker is written.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { formatDuration } from '../../core/planning/progress.ts'
import { appPath } from '../adapters/app-paths.ts'
import { readCampaignStatus, readManifest, readTaskStatus } from './campaign.ts'
import { abortError, SimulationInputError } from '../../core/solver/errors.ts'

/** Set in a run-task child's environment: the child stops when this runner is gone. */
export const PARENT_ENV = 'TFUS_CAMPAIGN_PARENT_PID'

export interface LocalRunSummary {
  readonly total: number
  readonly alreadyDone: number
  readonly ran: number
  readonly failed: number
  readonly wallS: number
}

/** One runner per campaign folder: a second is refused while the first's process lives. */
async function takeRunLock(dir: string): Promise<() => Promise<void>> {
  const lock = path.join(dir, 'run.lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(lock, String(process.pid), { flag: 'wx' })
      return () => fs.rm(lock, { force: true })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const pid = Number(await fs.readFile(lock, 'utf8').catch(() => ''))
      let alive = false
      try {
        if (pid > 0) process.kill(pid, 0)
        alive = pid > 0
      } catch {
        alive = false
      }
      if (alive && pid !== process.pid) throw new SimulationInputError(dir, `is being run by process ${pid} (remove ${lock} if it is not)`)
      // The runner that held it is gone (killed): its lock is stale.
      await fs.rm(lock, { force: true })
    }
  }
  throw new Error(`cannot lock ${lock}`)
}

export async function runCampaignLocal(
  dir: string,
  options: { jobs: number; signal?: AbortSignal; out: (line: string) => void; progress?: (line: string) => void },
): Promise<LocalRunSummary> {
  const manifest = await readManifest(dir)
  const release = await takeRunLock(dir)
  const started = performance.now()
  const children = new Set<ChildProcess>()
  try {
    const status = await readCampaignStatus(dir, manifest)
    const todo = status.filter((s) => s.state !== 'done').map((s) => s.task)
    const alreadyDone = status.length - todo.length
    const total = manifest.tasks.length
    let done = alreadyDone
    let failed = 0
    let ran = 0
    let running = 0
    const taskTimes: number[] = []
    const bar = () => {
      const fraction = (done + failed) / Math.max(1, total)
      const filled = Math.round(fraction * 20)
      const left = todo.length - ran - failed
      const mean = taskTimes.length ? taskTimes.reduce((a, b) => a + b, 0) / taskTimes.length : undefined
      const eta = mean === undefined ? '' : ` · about ${formatDuration((mean * Math.max(0, left)) / options.jobs)} left`
      options.progress?.(`[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${done}/${total} done, ${failed} failed, ${running} running${eta}`)
    }
    if (alreadyDone > 0) options.out(`${alreadyDone} of ${total} tasks already done (skipped)`)
    bar()
    // The built CLI itself (what bin/tfus.mjs runs once it is fresh): it ships in the packaged app,
    // and parallel tasks never race to rebuild it.
    const tfus = appPath('dist', 'node', 'cli.mjs')
    let next = 0
    const runOne = (index: number) =>
      new Promise<void>((resolve) => {
        const t0 = performance.now()
        const child = spawn(process.execPath, [tfus, 'campaign', 'run-task', dir, '--index', String(index)], {
          env: { ...process.env, [PARENT_ENV]: String(process.pid) },
          stdio: ['ignore', 'ignore', 'pipe'],
          // Its own process group: a terminal's Ctrl-C reaches the runner, which passes one
          // SIGINT on (a second one would end the child before it cleans up).
          detached: true,
        })
        children.add(child)
        running++
        let stderr = ''
        child.stderr!.on('data', (b: Buffer) => {
          stderr = (stderr + b.toString()).slice(-4000)
        })
        child.on('close', (code) => {
          children.delete(child)
          running--
          const wall = (performance.now() - t0) / 1000
          void readTaskStatus(dir, manifest.tasks[index]!).then((s) => {
            const label = `task ${index} ${manifest.tasks[index]!.label}`
            if (s.state === 'done') {
              done++
              ran++
              taskTimes.push(wall)
              options.out(`${label}: done in ${wall.toFixed(1)} s`)
            } else if (!options.signal?.aborted) {
              failed++
              const why = s.error?.error ?? (stderr.trim().split('\n').pop() || `exit ${code}`)
              options.out(`${label}: FAILED (${why})`)
            }
            bar()
            resolve()
          })
        })
      })
    const worker = async () => {
      while (next < todo.length && !options.signal?.aborted) await runOne(todo[next++]!.index)
    }
    const onAbort = () => {
      for (const c of children) c.kill('SIGINT')
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      await Promise.all(Array.from({ length: Math.max(1, Math.min(options.jobs, todo.length)) }, worker))
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
    }
    if (options.signal?.aborted) throw abortError()
    return { total, alreadyDone, ran, failed, wallS: (performance.now() - started) / 1000 }
  } finally {
    for (const c of children) c.kill('SIGINT')
    await release()
  }
}
