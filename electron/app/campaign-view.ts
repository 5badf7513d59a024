/**
 * Campaigns in the app (issue 18, item 4): the campaign folders the user opened (remembered in
 * `<work folder>/campaigns.json`, so the list survives a restart), each one's progress from its
 * done-markers and error records (campaign.ts: the same reading `tfus campaign status` does), and
 * a finished task's plan folder for the views. The app only reads a campaign folder: tasks are
 * run by `tfus campaign run` or Slurm, and collected into the database by `tfus campaign collect`.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import type { CampaignSummary } from '../../core/contracts/api.ts'
import { taskGroup } from '../../core/campaign/plots.ts'
import { PLAN_FILES } from '../../core/contracts/plan.ts'
import { replaceFileAtomically } from '../adapters/atomic-file.ts'
import { readCampaignStatus, readManifest, taskPlanDir, type TaskStatus } from './campaign.ts'

export interface CampaignTaskView {
  readonly index: number
  readonly label: string
  readonly group: string
  readonly state: TaskStatus['state']
  readonly wallS: number | null
  readonly error: string | null
  readonly peakPressurePa: number | null
}

async function peakOf(dir: string, index: number): Promise<number | null> {
  try {
    const m = JSON.parse(await fs.readFile(path.join(taskPlanDir(dir, index), PLAN_FILES.metrics), 'utf8')) as { peak_pressure_pa?: unknown }
    return typeof m.peak_pressure_pa === 'number' ? m.peak_pressure_pa : null
  } catch {
    return null
  }
}

/** A campaign folder's progress and tasks (throws SimulationInputError when it is no campaign folder). */
export async function readCampaignView(dir: string): Promise<{ summary: CampaignSummary; tasks: CampaignTaskView[] }> {
  const abs = path.resolve(dir)
  const manifest = await readManifest(abs)
  const status = await readCampaignStatus(abs, manifest)
  const tasks = await Promise.all(
    status.map(async (s): Promise<CampaignTaskView> => ({
      index: s.task.index,
      label: s.task.label,
      group: taskGroup(s.task),
      state: s.state,
      wallS: s.done?.wall_s ?? null,
      error: s.error?.error ?? null,
      peakPressurePa: s.state === 'done' ? await peakOf(abs, s.task.index) : null,
    })),
  )
  const count = (state: TaskStatus['state']) => tasks.filter((t) => t.state === state).length
  return {
    summary: {
      dir: abs,
      name: manifest.name,
      kind: manifest.kind,
      total: tasks.length,
      done: count('done'),
      failed: count('failed'),
      missing: count('missing'),
    },
    tasks,
  }
}

/** The plan folder of a done task; throws with the task's state otherwise. */
export async function finishedTaskPlanDir(dir: string, index: number): Promise<{ planDir: string; label: string }> {
  const abs = path.resolve(dir)
  const manifest = await readManifest(abs)
  const task = manifest.tasks[index]
  if (!task) throw new RangeError(`task ${index}: the campaign has tasks 0 to ${manifest.tasks.length - 1}`)
  const [s] = await readCampaignStatus(abs, { ...manifest, tasks: [task] })
  if (s!.state !== 'done') throw new RangeError(`task ${index} (${task.label}) is ${s!.state}${s!.error ? `: ${s!.error.error}` : ''}, not done`)
  return { planDir: taskPlanDir(abs, index), label: task.label }
}

/** The campaign folders opened in the app, most recent first, in one small JSON file. */
export class CampaignList {
  private dirs: string[] | undefined
  constructor(private readonly file: string) {}

  async list(): Promise<readonly string[]> {
    if (!this.dirs) {
      try {
        const raw = JSON.parse(await fs.readFile(this.file, 'utf8')) as { dirs?: unknown }
        this.dirs = Array.isArray(raw.dirs) ? raw.dirs.filter((d): d is string => typeof d === 'string') : []
      } catch {
        this.dirs = []
      }
    }
    return this.dirs
  }

  async add(dir: string): Promise<void> {
    await this.save([path.resolve(dir), ...(await this.list()).filter((d) => d !== path.resolve(dir))])
  }

  async remove(dir: string): Promise<void> {
    await this.save((await this.list()).filter((d) => d !== path.resolve(dir)))
  }

  private async save(dirs: string[]): Promise<void> {
    this.dirs = dirs
    // Folder paths can name patients or studies: readable by the user only, as session.json.
    await replaceFileAtomically(this.file, (tmp) => fs.writeFile(tmp, JSON.stringify({ dirs }), { mode: 0o600 }))
  }
}
