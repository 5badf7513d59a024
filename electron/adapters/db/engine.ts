/**
 * The plan store itself: the database file, the content store beside it, and the operations of
 * the `openPlanStore` client. It runs on the database worker thread (worker.ts); tests and the
 * kill test's writer process drive it directly, so the code that writes is the same everywhere.
 *
 * Durability rule: files go into the content store (fsynced, renamed, folder fsynced) before the
 * transaction that references them; the transaction commits with synchronous=FULL. A crash at
 * any point leaves at worst unreferenced blobs or temp files (`check` lists them), never a row
 * pointing at a missing or half-written file.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { ImportError } from '../../../core/io/errors.ts'
import { PlanStoreError } from '../../../core/db/errors.ts'
import { canonicalJson } from '../../../core/db/canonical.ts'
import type { Migration } from '../../../core/db/migrations.ts'
import {
  addPlanVersion,
  approvePlan,
  auditLog,
  checkDatabase,
  findSeries,
  getPlanVersion,
  insertPlan,
  listPlans,
  listSeries,
  parseMetricsRecord,
  parsePlanRecord,
  registerSeries,
  storedPlanJson,
  type Actor,
  type ApprovalRow,
  type AuditEntry,
  type CheckReport,
  type PatientInput,
  type PlanRef,
  type PlanSummary,
  type SeriesRow,
  type StoredFile,
  type StoredPlan,
} from '../../../core/db/plan-store.ts'
import { PLAN_FILES, type PlanRecord } from '../../../core/contracts/plan.ts'
import { FileBlobStore, hashBytes } from './blob-store.ts'
import { dataLayout, type DataLayout } from './data-dir.ts'
import { openDatabase } from './open.ts'
import type { BackupResult, ImportSeriesResult, MaterializeResult, NewVersionChanges, OpenResult } from './protocol.ts'

export interface EngineOptions {
  /** Name recorded in the audit log for changes (default: the OS user name). */
  readonly actor?: string
  /** For tests: another migration list (an older or newer build). */
  readonly migrations?: readonly Migration[]
}

function osUser(): string {
  try {
    return os.userInfo().username || 'unknown'
  } catch {
    return 'unknown'
  }
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/')
}

/** Regular files under a folder (relative, '/'-separated, sorted), skipping dot files (temp files of atomic writes). */
function listFolderFiles(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string, depth: number) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue
      const full = path.join(dir, entry.name)
      if (entry.isDirectory() && depth < 8) walk(full, depth + 1)
      else if (entry.isFile()) out.push(toPosix(path.relative(root, full)))
    }
  }
  walk(root, 0)
  return out.sort()
}

function readJsonFile(file: string): unknown {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw new PlanStoreError(
      'not-found',
      `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)}); a plan folder written by \`tfus plan --out\` holds plan.json and metrics.json`,
      { cause: e },
    )
  }
  try {
    return JSON.parse(text) as unknown
  } catch (e) {
    throw new PlanStoreError('invalid-record', `${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`, { cause: e })
  }
}

/**
 * SHA-256 over the sorted file hashes alone: the identity of a series' content, whatever its
 * files are called (a renamed copy of the same NIfTI, the same DICOM files in another folder).
 */
export function seriesContentHash(files: readonly StoredFile[]): string {
  return hashBytes(
    files
      .map((f) => f.sha256)
      .sort()
      .join('\n'),
  )
}

/** SHA-256 over the sorted (path, hash) list: the identity of a set of named files (a plan folder). */
export function contentHash(files: readonly StoredFile[]): string {
  return hashBytes(
    [...files]
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map((f) => `${f.path}\0${f.sha256}\n`)
      .join(''),
  )
}

/**
 * What determines a simulation's result: the plan record without timings, software and device,
 * plus the hashes of the medium maps the solver ran on (and of the CT series when it was imported).
 */
export function simulationInputsHash(record: PlanRecord, files: readonly StoredFile[], ctContentSha256: string | null): string {
  const { wall_s: _wall, software: _software, simulation, ...rest } = record
  const { backend: _backend, device: _device, ...settings } = simulation
  const medium = files.filter((f) => f.path.startsWith('medium/')).map((f) => [f.path, f.sha256])
  return hashBytes(canonicalJson({ ...rest, simulation: settings, medium, ct_content_sha256: ctContentSha256 }))
}

