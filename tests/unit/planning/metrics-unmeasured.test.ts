/**
 * Issue 13: a valid plan crashed at the very end because a -3 dB width came out NaN (the focal
 * region ran off the simulation grid) and the metrics record rejected it. Widths that cannot be
 * measured are null with a warning; everything that shows them (report, exports, results table)
 * says "not measured". Synthetic fields on small grids: milliseconds per case.
 */
import { describe, expect, it } from 'vitest'
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { widthAlong } from '../../../core/solver/metrics.ts'
import { planMetrics, DEFAULT_PULSE_TIMING, type PlanMetrics } from '../../../core/planning/metrics.ts'
import type { PlanDomain } from '../../../core/planning/domain.ts'
import type { Placement } from '../../../core/planning/placement.ts'
import type { Grid } from '../../../core/solver/model.ts'
import { SimulationNumericalError } from '../../../core/solver/errors.ts'
import { planMetricsRecord } from '../../../core/contracts/plan.ts'
import { buildReportHtml } from '../../../core/report/report.ts'
import { metricRows } from '../../../renderer/src/lib/metrics-table.ts'
import { EXPORT_FORMATS, exportPlanFolder } from '../../../electron/app/exports.ts'
import type { Vec3 } from '../../../core/volume/types.ts'
import { syntheticPlan } from '../exports/helpers.ts'
import { planRecordFixture } from '../db/fixtures.ts'

// An origin and spacing for which a face's coordinate, recomputed from metres, lands a rounding
// error outside the grid: ((-0.0123 + 24 * 0.0015) - -0.0123) / 0.0015 = 24.000000000000004.
const N = 25
const GRID: Grid = { spacingM: 0.0015, size: [N, N, N], originM: [-0.0123, -0.0123, -0.0123] }
const SIGMA = 3 // voxels
/** The -6 dB (half amplitude) full width of exp(-r^2 / (2 sigma^2)) [m]. */
const HALF_WIDTH_6DB = 2 * SIGMA * Math.sqrt(2 * Math.LN2) * GRID.spacingM

function gaussian(centre: Vec3, plateauAlongX = false): Float32Array {
  const field = new Float32Array(N * N * N)
  for (let k = 0; k < N; k++)
    for (let j = 0; j < N; j++)
      for (let i = 0; i < N; i++) {
        const dx = plateauAlongX ? 0 : i - centre[0]
        field[i + N * (j + N * k)] = 1e5 * Math.exp(-(dx ** 2 + (j - centre[1]) ** 2 + (k - centre[2]) ** 2) / (2 * SIGMA ** 2))
      }
  return field
}

const at = (ijk: Vec3): Vec3 => ijk.map((v, d) => GRID.originM[d]! + v * GRID.spacingM) as unknown as Vec3

describe('widthAlong', () => {
  it('measures a focus inside the grid', () => {
    const w = widthAlong(gaussian([12, 12, 12]), GRID, at([12, 12, 12]), [0, 0, 1], 0.5e5)
    expect(w).not.toBeNull()
    expect(Math.abs(w! / HALF_WIDTH_6DB - 1)).toBeLessThan(0.02)
  })

  it('is null, never NaN, where the region runs off the grid; the other directions still measure', () => {
    const peak = at([12, 12, N - 1])
    const field = gaussian([12, 12, N - 1])
    expect(widthAlong(field, GRID, peak, [0, 0, 1], 0.5e5)).toBeNull()
    // Before the fix the face coordinate's rounding made these NaN as well.
    for (const dir of [
      [1, 0, 0],
      [0, 1, 0],
    ] as Vec3[]) {
      const w = widthAlong(field, GRID, peak, dir, 0.5e5)
      expect(w).not.toBeNull()
      expect(Math.abs(w! / HALF_WIDTH_6DB - 1)).toBeLessThan(0.02)
    }
  })

  it('is null where the field never falls to the level, and for a centre off the grid', () => {
    const field = gaussian([12, 12, 12], true)
    expect(widthAlong(field, GRID, at([12, 12, 12]), [1, 0, 0], 0.5e5)).toBeNull()
    expect(widthAlong(field, GRID, at([12, 12, 12]), [0, 1, 0], 0.5e5)).not.toBeNull()
    expect(widthAlong(field, GRID, at([40, 12, 12]), [0, 1, 0], 0.5e5)).toBeNull()
    expect(widthAlong(field, GRID, at([12, 12, 12]), [0, 1, 0], Number.NaN)).toBeNull()
  })
})

function metricsOf(field: Float32Array): PlanMetrics {
  const brain = new Uint8Array(field.length).fill(1)
  const domain = {
    grid: GRID,
    medium: { soundSpeed: 1546, density: 1045, alphaNpM: 0 },
    brain,
    head: brain,
    skull: new Uint8Array(field.length),
    warnings: [],
  } as unknown as PlanDomain
  const placement = {
    pose: { transducerToRas: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] },
    path: { skullThicknessM: 0.006, incidenceAngleDeg: 5, exitPlaneToTargetM: 0.04 },
  } as unknown as Placement
  return planMetrics({
    amplitudePa: field,
    freeWaterPeakPa: 2e5,
    domain,
    placement,
    targetRasM: at([12, 12, 12]),
    frequencyHz: 250e3,
    sourceAmplitudePa: 6e4,
    emittingAreaM2: 2e-3,
    apertureAreaM2: 2e-3,
    pulseTiming: DEFAULT_PULSE_TIMING,
    ppw: 2,
  }).metrics
}

