/**
 * Exports of a plan folder to navigation systems, k-Plan, NIfTI, DICOM and the printable
 * report, and imports of poses/targets from navigation files. The CLI (`tfus export`,
 * `tfus import-pose`) and the app both call these two functions; they take a resolved plan
 * folder (the folder `tfus plan` wrote: plan.json, metrics.json, pressure.nii.gz, ...), so a
 * database plan id is resolved to its folder by the caller.
 *
 * Formats, what is written and where (file = single-file format, folder = folder format):
 *   brainsight (file .txt)  one trajectory, Brainsight axes, NIfTI scanner RAS mm (core/exports/brainsight.md)
 *   localite   (file .xml)  one InstrumentMarker, RAS or LPS mm (core/exports/localite.md)
 *   kplan      (file .kps)  HDF5 transducer position, metres (core/exports/kplan.md)
 *   report     (file .html) printable plan report (core/report/report.ts)
 *   slicer     (folder)     plan.mrk.json, transducer.tfm, pressure.nii.gz (core/exports/slicer.md)
 *   nifti      (folder)     pressure.nii.gz, focal_6db.nii.gz (core/exports/nifti.md)
 *   dicom      (folder)     pressure/ (MR Image Storage series), seg/focal_6db_seg.dcm, parametric/pmap_kpa.dcm (core/exports/dicom.md)
 * Folder formats also get export.json (what was exported, in which space, which pose).
 *
 * Every export carries plan.json `pose`, which is the focus-corrected pose when
 * `focus_correction` is non-null, and says which it is.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import { writeFileAtomic } from '../adapters/atomic-file.ts'
import { planMetricsRecord, planRecord, PLAN_FILES, type PlanMetricsRecord, type PlanRecord } from '../../core/contracts/plan.ts'
import { readBrainsight, writeBrainsight, type BrainsightVersion } from '../../core/exports/brainsight.ts'
import type { CoordinateSpace } from '../../core/exports/conventions.ts'
import { checkableIdentifiers, deidentificationMethodCodes, deidentifiedUid, findIdentifier, type Identifier } from '../../core/exports/deidentify.ts'
import { dicomDeidentificationProfile, writePlanDicom, type DicomPatient, type DicomStudy } from '../../core/exports/dicom.ts'
import { readLocalite, writeLocalite } from '../../core/exports/localite.ts'
import { applyAffine, invertAffine, mat3Multiply, multiplyAffine, rasToLps } from '../../core/math/index.ts'
import { exportProvenance } from '../../core/exports/provenance.ts'
import { readItkTransform, readSlicerMarkups, writeItkTransform, writeSlicerMarkups } from '../../core/exports/slicer.ts'
import type { ImportedNavigation, NavigationFormat, PointEntry, PoseEntry } from '../../core/exports/types.ts'
import { contentUid, parseDicom, Tag } from '../../core/io/dicom/index.ts'
import { ImportError, isImportError } from '../../core/io/errors.ts'
import { buildReportHtml, type ReportImage, type ReportPatient } from '../../core/report/report.ts'
import { orthogonalSlices } from '../../core/report/slices.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'
import { resampleTrilinear } from '../../core/volume/resample.ts'
import type { Mat3, Vec3, Volume } from '../../core/volume/types.ts'
import { readVolume, writeVolume } from '../adapters/volume-io.ts'
import { readKps, writeKps } from '../adapters/kps.ts'
import { isHdf5, readItkHdf5Transform } from '../adapters/itk-h5.ts'
import { niftiXformCodes } from '../adapters/nifti-codes.ts'
import { EXPORT_SOFTWARE } from '../adapters/version.ts'

export { EXPORT_SOFTWARE } from '../adapters/version.ts'

export const EXPORT_FORMATS = ['brainsight', 'localite', 'slicer', 'kplan', 'nifti', 'dicom', 'report'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]
/** Formats whose `outPath` is one file; the others write into a folder. */
export const SINGLE_FILE_FORMATS: ReadonlySet<ExportFormat> = new Set(['brainsight', 'localite', 'kplan', 'report'])

export interface ExportOptions {
  /** Patient space of every pose, point and volume: the plan's CT (default) or the registered MRI. */
  readonly space?: 'ct' | 'mri'
  /** Localite and Slicer markups: coordinate convention of the file (Localite default RAS, Slicer default LPS). */
  readonly coords?: CoordinateSpace
  readonly brainsightVersion?: BrainsightVersion
  /**
   * De-identify (`--deidentify`): no patient name, ID or birth date, no file paths, no plan
   * folder name (the plan is called "Plan <id> (de-identified)"), and new Study, Series, SOP
   * Instance and Frame of Reference UIDs (one original -> new map per plan, so the report and
   * every DICOM object agree) in every file written; DICOM objects declare it (PS3.15 Annex E,
   * CID 7050 codes). Every written file is then checked for the plan's identifiers, and the
   * export is refused (files removed) if one still occurs.
   */
  readonly deidentify?: boolean
  /**
   * With `deidentify` (`--retain-uids`): keep the planning image's Study and Frame of Reference
   * UIDs (and show its UIDs in the report), so a navigation system still overlays the export on
   * its copy of the planning scan; DICOM declares the Retain UIDs Option (113110). Refused
   * without `deidentify` (an identified export keeps them anyway).
   */
  readonly retainUids?: boolean
  /** Report: who approved the plan and when (else unsigned lines). */
  readonly approval?: { readonly by: string; readonly at: string; readonly overrideReason?: string | null; readonly acknowledged?: readonly string[] }
  /** Patient identity known to the caller (database); otherwise read from the planning image's DICOM header when there is one. */
  readonly patient?: ReportPatient
  /**
   * The plan's database id and version when it is exported from the plan database: the report
   * and export.json then call it `<id>@<version>` (as `tfus export 3@2` does) and carry both
   * numbers. Without it the plan is called by its folder's name, never by a path: a plan
   * materialised from the database sits in a temporary folder that is gone after the export.
   * De-identified exports use `<id>@<version>` too (a database id is not identifying), else a
   * hash of plan.json (a folder name is often the patient's).
   */
  readonly planRef?: PlanRef
  /** Clock for ContentDate/report time (tests). */
  readonly now?: Date
}

