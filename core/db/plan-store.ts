/**
 * Queries and changes of the plan database, as synchronous functions of a better-sqlite3
 * `Database` (the host runs them on the database worker thread). Every change that touches
 * more than one row runs in one transaction, and files are put in the content store before the
 * transaction that references them, so a committed row never points at a missing blob.
 *
 * Plans are versioned: a version row is immutable (triggers in migrations.ts); approving adds an
 * approval row, editing adds version N+1 (`addPlanVersion`). Plan and metrics JSON are validated
 * against core/contracts/plan.ts on the way in and on the way out.
 */
import type Database from 'better-sqlite3'
import { planMetricsRecord, planRecord, PLAN_FILES, upgradePlanJson, type PlanMetricsRecord, type PlanRecord } from '../contracts/plan.ts'
import { PlanStoreError } from './errors.ts'
import { SHA256_HEX, type BlobState, type BlobVerifier } from './blob-store.ts'
import { approvalRefusal, belowClinicalResolution, blockingFlags, type ApprovalGrounds } from '../planning/approval.ts'

/** An approval as recorded: who, when, and on which grounds. */
export interface ApprovalRow {
  readonly planId: number
  readonly version: number
  readonly approver: string
  readonly approvedAt: string
  /** Why a plan below the clinical resolution was approved; null at or above it. */
  readonly overrideReason: string | null
  /** Blocking safety flags the approver acknowledged (ids, see core/planning/approval.ts). */
  readonly acknowledged: string[]
}

/** Who and when, for the audit log and the created_by / approved_at columns. */
export interface Actor {
  readonly name: string
  /** ISO 8601 time of the change. */
  readonly at: string
}

export interface PatientInput {
  readonly patientId?: string | null
  readonly name?: string | null
  /** DICOM DA (YYYYMMDD). */
  readonly birthDate?: string | null
}

export interface StoredFile {
  /** Relative path ('/'-separated): inside the plan folder, or inside the series source. */
  readonly path: string
  readonly sha256: string
  readonly sizeBytes: number
}

export interface SeriesInput {
  readonly seriesInstanceUid: string
  readonly studyInstanceUid: string
  readonly frameOfReferenceUid: string | null
  readonly modality: string
  readonly description: string | null
  readonly source: string
  readonly uidsMinted: boolean
  readonly dims: readonly number[]
  readonly spacingM: readonly number[]
  /** SHA-256 over the sorted hashes of `files` (the host computes it): same content, same value. */
  readonly contentSha256: string
  readonly files: readonly StoredFile[]
  readonly patient: PatientInput | null
}

export interface SeriesRow {
  readonly seriesId: number
  readonly seriesInstanceUid: string
  readonly studyInstanceUid: string
  readonly frameOfReferenceUid: string | null
  readonly modality: string
  readonly description: string | null
  readonly source: string
  readonly uidsMinted: boolean
  readonly dims: number[]
  readonly spacingM: number[]
  readonly contentSha256: string
  readonly importedAt: string
  readonly files: StoredFile[]
}

export interface RegisterSeriesResult {
  readonly series: SeriesRow
  /** True when the series was already registered (same UID, same content): nothing was added. */
  readonly alreadyPresent: boolean
}

export interface RunInput {
  /** SHA-256 of the canonical JSON of the simulation inputs (the host computes it). */
  readonly inputsSha256: string
  readonly files: readonly StoredFile[]
}

export interface PlanVersionInput {
  readonly record: unknown
  readonly metrics: unknown
  /** A new simulation run with its result files, or the run of the version this one is based on. */
  readonly run: RunInput | 'reuse'
  readonly note?: string | null
  readonly patient?: PatientInput | null
}

export interface PlanRef {
  readonly planId: number
  readonly version: number
}

export interface ResultFileRow extends StoredFile {
  /** Key of PLAN_FILES when the path is one of them. */
  readonly role: string | null
}

