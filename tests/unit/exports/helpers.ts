/**
 * Test helpers for the exports: oblique poses, pose comparison, and a small synthetic plan folder
 * (a few-voxel CT, pressure and -6 dB mask written with writeVolume, plan.json passing
 * `planRecord`, metrics.json passing `planMetricsRecord`).
 */
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { expect } from 'vitest'
import { data as dcmjsData } from 'dcmjs'
import { imageRefOf, patientRecordOf, planMetricsRecord, planRecord, type PlanMetricsRecord, type PlanRecord } from '../../../core/contracts/plan.ts'
import { writeDicomSeries } from '../../helpers/dicom-writer.ts'
import { createVolume } from '../../../core/volume/geometry.ts'
import type { Mat3, Vec3, Volume } from '../../../core/volume/types.ts'
import { readVolume, writeVolume } from '../../../electron/adapters/volume-io.ts'

export const PROVENANCE = { software: 'TFUS Planner test', poseNote: 'Pose as planned (no focus correction).' }

/** Rotation Rz(c)·Ry(b)·Rx(a) as a row-major 3x3. */
export function rotation(a: number, b: number, c: number): number[] {
  const [ca, sa, cb, sb, cc, sc] = [Math.cos(a), Math.sin(a), Math.cos(b), Math.sin(b), Math.cos(c), Math.sin(c)]
  return [cc * cb, cc * sb * sa - sc * ca, cc * sb * ca + sc * sa, sc * cb, sc * sb * sa + cc * ca, sc * sb * ca - cc * sa, -sb, cb * sa, cb * ca]
}

/** An oblique rigid pose (row-major 4x4, translation in metres). */
export function obliquePose(a: number, b: number, c: number, t: readonly [number, number, number]): number[] {
  const r = rotation(a, b, c)
  return [r[0]!, r[1]!, r[2]!, t[0], r[3]!, r[4]!, r[5]!, t[1], r[6]!, r[7]!, r[8]!, t[2], 0, 0, 0, 1]
}

/** Rotation entries to `rotationTol`, translation to `translationTolMm` millimetres. */
export function expectPoseClose(actual: readonly number[], expected: readonly number[], rotationTol = 1e-9, translationTolMm = 1e-6): void {
  expect(actual).toHaveLength(16)
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) expect(Math.abs(actual[4 * r + c]! - expected[4 * r + c]!), `R[${r}][${c}]`).toBeLessThan(rotationTol)
    expect(Math.abs(actual[4 * r + 3]! - expected[4 * r + 3]!) * 1000, `t[${r}] mm`).toBeLessThan(translationTolMm)
  }
  expect(actual.slice(12)).toEqual([0, 0, 0, 1])
}

export interface SyntheticPlan {
  readonly root: string
  readonly planDir: string
  readonly plan: PlanRecord
  readonly metrics: PlanMetricsRecord
  /** RAS (m) of the pressure peak voxel. */
  readonly peakRasM: Vec3
}

const CT_DIMS: Vec3 = [14, 12, 10]
const CT_SPACING: Vec3 = [0.002, 0.0025, 0.003]
const CT_ORIGIN: Vec3 = [0.011, 0.023, -0.009]
const PEAK_VOXEL: Vec3 = [7, 6, 5]

function lpsWorld(direction: readonly number[], ijk: Vec3): Vec3 {
  const s = ijk.map((v, k) => v * CT_SPACING[k]!)
  return [0, 1, 2].map((r) => CT_ORIGIN[r]! + direction[3 * r]! * s[0]! + direction[3 * r + 1]! * s[1]! + direction[3 * r + 2]! * s[2]!) as unknown as Vec3
}

export interface SyntheticOptions {
  readonly focusCorrected?: boolean
  /** Adds an MRI (its own grid) registered by this row-major MRI RAS -> CT RAS transform. */
  readonly mriToCt?: number[]
  readonly thermal?: Record<string, unknown>
  /** Store the grid bottom-up (slice axis reversed: a left-handed frame, like the LAS sample CT). */
  readonly leftHanded?: boolean
  /** Name of the plan folder (default "plan"); the CT is then written beside it as `<folderName>_ct.nii.gz`. */
  readonly folderName?: string
  /** plan.json `patient`. */
  readonly patient?: { readonly name: string; readonly id: string; readonly birth_date: string }
  /** plan.json `ct` UIDs instead of the defaults. */
  readonly ctUids?: { readonly frame_of_reference_uid: string; readonly series_instance_uid: string; readonly study_instance_uid?: string }
  /**
   * Store the CT as a DICOM series (folder `ct-dicom` beside the plan) with this patient (name, ID,
   * birth date) and PatientPosition, and record plan.json `ct` and `patient` from reading it back,
   * as `tfus plan` does (imageRefOf, patientRecordOf); `ctUids` then sets the series' UIDs.
   */
  readonly ctDicom?: { readonly patientName: string; readonly patientId: string; readonly birthDate: string; readonly patientPosition: string }
  /** plan.json `registration.mri` UIDs (with `mriToCt`). */
  readonly mriUids?: { readonly frame_of_reference_uid: string; readonly series_instance_uid: string; readonly study_instance_uid?: string }
}