export interface PlanRef {
  readonly id: number
  readonly version: number
}

export interface ExportResult {
  readonly format: ExportFormat
  /** Every file written, absolute. */
  readonly files: string[]
  /** Lines for the user: what was assumed, which pose, skipped parts. */
  readonly notes: string[]
}

interface LoadedPlan {
  readonly dir: string
  readonly plan: PlanRecord
  readonly planText: string
  readonly metrics: PlanMetricsRecord
  readonly thermal: Record<string, unknown> | null
}

async function readJson(file: string): Promise<{ text: string; value: unknown }> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (e) {
    throw new ImportError('not-found', file, 'no such file (is this a plan folder written by `tfus plan`?)', { cause: e })
  }
  try {
    return { text, value: JSON.parse(text) }
  } catch (e) {
    throw new ImportError('corrupt-header', file, `not valid JSON (${e instanceof Error ? e.message : String(e)})`)
  }
}

function zodProblem(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  const first = error.issues[0]
  return first ? `${first.path.map(String).join('.') || '(root)'}: ${first.message}` : 'does not match the plan schema'
}

/** Reads and validates a plan folder. */
export async function loadPlanFolder(planDir: string): Promise<LoadedPlan> {
  const dir = path.resolve(planDir)
  const st = await fs.stat(dir).catch(() => null)
  if (!st?.isDirectory()) throw new ImportError('not-found', planDir, 'is not a plan folder')
  const planFile = path.join(dir, PLAN_FILES.plan)
  const metricsFile = path.join(dir, PLAN_FILES.metrics)
  const planJson = await readJson(planFile)
  const parsedPlan = planRecord.safeParse(planJson.value)
  if (!parsedPlan.success) throw new ImportError('corrupt-header', planFile, zodProblem(parsedPlan.error))
  const metricsJson = await readJson(metricsFile)
  const parsedMetrics = planMetricsRecord.safeParse(metricsJson.value)
  if (!parsedMetrics.success) throw new ImportError('corrupt-header', metricsFile, zodProblem(parsedMetrics.error))
  let thermal: Record<string, unknown> | null = null
  const thermalFile = path.join(dir, PLAN_FILES.thermal)
  if (await fs.stat(thermalFile).catch(() => null)) {
    const t = await readJson(thermalFile)
    if (t.value === null || typeof t.value !== 'object' || Array.isArray(t.value)) throw new ImportError('corrupt-header', thermalFile, 'is not a JSON object')
    thermal = t.value as Record<string, unknown>
  }
  return { dir, plan: parsedPlan.data, planText: planJson.text, metrics: parsedMetrics.data, thermal }
}

// ------------------------------------------------------------------------- patient space

interface SpaceContext {
  readonly space: 'ct' | 'mri'
  /** Row-major RAS (m) map from CT RAS to the export space. */
  readonly ctToSpace: number[]
  readonly frameOfReferenceUid: string | null
  readonly imageSource: string
  /** plan.json's StudyInstanceUID of that image, when recorded. */
  readonly studyInstanceUid: string | null
  readonly label: string
}

function spaceContext(loaded: LoadedPlan, space: 'ct' | 'mri'): SpaceContext {
  const { plan } = loaded
  if (space === 'ct') {
    return {
      space,
      ctToSpace: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
      frameOfReferenceUid: plan.ct.frame_of_reference_uid,
      imageSource: plan.ct.source,
      studyInstanceUid: plan.ct.study_instance_uid ?? null,
      label: 'CT',
    }
  }
  const reg = plan.registration
  if (!reg) {
    throw new SimulationInputError(
      '--space',
      `${path.join(loaded.dir, PLAN_FILES.plan)} has no MRI registration (registration: null): the plan was made on the CT alone, so there is no MRI space to export to; use --space ct, or plan with a registered MRI`,
    )
  }
  return {
    space,
    ctToSpace: invertAffine(reg.mri_ras_to_ct_ras),
    frameOfReferenceUid: reg.mri.frame_of_reference_uid,
    imageSource: reg.mri.source,
    studyInstanceUid: reg.mri.study_instance_uid ?? null,
    label: 'MRI',
  }
}

