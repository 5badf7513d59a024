/**
 * Synthetic plan folders and image files for the plan-database tests: records that satisfy
 * core/contracts/plan.ts, and small files with seeded pseudo-random bytes standing in for the
 * NIfTI volumes (the store hashes bytes; it never decodes a plan's volumes).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { PLAN_FILES, type PlanMetricsRecord, type PlanRecord } from '../../../core/contracts/plan.ts'
import { buildNifti1 } from '../../helpers/nifti.ts'

import { seededBytes } from '../../../core/math/random.ts'
export { seededBytes }

export function planRecordFixture(seed: number, ctSeriesUid: string | null = null): PlanRecord {
  const s = seed * 1e-4
  return {
    software: 'tfus-planner 0.1.0',
    ct: { source: `ct-${seed}.nii.gz`, frame_of_reference_uid: ctSeriesUid ? `${ctSeriesUid}.9` : null, series_instance_uid: ctSeriesUid },
    target_ras_m: [0.03 + s, -0.018, 0.0135],
    entry_ras_m: null,
    entry_proposed: true,
    transducer: { id: 'itrusst-bm-bowl', frequency_hz: 500000, source_file: 'resources/transducers/itrusst-bm-bowl.json' },
    pose: {
      transducer_to_ras: [0, 0, -1, 0.0907 + s, 0, 1, 0, 0.0012, 1, 0, 0, 0.007, 0, 0, 0, 1],
      convention: 'row-major 4x4: transducer (origin at the apex, +z along the beam, m) to patient RAS (m)',
      apex_ras_m: [0.0907 + s, 0.0012, 0.007],
      axis_ras: [-1, 0, 0],
      standoff_m: 0.0114,
      focal_distance_from_apex_m: 0.064,
    },
    mapping: { id: 'kplan', citation: 'k-Plan documentation, CT calibration' },
    simulation: { ppw: 6, grid_size: [52, 52, 59], spacing_m: 0.0015, backend: 'cpu', device: 'CPU (test)' },
    drive: { kind: 'isppa-free-water', isppa_w_m2: 100000, source_amplitude_pa: 41039.5 },
    pulse_timing: { pulse_duration_s: 0.02, prf_hz: 5, train_duty_cycle: 1 },
    registration: null,
    focus_correction: null,
    source: 'solver',
    surrogate: null,
    wall_s: 12.5 + seed,
  }
}

export function metricsFixture(seed: number): PlanMetricsRecord {
  const widths = { axial: 0.027, lateral1: 0.0042, lateral2: 0.0041 }
  return {
    peak_pressure_pa: 152924 + seed,
    peak_position_ras_m: [0.0298, -0.0188, 0.0143],
    target_ras_m: [0.03, -0.018, 0.0135],
    focal_shift_m: [-0.0002, -0.0008, 0.0008],
    focal_shift_length_m: 0.0012,
    fwhm_3db_m: widths,
    fwhm_6db_m: widths,
    volume_6db_m3: 2.5e-7,
    isppa_w_m2: 7207.2,
    ispta_w_m2: 720.72,
    duty_cycle: 0.1,
    mi: 0.77,
    mi_tc: 0.22,
    tic: 0.76,
    free_water_peak_pa: 547722,
    insertion_loss_db: 11.08,
    skull_thickness_m: 0.006,
    incidence_angle_deg: 1.7,
    exit_plane_to_target_m: 0.0554,
    ppw: 6,
    source_amplitude_pa: 41039.5,
    warnings: [`fixture ${seed}`],
    flags: { mechanical: 'pass', thermal: 'not assessed' },
    source: 'solver',
    confidence: null,
  }
}

/** The volume files of a plan folder, each `bytes` long with content depending on `seed`. */
export const VOLUME_FILES = [
  PLAN_FILES.pressureCt,
  PLAN_FILES.focalMaskCt,
  PLAN_FILES.pressureSim,
  PLAN_FILES.soundSpeed,
  PLAN_FILES.density,
  PLAN_FILES.alphaDbCm,
  PLAN_FILES.tissue,
] as const

export function writePlanFolder(
  dir: string,
  seed: number,
  options: { bytes?: number; ctSeriesUid?: string | null } = {},
): { record: PlanRecord; metrics: PlanMetricsRecord } {
  const record = planRecordFixture(seed, options.ctSeriesUid ?? null)
  const metrics = metricsFixture(seed)
  fs.mkdirSync(path.join(dir, 'medium'), { recursive: true })
  fs.writeFileSync(path.join(dir, PLAN_FILES.plan), JSON.stringify(record, null, 2) + '\n')
  fs.writeFileSync(path.join(dir, PLAN_FILES.metrics), JSON.stringify(metrics, null, 2) + '\n')
  VOLUME_FILES.forEach((file, i) => fs.writeFileSync(path.join(dir, file), seededBytes(seed * 31 + i + 1, options.bytes ?? 2048)))
  return { record, metrics }
}

/** A small valid NIfTI-1 file (int16, 1 mm, identity sform) whose voxels depend on `seed`. */
export function writeNifti(file: string, seed: number, dims: [number, number, number] = [6, 5, 4]): void {
  const n = dims[0] * dims[1] * dims[2]
  const data = new Int16Array(n)
  const noise = seededBytes(seed, n)
  for (let i = 0; i < n; i++) data[i] = noise[i]! - 1000
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(
    file,
    buildNifti1({
      dims,
      sform: [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
      ],
      datatype: 4,
      data,
    }),
  )
}