/** Study and patient attributes of the `ctDicom` series beyond name, ID and birth date. */
export const CT_DICOM_STUDY = {
  StudyDate: '20240105',
  StudyTime: '101500',
  StudyID: 'S42',
  AccessionNumber: 'ACC-0009',
  ReferringPhysicianName: 'REF^DOC',
  PatientSex: 'F',
} as const

/** Writes `ct` as a DICOM CT series with the given identity and PatientPosition, and reads it back. */
async function writeCtDicom(ct: Volume, dir: string, who: NonNullable<SyntheticOptions['ctDicom']>, uids: SyntheticOptions['ctUids']): Promise<Volume> {
  await fs.mkdir(dir)
  const files = writeDicomSeries(ct, {
    patientName: who.patientName,
    patientId: who.patientId,
    studyInstanceUid: uids?.study_instance_uid ?? '2.25.7770001',
    seriesInstanceUid: uids?.series_instance_uid ?? '2.25.7770002',
    frameOfReferenceUid: uids?.frame_of_reference_uid ?? '2.25.7770003',
    modality: 'CT',
  })
  for (const f of files) {
    // The series writer leaves these empty; a scanner's CT has them.
    const file = dcmjsData.DicomMessage.readFile(new Uint8Array(f.bytes).buffer)
    const ds = dcmjsData.DicomMetaDictionary.naturalizeDataset(file.dict)
    Object.assign(ds, { PatientBirthDate: who.birthDate, PatientPosition: who.patientPosition, ...CT_DICOM_STUDY })
    file.dict = dcmjsData.DicomMetaDictionary.denaturalizeDataset(ds)
    await fs.writeFile(path.join(dir, f.name), new Uint8Array(file.write()))
  }
  return readVolume(dir)
}