function poseInSpace(loaded: LoadedPlan, ctx: SpaceContext): PoseEntry {
  return {
    name: `${loaded.plan.transducer.id} transducer`,
    transducerToRas: multiplyAffine(ctx.ctToSpace, loaded.plan.pose.transducer_to_ras),
    focalDistanceM: loaded.plan.pose.focal_distance_from_apex_m,
  }
}

function pointsInSpace(loaded: LoadedPlan, ctx: SpaceContext): PointEntry[] {
  const { plan } = loaded
  const to = (p: readonly number[]): Vec3 => applyAffine(ctx.ctToSpace, [p[0]!, p[1]!, p[2]!])
  const points: PointEntry[] = [{ name: 'target', rasM: to(plan.target_ras_m) }]
  // plan.json keeps the entry the planner proposed too (entry_proposed); say which it is.
  if (plan.entry_ras_m) {
    points.push(
      plan.entry_proposed
        ? {
            name: 'entry (proposed)',
            rasM: to(plan.entry_ras_m),
            description: 'scalp entry proposed by the planner (the user chose none); the beam passes through it',
          }
        : { name: 'entry', rasM: to(plan.entry_ras_m), description: 'scalp entry chosen by the user' },
    )
  }
  points.push({ name: 'transducer apex', rasM: to(plan.pose.apex_ras_m) })
  return points
}

/**
 * The CT-grid volume re-expressed in the export space's LPS world: a rigid map changes only
 * origin and direction, so no resampling happens here.
 */
function reexpress(volume: Volume, ctToSpaceRas: readonly number[]): Volume {
  const flip = [-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
  const a = multiplyAffine(multiplyAffine(flip, ctToSpaceRas), flip)
  const r: Mat3 = [a[0]!, a[1]!, a[2]!, a[4]!, a[5]!, a[6]!, a[8]!, a[9]!, a[10]!]
  return { ...volume, originM: applyAffine(a, volume.originM), direction: mat3Multiply(r, volume.direction) }
}

/**
 * plan.json keeps image paths as the user typed them (relative to where `tfus plan` ran); try that,
 * then relative to the plan folder and its parent.
 */
async function locateImage(source: string, planDir: string): Promise<string> {
  if (path.isAbsolute(source)) return source
  for (const candidate of [path.resolve(source), path.resolve(planDir, source), path.resolve(planDir, '..', source)]) {
    if (await fs.stat(candidate).catch(() => null)) return candidate
  }
  return source
}

async function readImage(source: string, what: string): Promise<Volume> {
  try {
    return await readVolume(source)
  } catch (e) {
    const why = isImportError(e) ? e.problem : e instanceof Error ? e.message : String(e)
    throw new ImportError('not-found', source, `the ${what} named in plan.json cannot be read (${why})`, { cause: e })
  }
}

/** Pressure and -6 dB mask in the export space: the plan's CT-grid files, or resampled onto the MRI grid. */
async function volumesInSpace(loaded: LoadedPlan, ctx: SpaceContext): Promise<{ pressure: Volume; mask: Volume; grid: Volume | undefined }> {
  const pressure = await readVolume(path.join(loaded.dir, PLAN_FILES.pressureCt), { modality: 'OT' })
  const mask = await readVolume(path.join(loaded.dir, PLAN_FILES.focalMaskCt), { modality: 'OT' })
  if (ctx.space === 'ct') return { pressure, mask, grid: undefined }
  const mri = await readImage(await locateImage(ctx.imageSource, loaded.dir), 'MRI')
  const grid = { dims: mri.dims, spacingM: mri.spacingM, originM: mri.originM, direction: mri.direction }
  const meta = { ...mri.meta, modality: 'OT' as const }
  const p = resampleTrilinear(reexpress(pressure, ctx.ctToSpace), grid, { interpolation: 'linear', outputType: 'float32' })
  const m = resampleTrilinear(reexpress(mask, ctx.ctToSpace), grid, { interpolation: 'nearest', outputType: 'same' })
  return {
    pressure: { ...p, meta: { ...meta, seriesDescription: 'pressure amplitude [Pa] on the MRI grid' } },
    mask: { ...m, meta: { ...meta, seriesDescription: '-6 dB focal region on the MRI grid' } },
    grid: mri,
  }
}

// ------------------------------------------------------------------------------ identity

interface ImageIdentity {
  readonly patient: DicomPatient
  /** The General Study attributes of the image's DICOM header, when its StudyInstanceUID is `studyInstanceUid`. */
  readonly study: DicomStudy | undefined
  /** PatientPosition (0018,5100) of the image's DICOM header; undefined when not DICOM or not recorded. */
  readonly patientPosition: string | undefined
  readonly studyInstanceUid: string | undefined
  readonly volume: Volume | undefined
  readonly note: string | undefined
}

async function firstDicomFile(source: string): Promise<string | undefined> {
  const st = await fs.stat(source).catch(() => null)
  if (!st) return undefined
  if (st.isFile()) return source
  const stack = [source]
  while (stack.length > 0) {
    const dir = stack.pop()!
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, e.name)
      if (e.isFile() && !e.name.startsWith('.')) return full
      if (e.isDirectory()) stack.push(full)
    }
  }
  return undefined
}