/** A file's companion data file for detached-header formats (.mhd's ElementDataFile, .nhdr's data file). */
function detachedDataFile(header: string): string | null {
  const lower = header.toLowerCase()
  if (!lower.endsWith('.mhd') && !lower.endsWith('.nhdr')) return null
  const text = fs.readFileSync(header, 'latin1').slice(0, 65536)
  const match = lower.endsWith('.mhd') ? /^ElementDataFile\s*=\s*(.+)$/m.exec(text) : /^data ?file:\s*(.+)$/im.exec(text)
  const name = match?.[1]?.trim()
  if (!name || name === 'LOCAL' || name.startsWith('LIST')) return null
  return path.resolve(path.dirname(header), name)
}

/** What importing needs to know about an image, read without writing anything. */
export interface SeriesProbe {
  /** As the user gave it. */
  readonly source: string
  /** Folder the stored file paths are relative to. */
  readonly root: string
  /** Absolute paths of the series' files. */
  readonly files: readonly string[]
  readonly seriesInstanceUid: string
  readonly studyInstanceUid: string
  readonly frameOfReferenceUid: string | null
  readonly modality: string
  readonly description: string | null
  readonly uidsMinted: boolean
  readonly dims: number[]
  readonly spacingM: number[]
  readonly patient: PatientInput | null
}

/**
 * Reads and checks an image (the same readers as `tfus info`) and finds the files that make up
 * its series: the file itself (and a detached header's data file), or the DICOM files of that
 * series only, since a folder may hold others.
 */
export async function probeSeries(imagePath: string, seriesUid?: string): Promise<SeriesProbe> {
  // Loaded on first use: the image readers (itk-wasm) take a while to load and most calls never need them.
  const { listDicomFolder, readVolume } = await import('../volume-io.ts')
  const absolute = path.resolve(imagePath)
  const st = fs.statSync(absolute, { throwIfNoEntry: false })
  if (!st) throw new ImportError('not-found', imagePath, 'no such file or folder')
  const volume = await readVolume(absolute, seriesUid ? { seriesUid } : {})
  const uid = volume.meta.seriesInstanceUid
  const studyUid = volume.meta.studyInstanceUid
  if (!uid || !studyUid) throw new ImportError('not-an-image', imagePath, 'the image has no Series/Study Instance UID')
  let root: string
  let files: string[]
  if (st.isDirectory() || !volume.meta.uidsMinted) {
    root = st.isDirectory() ? absolute : path.dirname(absolute)
    const listing = await listDicomFolder(root, { seriesUid: uid })
    const series = listing.series.find((s) => s.seriesInstanceUid === uid)
    if (!series) throw new ImportError('not-an-image', imagePath, `series ${uid} not found on a second listing of ${root}`)
    files = series.files.map((f) => path.resolve(f))
  } else {
    root = path.dirname(absolute)
    files = [absolute]
    const data = detachedDataFile(absolute)
    if (data) files.push(data)
  }
  return {
    source: imagePath,
    root,
    files,
    seriesInstanceUid: uid,
    studyInstanceUid: studyUid,
    frameOfReferenceUid: volume.meta.frameOfReferenceUid ?? null,
    modality: volume.meta.modality,
    description: volume.meta.seriesDescription ?? null,
    uidsMinted: volume.meta.uidsMinted ?? false,
    dims: [...volume.dims],
    spacingM: [...volume.spacingM],
    patient: volume.meta.patientId || volume.meta.patientName ? { patientId: volume.meta.patientId ?? null, name: volume.meta.patientName ?? null } : null,
  }
}

/** Whether a process with this id exists (one we may not signal exists too). */
function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Empties the content store's temp folder of what interrupted writes left there: a temp file is
 * named `<hash prefix>.<pid>.<random>` by the process writing it (blob-store.ts), so the files of
 * a process that still runs (the app and the CLI may share a data folder; another store in this
 * process) stay, and everything else goes. Best effort: a file that cannot be removed stays for
 * `tfus db check` to count.
 */
export function removeStaleTempFiles(tmpDir: string): number {
  let names: string[]
  try {
    names = fs.readdirSync(tmpDir)
  } catch {
    return 0
  }
  let removed = 0
  for (const name of names) {
    const writer = /^[0-9a-f]{16}\.(\d+)\.[0-9a-f]+$/.exec(name)
    if (writer) {
      const pid = Number(writer[1])
      if (pid === process.pid || processAlive(pid)) continue
    }
    try {
      fs.rmSync(path.join(tmpDir, name), { recursive: true, force: true })
      removed++
    } catch {
      // Left for `tfus db check` to report.
    }
  }
  return removed
}

export class PlanStoreEngine {
  private constructor(
    readonly layout: DataLayout,
    readonly db: Database.Database,
    readonly blobs: FileBlobStore,
    private readonly actorName: string,
    readonly opened: OpenResult,
  ) {}

