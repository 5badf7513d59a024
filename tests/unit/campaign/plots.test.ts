/** The campaign plots (core/campaign/plots.ts): PNGs that decode, one bar per finished task, heights to scale. */
import { describe, it, expect } from 'vitest'
import { campaignPlots, drawBarChart, formatAxisValue, PLOT_COLOURS, type Bar } from '../../../core/campaign/plots.ts'
import type { SummaryRow } from '../../../core/campaign/summary.ts'
import { encodePngRgb } from '../../../core/report/png.ts'
import { decodePng, type Rgba } from '../../e2e/support/png.ts'

const isBar = (img: Rgba, x: number, y: number) => {
  const o = 4 * (y * img.width + x)
  return img.data[o] === PLOT_COLOURS.bar[0] && img.data[o + 1] === PLOT_COLOURS.bar[1] && img.data[o + 2] === PLOT_COLOURS.bar[2]
}

/** Runs of adjacent columns holding bar pixels, each with its bar's top and bottom rows. */
function barsOf(img: Rgba): { top: number; bottom: number }[] {
  const out: { top: number; bottom: number }[] = []
  let inBar = false
  for (let x = 0; x < img.width; x++) {
    let top = -1
    let bottom = -1
    for (let y = 0; y < img.height; y++)
      if (isBar(img, x, y)) {
        if (top < 0) top = y
        bottom = y
      }
    if (top >= 0 && !inBar) out.push({ top, bottom })
    inBar = top >= 0
  }
  return out
}

const chartPng = (bars: Bar[]) => {
  const img = drawBarChart('shift', bars)
  return encodePngRgb(img.rgb, img.width, img.height)
}

describe('campaign plots', () => {
  const rows: SummaryRow[] = [120, 240, null, 60, 180].map((kpa, index) => ({
    index,
    id: `t${index}`,
    label: `task ${index}`,
    state: kpa === null ? 'failed' : 'done',
    planId: kpa === null ? null : index + 1,
    wallS: 1,
    metrics:
      kpa === null
        ? null
        : { peak_pressure_pa: kpa * 1000, focal_shift_length_m: 0.001 * index, insertion_loss_db: 6 + index, mi: 0.1 * (index + 1), isppa_w_m2: 1e4 },
    error: null,
  }))
  const groupOf = (i: number) => (i < 3 ? 'cranium/m1' : 'second/m2')

  it('writes the four plots as PNGs that decode, one bar per finished task', () => {
    const plots = campaignPlots(rows, groupOf)
    expect(plots.map((p) => p.file)).toEqual(['summary-peak-pressure.png', 'summary-focal-shift.png', 'summary-insertion-loss.png', 'summary-mi.png'])
    for (const p of plots) {
      const img = decodePng(p.png)
      expect(img.width).toBeGreaterThanOrEqual(360)
      // Task 2 failed: no bar; the focal shift of task 0 is 0 mm and still drawn (one pixel).
      expect(barsOf(img), p.file).toHaveLength(4)
    }
  })

  it('draws heights to scale from the zero line, in task order', () => {
    const img = decodePng(campaignPlots(rows, groupOf)[0]!.png)
    const bars = barsOf(img)
    const heights = bars.map((b) => b.bottom - b.top + 1)
    const kpa = [120, 240, 60, 180]
    // Every bar stands on the same zero line; heights are proportional to the values (to a pixel).
    expect(new Set(bars.map((b) => b.bottom)).size).toBe(1)
    heights.forEach((h, i) => expect(Math.abs(h - (heights[1]! * kpa[i]!) / 240)).toBeLessThanOrEqual(1))
  })

  it('hangs negative values below the zero line', () => {
    const img = decodePng(
      chartPng([
        { group: 'a', value: 2 },
        { group: 'a', value: -1 },
      ]),
    )
    const [up, down] = barsOf(img)
    // The zero line (one pixel of ink) lies between them.
    expect(up!.bottom + 2).toBe(down!.top)
    expect(Math.abs((up!.bottom - up!.top + 1) / (down!.bottom - down!.top + 1) - 2)).toBeLessThan(0.1)
  })

  it('labels the axis in at most three significant digits', () => {
    expect(formatAxisValue(0.123456)).toBe('0.123')
    expect(formatAxisValue(245.67)).toBe('246')
    expect(formatAxisValue(12345.6)).toBe('12346')
    expect(formatAxisValue(-1.5)).toBe('-1.5')
  })
})