/** Patient and study of the planning image (DICOM header when it is DICOM; NIfTI carries none); `studyUid` = plan.json's for that image. */
async function imageIdentity(source: string, wantVolume: boolean, plan?: PlanRecord, studyUid?: string | null): Promise<ImageIdentity> {
  let volume: Volume | undefined
  let note: string | undefined
  try {
    volume = await readVolume(source)
  } catch (e) {
    note = `planning image ${source} not readable (${isImportError(e) ? e.problem : String(e)})`
  }
  let birthDate = ''
  let sex = ''
  let patientPosition: string | undefined
  let study: DicomStudy | undefined
  const studyInstanceUid = studyUid ?? volume?.meta.studyInstanceUid
  const first = await firstDicomFile(source)
  if (first && !/\.(nii|nii\.gz|nrrd|nhdr|mha|mhd)$/i.test(first)) {
    try {
      const bytes = new Uint8Array(await fs.readFile(first))
      const header = parseDicom(bytes, first)
      const text = (t: number) => header.string(t)?.trim() ?? ''
      birthDate = text(Tag.PatientBirthDate)
      sex = text(Tag.PatientSex)
      patientPosition = text(Tag.PatientPosition) || undefined
      if (studyInstanceUid && text(Tag.StudyInstanceUID) === studyInstanceUid) {
        study = {
          date: text(Tag.StudyDate),
          time: text(Tag.StudyTime),
          id: text(Tag.StudyID),
          accessionNumber: text(Tag.AccessionNumber),
          referringPhysicianName: text(Tag.ReferringPhysicianName),
        }
      }
    } catch {
      // Not DICOM: no birth date to carry.
    }
  }
  // plan.json's identity (read from the DICOM header when the plan was made) wins: the image may
  // since have been converted or moved.
  const stored = plan?.patient
  return {
    patient: stored
      ? { name: stored.name ?? '', id: stored.id ?? '', birthDate: stored.birth_date ?? '', sex }
      : { name: volume?.meta.patientName ?? '', id: volume?.meta.patientId ?? '', birthDate, sex },
    study,
    patientPosition,
    studyInstanceUid,
    volume: wantVolume ? volume : undefined,
    note,
  }
}

// ------------------------------------------------------------------------------- writing

async function prepareOut(outPath: string, format: ExportFormat): Promise<string> {
  const out = path.resolve(outPath)
  const st = await fs.stat(out).catch(() => null)
  if (SINGLE_FILE_FORMATS.has(format)) {
    if (st?.isDirectory())
      throw new ImportError('write-failed', outPath, `is a folder; --format ${format} writes one file (e.g. ${path.join(outPath, defaultFileName(format))})`)
  } else if (st && !st.isDirectory()) {
    throw new ImportError('write-failed', outPath, `is a file; --format ${format} writes a folder`)
  }
  return out
}

function defaultFileName(format: ExportFormat): string {
  return (
    { brainsight: 'plan-brainsight.txt', localite: 'InstrumentMarker.xml', kplan: 'transducer.kps', report: 'plan-report.html' }[format as 'brainsight'] ??
    format
  )
}

const dicomDate = (d: Date) => d.toISOString().slice(0, 10).replace(/-/g, '')
const dicomTime = (d: Date) => d.toISOString().slice(11, 19).replace(/:/g, '')

// ----------------------------------------------------------------------- de-identification

/** How one export treats identity: the label it calls the plan by, and the UIDs it writes for the originals. */
interface Identity {
  readonly deidentify: boolean
  readonly retainUids: boolean
  /** "Plan <id> (de-identified)" when de-identified, else `<id>@<version>` or the folder's name. */
  readonly planLabel: string
  /** Database id and version, or null for a plan folder that was not exported from the database. */
  readonly planRef: PlanRef | null
  /** The id within the de-identified label (database id[@version] or a plan.json hash); undefined when identified. */
  readonly neutralId: string | undefined
  /** The UID written for an original UID: itself, or its de-identified replacement. */
  uid(original: string): Promise<string>
  uid(original: string | null): Promise<string | null>
  /** A file path as shown: itself, or removed. */
  path(p: string): string
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex')
}

async function exportIdentity(loaded: LoadedPlan, options: ExportOptions): Promise<Identity> {
  const deidentify = options.deidentify ?? false
  if (options.retainUids && !deidentify)
    throw new SimulationInputError('--retain-uids', "only applies with --deidentify (an identified export keeps the planning image's UIDs anyway)")
  const retainUids = deidentify && (options.retainUids ?? false)
  const key = new TextEncoder().encode(loaded.planText)
  // A database id is not identifying; anything else (a folder name, often the patient's) is replaced by a hash of plan.json.
  const dbLabel = options.planRef ? `${options.planRef.id}@${options.planRef.version}` : undefined
  const neutralId = !deidentify ? undefined : (dbLabel ?? (await sha256Hex(key)).slice(0, 12))
  const map = async (original: string | null): Promise<string | null> =>
    original === null || !deidentify || retainUids ? original : deidentifiedUid(key, original)
  return {
    deidentify,
    retainUids,
    planLabel: neutralId !== undefined ? `Plan ${neutralId} (de-identified)` : (dbLabel ?? path.basename(path.resolve(loaded.dir))),
    planRef: options.planRef ?? null,
    neutralId,
    uid: map as Identity['uid'],
    path: (p) => (deidentify ? '(path removed: de-identified)' : p),
  }
}

