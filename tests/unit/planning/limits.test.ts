/**
 * One source of truth for the planning thresholds (core/planning/limits.ts): the metrics'
 * mechanical flag, the placement warning, the report and the renderer's table agree at each
 * threshold, and no copy of a threshold is left in the code that shows or computes them.
 */
import { describe, it, expect } from 'vitest'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import {
  CLINICAL_POINTS_PER_WAVELENGTH,
  FOCAL_SHIFT_WARNING_M,
  INCIDENCE_WARNING_DEG,
  MECHANICAL_INDEX_LIMIT,
  mechanicalFlag,
} from '../../../core/planning/limits.ts'
import { metricRows, resolutionWarning } from '../../../renderer/src/lib/metrics-table.ts'
import type { PlanMetricsRecord } from '../../../core/contracts/plan.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')

const metrics = (over: Partial<PlanMetricsRecord>): PlanMetricsRecord =>
  ({
    focal_shift_length_m: 0.001,
    fwhm_6db_m: { axial: 0.03, lateral1: 0.006, lateral2: 0.006 },
    peak_pressure_pa: 5e5,
    volume_6db_m3: 5e-7,
    isppa_w_m2: 8e4,
    ispta_w_m2: 800,
    mi: 0.5,
    mi_tc: 0.5,
    tic: 0.3,
    insertion_loss_db: 6,
    skull_thickness_m: 0.006,
    incidence_angle_deg: 5,
    ppw: 6,
    flags: { mechanical: '', thermal: 'not assessed' },
    ...over,
  }) as unknown as PlanMetricsRecord

const row = (m: PlanMetricsRecord, key: string) => metricRows(m, false).find((r) => r.key === key)!

describe('planning thresholds', () => {
  it('the mechanical flag and the table change at the same MI', () => {
    expect(mechanicalFlag(MECHANICAL_INDEX_LIMIT, 3)).toMatch(/^pass/)
    expect(mechanicalFlag(MECHANICAL_INDEX_LIMIT + 0.01, MECHANICAL_INDEX_LIMIT + 0.01)).toMatch(/^exceeds/)
    expect(row(metrics({ mi: 3, mi_tc: MECHANICAL_INDEX_LIMIT }), 'mi').flag).toBe('ok')
    expect(row(metrics({ mi: 3, mi_tc: MECHANICAL_INDEX_LIMIT + 0.01 }), 'mi').flag).toBe('exceeds')
  })

  it('incidence, focal shift and resolution flags sit at the shared thresholds', () => {
    expect(row(metrics({ incidence_angle_deg: INCIDENCE_WARNING_DEG }), 'incidence').flag).toBe('ok')
    expect(row(metrics({ incidence_angle_deg: INCIDENCE_WARNING_DEG + 0.5 }), 'incidence').flag).toBe('warn')
    expect(row(metrics({ focal_shift_length_m: FOCAL_SHIFT_WARNING_M * 1.01 }), 'shift').flag).toBe('warn')
    expect(row(metrics({ ppw: CLINICAL_POINTS_PER_WAVELENGTH - 1 }), 'ppw').flag).toBe('warn')
    expect(resolutionWarning(CLINICAL_POINTS_PER_WAVELENGTH)).toBeNull()
    expect(resolutionWarning(CLINICAL_POINTS_PER_WAVELENGTH - 1)).toMatch(new RegExp(`below ${CLINICAL_POINTS_PER_WAVELENGTH}`))
  })

  it('no copy of a threshold is left where metrics, placement, report and table are made', () => {
    const files = ['core/planning/metrics.ts', 'core/planning/placement.ts', 'core/report/report.ts', 'renderer/src/lib/metrics-table.ts']
    for (const f of files) {
      const code = readFileSync(path.join(ROOT, f), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
      expect(code, `${f}: the MI limit written out`).not.toMatch(/\b1\.9\b/)
      expect(code, `${f}: an incidence threshold written out`).not.toMatch(/incidence(_angle_deg|Deg|)?\s*>\s*\d/)
    }
  })
})
