/**
 * The campaign's plots (`tfus campaign collect`, beside summary.csv): one bar chart per headline
 * number (peak pressure, focal shift, insertion loss, MI), one bar per task in task order,
 * grouped by subject and target (or procedural head), so that a cohort's spread across subjects
 * and the effect of the settings within one target are seen at a glance. Drawn into an RGB
 * buffer here (core/ has no canvas) and encoded by the report's PNG encoder; the axis carries
 * its extreme values and the groups are numbered with a legend below, in a 3 x 5 bitmap font.
 * The exact numbers are summary.csv's.
 */
import { advance, drawText, fillRect, GLYPH_HEIGHT, type RgbImage } from '../report/bitmap-font.ts'
import { encodePngRgb } from '../report/png.ts'
import type { CampaignTask } from './expand.ts'
import type { SummaryRow } from './summary.ts'

type Metrics = NonNullable<SummaryRow['metrics']>

export interface CampaignPlotSpec {
  readonly file: string
  readonly title: string
  readonly value: (m: Metrics) => number
}

/** The plots and their units (the reader's: kPa, mm, dB). */
export const CAMPAIGN_PLOTS: readonly CampaignPlotSpec[] = [
  { file: 'summary-peak-pressure.png', title: 'Peak pressure in the brain (kPa)', value: (m) => m.peak_pressure_pa / 1000 },
  { file: 'summary-focal-shift.png', title: 'Focal shift (mm)', value: (m) => m.focal_shift_length_m * 1000 },
  { file: 'summary-insertion-loss.png', title: 'Insertion loss (dB)', value: (m) => m.insertion_loss_db },
  { file: 'summary-mi.png', title: 'Mechanical index', value: (m) => m.mi },
]

/** The group a task's bar sits in: its subject and target, or its procedural head. */
export function taskGroup(task: CampaignTask): string {
  const s = task.source
  return s.kind === 'subject' ? `${s.subject}/${s.target}` : `head ${s.head_seed}`
}

export interface Bar {
  readonly group: string
  /** null: the task has no result (not done); its slot stays, marked grey under the axis. */
  readonly value: number | null
}

export const PLOT_COLOURS = {
  background: [255, 255, 255],
  bar: [54, 104, 168],
  missing: [170, 170, 170],
  ink: [40, 40, 40],
  grid: [225, 225, 225],
} as const

const SCALE = 2
const TEXT_H = GLYPH_HEIGHT * SCALE
const BAR_W = 12
const BAR_GAP = 4
const GROUP_GAP = 16
const PLOT_H = 180
const TOP = 12 + TEXT_H + 10
const LINE_H = TEXT_H + 4
/** Groups named in the legend; the rest are summed up in one line (their names are in summary.csv). */
const LEGEND_GROUPS = 30

/** An axis value in at most three significant digits, no exponent. */
export function formatAxisValue(v: number): string {
  if (v === 0) return '0'
  if (Math.abs(v) >= 1000) return String(Math.round(v))
  return String(Number(v.toPrecision(3)))
}