/** What the export.json of a de-identified export says was done. */
function deidentificationRecord(idn: Identity, format: ExportFormat): Record<string, unknown> {
  const profile = dicomDeidentificationProfile(idn.retainUids)
  return {
    patient_identity_removed: true,
    removed: [
      'patient name, ID and birth date',
      'file paths',
      'plan folder name (plan label replaced)',
      ...(idn.retainUids ? [] : ['original Study, Series, SOP Instance and Frame of Reference UIDs (replaced by new ones, consistent within this plan)']),
    ],
    uids: idn.retainUids ? "retained (--retain-uids): the planning image's Study and Frame of Reference UIDs" : 'replaced',
    ...(format === 'dicom'
      ? {
          method_codes: deidentificationMethodCodes(profile).map((c) => ({
            code_value: c.CodeValue,
            coding_scheme: c.CodingSchemeDesignator,
            code_meaning: c.CodeMeaning,
          })),
        }
      : {}),
  }
}

/** Every identifier of the plan a de-identified file must not hold (original UIDs unless retained, patient identity, absolute paths). */
function planIdentifiers(loaded: LoadedPlan, idn: Identity, patients: ReadonlyArray<ReportPatient | undefined>): Identifier[] {
  const { plan } = loaded
  const list: Identifier[] = []
  if (!idn.retainUids) {
    for (const [label, ref] of [
      ['CT', plan.ct],
      ['MRI', plan.registration?.mri],
    ] as const) {
      if (!ref) continue
      if (ref.frame_of_reference_uid) list.push({ what: `${label} Frame of Reference UID`, value: ref.frame_of_reference_uid })
      if (ref.series_instance_uid) list.push({ what: `${label} Series Instance UID`, value: ref.series_instance_uid })
      if (ref.study_instance_uid) list.push({ what: `${label} Study Instance UID`, value: ref.study_instance_uid })
    }
  }
  for (const p of [
    ...patients,
    plan.patient ? { name: plan.patient.name ?? '', id: plan.patient.id ?? '', birthDate: plan.patient.birth_date ?? '' } : undefined,
  ]) {
    if (!p) continue
    list.push({ what: "patient's name", value: p.name }, { what: "patient's ID", value: p.id }, { what: "patient's birth date", value: p.birthDate })
  }
  list.push({ what: 'plan folder path', value: loaded.dir })
  for (const source of [plan.ct.source, plan.registration?.mri.source]) if (source && path.isAbsolute(source)) list.push({ what: 'image path', value: source })
  return checkableIdentifiers(list)
}

/** (7FE0,0010) Pixel Data and (7FE0,0008) Float Pixel Data (the Parametric Map), little endian. */
const PIXEL_DATA_TAGS = [Buffer.from([0xe0, 0x7f, 0x10, 0x00]), Buffer.from([0xe0, 0x7f, 0x08, 0x00])]

/**
 * The part of a written file where text can sit, as latin1: a DICOM file up to its Pixel Data,
 * a NIfTI's header (and extensions), an HTML page without its data: URIs, any other file whole.
 * Image bytes are left out: a short identifier occurs in them by chance.
 */