export interface StoredPlan {
  readonly planId: number
  readonly version: number
  readonly versions: number[]
  readonly latestVersion: number
  readonly basedOnVersion: number | null
  readonly createdAt: string
  readonly createdBy: string
  readonly note: string | null
  readonly patient: { patientId: string | null; name: string | null; birthDate: string | null } | null
  readonly record: PlanRecord
  readonly metrics: PlanMetricsRecord
  readonly files: ResultFileRow[]
  readonly run: {
    runId: number
    inputsSha256: string
    solverVersion: string
    backend: string
    device: string
    status: 'completed' | 'failed'
    wallS: number
    recordedAt: string
  }
  readonly approval: { approver: string; approvedAt: string; overrideReason: string | null; acknowledged: string[] } | null
  readonly ctSeries: { seriesInstanceUid: string; frameOfReferenceUid: string | null; source: string } | null
}

export interface PlanSummary {
  readonly planId: number
  readonly latestVersion: number
  readonly approvedVersions: number[]
  readonly patientName: string | null
  readonly patientId: string | null
  readonly transducerId: string
  readonly targetRasM: readonly [number, number, number]
  /** Of the latest version: its resolution, what computed it, and the CT it was planned on. */
  readonly ppw: number
  readonly source: 'solver' | 'surrogate'
  readonly ctSource: string
  readonly createdAt: string
  readonly updatedAt: string
  readonly note: string | null
}

const ROLE_BY_PATH: ReadonlyMap<string, string> = new Map(Object.entries(PLAN_FILES).map(([role, file]) => [file, role]))

/** Zod issues as one line: 'pose.apex_ras_m: expected array, ...'. */
function describeIssues(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ')
}

/** Validates a plan record arriving from a file or a caller; `where` names the source. */
export function parsePlanRecord(value: unknown, where: string, code: 'invalid-record' | 'corrupt-record' = 'invalid-record'): PlanRecord {
  const parsed = planRecord.safeParse(value)
  if (!parsed.success) throw new PlanStoreError(code, `${where}: not a valid plan record (${describeIssues(parsed.error)})`)
  return parsed.data
}

export function parseMetricsRecord(value: unknown, where: string, code: 'invalid-record' | 'corrupt-record' = 'invalid-record'): PlanMetricsRecord {
  const parsed = planMetricsRecord.safeParse(value)
  if (!parsed.success) throw new PlanStoreError(code, `${where}: not a valid plan metrics record (${describeIssues(parsed.error)})`)
  return parsed.data
}

function checkFiles(files: readonly StoredFile[], where: string): void {
  const seen = new Set<string>()
  for (const f of files) {
    if (!SHA256_HEX.test(f.sha256)) throw new PlanStoreError('invalid-record', `${where}: ${f.path}: "${f.sha256}" is not a SHA-256 hex digest`)
    if (f.path === '' || f.path.startsWith('/') || f.path.split('/').some((part) => part === '..' || part === '.' || part === '')) {
      throw new PlanStoreError('invalid-record', `${where}: "${f.path}" is not a plain relative path`)
    }
    if (seen.has(f.path)) throw new PlanStoreError('invalid-record', `${where}: "${f.path}" listed twice`)
    seen.add(f.path)
  }
}

function audit(db: Database.Database, actor: Actor, action: string, ref: Partial<PlanRef>, detail: Record<string, unknown> = {}): void {
  db.prepare('INSERT INTO audit_log (at, actor, action, plan_ref, version, detail_json) VALUES (?, ?, ?, ?, ?, ?)').run(
    actor.at,
    actor.name,
    action,
    ref.planId ?? null,
    ref.version ?? null,
    JSON.stringify(detail),
  )
}

function insertBlobs(db: Database.Database, files: readonly StoredFile[]): void {
  const insert = db.prepare('INSERT INTO blobs (sha256, size_bytes) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING')
  for (const f of files) insert.run(f.sha256, f.sizeBytes)
}

/** Finds the patient (by PatientID, else by name and birth date) or adds one; null when nothing identifies a patient. */
function upsertPatient(db: Database.Database, patient: PatientInput | null | undefined, at: string): number | null {
  if (!patient) return null
  const patientId = patient.patientId?.trim() || null
  const name = patient.name?.trim() || null
  const birthDate = patient.birthDate?.trim() || null
  if (!patientId && !name) return null
  const found = patientId
    ? (db.prepare('SELECT id FROM patients WHERE patient_id = ?').get(patientId) as { id: number } | undefined)
    : (db.prepare('SELECT id FROM patients WHERE patient_id IS NULL AND name IS ? AND birth_date IS ?').get(name, birthDate) as { id: number } | undefined)
  if (found) return found.id
  return Number(
    db.prepare('INSERT INTO patients (patient_id, name, birth_date, created_at) VALUES (?, ?, ?, ?)').run(patientId, name, birthDate, at).lastInsertRowid,
  )
}

