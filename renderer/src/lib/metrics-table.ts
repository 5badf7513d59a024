/**
 * The results table: plan metrics (SI, core/contracts/plan.ts) shown in the units planners read
 * (mm, MPa, W/cm2), each row flagged against the ITRUSST consensus limits for non-significant-risk
 * neuromodulation (Aubry et al., "ITRUSST consensus on biophysical safety for transcranial
 * ultrasound" (2025): MI or MI_tc within the limit of core/planning/limits.ts). The thermal
 * limits (dT <= 2 C, a CEM43 dose, or a TI-versus-exposure-time table) need a thermal model or the
 * exposure time, so TIC is shown without a pass/fail and the thermal flag is never a pass until a
 * thermal model has run.
 */
import type { PlanMetricsRecord } from '../../../core/contracts/plan.ts'
import { CLINICAL_POINTS_PER_WAVELENGTH, FOCAL_SHIFT_WARNING_M, INCIDENCE_WARNING_DEG, MECHANICAL_INDEX_LIMIT } from '../../../core/planning/limits.ts'

export type Flag = 'ok' | 'warn' | 'exceeds' | 'info'

export interface MetricRow {
  readonly key: string
  readonly label: string
  readonly value: string
  readonly flag: Flag
  readonly note?: string
}

/** The thresholds come from core/planning/limits.ts, as the metrics' and the report's do. */
const MIN_RELIABLE_PPW = CLINICAL_POINTS_PER_WAVELENGTH

const mm = (m: number) => `${(m * 1e3).toFixed(1)} mm`
/** Widths are null when the solver grid could not measure them (metrics.warnings says why). */
const mmOrNot = (m: number | null) => (m === null ? 'not measured' : mm(m))

export function metricRows(m: PlanMetricsRecord, thermalAssessed: boolean): MetricRow[] {
  const miFlag: Flag = Math.min(m.mi, m.mi_tc) <= MECHANICAL_INDEX_LIMIT ? 'ok' : 'exceeds'
  const rows: MetricRow[] = [
    { key: 'peak', label: 'Peak pressure (in situ)', value: `${(m.peak_pressure_pa / 1e6).toFixed(3)} MPa`, flag: 'info' },
    {
      key: 'shift',
      label: 'Focal shift (target to peak)',
      value: mm(m.focal_shift_length_m),
      flag: m.focal_shift_length_m > FOCAL_SHIFT_WARNING_M ? 'warn' : 'ok',
      note: `more than ${FOCAL_SHIFT_WARNING_M * 1e3} mm: consider moving the transducer`,
    },
    {
      key: 'fwhm6',
      label: '-6 dB size (axial x lateral x lateral)',
      value: `${mmOrNot(m.fwhm_6db_m.axial)} x ${mmOrNot(m.fwhm_6db_m.lateral1)} x ${mmOrNot(m.fwhm_6db_m.lateral2)}`,
      ...(Object.values(m.fwhm_6db_m).some((w) => w === null)
        ? { flag: 'warn' as const, note: 'a width runs off the simulation grid: see the warnings' }
        : { flag: 'info' as const }),
    },
    { key: 'vol6', label: '-6 dB volume', value: `${(m.volume_6db_m3 * 1e9).toFixed(0)} mm3`, flag: 'info' },
    { key: 'isppa', label: 'Isppa', value: `${(m.isppa_w_m2 / 1e4).toFixed(2)} W/cm2`, flag: 'info' },
    { key: 'ispta', label: 'Ispta', value: `${((m.ispta_w_m2 / 1e4) * 1e3).toFixed(1)} mW/cm2`, flag: 'info' },
    {
      key: 'mi',
      label: 'MI / MI_tc',
      value: `${m.mi.toFixed(2)} / ${m.mi_tc.toFixed(2)}`,
      flag: miFlag,
      note: `ITRUSST: MI or MI_tc <= ${MECHANICAL_INDEX_LIMIT}`,
    },
    { key: 'tic', label: 'TIC', value: m.tic.toFixed(2), flag: 'info', note: 'ITRUSST judges TI against the exposure time (not assessed here)' },
    { key: 'il', label: 'Insertion loss', value: `${m.insertion_loss_db.toFixed(1)} dB`, flag: 'info' },
    { key: 'skull', label: 'Skull thickness on the axis', value: mm(m.skull_thickness_m), flag: 'info' },
    {
      key: 'incidence',
      label: 'Incidence angle',
      value: `${m.incidence_angle_deg.toFixed(1)} deg`,
      flag: m.incidence_angle_deg > INCIDENCE_WARNING_DEG ? 'warn' : 'ok',
      note: `above ${INCIDENCE_WARNING_DEG} deg the skull transmits poorly`,
    },
    {
      key: 'ppw',
      label: 'Resolution',
      value: `${m.ppw} points per wavelength`,
      flag: m.ppw < MIN_RELIABLE_PPW ? 'warn' : 'ok',
      note: `below ${MIN_RELIABLE_PPW}: preview only`,
    },
    { key: 'mechanical', label: 'Mechanical safety', value: m.flags.mechanical, flag: miFlag },
    { key: 'thermal', label: 'Thermal safety', value: thermalAssessed ? m.flags.thermal : 'thermal: not assessed', flag: thermalAssessed ? 'info' : 'warn' },
  ]
  return rows
}

/** The warning shown on screen next to results computed below MIN_RELIABLE_PPW. */
export function resolutionWarning(ppw: number): string | null {
  return ppw < MIN_RELIABLE_PPW
    ? `Computed at ${ppw} points per wavelength (below ${MIN_RELIABLE_PPW}): a coarse preview; pressures and focal shift can be off by tens of percent. Rerun at ${MIN_RELIABLE_PPW} or more before treatment.`
    : null
}

/** The time left as the CLI prints it too (core/planning/progress.ts). */
export { formatDuration as formatEta } from '../../../core/planning/progress.ts'
