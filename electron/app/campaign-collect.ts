/**
 * `tfus campaign collect`: the finished plan folders into the plan database, each exactly once,
 * and summary.csv with its plots (summary-*.png). One writer: this process holds the database (and a collect lock on the
 * campaign folder) while tasks, wherever they ran, only wrote their own folders. A plan's note
 * names its campaign and task (summary.ts campaignNote); the database is asked which tasks it
 * already holds before anything is imported, so a collect interrupted after an import, or run
 * twice, never imports a task again.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { campaignNote, parseCampaignNote, summaryCsv, type SummaryRow } from '../../core/campaign/summary.ts'
import { campaignPlots, taskGroup } from '../../core/campaign/plots.ts'
import { writeFileAtomic } from '../adapters/atomic-file.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'
import { openPlanStore } from '../adapters/db/client.ts'
import { readCampaignStatus, readManifest, taskPlanDir } from './campaign.ts'

export interface CollectResult {
  readonly imported: number
  readonly alreadyInDatabase: number
  readonly notDone: number
  readonly csv: string
  /** The plots beside it (core/campaign/plots.ts). */
  readonly plots: readonly string[]
  /** Task index -> plan id, for every done task. */
  readonly planIds: ReadonlyMap<number, number>
}

export async function collectCampaign(dir: string, dataDir: string, out: (line: string) => void = () => {}): Promise<CollectResult> {
  const manifest = await readManifest(dir)
  const lock = path.join(dir, 'collect.lock')
  try {
    await fs.writeFile(lock, String(process.pid), { flag: 'wx' })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new SimulationInputError(dir, `another tfus campaign collect holds ${lock} (remove it if none runs)`)
    throw e
  }
  try {
    const status = await readCampaignStatus(dir, manifest)
    const store = await openPlanStore(dataDir)
    const planIds = new Map<number, number>()
    let imported = 0
    let already = 0
    try {
      const held = new Map<string, number>()
      for (const p of await store.listPlans()) {
        const n = parseCampaignNote(p.note)
        if (n && n.campaignId === manifest.campaign_id) held.set(n.taskId, p.planId)
      }
      for (const s of status) {
        if (s.state !== 'done') continue
        const t = s.task
        const have = held.get(t.id)
        if (have !== undefined) {
          planIds.set(t.index, have)
          already++
          continue
        }
        const ref = await store.savePlanFolder(taskPlanDir(dir, t.index), { note: campaignNote(manifest.name, manifest.campaign_id, t.index, t.id, t.label) })
        planIds.set(t.index, ref.planId)
        held.set(t.id, ref.planId)
        imported++
        out(`task ${t.index} ${t.label}: plan id ${ref.planId}`)
      }
    } finally {
      await store.close()
    }
    const rows: SummaryRow[] = []
    for (const s of status) {
      const metrics =
        s.state === 'done' ? (JSON.parse(await fs.readFile(path.join(taskPlanDir(dir, s.task.index), 'metrics.json'), 'utf8')) as SummaryRow['metrics']) : null
      rows.push({
        index: s.task.index,
        id: s.task.id,
        label: s.task.label,
        state: s.state,
        planId: planIds.get(s.task.index) ?? null,
        wallS: s.done?.wall_s ?? null,
        metrics,
        error: s.error?.error ?? null,
      })
    }
    const csv = path.join(dir, 'summary.csv')
    await writeFileAtomic(csv, summaryCsv(rows))
    const plots: string[] = []
    for (const p of campaignPlots(rows, (index) => taskGroup(manifest.tasks[index]!))) {
      const file = path.join(dir, p.file)
      await writeFileAtomic(file, p.png)
      plots.push(file)
    }
    return { imported, alreadyInDatabase: already, notDone: status.filter((s) => s.state !== 'done').length, csv, plots, planIds }
  } finally {
    await fs.rm(lock, { force: true })
  }
}