interface SeriesDbRow {
  id: number
  series_instance_uid: string
  study_instance_uid: string
  frame_of_reference_uid: string | null
  modality: string
  description: string | null
  source: string
  uids_minted: number
  dims_json: string
  spacing_m_json: string
  content_sha256: string
  imported_at: string
}

function seriesRow(db: Database.Database, row: SeriesDbRow): SeriesRow {
  const files = db
    .prepare(
      'SELECT f.path, f.sha256, b.size_bytes AS sizeBytes FROM series_files f JOIN blobs b ON b.sha256 = f.sha256 WHERE f.series_ref = ? ORDER BY f.path',
    )
    .all(row.id) as StoredFile[]
  return {
    seriesId: row.id,
    seriesInstanceUid: row.series_instance_uid,
    studyInstanceUid: row.study_instance_uid,
    frameOfReferenceUid: row.frame_of_reference_uid,
    modality: row.modality,
    description: row.description,
    source: row.source,
    uidsMinted: row.uids_minted === 1,
    dims: JSON.parse(row.dims_json) as number[],
    spacingM: JSON.parse(row.spacing_m_json) as number[],
    contentSha256: row.content_sha256,
    importedAt: row.imported_at,
    files,
  }
}

const SERIES_SELECT = `SELECT s.*, st.study_instance_uid FROM series s JOIN studies st ON st.id = s.study_ref`

export function findSeries(db: Database.Database, seriesInstanceUid: string): SeriesRow | null {
  const row = db.prepare(`${SERIES_SELECT} WHERE s.series_instance_uid = ?`).get(seriesInstanceUid) as SeriesDbRow | undefined
  return row ? seriesRow(db, row) : null
}

export function listSeries(db: Database.Database): SeriesRow[] {
  return (db.prepare(`${SERIES_SELECT} ORDER BY s.id`).all() as SeriesDbRow[]).map((r) => seriesRow(db, r))
}

/**
 * Registers an imported series. The same SeriesInstanceUID with the same content is found, not
 * added again; the same UID with different content is refused (two different image sets must not
 * share an identity in a clinical record).
 */