/** A plan folder under a fresh temp root, with the CT (and MRI) beside it. */
export async function syntheticPlan(options: SyntheticOptions = {}): Promise<SyntheticPlan> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-exports-'))
  const planDir = path.join(root, options.folderName ?? 'plan')
  await fs.mkdir(planDir)
  const rot = rotation(0.15, -0.1, 0.35)
  const direction = (options.leftHanded ? rot.map((v, i) => (i % 3 === 2 ? -v : v)) : rot) as unknown as Mat3
  const [nx, ny, nz] = CT_DIMS
  const n = nx * ny * nz
  const ct = new Int16Array(n)
  const pressure = new Float32Array(n)
  const mask = new Uint8Array(n)
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const v = i + nx * (j + ny * k)
        const r = Math.hypot((i - 6.5) / 6, (j - 5.5) / 5, (k - 4.5) / 4)
        ct[v] = r > 1 ? -1000 : r > 0.8 ? 1400 : 35
        const d2 = (i - PEAK_VOXEL[0]) ** 2 + ((j - PEAK_VOXEL[1]) / 0.8) ** 2 + ((k - PEAK_VOXEL[2]) / 1.5) ** 2
        pressure[v] = 512345.6 * Math.exp(-d2 / 3)
        mask[v] = pressure[v]! >= 0.5 * 512345.6 ? 1 : 0
      }
    }
  }
  const grid = { dims: CT_DIMS, spacingM: CT_SPACING, originM: CT_ORIGIN, direction }
  const ctFile = path.join(root, options.folderName ? `${options.folderName}_ct.nii.gz` : 'ct.nii.gz')
  const ctVolume = createVolume({ ...grid, data: ct, meta: { modality: 'CT', valueUnit: 'HU' } })
  await writeVolume(ctVolume, ctFile)
  const dicomCt = options.ctDicom ? await writeCtDicom(ctVolume, path.join(root, 'ct-dicom'), options.ctDicom, options.ctUids) : undefined
  await writeVolume(createVolume({ ...grid, data: pressure, meta: { modality: 'OT' } }), path.join(planDir, 'pressure.nii.gz'))
  await writeVolume(createVolume({ ...grid, data: mask, meta: { modality: 'OT' } }), path.join(planDir, 'focal_6db.nii.gz'))

  const peakLps = lpsWorld(direction, PEAK_VOXEL)
  const peakRasM: Vec3 = [-peakLps[0], -peakLps[1], peakLps[2]]
  const f = 0.03
  const pose = obliquePose(0.4, 0.9, -0.6, [0, 0, 0])
  const beam: Vec3 = [pose[2]!, pose[6]!, pose[10]!]
  const apex: Vec3 = [peakRasM[0] - f * beam[0], peakRasM[1] - f * beam[1], peakRasM[2] - f * beam[2]]
  pose[3] = apex[0]
  pose[7] = apex[1]
  pose[11] = apex[2]
  const poseRecord = {
    transducer_to_ras: pose,
    convention: 'row-major 4x4: transducer (origin at the apex, +z along the beam, m) to patient RAS (m)',
    apex_ras_m: apex,
    axis_ras: beam,
    standoff_m: 0.0085,
    focal_distance_from_apex_m: f,
  }

  let registration: PlanRecord['registration'] = null
  if (options.mriToCt) {
    const mriFile = path.join(root, 't1.nii.gz')
    const mdims: Vec3 = [16, 15, 13]
    const mri = new Int16Array(mdims[0] * mdims[1] * mdims[2]).map((_, v) => 100 + (v % 37))
    await writeVolume(
      createVolume({
        dims: mdims,
        spacingM: [0.0021, 0.0022, 0.0023],
        originM: [0.0, 0.008, -0.016],
        direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
        data: mri,
        meta: { modality: 'MR' },
      }),
      mriFile,
    )
    registration = {
      mri: options.mriUids
        ? { source: mriFile, ...options.mriUids }
        : { source: mriFile, frame_of_reference_uid: '2.25.987654321098765432109876543210', series_instance_uid: null },
      mri_ras_to_ct_ras: options.mriToCt,
      method: 'synthetic',
      target_mri_ras_m: [0, 0, 0],
    }
  }

  const plan = planRecord.parse({
    software: 'tfus-planner 0.1.0',
    ...(dicomCt ? { patient: patientRecordOf(dicomCt.meta) } : options.patient ? { patient: options.patient } : {}),
    ct: dicomCt
      ? imageRefOf(path.join(root, 'ct-dicom'), dicomCt.meta)
      : { source: ctFile, ...(options.ctUids ?? { frame_of_reference_uid: '2.25.123456789012345678901234567890123', series_instance_uid: '2.25.5550001' }) },
    target_ras_m: peakRasM,
    entry_ras_m: [apex[0] + 0.0085 * beam[0], apex[1] + 0.0085 * beam[1], apex[2] + 0.0085 * beam[2]],
    entry_proposed: true,
    transducer: { id: 'test-bowl', frequency_hz: 500000, source_file: 'resources/transducers/test-bowl.json' },
    pose: poseRecord,
    mapping: { id: 'kplan', citation: 'k-Plan (Brainbox) linear HU mapping' },
    simulation: { ppw: 3, grid_size: [64, 64, 96], spacing_m: 0.001, backend: 'cpu', device: 'test CPU' },
    drive: { kind: 'isppa-free-water', isppa_w_m2: 100000, source_amplitude_pa: 61234.5 },
    pulse_timing: { pulse_duration_s: 0.02, prf_hz: 5, train_duty_cycle: 1 },
    registration,
    focus_correction: options.focusCorrected
      ? {
          initial_pose: { ...poseRecord, transducer_to_ras: obliquePose(0.41, 0.88, -0.6, apex) },
          iterations: 2,
          residual_m: 0.0004,
          initial_shift_m: 0.0031,
          steered_focal_distance_m: null,
        }
      : null,
    wall_s: 42.5,
  })
  const metrics = planMetricsRecord.parse({
    peak_pressure_pa: 512345.6,
    peak_position_ras_m: peakRasM,
    target_ras_m: peakRasM,
    focal_shift_m: [0.0001, -0.0002, 0.0003],
    focal_shift_length_m: 0.000374,
    fwhm_3db_m: { axial: 0.0213, lateral1: 0.0031, lateral2: 0.0032 },
    fwhm_6db_m: { axial: 0.0301, lateral1: 0.0043, lateral2: 0.0044 },
    volume_6db_m3: 2.98e-7,
    isppa_w_m2: 87654.321,
    ispta_w_m2: 8765.4321,
    duty_cycle: 0.1,
    mi: 0.724,
    mi_tc: 0.69,
    tic: 0.31,
    free_water_peak_pa: 598765.4,
    insertion_loss_db: 7.77,
    skull_thickness_m: 0.0066,
    incidence_angle_deg: 12.3,
    exit_plane_to_target_m: 0.0455,
    ppw: 3,
    source_amplitude_pa: 61234.5,
    warnings: ['synthetic warning: skull near the grid edge'],
    flags: { mechanical: 'pass: MI_tc 0.69 <= 1.9 (ITRUSST, MI or MI_tc)', thermal: 'not assessed: no thermal simulation' },
  })
  await fs.writeFile(path.join(planDir, 'plan.json'), JSON.stringify(plan, null, 2) + '\n')
  await fs.writeFile(path.join(planDir, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n')
  if (options.thermal) await fs.writeFile(path.join(planDir, 'thermal.json'), JSON.stringify(options.thermal) + '\n')
  return { root, planDir, plan, metrics, peakRasM }
}