/** Every number in a JSON-like value, with its path. */
function numbers(value: unknown, where = ''): Array<[string, number]> {
  if (typeof value === 'number') return [[where, value]]
  if (Array.isArray(value)) return value.flatMap((v, i) => numbers(v, `${where}[${i}]`))
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => numbers(v, `${where}.${k}`))
  return []
}

describe('plan metrics with a focus on the edge of the simulation grid', () => {
  const metrics = metricsOf(gaussian([12, 12, N - 1]))

  it('reports the unmeasurable widths as null with a warning, and the record validates', () => {
    expect(metrics.fwhm_6db_m.axial).toBeNull()
    expect(metrics.fwhm_3db_m.axial).toBeNull()
    expect(Math.abs(metrics.fwhm_6db_m.lateral1! / HALF_WIDTH_6DB - 1)).toBeLessThan(0.02)
    expect(metrics.fwhm_3db_m.lateral2!).toBeLessThan(metrics.fwhm_6db_m.lateral2!)
    expect(metrics.warnings.some((w) => /-6 dB .*axial -6 dB width not measured/.test(w))).toBe(true)
    expect(metrics.warnings.some((w) => /-3 dB .*axial -3 dB width not measured/.test(w))).toBe(true)
    for (const [where, v] of numbers(metrics)) expect(Number.isFinite(v), where).toBe(true)
    // What the pipeline's write stage does: parse, write JSON, and a later reader parses the file again.
    const record = planMetricsRecord.parse(metrics)
    const reread = planMetricsRecord.parse(JSON.parse(JSON.stringify(record)))
    expect(reread.fwhm_3db_m).toEqual({ axial: null, lateral1: metrics.fwhm_3db_m.lateral1, lateral2: metrics.fwhm_3db_m.lateral2 })
  })

  it('a field that never falls to half across the beam: that lateral width is null', () => {
    const m = metricsOf(gaussian([12, 12, 12], true))
    expect(m.fwhm_6db_m.lateral1).toBeNull()
    expect(m.fwhm_6db_m.axial).not.toBeNull()
    expect(planMetricsRecord.safeParse(m).success).toBe(true)
  })

  it('a measurable focus has no width warning', () => {
    const m = metricsOf(gaussian([12, 12, 12]))
    expect(Object.values(m.fwhm_6db_m).every((w) => typeof w === 'number')).toBe(true)
    expect(m.warnings.filter((w) => /width/.test(w))).toEqual([])
  })

  it('a field that never reached the brain is a numerical failure in words, not Infinity in the record', () => {
    expect(() => metricsOf(new Float32Array(N * N * N))).toThrow(SimulationNumericalError)
  })

  it('the report and the results table say "not measured", never NaN', () => {
    const record = planMetricsRecord.parse(metrics)
    const html = buildReportHtml({
      plan: planRecordFixture(1),
      metrics: record,
      thermal: null,
      planLabel: 'p',
      patient: null,
      deidentified: true,
      images: [],
      slices: [],
      generatedAt: '2026-01-01T00:00:00Z',
      software: 'test',
    })
    expect(html).toMatch(/not measured × [\d.]+ × [\d.]+ mm \(see warnings\)/)
    expect(html).toMatch(/data-si="null [\d.e-]+ [\d.e-]+"/)
    expect(html).not.toMatch(/NaN/)
    const row = metricRows(record, false).find((r) => r.key === 'fwhm6')!
    expect(row.value).toMatch(/^not measured x [\d.]+ mm x [\d.]+ mm$/)
    expect(row.flag).toBe('warn')
  })

  it('every export format accepts a plan folder with unmeasured widths', async () => {
    const synthetic = await syntheticPlan()
    try {
      const file = path.join(synthetic.planDir, 'metrics.json')
      const stored = JSON.parse(await fs.readFile(file, 'utf8'))
      stored.fwhm_3db_m = { axial: null, lateral1: null, lateral2: 0.003 }
      stored.fwhm_6db_m = { axial: null, lateral1: 0.004, lateral2: 0.004 }
      await fs.writeFile(file, JSON.stringify(stored))
      for (const format of EXPORT_FORMATS) {
        const out = path.join(synthetic.root, 'out', format === 'report' ? 'report.html' : format)
        await expect(exportPlanFolder(synthetic.planDir, format, out), format).resolves.toBeTruthy()
      }
      const html = await fs.readFile(path.join(synthetic.root, 'out', 'report.html'), 'utf8')
      expect(html).toMatch(/not measured × not measured × 3\.0 mm/)
      expect(html).not.toMatch(/NaN/)
    } finally {
      await fs.rm(synthetic.root, { recursive: true, force: true })
    }
  })
})
