/**
 * Two plans side by side: the numbers a planner weighs when choosing between poses, devices or
 * resolutions (as k-Plan's and BabelBrain's comparison tables do), each with plan B minus plan A,
 * and the pressure difference B - A where both fields lie on one CT grid. SI in, SI out; the
 * renderer formats.
 */
import type { PlanMetricsRecord, PlanRecord } from '../contracts/plan.ts'
import type { Volume } from '../volume/index.ts'

export interface ComparedPlan {
  readonly record: PlanRecord
  readonly metrics: PlanMetricsRecord
}

export interface ComparisonRow {
  readonly key: string
  readonly label: string
  /** The unit the values are shown in, and the factor from SI to it. */
  readonly unit: string
  readonly a: number | string | null
  readonly b: number | string | null
  /** b - a in `unit` for numbers; null for text or a missing value. */
  readonly difference: number | null
}

const distanceM = (p: readonly number[], q: readonly number[]) => Math.hypot(p[0]! - q[0]!, p[1]! - q[1]!, p[2]! - q[2]!)

/** The comparison table, in display units (mm, kPa, W/cm2, dB, degrees). */
export function comparePlans(a: ComparedPlan, b: ComparedPlan): ComparisonRow[] {
  const num = (key: string, label: string, unit: string, scale: number, get: (p: ComparedPlan) => number | null): ComparisonRow => {
    const va = get(a)
    const vb = get(b)
    const sa = va === null ? null : va * scale
    const sb = vb === null ? null : vb * scale
    return { key, label, unit, a: sa, b: sb, difference: sa === null || sb === null ? null : sb - sa }
  }
  const text = (key: string, label: string, get: (p: ComparedPlan) => string): ComparisonRow => ({
    key,
    label,
    unit: '',
    a: get(a),
    b: get(b),
    difference: null,
  })
  return [
    text('transducer', 'Transducer', (p) => p.record.transducer.id),
    num('ppw', 'Resolution', 'points per wavelength', 1, (p) => p.record.simulation.ppw),
    text('source', 'Computed by', (p) =>
      p.record.source === 'surrogate' ? 'neural surrogate (preview)' : `full-wave solver (${p.record.simulation.backend})`,
    ),
    // Where the two plans aim and where their foci land, relative to each other.
    {
      key: 'target-distance',
      label: 'Target of B from target of A',
      unit: 'mm',
      a: 0,
      b: distanceM(a.record.target_ras_m, b.record.target_ras_m) * 1e3,
      difference: distanceM(a.record.target_ras_m, b.record.target_ras_m) * 1e3,
    },
    {
      key: 'focus-distance',
      label: 'Focus of B from focus of A',
      unit: 'mm',
      a: 0,
      b: distanceM(a.metrics.peak_position_ras_m, b.metrics.peak_position_ras_m) * 1e3,
      difference: distanceM(a.metrics.peak_position_ras_m, b.metrics.peak_position_ras_m) * 1e3,
    },
    num('peak', 'Peak pressure (in situ)', 'kPa', 1e-3, (p) => p.metrics.peak_pressure_pa),
    num('shift', 'Focal shift (target to peak)', 'mm', 1e3, (p) => p.metrics.focal_shift_length_m),
    num('vol6', '-6 dB volume', 'mm3', 1e9, (p) => p.metrics.volume_6db_m3),
    num('fwhm6-axial', '-6 dB length (axial)', 'mm', 1e3, (p) => p.metrics.fwhm_6db_m.axial),
    num('isppa', 'Isppa', 'W/cm2', 1e-4, (p) => p.metrics.isppa_w_m2),
    num('ispta', 'Ispta', 'mW/cm2', 1e-1, (p) => p.metrics.ispta_w_m2),
    num('mi-tc', 'MI_tc', '', 1, (p) => p.metrics.mi_tc),
    num('il', 'Insertion loss', 'dB', 1, (p) => p.metrics.insertion_loss_db),
    num('skull', 'Skull thickness on the axis', 'mm', 1e3, (p) => p.metrics.skull_thickness_m),
    num('incidence', 'Incidence angle', 'deg', 1, (p) => p.metrics.incidence_angle_deg),
    num('amplitude', 'Source amplitude', 'kPa', 1e-3, (p) => p.metrics.source_amplitude_pa),
    text('mechanical', 'Mechanical safety', (p) => p.metrics.flags.mechanical),
    text('thermal', 'Thermal safety', (p) => p.metrics.flags.thermal),
  ]
}

/** Why two pressure fields cannot be subtracted voxel by voxel, or null when they can. */
export function differenceRefusal(a: Volume, b: Volume): string | null {
  const close = (x: readonly number[], y: readonly number[], tol: number) => x.every((v, i) => Math.abs(v - y[i]!) <= tol)
  if (!close(a.dims, b.dims, 0))
    return `the plans' fields lie on different grids (${a.dims.join(' x ')} and ${b.dims.join(' x ')} voxels): they were planned on different CTs`
  if (!close(a.spacingM, b.spacingM, 1e-9) || !close(a.originM, b.originM, 1e-7) || !close(a.direction, b.direction, 1e-6))
    return "the plans' fields lie on differently placed grids: they were planned on different CTs"
  return null
}

/** Pressure amplitude of B minus A [Pa], voxel by voxel on A's grid (check differenceRefusal first). */
export function pressureDifference(a: Volume, b: Volume): Volume<Float32Array> {
  const refusal = differenceRefusal(a, b)
  if (refusal) throw new Error(refusal)
  const out = new Float32Array(a.data.length)
  for (let i = 0; i < out.length; i++) out[i] = b.data[i]! - a.data[i]!
  return {
    ...a,
    data: out,
    meta: { ...a.meta, modality: 'OT', seriesDescription: 'pressure amplitude difference, plan B - plan A [Pa]', valueUnit: 'Pa' },
    warnings: [],
  }
}
