/**
 * The plan record shared by the planner (`tfus plan`), the plan database, the exports, the
 * thermal model and the app: the JSON written as `plan.json` and `metrics.json` in a plan folder.
 * One schema, validated wherever a plan crosses a boundary (file, database, IPC).
 *
 * Units: SI (m, s, Pa, W/m2, Hz). Points are patient RAS in metres unless a name says otherwise.
 * Poses are row-major 4x4 matrices from transducer coordinates (origin at the bowl apex, +z along
 * the beam toward the focus, metres) to patient RAS (metres).
 */
import { z } from 'zod'
import type { VolumeMeta } from '../volume/types.ts'

export const vec3 = z.tuple([z.number(), z.number(), z.number()]).readonly()
export const mat4RowMajor = z.array(z.number()).length(16)

export const imageRef = z.object({
  /** Path or folder the image was read from, as the user gave it. */
  source: z.string(),
  frame_of_reference_uid: z.string().nullable(),
  series_instance_uid: z.string().nullable(),
  study_instance_uid: z.string().nullable().optional(),
})

/** Identity as read from the planning image's header (DICOM); null where the image has none (NIfTI). */
export const patientRecord = z.object({
  name: z.string().nullable(),
  id: z.string().nullable(),
  birth_date: z.string().nullable(),
})

/**
 * The record of an image a plan was made on: its Frame of Reference, Series and Study as read
 * (DICOM) or minted at import (NIfTI). Every plan writer records all three, so the DICOM export
 * files under the planning image's study and overlays in its Frame of Reference (dicom.md).
 */
export function imageRefOf(source: string, meta: VolumeMeta): z.infer<typeof imageRef> {
  return {
    source,
    frame_of_reference_uid: meta.frameOfReferenceUid ?? null,
    series_instance_uid: meta.seriesInstanceUid ?? null,
    study_instance_uid: meta.studyInstanceUid ?? null,
  }
}

/** plan.json `patient` from the planning image's header. */
export function patientRecordOf(meta: VolumeMeta): z.infer<typeof patientRecord> {
  return { name: meta.patientName ?? null, id: meta.patientId ?? null, birth_date: meta.patientBirthDate ?? null }
}

export const poseRecord = z.object({
  transducer_to_ras: mat4RowMajor,
  convention: z.string(),
  apex_ras_m: vec3,
  axis_ras: vec3,
  standoff_m: z.number(),
  focal_distance_from_apex_m: z.number(),
})

/**
 * The drive level as asked for (`amplitude_pa`, `isppa_w_m2`, or a console setting) and the source
 * pressure it gave (`source_amplitude_pa`).
 */
export const driveRecord = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('source'), amplitude_pa: z.number().positive(), source_amplitude_pa: z.number() }),
  z.object({ kind: z.literal('isppa-free-water'), isppa_w_m2: z.number().positive(), source_amplitude_pa: z.number() }),
  z.object({ kind: z.literal('isppa-target'), isppa_w_m2: z.number().positive(), source_amplitude_pa: z.number() }),
  /** A console setting times the unit's calibration factor (transducer file) gives the source pressure. */
  z.object({
    kind: z.literal('device-setting'),
    setting: z.number().positive(),
    setting_unit: z.string(),
    pa_per_unit: z.number().positive(),
    calibration_source: z.string(),
    source_amplitude_pa: z.number(),
  }),
])

/** The pulse timing the plan's duty cycle and exposure figures assume (not the thermal protocol file). */
export const pulseTimingRecord = z.object({
  pulse_duration_s: z.number().positive(),
  prf_hz: z.number().positive(),
  train_duty_cycle: z.number().gt(0).lte(1),
})

export const registrationRecord = z.object({
  mri: imageRef,
  /** MRI RAS (m) to CT RAS (m), row-major 4x4. */
  mri_ras_to_ct_ras: mat4RowMajor,
  method: z.string(),
  /** The target as the user gave it on the MRI (RAS, m). */
  target_mri_ras_m: vec3,
})

export const focusCorrectionRecord = z.object({
  /** The pose before correction; `pose` holds the corrected one, which exports carry. */
  initial_pose: poseRecord,
  iterations: z.number().int().nonnegative(),
  /** Distance from the simulated intracranial peak to the target after correction [m]. */
  residual_m: z.number().nonnegative(),
  /** Before correction [m]. */
  initial_shift_m: z.number().nonnegative(),
  /** Annular arrays: the focal distance the rings were re-steered to [m]. */
  steered_focal_distance_m: z.number().nullable(),
})

export const surrogateRecord = z.object({
  model_version: z.string(),
  model_file: z.string(),
  /** ONNX Runtime execution provider that ran (cpu, webgpu, cuda). */
  provider: z.string(),
  /** In [0, 1], from the spread of the test-time-augmented predictions (see the model card). */
  confidence: z.number().min(0).max(1),
  confidence_low: z.boolean(),
  confidence_calibrated: z.boolean(),
  expected_peak_error: z.number(),
  peak_spread: z.number(),
  focus_spread_m: z.number(),
  inference_s: z.number(),
})

/**
 * plan.json and metrics.json are snake_case throughout, units in the key names, and the records
 * keep that style in memory too (one name per field from file to database to report); the
 * camelCase objects of the app's requests (`DriveLevel`, `PulseTiming`) become records in the
 * pipeline's write stage. Plans written before that (plan folders, database rows up to schema
 * version 2) named three fields otherwise; this is the one place that renames them, on every
 * read (`planRecord` applies it) and before a record is stored (plan-store.ts). Database
 * migration 3 makes the same rename of the rows it finds with its own frozen copy (a shipped
 * migration must not change with this function). It keeps every other field as given, and
 * leaves a record already in the current style unchanged.
 */