  static async open(dataDir: string, options: EngineOptions = {}): Promise<PlanStoreEngine> {
    const layout = dataLayout(path.resolve(dataDir))
    try {
      fs.mkdirSync(layout.dataDir, { recursive: true })
    } catch (e) {
      throw new PlanStoreError('io', `${layout.dataDir}: cannot create the data folder (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e })
    }
    const opened = await openDatabase(layout.database, { backupDir: layout.backups, ...(options.migrations ? { migrations: options.migrations } : {}) })
    const blobs = new FileBlobStore(layout.blobs)
    removeStaleTempFiles(path.join(layout.blobs, 'tmp'))
    return new PlanStoreEngine(layout, opened.db, blobs, options.actor ?? osUser(), {
      dataDir: layout.dataDir,
      database: layout.database,
      schemaVersion: opened.schemaVersion,
      applied: opened.applied,
      backupFile: opened.backupFile,
    })
  }

  private actor(name?: string): Actor {
    return { name: name ?? this.actorName, at: new Date().toISOString() }
  }

  /**
   * Registers an image series: a NIfTI/NRRD/MHA file, a DICOM file (its series) or a DICOM folder
   * (`seriesUid` picks one when it holds several). The image is read and checked, its files are
   * copied into the content store, and the series is recorded; the same series again is found,
   * not duplicated (`alreadyPresent`).
   */
  async importSeries(params: { imagePath: string; seriesUid?: string }): Promise<ImportSeriesResult> {
    return this.registerProbedSeries(await probeSeries(params.imagePath, params.seriesUid))
  }

  /** The writing half of importSeries: files into the content store, then one transaction. */
  registerProbedSeries(probe: SeriesProbe): ImportSeriesResult {
    const files: StoredFile[] = probe.files.map((file) => {
      const rel = toPosix(path.relative(probe.root, file))
      if (rel.startsWith('..')) throw new ImportError('not-an-image', file, `lies outside ${probe.root}`)
      const { sha256, sizeBytes } = this.blobs.putFile(file)
      return { path: rel, sha256, sizeBytes }
    })
    return registerSeries(
      this.db,
      {
        seriesInstanceUid: probe.seriesInstanceUid,
        studyInstanceUid: probe.studyInstanceUid,
        frameOfReferenceUid: probe.frameOfReferenceUid,
        modality: probe.modality,
        description: probe.description,
        source: probe.source,
        uidsMinted: probe.uidsMinted,
        dims: probe.dims,
        spacingM: probe.spacingM,
        contentSha256: seriesContentHash(files),
        files,
        patient: probe.patient,
      },
      this.actor(),
    )
  }

  /** Reads and validates a plan folder and puts its files into the content store (before any row references them). */
  private ingestPlanFolder(planDir: string, record?: unknown, metrics?: unknown) {
    const dir = path.resolve(planDir)
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new PlanStoreError('not-found', `${planDir}: no such plan folder`)
    const planFile = path.join(dir, PLAN_FILES.plan)
    const metricsFile = path.join(dir, PLAN_FILES.metrics)
    const rawRecord = record ?? readJsonFile(planFile)
    const rawMetrics = metrics ?? readJsonFile(metricsFile)
    const parsedRecord = parsePlanRecord(rawRecord, record === undefined ? planFile : 'record')
    parseMetricsRecord(rawMetrics, metrics === undefined ? metricsFile : 'metrics')
    const files: StoredFile[] = listFolderFiles(dir)
      .filter((rel) => rel !== PLAN_FILES.plan && rel !== PLAN_FILES.metrics)
      .map((rel) => {
        const { sha256, sizeBytes } = this.blobs.putFile(path.join(dir, ...rel.split('/')))
        return { path: rel, sha256, sizeBytes }
      })
    const ct = parsedRecord.ct.series_instance_uid ? findSeries(this.db, parsedRecord.ct.series_instance_uid) : null
    const inputsSha256 = simulationInputsHash(parsedRecord, files, ct?.contentSha256 ?? null)
    // The JSON as written goes to the database (validated again there): nothing the planner wrote is dropped.
    return { record: rawRecord, metrics: rawMetrics, run: { inputsSha256, files } }
  }

  /** Stores a plan folder written by `tfus plan --out` as a new plan (version 1). */
  savePlanFolder(params: { planDir: string; patient?: PatientInput; note?: string; author?: string }): PlanRef {
    const { record, metrics, run } = this.ingestPlanFolder(params.planDir)
    return insertPlan(this.db, { record, metrics, run, note: params.note ?? null, patient: params.patient ?? null }, this.actor(params.author))
  }

  /** Adds version N+1 of a plan (see addPlanVersion); a planDir brings a new run and its files. */
  newVersion(params: { planId: number; changes: NewVersionChanges }): PlanRef {
    const c = params.changes
    if (c.planDir !== undefined) {
      const { record, metrics, run } = this.ingestPlanFolder(c.planDir, c.record, c.metrics)
      return addPlanVersion(
        this.db,
        params.planId,
        c.basedOn,
        { record, metrics, run, ...(c.note !== undefined ? { note: c.note } : {}), ...(c.patient ? { patient: c.patient } : {}) },
        this.actor(c.author),
      )
    }
    return addPlanVersion(
      this.db,
      params.planId,
      c.basedOn,
      {
        run: 'reuse',
        ...(c.record !== undefined ? { record: c.record } : {}),
        ...(c.metrics !== undefined ? { metrics: c.metrics } : {}),
        ...(c.note !== undefined ? { note: c.note } : {}),
        ...(c.patient ? { patient: c.patient } : {}),
      },
      this.actor(c.author),
    )
  }

  listPlans(): PlanSummary[] {
    return listPlans(this.db)
  }

  listSeries(): SeriesRow[] {
    return listSeries(this.db)
  }

  getPlan(params: { planId: number; version?: number }): StoredPlan {
    return getPlanVersion(this.db, params.planId, params.version)
  }

  approve(params: { planId: number; version?: number; approver: string; overrideReason?: string; acknowledged?: string[] }): ApprovalRow {
    return approvePlan(this.db, params.planId, params.version, this.actor(params.approver), {
      ...(params.overrideReason !== undefined ? { overrideReason: params.overrideReason } : {}),
      ...(params.acknowledged ? { acknowledged: params.acknowledged } : {}),
    })
  }

  auditLog(params: { planId?: number }): AuditEntry[] {
    return auditLog(this.db, params.planId)
  }

  /**
   * Writes a stored plan version back as a plan folder (plan.json, metrics.json and every result
   * file, each checked against its hash), for exporters and the report.
   */
  materializePlanFolder(params: { planId: number; version?: number; outDir: string }): MaterializeResult {
    const plan = getPlanVersion(this.db, params.planId, params.version)
    const dir = path.resolve(params.outDir)
    fs.mkdirSync(dir, { recursive: true })
    const written: string[] = []
    for (const f of plan.files) {
      const dest = path.resolve(dir, ...f.path.split('/'))
      if (!dest.startsWith(dir + path.sep))
        throw new PlanStoreError('corrupt-record', `plan ${plan.planId} version ${plan.version}: result path "${f.path}" leaves the plan folder`)
      this.blobs.copyOut(f.sha256, dest)
      written.push(f.path)
    }
    const writeJson = (name: string, value: unknown) => {
      const dest = path.join(dir, name)
      const tmp = path.join(dir, `.${name}.${process.pid}.tmp`)
      fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n')
      fs.renameSync(tmp, dest)
      written.push(name)
    }
    const stored = storedPlanJson(this.db, plan.planId, plan.version)
    writeJson(PLAN_FILES.plan, stored.record)
    writeJson(PLAN_FILES.metrics, stored.metrics)
    return { dir, planId: plan.planId, version: plan.version, files: written.sort() }
  }

  check(): CheckReport {
    return checkDatabase(this.db, this.blobs)
  }

  /**
   * Backs up the database (SQLite online backup: a consistent snapshot while others may write)
   * and the blobs it references into `dest/plans.db` and `dest/blobs/`. Refuses to overwrite a
   * previous backup.
   */
  async backup(params: { dest: string }): Promise<BackupResult> {
    const dest = path.resolve(params.dest)
    const target = dataLayout(dest)
    if (fs.existsSync(target.database)) throw new PlanStoreError('io', `${target.database}: a backup is already there; choose another folder`)
    fs.mkdirSync(dest, { recursive: true })
    await this.db.backup(target.database)
    // The blobs the snapshot references, read from the snapshot itself.
    const snapshot = new Database(target.database, { readonly: true })
    let hashes: Array<{ sha256: string; size_bytes: number }>
    try {
      hashes = snapshot.prepare('SELECT sha256, size_bytes FROM blobs ORDER BY sha256').all() as Array<{ sha256: string; size_bytes: number }>
    } finally {
      snapshot.close()
    }
    const copy = new FileBlobStore(target.blobs)
    let bytes = 0
    for (const h of hashes) {
      this.blobs.copyOut(h.sha256, copy.pathOf(h.sha256))
      bytes += h.size_bytes
    }
    fs.rmSync(path.join(target.blobs, 'tmp'), { recursive: true, force: true })
    return { database: target.database, blobs: hashes.length, bytes }
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}