export function registerSeries(db: Database.Database, input: SeriesInput, actor: Actor): RegisterSeriesResult {
  checkFiles(input.files, input.source)
  if (input.files.length === 0) throw new PlanStoreError('invalid-record', `${input.source}: a series needs at least one file`)
  return db.transaction((): RegisterSeriesResult => {
    const existing = findSeries(db, input.seriesInstanceUid)
    if (existing) {
      if (existing.contentSha256 !== input.contentSha256) {
        throw new PlanStoreError(
          'conflict',
          `${input.source}: series ${input.seriesInstanceUid} is already registered (from ${existing.source}, ${existing.importedAt}) with different file content; refusing to give two image sets one identity`,
        )
      }
      return { series: existing, alreadyPresent: true }
    }
    const patientRef = upsertPatient(db, input.patient, actor.at)
    let study = db.prepare('SELECT id FROM studies WHERE study_instance_uid = ?').get(input.studyInstanceUid) as { id: number } | undefined
    if (!study) {
      const id = Number(
        db.prepare('INSERT INTO studies (study_instance_uid, patient_ref, created_at) VALUES (?, ?, ?)').run(input.studyInstanceUid, patientRef, actor.at)
          .lastInsertRowid,
      )
      study = { id }
    }
    const seriesId = Number(
      db
        .prepare(
          `INSERT INTO series (series_instance_uid, study_ref, frame_of_reference_uid, modality, description, source, uids_minted, dims_json, spacing_m_json, content_sha256, imported_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          input.seriesInstanceUid,
          study.id,
          input.frameOfReferenceUid,
          input.modality,
          input.description,
          input.source,
          input.uidsMinted ? 1 : 0,
          JSON.stringify(input.dims),
          JSON.stringify(input.spacingM),
          input.contentSha256,
          actor.at,
        ).lastInsertRowid,
    )
    insertBlobs(db, input.files)
    const insertFile = db.prepare('INSERT INTO series_files (series_ref, path, sha256) VALUES (?, ?, ?)')
    for (const f of input.files) insertFile.run(seriesId, f.path, f.sha256)
    audit(db, actor, 'import-series', {}, { series_instance_uid: input.seriesInstanceUid, source: input.source, files: input.files.length })
    return { series: findSeries(db, input.seriesInstanceUid)!, alreadyPresent: false }
  })()
}

function insertRun(db: Database.Database, record: PlanRecord, run: RunInput, at: string): number {
  const runId = Number(
    db
      .prepare(
        `INSERT INTO simulation_runs (inputs_sha256, solver_version, backend, device, status, ppw, grid_json, spacing_m, wall_s, recorded_at)
         VALUES (?, ?, ?, ?, 'completed', ?, ?, ?, ?, ?)`,
      )
      .run(
        run.inputsSha256,
        record.software,
        record.simulation.backend,
        record.simulation.device,
        record.simulation.ppw,
        JSON.stringify(record.simulation.grid_size),
        record.simulation.spacing_m,
        record.wall_s,
        at,
      ).lastInsertRowid,
  )
  insertBlobs(db, run.files)
  const insertFile = db.prepare('INSERT INTO result_files (run_ref, path, role, sha256) VALUES (?, ?, ?, ?)')
  for (const f of run.files) insertFile.run(runId, f.path, ROLE_BY_PATH.get(f.path) ?? null, f.sha256)
  return runId
}

function insertVersionRows(
  db: Database.Database,
  ref: PlanRef,
  basedOn: number | null,
  runId: number,
  record: PlanRecord,
  metrics: PlanMetricsRecord,
  /**
   * The JSON as given, stored as is (after validation) so fields newer than this build's contract
   * survive; a plan folder from before the snake_case keys is stored in the current style.
   */
  raw: { record: unknown; metrics: unknown },
  note: string | null,
  actor: Actor,
): void {
  const ct = record.ct.series_instance_uid ? findSeries(db, record.ct.series_instance_uid) : null
  db.prepare(
    `INSERT INTO plan_versions (plan_ref, version, based_on_version, run_ref, ct_series_ref, record_json, metrics_json, note, created_at, created_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    ref.planId,
    ref.version,
    basedOn,
    runId,
    ct?.seriesId ?? null,
    JSON.stringify(upgradePlanJson(raw.record)),
    JSON.stringify(raw.metrics),
    note,
    actor.at,
    actor.name,
  )
  const pose = record.pose
  db.prepare(
    `INSERT INTO transducer_poses (plan_ref, version, transducer_id, frequency_hz, transducer_to_ras_json, apex_ras_m_json, axis_ras_json, standoff_m, focal_distance_from_apex_m, focus_corrected)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    ref.planId,
    ref.version,
    record.transducer.id,
    record.transducer.frequency_hz,
    JSON.stringify(pose.transducer_to_ras),
    JSON.stringify(pose.apex_ras_m),
    JSON.stringify(pose.axis_ras),
    pose.standoff_m,
    pose.focal_distance_from_apex_m,
    record.focus_correction ? 1 : 0,
  )
  db.prepare(
    'INSERT INTO pulse_timings (plan_ref, version, pulse_duration_s, prf_hz, train_duty_cycle, duty_cycle, total_duration_s) VALUES (?, ?, ?, ?, ?, ?, NULL)',
  ).run(ref.planId, ref.version, record.pulse_timing.pulse_duration_s, record.pulse_timing.prf_hz, record.pulse_timing.train_duty_cycle, metrics.duty_cycle)
}

/** Stores a new plan as version 1, with its simulation run and result files, in one transaction. */
export function insertPlan(db: Database.Database, input: PlanVersionInput, actor: Actor): PlanRef {
  const record = parsePlanRecord(input.record, 'plan.json')
  const metrics = parseMetricsRecord(input.metrics, 'metrics.json')
  if (input.run === 'reuse') throw new PlanStoreError('invalid-record', 'a new plan needs its simulation run (result files)')
  const run = input.run
  checkFiles(run.files, 'plan folder')
  return db.transaction((): PlanRef => {
    let patientRef = upsertPatient(db, input.patient, actor.at)
    if (patientRef === null && record.ct.series_instance_uid) {
      // No patient given: the CT's, when that series was imported with one.
      const row = db
        .prepare('SELECT st.patient_ref AS p FROM series s JOIN studies st ON st.id = s.study_ref WHERE s.series_instance_uid = ?')
        .get(record.ct.series_instance_uid) as { p: number | null } | undefined
      patientRef = row?.p ?? null
    }
    const planId = Number(
      db.prepare('INSERT INTO plans (patient_ref, created_at, created_by) VALUES (?, ?, ?)').run(patientRef, actor.at, actor.name).lastInsertRowid,
    )
    const runId = insertRun(db, record, run, actor.at)
    const ref = { planId, version: 1 }
    insertVersionRows(db, ref, null, runId, record, metrics, { record: input.record, metrics: input.metrics }, input.note ?? null, actor)
    audit(db, actor, 'save-plan', ref, { run: runId, inputs_sha256: run.inputsSha256, files: run.files.length })
    return ref
  })()
}

function versionsOf(db: Database.Database, planId: number): number[] {
  return (db.prepare('SELECT version FROM plan_versions WHERE plan_ref = ? ORDER BY version').all(planId) as Array<{ version: number }>).map((r) => r.version)
}

function requireVersion(db: Database.Database, planId: number, version: number | undefined): { versions: number[]; version: number } {
  const versions = versionsOf(db, planId)
  if (versions.length === 0) throw new PlanStoreError('not-found', `no plan ${planId} in the database`)
  const chosen = version ?? versions[versions.length - 1]!
  if (!versions.includes(chosen)) throw new PlanStoreError('not-found', `plan ${planId} has no version ${chosen} (versions: ${versions.join(', ')})`)
  return { versions, version: chosen }
}

/**
 * Adds version N+1 of a plan, based on `basedOn` (default: the latest). Fields not given are
 * carried over from the base version; `run: 'reuse'` keeps the base version's simulation run and
 * result files (an edit that needs no new simulation, such as a note or a corrected protocol
 * record), otherwise the new run and its files are stored.
 */
export function addPlanVersion(db: Database.Database, planId: number, basedOn: number | undefined, input: Partial<PlanVersionInput>, actor: Actor): PlanRef {
  return db.transaction((): PlanRef => {
    const { versions, version: base } = requireVersion(db, planId, basedOn)
    const baseRow = db.prepare('SELECT run_ref, record_json, metrics_json, note FROM plan_versions WHERE plan_ref = ? AND version = ?').get(planId, base) as {
      run_ref: number
      record_json: string
      metrics_json: string
      note: string | null
    }
    const rawRecord: unknown = input.record !== undefined ? input.record : JSON.parse(baseRow.record_json)
    const rawMetrics: unknown = input.metrics !== undefined ? input.metrics : JSON.parse(baseRow.metrics_json)
    const record =
      input.record !== undefined
        ? parsePlanRecord(rawRecord, 'new version plan record')
        : parsePlanRecord(rawRecord, `plan ${planId} version ${base}`, 'corrupt-record')
    const metrics =
      input.metrics !== undefined
        ? parseMetricsRecord(rawMetrics, 'new version metrics record')
        : parseMetricsRecord(rawMetrics, `plan ${planId} version ${base}`, 'corrupt-record')
    let runId = baseRow.run_ref
    if (input.run !== undefined && input.run !== 'reuse') {
      checkFiles(input.run.files, 'plan folder')
      runId = insertRun(db, record, input.run, actor.at)
    }
    if (input.patient) {
      const patientRef = upsertPatient(db, input.patient, actor.at)
      if (patientRef !== null) {
        const current = db.prepare('SELECT patient_ref FROM plans WHERE id = ?').get(planId) as { patient_ref: number | null }
        if (current.patient_ref !== null && current.patient_ref !== patientRef) {
          throw new PlanStoreError('conflict', `plan ${planId} belongs to another patient; save the plan as a new plan instead`)
        }
      }
    }
    const ref = { planId, version: versions[versions.length - 1]! + 1 }
    const note = input.note !== undefined ? input.note : baseRow.note
    insertVersionRows(db, ref, base, runId, record, metrics, { record: rawRecord, metrics: rawMetrics }, note, actor)
    audit(db, actor, 'new-version', ref, {
      based_on: base,
      run: runId,
      new_run: runId !== baseRow.run_ref,
      record_changed: input.record !== undefined,
      metrics_changed: input.metrics !== undefined,
    })
    return ref
  })()
}

/**
 * Records who approved a version, on which grounds. A version is approved once; a changed plan is
 * a new version to approve. The rules (core/planning/approval.ts) are checked here, inside the
 * transaction, so no client can approve what the rules refuse.
 */
export function approvePlan(
  db: Database.Database,
  planId: number,
  version: number | undefined,
  actor: Actor,
  grounds: Omit<ApprovalGrounds, 'approver'> = {},
): ApprovalRow {
  const approver = actor.name.trim()
  if (!approver) throw new PlanStoreError('invalid-record', "approve: the approver's name is empty")
  return db.transaction(() => {
    const chosen = requireVersion(db, planId, version).version
    const existing = db.prepare('SELECT approver, approved_at FROM approvals WHERE plan_ref = ? AND version = ?').get(planId, chosen) as
      { approver: string; approved_at: string } | undefined
    if (existing)
      throw new PlanStoreError('already-approved', `plan ${planId} version ${chosen} was already approved by ${existing.approver} at ${existing.approved_at}`)
    const row = db.prepare('SELECT record_json, metrics_json FROM plan_versions WHERE plan_ref = ? AND version = ?').get(planId, chosen) as {
      record_json: string
      metrics_json: string
    }
    const where = `plan ${planId} version ${chosen}`
    const record = parsePlanRecord(JSON.parse(row.record_json), where, 'corrupt-record')
    const metrics = parseMetricsRecord(JSON.parse(row.metrics_json), where, 'corrupt-record')
    const refusal = approvalRefusal(record, metrics, { ...grounds, approver })
    if (refusal) throw new PlanStoreError('not-approvable', `${where} cannot be approved: ${refusal.message}`)
    // Only what was needed is recorded: a reason given for a clinical-resolution plan means nothing.
    const overrideReason = belowClinicalResolution(record) ? grounds.overrideReason!.trim() : null
    const acknowledged = blockingFlags(metrics).map((f) => f.id)
    db.prepare('INSERT INTO approvals (plan_ref, version, approver, approved_at, override_reason, acknowledged_flags_json) VALUES (?, ?, ?, ?, ?, ?)').run(
      planId,
      chosen,
      approver,
      actor.at,
      overrideReason,
      JSON.stringify(acknowledged),
    )
    audit(db, actor, 'approve', { planId, version: chosen }, { approver, override_reason: overrideReason, acknowledged })
    return { planId, version: chosen, approver, approvedAt: actor.at, overrideReason, acknowledged }
  })()
}

/** One version of a plan, validated against the plan contract. */
export function getPlanVersion(db: Database.Database, planId: number, version?: number): StoredPlan {
  // One read transaction: a concurrent writer cannot slip a version in between the queries.
  return db.transaction((): StoredPlan => {
    const { versions, version: chosen } = requireVersion(db, planId, version)
    const row = db
      .prepare(
        `SELECT v.*, r.id AS run_id, r.inputs_sha256, r.solver_version, r.backend, r.device, r.status, r.wall_s, r.recorded_at,
                p.patient_id, p.name AS patient_name, p.birth_date, p.id AS patient_row,
                a.approver, a.approved_at, a.override_reason, a.acknowledged_flags_json,
                s.series_instance_uid AS ct_uid, s.frame_of_reference_uid AS ct_for, s.source AS ct_source
         FROM plan_versions v
         JOIN plans pl ON pl.id = v.plan_ref
         JOIN simulation_runs r ON r.id = v.run_ref
         LEFT JOIN patients p ON p.id = pl.patient_ref
         LEFT JOIN approvals a ON a.plan_ref = v.plan_ref AND a.version = v.version
         LEFT JOIN series s ON s.id = v.ct_series_ref
         WHERE v.plan_ref = ? AND v.version = ?`,
      )
      .get(planId, chosen) as Record<string, unknown>
    const where = `plan ${planId} version ${chosen}`
    const files = db
      .prepare(
        'SELECT f.path, f.role, f.sha256, b.size_bytes AS sizeBytes FROM result_files f JOIN blobs b ON b.sha256 = f.sha256 WHERE f.run_ref = ? ORDER BY f.path',
      )
      .all(row.run_id) as ResultFileRow[]
    return {
      planId,
      version: chosen,
      versions,
      latestVersion: versions[versions.length - 1]!,
      basedOnVersion: (row.based_on_version as number | null) ?? null,
      createdAt: row.created_at as string,
      createdBy: row.created_by as string,
      note: (row.note as string | null) ?? null,
      patient:
        row.patient_row == null
          ? null
          : {
              patientId: (row.patient_id as string | null) ?? null,
              name: (row.patient_name as string | null) ?? null,
              birthDate: (row.birth_date as string | null) ?? null,
            },
      record: parsePlanRecord(JSON.parse(row.record_json as string), where, 'corrupt-record'),
      metrics: parseMetricsRecord(JSON.parse(row.metrics_json as string), where, 'corrupt-record'),
      files,
      run: {
        runId: row.run_id as number,
        inputsSha256: row.inputs_sha256 as string,
        solverVersion: row.solver_version as string,
        backend: row.backend as string,
        device: row.device as string,
        status: row.status as 'completed' | 'failed',
        wallS: row.wall_s as number,
        recordedAt: row.recorded_at as string,
      },
      approval:
        row.approver == null
          ? null
          : {
              approver: row.approver as string,
              approvedAt: row.approved_at as string,
              overrideReason: (row.override_reason as string | null) ?? null,
              acknowledged: JSON.parse((row.acknowledged_flags_json as string | null) ?? '[]') as string[],
            },
      ctSeries:
        row.ct_uid == null
          ? null
          : { seriesInstanceUid: row.ct_uid as string, frameOfReferenceUid: (row.ct_for as string | null) ?? null, source: row.ct_source as string },
    }
  })()
}

/**
 * The plan.json and metrics.json of a version exactly as stored (validated when stored; fields
 * newer than this build's contract included), for writing a plan folder back.
 */
export function storedPlanJson(db: Database.Database, planId: number, version: number): { record: unknown; metrics: unknown } {
  const row = db.prepare('SELECT record_json, metrics_json FROM plan_versions WHERE plan_ref = ? AND version = ?').get(planId, version) as
    { record_json: string; metrics_json: string } | undefined
  if (!row) throw new PlanStoreError('not-found', `plan ${planId} has no version ${version}`)
  return { record: JSON.parse(row.record_json) as unknown, metrics: JSON.parse(row.metrics_json) as unknown }
}

export function listPlans(db: Database.Database): PlanSummary[] {
  const rows = db
    .prepare(
      `SELECT pl.id, pl.created_at, v.version, v.created_at AS updated_at, v.record_json, v.note, p.name, p.patient_id,
              (SELECT group_concat(a.version) FROM approvals a WHERE a.plan_ref = pl.id) AS approved
       FROM plans pl
       JOIN plan_versions v ON v.plan_ref = pl.id AND v.version = (SELECT max(version) FROM plan_versions WHERE plan_ref = pl.id)
       LEFT JOIN patients p ON p.id = pl.patient_ref
       ORDER BY pl.id`,
    )
    .all() as Array<{
    id: number
    created_at: string
    version: number
    updated_at: string
    record_json: string
    note: string | null
    name: string | null
    patient_id: string | null
    approved: string | null
  }>
  return rows.map((r) => {
    const record = parsePlanRecord(JSON.parse(r.record_json), `plan ${r.id} version ${r.version}`, 'corrupt-record')
    return {
      planId: r.id,
      latestVersion: r.version,
      approvedVersions: r.approved
        ? r.approved
            .split(',')
            .map(Number)
            .sort((a, b) => a - b)
        : [],
      patientName: r.name,
      patientId: r.patient_id,
      transducerId: record.transducer.id,
      targetRasM: record.target_ras_m,
      ppw: record.simulation.ppw,
      source: record.source,
      ctSource: record.ct.source,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      note: r.note,
    }
  })
}

export interface AuditEntry {
  readonly seq: number
  readonly at: string
  readonly actor: string
  readonly action: string
  readonly planId: number | null
  readonly version: number | null
  readonly detail: Record<string, unknown>
}

export function auditLog(db: Database.Database, planId?: number): AuditEntry[] {
  const rows = (
    planId === undefined
      ? db.prepare('SELECT * FROM audit_log ORDER BY seq').all()
      : db.prepare('SELECT * FROM audit_log WHERE plan_ref = ? ORDER BY seq').all(planId)
  ) as Array<{
    seq: number
    at: string
    actor: string
    action: string
    plan_ref: number | null
    version: number | null
    detail_json: string
  }>
  return rows.map((r) => ({
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    planId: r.plan_ref,
    version: r.version,
    detail: JSON.parse(r.detail_json) as Record<string, unknown>,
  }))
}

export interface CheckReport {
  /** True when the database is intact and every referenced blob is present and hashes right. */
  readonly ok: boolean
  /** `PRAGMA integrity_check` lines ('ok' alone when intact). */
  readonly integrity: string[]
  readonly foreignKeyViolations: number
  readonly plans: number
  readonly planVersions: number
  /** Unreadable plan versions (record or metrics no longer valid), one line each. */
  readonly invalidRecords: string[]
  readonly referencedBlobs: number
  readonly verifiedBlobs: number
  readonly missing: Array<{ sha256: string; usedBy: string }>
  readonly corrupt: Array<{ sha256: string; usedBy: string }>
  /** Blobs in the store that no row references (an interrupted save leaves these; harmless). */
  readonly orphans: string[]
  /** Temp files of interrupted writes (never referenced; harmless). */
  readonly tempFiles: number
}

/**
 * Verifies the database and the content store: SQLite's integrity and foreign-key checks, every
 * plan version against the plan contract, and every referenced blob re-hashed.
 */
export function checkDatabase(db: Database.Database, blobs: BlobVerifier): CheckReport {
  const integrity = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check)
  const foreignKeyViolations = (db.pragma('foreign_key_check') as unknown[]).length
  const invalidRecords: string[] = []
  const versions = db.prepare('SELECT plan_ref, version, record_json, metrics_json FROM plan_versions ORDER BY plan_ref, version').all() as Array<{
    plan_ref: number
    version: number
    record_json: string
    metrics_json: string
  }>
  for (const v of versions) {
    try {
      const where = `plan ${v.plan_ref} version ${v.version}`
      parsePlanRecord(JSON.parse(v.record_json), where, 'corrupt-record')
      parseMetricsRecord(JSON.parse(v.metrics_json), where, 'corrupt-record')
    } catch (e) {
      invalidRecords.push(e instanceof Error ? e.message : String(e))
    }
  }
  const uses = db
    .prepare(
      `SELECT b.sha256, (SELECT 'plan ' || v.plan_ref || '@' || v.version || ' ' || f.path FROM result_files f JOIN plan_versions v ON v.run_ref = f.run_ref WHERE f.sha256 = b.sha256 LIMIT 1) AS plan_use,
              (SELECT 'series ' || s.series_instance_uid || ' ' || sf.path FROM series_files sf JOIN series s ON s.id = sf.series_ref WHERE sf.sha256 = b.sha256 LIMIT 1) AS series_use
       FROM blobs b ORDER BY b.sha256`,
    )
    .all() as Array<{ sha256: string; plan_use: string | null; series_use: string | null }>
  const missing: CheckReport['missing'] = []
  const corrupt: CheckReport['corrupt'] = []
  let verified = 0
  for (const u of uses) {
    const state: BlobState = blobs.verify(u.sha256)
    const usedBy = u.plan_use ?? u.series_use ?? '(no row)'
    if (state === 'ok') verified++
    else if (state === 'missing') missing.push({ sha256: u.sha256, usedBy })
    else corrupt.push({ sha256: u.sha256, usedBy })
  }
  const known = new Set(uses.map((u) => u.sha256))
  const orphans = [...blobs.list()].filter((h) => !known.has(h)).sort()
  const plans = (db.prepare('SELECT count(*) AS n FROM plans').get() as { n: number }).n
  const ok =
    integrity.length === 1 && integrity[0] === 'ok' && foreignKeyViolations === 0 && invalidRecords.length === 0 && missing.length === 0 && corrupt.length === 0
  return {
    ok,
    integrity,
    foreignKeyViolations,
    plans,
    planVersions: versions.length,
    invalidRecords,
    referencedBlobs: uses.length,
    verifiedBlobs: verified,
    missing,
    corrupt,
    orphans,
    tempFiles: blobs.tempFiles().length,
  }
}