export function upgradePlanJson(value: unknown): unknown {
  if (!isObject(value)) return value
  const out: Record<string, unknown> = { ...value }
  if ('protocol' in out && !('pulse_timing' in out)) {
    out.pulse_timing = out.protocol
    delete out.protocol
  }
  if (isObject(out.drive)) {
    const drive: Record<string, unknown> = { ...out.drive }
    for (const [old, current] of LEGACY_DRIVE_KEYS)
      if (old in drive && !(current in drive)) {
        drive[current] = drive[old]
        delete drive[old]
      }
    out.drive = drive
  }
  return out
}
const LEGACY_DRIVE_KEYS = [
  ['amplitudePa', 'amplitude_pa'],
  ['wPerM2', 'isppa_w_m2'],
] as const
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const planRecordObject = z.object({
  software: z.string(),
  patient: patientRecord.optional(),
  ct: imageRef,
  target_ras_m: vec3,
  entry_ras_m: vec3.nullable(),
  entry_proposed: z.boolean(),
  transducer: z.object({ id: z.string(), frequency_hz: z.number().positive(), source_file: z.string() }),
  pose: poseRecord,
  mapping: z.object({ id: z.string(), citation: z.string() }),
  simulation: z.object({
    ppw: z.number().positive(),
    grid_size: z.array(z.number().int()).length(3),
    spacing_m: z.number().positive(),
    backend: z.string(),
    device: z.string(),
    /** Version of the acoustic solver that produced the fields (older plans lack it: use `software`). */
    solver_version: z.string().optional(),
  }),
  drive: driveRecord,
  pulse_timing: pulseTimingRecord,
  registration: registrationRecord.nullable(),
  focus_correction: focusCorrectionRecord.nullable().default(null),
  /** Which engine produced the field: the full-wave solver, or the neural surrogate's preview. */
  source: z.enum(['solver', 'surrogate']).default('solver'),
  surrogate: surrogateRecord.nullable().default(null),
  wall_s: z.number(),
})
/** A plan record in the current style, or one written before it (see upgradePlanJson). */
export const planRecord = z.preprocess(upgradePlanJson, planRecordObject)
export type PlanRecord = z.infer<typeof planRecordObject>

/**
 * Focal widths [m]. null = not measured (the region runs off the simulation grid, or the field
 * never falls to the level; metrics.warnings says which): a plan with an unmeasurable width is
 * still a valid plan. Plans written before null was allowed hold numbers only, which still parse.
 */
const width = z.number().nullable()
const widths = z.object({ axial: width, lateral1: width, lateral2: width })

export const planMetricsRecord = z.object({
  peak_pressure_pa: z.number(),
  peak_position_ras_m: vec3,
  target_ras_m: vec3,
  focal_shift_m: vec3,
  focal_shift_length_m: z.number(),
  fwhm_3db_m: widths,
  fwhm_6db_m: widths,
  volume_6db_m3: z.number(),
  isppa_w_m2: z.number(),
  ispta_w_m2: z.number(),
  duty_cycle: z.number(),
  mi: z.number(),
  mi_tc: z.number(),
  tic: z.number(),
  free_water_peak_pa: z.number(),
  insertion_loss_db: z.number(),
  skull_thickness_m: z.number(),
  incidence_angle_deg: z.number(),
  exit_plane_to_target_m: z.number(),
  ppw: z.number(),
  source_amplitude_pa: z.number(),
  warnings: z.array(z.string()),
  flags: z.object({ mechanical: z.string(), thermal: z.string() }),
  source: z.enum(['solver', 'surrogate']).default('solver'),
  /** Surrogate previews only: the prediction's confidence in [0, 1]. */
  confidence: z.number().min(0).max(1).nullable().default(null),
})
export type PlanMetricsRecord = z.infer<typeof planMetricsRecord>

/**
 * Files of a plan folder. Volumes are NIfTI; the first three are on the CT grid (they overlay the
 * CT), the rest on the beam-aligned simulation grid.
 */
export const PLAN_FILES = {
  plan: 'plan.json',
  metrics: 'metrics.json',
  /** The planning CT as read (so a stored plan is self-contained; reports draw it). */
  ct: 'ct.nii.gz',
  pressureCt: 'pressure.nii.gz',
  focalMaskCt: 'focal_6db.nii.gz',
  pressureSim: 'pressure_sim.nii.gz',
  soundSpeed: 'medium/sound_speed.nii.gz',
  density: 'medium/density.nii.gz',
  alphaDbCm: 'medium/alpha_db_cm.nii.gz',
  /** uint8 labels on the simulation grid, see TISSUE_LABELS. */
  tissue: 'medium/tissue.nii.gz',
  /** The head run as a scene file over the medium maps (core/planning/plan-scene.ts): what export-kwave exports. */
  scene: 'medium/scene.json',
  /** Written by the thermal model when a protocol is given. */
  temperatureMax: 'temperature_max.nii.gz',
  /** Peak rise over baseline [°C], simulation grid; written with temperature_max. */
  temperatureRiseMax: 'temperature_rise_max.nii.gz',
  cem43: 'cem43.nii.gz',
  thermal: 'thermal.json',
} as const

/** Labels of `medium/tissue.nii.gz`. Skin is the head's soft tissue outside the skull. */
export const TISSUE_LABELS = { water: 0, skin: 1, skull: 2, brain: 3 } as const
