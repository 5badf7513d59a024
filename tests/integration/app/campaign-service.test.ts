/**
 * Campaigns in the app (issue 18, item 4): a campaign folder made by `tfus campaign plan` with two
 * of its three tiny tasks run is opened, remembered across a restart of the service, listed with
 * its progress, and a finished task's plan opens as a finished run; a task not done is refused.
 * `collect` then writes the plots with one bar per finished task.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createPlannerService } from '../../../electron/app/service.ts'
import { planCampaign, runCampaignTask, taskPlanDir } from '../../../electron/app/campaign.ts'
import { collectCampaign } from '../../../electron/app/campaign-collect.ts'
import { tinyDataDir, tinySweep } from '../../helpers/campaign.ts'
import { rejection } from '../../helpers/rejection.ts'
import { decodePng } from '../../e2e/support/png.ts'
import { PLOT_COLOURS } from '../../../core/campaign/plots.ts'

let root: string
let campaign: string
let dataDir: string
const envBefore = process.env.TFUS_DATA_DIR
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-campaign-app-'))
  dataDir = await tinyDataDir(root)
  // The tiny test transducer lives in this data folder (the library reads TFUS_DATA_DIR).
  process.env.TFUS_DATA_DIR = dataDir
  const file = path.join(root, 'sweep.json')
  await fs.writeFile(file, JSON.stringify(tinySweep('app-sweep', 3)))
  campaign = path.join(root, 'campaign')
  await planCampaign(file, campaign)
  await runCampaignTask(campaign, 0)
  await runCampaignTask(campaign, 2)
}, 280_000)
afterAll(async () => {
  if (envBefore === undefined) delete process.env.TFUS_DATA_DIR
  else process.env.TFUS_DATA_DIR = envBefore
  await fs.rm(root, { recursive: true, force: true })
})

/** Runs of columns holding bar pixels: the bars of a plot. */
function barCount(png: Uint8Array): number {
  const img = decodePng(png)
  let bars = 0
  let inBar = false
  for (let x = 0; x < img.width; x++) {
    let bar = false
    for (let y = 0; y < img.height && !bar; y++) {
      const o = 4 * (y * img.width + x)
      bar = img.data[o] === PLOT_COLOURS.bar[0] && img.data[o + 1] === PLOT_COLOURS.bar[1] && img.data[o + 2] === PLOT_COLOURS.bar[2]
    }
    if (bar && !inBar) bars++
    inBar = bar
  }
  return bars
}

describe('campaigns in the app', () => {
  it('opens a campaign folder with its progress, remembers it, and opens a finished task as a run', async () => {
    const workDir = path.join(root, 'work')
    const s = createPlannerService({ host: 'browser', workDir, dataDir: path.join(root, 'db'), probeWebGpu: false })
    try {
      expect((await s.impl.listCampaigns({})).campaigns).toEqual([])
      expect(await rejection(s.impl.openCampaign({ dir: 'campaign' }))).toMatchObject({ code: 'bad-request', field: 'dir' })
      expect(await rejection(s.impl.openCampaign({ dir: root }))).toMatchObject({
        code: 'not-found',
        field: 'dir',
        message: expect.stringMatching(/not a campaign folder/),
      })

      const opened = await s.impl.openCampaign({ dir: campaign })
      expect(opened.summary).toEqual({ dir: campaign, name: 'app-sweep', kind: 'scene-sweep', total: 3, done: 2, failed: 0, missing: 1 })
      expect(opened.tasks.map((t) => t.state)).toEqual(['done', 'missing', 'done'])
      expect(opened.tasks.map((t) => t.group)).toEqual(['head 1000', 'head 1000', 'head 1000'])
      const metrics0 = JSON.parse(await fs.readFile(path.join(taskPlanDir(campaign, 0), 'metrics.json'), 'utf8')) as { peak_pressure_pa: number }
      expect(opened.tasks[0]!.peakPressurePa).toBe(metrics0.peak_pressure_pa)
      expect(opened.tasks[1]!.peakPressurePa).toBeNull()

      const listed = (await s.impl.listCampaigns({})).campaigns
      expect(listed).toHaveLength(1)
      expect(listed[0]!.summary).toMatchObject({ done: 2, total: 3 })

      expect(await rejection(s.impl.openCampaignTask({ dir: campaign, index: 1 }))).toMatchObject({
        code: 'not-found',
        message: expect.stringMatching(/missing, not done/),
      })
      expect(await rejection(s.impl.openCampaignTask({ dir: campaign, index: 3 }))).toMatchObject({ code: 'not-found' })
      const task = await s.impl.openCampaignTask({ dir: campaign, index: 0 })
      expect(task.inputs.transducerId).toBe('tiny-bowl')
      expect(task.ct.source).toMatch(/head-1000-2mm\.nii\.gz$/)
      const result = await s.impl.getPlanResult({ runId: task.runId })
      expect(result.metrics.peak_pressure_pa).toBe(metrics0.peak_pressure_pa)
      const pressure = await s.impl.getVolume({ volumeId: result.pressureVolumeId, stride: 1 })
      expect(pressure.bytes.byteLength).toBeGreaterThan(0)
    } finally {
      await s.dispose()
    }
    // The task's plan folder is the campaign's, untouched by opening (the run used a copy).
    expect((await fs.readdir(taskPlanDir(campaign, 0))).sort()).toContain('plan.json')

    // A restart: the list is remembered; Forget drops it (the folder stays).
    const again = createPlannerService({ host: 'browser', workDir, dataDir: path.join(root, 'db'), probeWebGpu: false })
    try {
      expect((await again.impl.listCampaigns({})).campaigns.map((c) => c.dir)).toEqual([campaign])
      await again.impl.forgetCampaign({ dir: campaign })
      expect((await again.impl.listCampaigns({})).campaigns).toEqual([])
      expect(await fs.stat(path.join(campaign, 'manifest.json'))).toBeTruthy()
    } finally {
      await again.dispose()
    }
  })

  it('collect writes the plots beside summary.csv, one bar per finished task', async () => {
    const r = await collectCampaign(campaign, path.join(root, 'collect-db'))
    expect(r.imported).toBe(2)
    expect(r.plots.map((p) => path.basename(p))).toEqual([
      'summary-peak-pressure.png',
      'summary-focal-shift.png',
      'summary-insertion-loss.png',
      'summary-mi.png',
    ])
    for (const p of r.plots) {
      expect(path.dirname(p)).toBe(path.dirname(r.csv))
      expect(barCount(await fs.readFile(p)), p).toBe(2)
    }
  })
})