async function textOf(file: string): Promise<string> {
  const bytes = await fs.readFile(file)
  if (/\.dcm$/i.test(file)) {
    const ends = PIXEL_DATA_TAGS.map((t) => bytes.indexOf(t)).filter((i) => i >= 0)
    return bytes.subarray(0, ends.length ? Math.min(...ends) : bytes.length).toString('latin1')
  }
  if (/\.nii\.gz$/i.test(file)) {
    const head = zlib.gunzipSync(bytes.subarray(0, 1 << 16), { finishFlush: zlib.constants.Z_SYNC_FLUSH })
    const sizeofHdr = head.length >= 4 ? head.readInt32LE(0) : 0
    const voxOffset =
      sizeofHdr === 348 && head.length >= 112 ? head.readFloatLE(108) : sizeofHdr === 540 && head.length >= 176 ? Number(head.readBigInt64LE(168)) : 352
    return head.subarray(0, Math.max(352, Math.min(head.length, voxOffset))).toString('latin1')
  }
  const text = bytes.toString('latin1')
  return /\.html?$/i.test(file) ? text.replace(/data:[^"'\s)]*/g, 'data:') : text
}

/** Refuses (removing what was written) a de-identified export in which a file still holds one of `identifiers`. */
async function checkDeidentified(files: readonly string[], identifiers: readonly Identifier[]): Promise<void> {
  for (const file of files) {
    const hit = findIdentifier(await textOf(file), identifiers)
    if (!hit) continue
    await Promise.all(files.map((f) => fs.rm(f, { force: true })))
    throw new ImportError(
      'write-failed',
      file,
      `de-identified export refused: this file would hold the ${hit.what} (from a free-text field of the plan, e.g. a note or calibration source); nothing was exported`,
    )
  }
}

/** A free-text field of the plan that may name files: every path in it reduced to its file name. */
const basenames = (text: string) => text.replace(/(?:[A-Za-z]:)?[^\s(),;]*[\\/][^\s(),;]*/g, (p) => path.basename(p.replace(/\\/g, '/')))

/**
 * Exports the plan folder `planDir` as `format` to `outPath` (a file for brainsight, localite,
 * kplan and report; a folder, created if needed, for slicer, nifti and dicom).
 *
 * Throws ImportError (unreadable plan folder or image, unwritable output, a de-identified file
 * that would still identify the patient: `file` + `problem`) or SimulationInputError('--space', ...)
 * when `space: 'mri'` is asked of a plan without an MRI registration ('--retain-uids' without
 * `deidentify`). Returns the files written and notes for the user.
 */
export async function exportPlanFolder(planDir: string, format: ExportFormat, outPath: string, options: ExportOptions = {}): Promise<ExportResult> {
  if (!EXPORT_FORMATS.includes(format)) throw new SimulationInputError('--format', `"${String(format)}" is not one of ${EXPORT_FORMATS.join(', ')}`)
  const loaded = await loadPlanFolder(planDir)
  const ctx = spaceContext(loaded, options.space ?? 'ct')
  const idn = await exportIdentity(loaded, options)
  const out = await prepareOut(outPath, format)
  const provenance = exportProvenance(loaded.plan, EXPORT_SOFTWARE)
  const notes: string[] = [provenance.poseNote, `coordinates: ${ctx.label} space${idn.deidentify ? '' : ` (${ctx.imageSource})`}`]
  const files: string[] = []
  const pose = poseInSpace(loaded, ctx)
  const now = options.now ?? new Date()
  const identities: Array<ReportPatient | undefined> = [options.patient]
  const sidecar = async (extra: Record<string, unknown>) => {
    const file = path.join(out, 'export.json')
    const body = {
      software: EXPORT_SOFTWARE,
      exported_at: now.toISOString(),
      format,
      plan: idn.planLabel,
      plan_id: idn.planRef?.id ?? null,
      plan_version: idn.planRef?.version ?? null,
      space: ctx.space,
      pose_note: provenance.poseNote,
      focus_corrected: loaded.plan.focus_correction !== null,
      ...extra,
      deidentified: idn.deidentify,
      ...(idn.deidentify ? { deidentification: deidentificationRecord(idn, format) } : {}),
    }
    await writeFileAtomic(file, JSON.stringify(body, null, 2) + '\n')
    files.push(file)
  }

  switch (format) {
    case 'brainsight': {
      const version = options.brainsightVersion ?? 14
      await writeFileAtomic(out, writeBrainsight([pose], version, provenance, await niftiXformCodes(await locateImage(ctx.imageSource, loaded.dir))))
      files.push(out)
      notes.push(
        `Brainsight v${version}: location = geometric focus (${(pose.focalDistanceM * 1000).toFixed(1)} mm from the apex), z out of the head; load the same image in Brainsight (its scanner RAS)`,
      )
      break
    }
    case 'localite': {
      const coords = options.coords ?? 'ras'
      await writeFileAtomic(out, writeLocalite([pose], coords, provenance))
      files.push(out)
      notes.push(`Localite InstrumentMarker, ${coords.toUpperCase()}: origin = bowl apex, x = beam into the head`)
      break
    }
    case 'kplan': {
      await writeKps(out, [{ label: `${pose.name}. ${provenance.poseNote}`, transducerToRas: pose.transducerToRas }])
      files.push(out)
      notes.push('k-Plan .kps: float32, metres, origin = bowl apex')
      break
    }
    case 'slicer': {
      const coords = options.coords ?? 'lps'
      await fs.mkdir(out, { recursive: true })
      const markups = path.join(out, 'plan.mrk.json')
      await writeFileAtomic(markups, writeSlicerMarkups(pointsInSpace(loaded, ctx), coords, `TFUS ${loaded.plan.transducer.id}`, provenance))
      const tfm = path.join(out, 'transducer.tfm')
      await writeFileAtomic(tfm, writeItkTransform(pose, provenance))
      const { pressure } = await volumesInSpace(loaded, ctx)
      const pressureFile = path.join(out, 'pressure.nii.gz')
      if (ctx.space === 'ct') await fs.copyFile(path.join(loaded.dir, PLAN_FILES.pressureCt), pressureFile)
      else await writeVolume(pressure, pressureFile)
      files.push(markups, tfm, pressureFile)
      await sidecar({
        markups_coordinate_system: coords.toUpperCase(),
        transform: 'transducer.tfm: ITK from-parent, LPS mm; Slicer shows the transducer->world RAS matrix',
      })
      break
    }
    case 'nifti': {
      await fs.mkdir(out, { recursive: true })
      const pressureFile = path.join(out, 'pressure.nii.gz')
      const maskFile = path.join(out, 'focal_6db.nii.gz')
      if (ctx.space === 'ct') {
        await fs.copyFile(path.join(loaded.dir, PLAN_FILES.pressureCt), pressureFile)
        await fs.copyFile(path.join(loaded.dir, PLAN_FILES.focalMaskCt), maskFile)
      } else {
        const { pressure, mask } = await volumesInSpace(loaded, ctx)
        await writeVolume(pressure, pressureFile)
        await writeVolume(mask, maskFile)
        notes.push('resampled onto the MRI grid through plan.json registration.mri_ras_to_ct_ras (pressure trilinear, mask nearest)')
      }
      files.push(pressureFile, maskFile)
      await sidecar({
        grid: ctx.space === 'ct' ? 'the plan CT grid (copies of the plan folder volumes)' : 'the registered MRI grid',
        units: { pressure: 'Pa', focal_6db: '1 inside the -6 dB region' },
      })
      break
    }
    case 'dicom': {
      if (!ctx.frameOfReferenceUid) {
        throw new ImportError(
          'corrupt-header',
          path.join(loaded.dir, PLAN_FILES.plan),
          `the ${ctx.label} has no FrameOfReferenceUID (${ctx.space === 'ct' ? 'ct' : 'registration.mri'}.frame_of_reference_uid is null): a navigation system could not overlay the series`,
        )
      }
      // The SEG is recomputed from the exported pressure (writePlanDicom), not taken from the plan's
      // nearest-neighbour focal_6db.nii.gz, so on the exported grid the two agree voxel for voxel.
      const { pressure } = await volumesInSpace(loaded, ctx)
      const peakRas = applyAffine(ctx.ctToSpace, loaded.metrics.peak_position_ras_m as unknown as Vec3)
      const identity = await imageIdentity(await locateImage(ctx.imageSource, loaded.dir), false, loaded.plan, ctx.studyInstanceUid)
      identities.push(identity.patient)
      if (identity.note) notes.push(idn.deidentify ? 'planning image not readable: its DICOM header was not consulted' : identity.note)
      // The database's identity (options.patient) is of the same patient; the header adds the sex.
      const patient = idn.deidentify
        ? { name: '', id: '', birthDate: '' }
        : options.patient
          ? { ...options.patient, sex: identity.patient.sex ?? '' }
          : identity.patient
      const mode = !idn.deidentify ? 'identified' : idn.retainUids ? 'deidentified-retain-uids' : 'deidentified'
      const seed = new TextEncoder().encode(`${loaded.planText}\n${ctx.space}\n${mode}`)
      // De-identified: the planning image's Study and Frame of Reference UIDs are replaced by the
      // plan's map (the report shows the same new FoR), unless the user retains them; series and
      // SOP Instance UIDs are always new (content-derived from `seed`).
      const frameOfReferenceUid = await idn.uid(ctx.frameOfReferenceUid)
      const studyInstanceUid = identity.studyInstanceUid ? await idn.uid(identity.studyInstanceUid) : await contentUid(seed, 'study')
      const result = await writePlanDicom(
        pressure,
        { peakPressurePa: loaded.metrics.peak_pressure_pa, peakLpsM: rasToLps(peakRas) },
        {
          patient,
          ...(identity.patientPosition ? { patientPosition: identity.patientPosition } : {}),
          // Filed into the planning image's study: its Study Date/Time/ID as well (identified only).
          ...(identity.study && !idn.deidentify ? { study: identity.study } : {}),
          studyInstanceUid,
          frameOfReferenceUid,
          uidSeed: seed,
          software: EXPORT_SOFTWARE,
          poseNote: provenance.poseNote,
          contentDate: dicomDate(now),
          contentTime: dicomTime(now),
          deidentified: idn.deidentify,
          uidsRetained: idn.retainUids,
        },
      )
      const seriesDir = path.join(out, 'pressure')
      await fs.rm(seriesDir, { recursive: true, force: true })
      for (const f of result.pressureSeries) {
        const file = path.join(seriesDir, f.name)
        await writeFileAtomic(file, f.bytes)
        files.push(file)
      }
      const segFile = path.join(out, 'seg', result.seg.name)
      await writeFileAtomic(segFile, result.seg.bytes)
      const pmapFile = path.join(out, 'parametric', result.parametricMap.name)
      await writeFileAtomic(pmapFile, result.parametricMap.bytes)
      files.push(segFile, pmapFile)
      notes.push(
        `DICOM: ${result.pressureSeries.length} MR Image Storage slices in pressure/ (stored value = pressure in ${result.storedUnit}, window from the in-brain peak), SEG in seg/ (${result.focalVoxels} voxels >= half the in-brain peak, recomputed on this grid from the exported pressure), Parametric Map in parametric/ (float kPa, for research tools); FrameOfReferenceUID ${frameOfReferenceUid}${idn.deidentify && !idn.retainUids ? " (a new one: a navigation system will not overlay it on the planning scan without registration; --retain-uids keeps the planning scan's)" : ''}`,
      )
      if (result.focalVoxels === 0)
        notes.push('no voxel of the exported grid within one voxel of the in-brain peak reaches half the peak pressure: the SEG is empty')
      if (result.sliceAxisReversed)
        notes.push('the grid is left-handed (stored bottom-up); DICOM holds it with the slice order reversed, every voxel at the same place')
      await sidecar({
        frame_of_reference_uid: frameOfReferenceUid,
        study_instance_uid: studyInstanceUid,
        pressure_series_instance_uid: result.pressureSeriesUid,
        seg_series_instance_uid: result.segSeriesUid,
        parametric_map_series_instance_uid: result.parametricMapSeriesUid,
        stored_unit_pa: result.storedUnitPa,
        focal_voxels: result.focalVoxels,
        slice_axis_reversed: result.sliceAxisReversed,
      })
      break
    }
    case 'report': {
      // The plan folder's own copy of the CT first (plans materialised from the database carry
      // it), then the path the plan was made from.
      const storedCt = path.join(loaded.dir, PLAN_FILES.ct)
      const ctSource = (await fs.stat(storedCt).catch(() => null)) ? storedCt : await locateImage(loaded.plan.ct.source, loaded.dir)
      const ctIdentity = await imageIdentity(ctSource, true, loaded.plan, loaded.plan.ct.study_instance_uid)
      identities.push(ctIdentity.patient)
      const pressure = await readVolume(path.join(loaded.dir, PLAN_FILES.pressureCt), { modality: 'OT' })
      const slices = orthogonalSlices(ctIdentity.volume, pressure, loaded.metrics.peak_position_ras_m as unknown as Vec3, {
        markerRasM: loaded.plan.target_ras_m as unknown as Vec3,
      })
      const { ct } = loaded.plan
      const images: ReportImage[] = [
        {
          role: 'CT (planning)',
          source: idn.path(ct.source),
          frameOfReferenceUid: await idn.uid(ct.frame_of_reference_uid),
          seriesInstanceUid: await idn.uid(ct.series_instance_uid),
        },
      ]
      const reg = loaded.plan.registration
      if (reg)
        images.push({
          role: `MRI (registered: ${reg.method})`,
          source: idn.path(reg.mri.source),
          frameOfReferenceUid: await idn.uid(reg.mri.frame_of_reference_uid),
          seriesInstanceUid: await idn.uid(reg.mri.series_instance_uid),
        })
      // Free text that may name files (the transducer definition, the drive's calibration) keeps file names only.
      const plan: PlanRecord = !idn.deidentify
        ? loaded.plan
        : {
            ...loaded.plan,
            transducer: { ...loaded.plan.transducer, source_file: basenames(loaded.plan.transducer.source_file) },
            drive:
              loaded.plan.drive.kind === 'device-setting'
                ? { ...loaded.plan.drive, calibration_source: basenames(loaded.plan.drive.calibration_source) }
                : loaded.plan.drive,
          }
      const sliceNote = ctIdentity.volume
        ? undefined
        : idn.deidentify
          ? 'The CT could not be read, so the slices show the pressure alone.'
          : `The CT could not be read, so the slices show the pressure alone (${ctIdentity.note ?? ''}).`
      const html = buildReportHtml({
        plan,
        metrics: loaded.metrics,
        thermal: loaded.thermal,
        planLabel: idn.neutralId ?? idn.planLabel,
        planRef: idn.planRef,
        patient: idn.deidentify ? null : (options.patient ?? ctIdentity.patient),
        deidentified: idn.deidentify,
        ...(idn.deidentify ? { uidsRetained: idn.retainUids } : {}),
        images,
        slices,
        ...(sliceNote ? { sliceNote } : {}),
        ...(options.approval ? { approval: options.approval } : {}),
        generatedAt: now.toISOString(),
        software: EXPORT_SOFTWARE,
      })
      await writeFileAtomic(out, html)
      files.push(out)
      if (!ctIdentity.volume)
        notes.push(idn.deidentify ? 'CT not readable: slices show pressure only' : (ctIdentity.note ?? 'CT not readable: slices show pressure only'))
      break
    }
  }
  if (idn.deidentify) await checkDeidentified(files, planIdentifiers(loaded, idn, identities))
  return { format, files, notes }
}

export const IMPORT_FORMATS = ['brainsight', 'localite', 'slicer'] as const

export interface ImportOptions {
  /** Brainsight files without our apex line: apex -> location distance [m] (the transducer's focal distance). */
  readonly focalDistanceM?: number
}

/**
 * Reads a navigation file: every located entry as a target (RAS m) and every entry with a full
 * orientation as a pose in our convention (row-major transducer -> RAS, m, apex origin, +z into
 * the head). Several entries give lists (multi-target files). Slicer: `.mrk.json` gives points,
 * `.tfm`/`.txt` (ITK text transform) or `.h5` (ITK HDF5 transform) gives the pose. Throws ImportError naming the file and the problem.
 */
export async function importPoseFile(file: string, format: NavigationFormat, options: ImportOptions = {}): Promise<ImportedNavigation> {
  let bytes: Buffer
  try {
    bytes = await fs.readFile(file)
  } catch (e) {
    throw new ImportError('not-found', file, 'no such file', { cause: e })
  }
  // Slicer saves transforms as ITK HDF5 (.h5) by default; the text formats are read as UTF-8.
  if (format === 'slicer' && isHdf5(bytes)) return readItkHdf5Transform(file)
  const text = bytes.toString('utf8')
  switch (format) {
    case 'brainsight':
      return readBrainsight(text, file, options.focalDistanceM === undefined ? {} : { focalDistanceM: options.focalDistanceM })
    case 'localite':
      return readLocalite(text, file)
    case 'slicer':
      return /^\s*\{/.test(text) ? readSlicerMarkups(text, file) : readItkTransform(text, file)
    default:
      throw new SimulationInputError('--format', `"${String(format)}" is not one of ${IMPORT_FORMATS.join(', ')}`)
  }
}

/** k-Plan .kps read back (tests, and the app's "open k-Plan position"). */
export { readKps }