/** A bar chart of `bars` (in order; consecutive bars of one group sit together). */
export function drawBarChart(title: string, bars: readonly Bar[]): RgbImage {
  const groups: { name: string; start: number; count: number }[] = []
  for (const [i, b] of bars.entries()) {
    const last = groups.at(-1)
    if (last && last.name === b.group) last.count++
    else groups.push({ name: b.group, start: i, count: 1 })
  }
  const values = bars.map((b) => b.value).filter((v): v is number => v !== null && Number.isFinite(v))
  const lo = Math.min(0, ...values)
  let hi = Math.max(0, ...values)
  if (hi === lo) hi = lo + 1
  const labels = [formatAxisValue(hi), formatAxisValue(lo)]
  const left = 8 + Math.max(...labels.map((l) => l.length)) * advance(SCALE) + 6
  const plotW = groups.reduce((w, g) => w + g.count * (BAR_W + BAR_GAP) - BAR_GAP, 0) + GROUP_GAP * Math.max(0, groups.length - 1)
  const shown = groups.length > LEGEND_GROUPS ? groups.slice(0, LEGEND_GROUPS - 1) : groups
  const legend = shown.map((g, i) => `${i + 1} ${g.name} (${g.count})`)
  if (shown.length < groups.length) legend.push(`... ${groups.length - shown.length} more groups: see summary.csv`)
  const textW = (s: string) => s.length * advance(SCALE)
  const width = Math.max(360, left + plotW + 16, 16 + textW(title), 16 + Math.max(...legend.map(textW)))
  const bottom = TOP + PLOT_H
  const height = bottom + 8 + TEXT_H + 10 + legend.length * LINE_H + 6
  const img: RgbImage = { width, height, rgb: new Uint8Array(3 * width * height) }
  fillRect(img, 0, 0, width, height, PLOT_COLOURS.background)
  drawText(img, title, 8, 12, SCALE, PLOT_COLOURS.ink)

  const yOf = (v: number) => TOP + ((hi - v) / (hi - lo)) * PLOT_H
  const zero = Math.round(yOf(0))
  fillRect(img, left, TOP, plotW + 8, 1, PLOT_COLOURS.grid)
  fillRect(img, left, bottom, plotW + 8, 1, PLOT_COLOURS.grid)
  fillRect(img, left - 2, TOP, 1, PLOT_H + 1, PLOT_COLOURS.ink)
  fillRect(img, left - 2, zero, plotW + 10, 1, PLOT_COLOURS.ink)
  drawText(img, labels[0]!, 8, TOP - TEXT_H / 2, SCALE, PLOT_COLOURS.ink)
  drawText(img, labels[1]!, 8, bottom - TEXT_H / 2, SCALE, PLOT_COLOURS.ink)
  if (lo < 0) drawText(img, '0', 8, zero - TEXT_H / 2, SCALE, PLOT_COLOURS.ink)

  let x = left + 4
  groups.forEach((g, gi) => {
    const groupW = g.count * (BAR_W + BAR_GAP) - BAR_GAP
    for (let k = 0; k < g.count; k++) {
      const v = bars[g.start + k]!.value
      const bx = x + k * (BAR_W + BAR_GAP)
      if (v === null || !Number.isFinite(v)) fillRect(img, bx, zero + 3, BAR_W, 3, PLOT_COLOURS.missing)
      else {
        // Bars stand on the zero line (up) or hang from it (down), at least one pixel tall so
        // that a zero reads as a result, not as a missing task.
        const y = Math.round(yOf(v))
        if (v >= 0) fillRect(img, bx, Math.min(y, zero - 1), BAR_W, Math.max(1, zero - y), PLOT_COLOURS.bar)
        else fillRect(img, bx, zero + 1, BAR_W, Math.max(1, y - zero), PLOT_COLOURS.bar)
      }
    }
    const number = String(gi + 1)
    if (gi < shown.length && textW(number) <= groupW + GROUP_GAP)
      drawText(img, number, x + (groupW - textW(number) + SCALE) / 2, bottom + 8, SCALE, PLOT_COLOURS.ink)
    x += groupW + GROUP_GAP
  })
  legend.forEach((line, i) => drawText(img, line, 8, bottom + 8 + TEXT_H + 10 + i * LINE_H, SCALE, PLOT_COLOURS.ink))
  return img
}

/** The campaign's plots as PNG files: one bar per task (rows in task order), grouped by `groupOf`. */
export function campaignPlots(rows: readonly SummaryRow[], groupOf: (index: number) => string): { file: string; png: Uint8Array }[] {
  return CAMPAIGN_PLOTS.map((spec) => {
    const img = drawBarChart(
      spec.title,
      rows.map((r) => ({ group: groupOf(r.index), value: r.metrics ? spec.value(r.metrics) : null })),
    )
    return { file: spec.file, png: encodePngRgb(img.rgb, img.width, img.height) }
  })
}
