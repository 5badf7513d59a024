/**
 * The plan store (engine, database and content store) driven directly: schema and migrations,
 * versioning and approvals, series de-duplication, refusal of a newer schema, backup-then-migrate
 * of an older one, the append-only audit log and the content store with `check`.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { MIGRATIONS, SCHEMA_VERSION, TFUS_APPLICATION_ID, type Migration } from '../../../core/db/migrations.ts'
import { registerSeries } from '../../../core/db/plan-store.ts'
import { PlanStoreError } from '../../../core/db/errors.ts'
import { PlanStoreEngine } from '../../../electron/adapters/db/engine.ts'
import { hashFile } from '../../../electron/adapters/db/blob-store.ts'
import { writeDicomSeries } from '../../helpers/dicom-writer.ts'
import { ImportError } from '../../../core/io/errors.ts'
import { IDENTITY3, type Volume } from '../../../core/volume/types.ts'
import { VOLUME_FILES, writeNifti, writePlanFolder } from './fixtures.ts'

let tmp: string
let engines: PlanStoreEngine[]

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfus-db-'))
  engines = []
})
afterEach(() => {
  for (const e of engines) e.close()
  fs.rmSync(tmp, { recursive: true, force: true })
})

async function open(dataDir = path.join(tmp, 'data'), migrations?: readonly Migration[]): Promise<PlanStoreEngine> {
  const e = await PlanStoreEngine.open(dataDir, { actor: 'tester', ...(migrations ? { migrations } : {}) })
  engines.push(e)
  return e
}

function closeAll(): void {
  for (const e of engines.splice(0)) e.close()
}

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<PlanStoreError> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (e) {
    if (e instanceof PlanStoreError) return e
    throw e
  }
  throw new Error('expected a PlanStoreError')
}

describe('schema and migrations', () => {
  it('creates a fresh database at the current version, in WAL mode with foreign keys on', async () => {
    const e = await open()
    expect(e.opened.schemaVersion).toBe(SCHEMA_VERSION)
    expect(e.opened.applied).toEqual(MIGRATIONS.map((m) => m.version))
    expect(e.opened.backupFile).toBeNull() // nothing to back up in a new database
    expect(e.db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(e.db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(e.db.pragma('synchronous', { simple: true })).toBe(2) // FULL
    expect(e.db.pragma('application_id', { simple: true })).toBe(TFUS_APPLICATION_ID)
    const tables = (e.db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name)
    for (const t of [
      'patients',
      'studies',
      'series',
      'series_files',
      'blobs',
      'plans',
      'plan_versions',
      'transducer_poses',
      'pulse_timings',
      'simulation_runs',
      'result_files',
      'approvals',
      'audit_log',
    ]) {
      expect(tables).toContain(t)
    }
    // Reopening a current database applies nothing and takes no backup.
    closeAll()
    const again = await open()
    expect(again.opened.applied).toEqual([])
    expect(again.opened.backupFile).toBeNull()
  })

  it('refuses a database from a newer schema with a clear message and leaves the file untouched', async () => {
    const e = await open()
    writePlanFolder(path.join(tmp, 'p'), 1)
    e.savePlanFolder({ planDir: path.join(tmp, 'p') })
    e.db.pragma(`user_version = ${SCHEMA_VERSION + 3}`)
    e.db.pragma('wal_checkpoint(TRUNCATE)')
    closeAll()
    const file = path.join(tmp, 'data', 'plans.db')
    const before = hashFile(file).sha256
    const error = await rejection(open())
    expect(error.code).toBe('newer-schema')
    expect(error.message).toContain(file)
    expect(error.message).toContain(`schema version ${SCHEMA_VERSION + 3}`)
    expect(error.message).toContain(`(version ${SCHEMA_VERSION})`)
    expect(error.message).toMatch(/left unchanged/)
    expect(hashFile(file).sha256).toBe(before)
    expect(fs.existsSync(path.join(tmp, 'data', 'backups'))).toBe(false)
  })

  it('backs an older database up (online backup) and then migrates it; its plans stay readable', async () => {
    const old = await open()
    writePlanFolder(path.join(tmp, 'p'), 4)
    const ref = old.savePlanFolder({ planDir: path.join(tmp, 'p'), note: 'before the upgrade' })
    const recordBefore = old.getPlan(ref).record
    closeAll()
    // The next build adds a migration.
    const next: Migration = {
      version: SCHEMA_VERSION + 1,
      description: 'test: a column for the treatment room',
      up: (db) => db.exec('ALTER TABLE plans ADD COLUMN room TEXT'),
    }
    const upgraded = await open(path.join(tmp, 'data'), [...MIGRATIONS, next])
    expect(upgraded.opened.applied).toEqual([SCHEMA_VERSION + 1])
    expect(upgraded.opened.schemaVersion).toBe(SCHEMA_VERSION + 1)
    const backupFile = upgraded.opened.backupFile
    expect(backupFile).not.toBeNull()
    expect(path.dirname(backupFile!)).toBe(path.join(tmp, 'data', 'backups'))
    // The backup is the database as it was: old version, same plan.
    const backup = new Database(backupFile!, { readonly: true })
    expect(backup.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    expect(backup.pragma('integrity_check', { simple: true })).toBe('ok')
    expect((backup.prepare('SELECT note FROM plan_versions WHERE plan_ref = ?').get(ref.planId) as { note: string }).note).toBe('before the upgrade')
    backup.close()
    // The migrated database has the new column and the same plan.
    expect((upgraded.db.prepare('SELECT room FROM plans WHERE id = ?').get(ref.planId) as { room: string | null }).room).toBeNull()
    expect(upgraded.getPlan(ref).record).toEqual(recordBefore)
    closeAll()
    // The old build now refuses the upgraded file.
    expect((await rejection(open(path.join(tmp, 'data'), MIGRATIONS))).code).toBe('newer-schema')
  })

  it('refuses a file that is not a SQLite database, naming it', async () => {
    fs.mkdirSync(path.join(tmp, 'data'), { recursive: true })
    fs.writeFileSync(path.join(tmp, 'data', 'plans.db'), 'this is not SQLite, but long enough to look like a header '.repeat(20))
    const error = await rejection(open())
    expect(error.code).toBe('not-a-database')
    expect(error.message).toContain('plans.db')
  })
})

describe('plans and versions', () => {
  it('approving version 1 and editing makes version 2; version 1 stays readable and unchanged', async () => {
    const e = await open()
    const dir1 = path.join(tmp, 'plan1')
    const written = writePlanFolder(dir1, 1)
    const ref = e.savePlanFolder({ planDir: dir1, note: 'first', patient: { patientId: 'P-001', name: 'Doe^Jane' } })
    expect(ref).toEqual({ planId: 1, version: 1 })
    const v1 = e.getPlan({ planId: 1, version: 1 })
    expect(v1.record).toEqual(written.record)
    expect(v1.metrics).toEqual(written.metrics)
    expect(v1.patient).toEqual({ patientId: 'P-001', name: 'Doe^Jane', birthDate: null })
    expect(v1.files.map((f) => f.path).sort()).toEqual([...VOLUME_FILES].sort())
    for (const f of v1.files) expect(f.sha256).toBe(hashFile(path.join(dir1, f.path)).sha256)

    const approval = e.approve({ planId: 1, version: 1, approver: 'Dr. A. Jones' })
    expect(approval.approver).toBe('Dr. A. Jones')
    // An approval is given once.
    expect((await rejection(() => e.approve({ planId: 1, version: 1, approver: 'Dr. B' }))).code).toBe('already-approved')
    const v1Approved = e.getPlan({ planId: 1, version: 1 })

    // Edit: a re-planned folder with another target makes version 2.
    const dir2 = path.join(tmp, 'plan1-replanned')
    const replanned = writePlanFolder(dir2, 2)
    const v2ref = e.newVersion({ planId: 1, changes: { planDir: dir2, note: 'target moved' } })
    expect(v2ref).toEqual({ planId: 1, version: 2 })
    const v2 = e.getPlan({ planId: 1 })
    expect(v2.version).toBe(2)
    expect(v2.versions).toEqual([1, 2])
    expect(v2.basedOnVersion).toBe(1)
    expect(v2.record).toEqual(replanned.record)
    expect(v2.approval).toBeNull()
    expect(v2.run.runId).not.toBe(v1.run.runId)
    expect(v2.patient).toEqual(v1.patient)

    // Version 1 is exactly as approved.
    expect(e.getPlan({ planId: 1, version: 1 })).toEqual({ ...v1Approved, versions: [1, 2], latestVersion: 2 })
    // A record-only edit (no new simulation) keeps the run and its files.
    const v3ref = e.newVersion({ planId: 1, changes: { basedOn: 1, note: 'note only' } })
    const v3 = e.getPlan(v3ref)
    expect(v3.basedOnVersion).toBe(1)
    expect(v3.run).toEqual(v1.run)
    expect(v3.files).toEqual(v1.files)
    expect(v3.note).toBe('note only')

    // The database itself refuses to rewrite a version or an approval.
    expect(() => e.db.prepare('UPDATE plan_versions SET note = ? WHERE plan_ref = 1 AND version = 1').run('tampered')).toThrow(/append-only/)
    expect(() => e.db.prepare('DELETE FROM approvals').run()).toThrow(/append-only/)
    expect(() => e.db.prepare('UPDATE transducer_poses SET standoff_m = 0').run()).toThrow(/append-only/)

    const list = e.listPlans()
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ planId: 1, latestVersion: 3, approvedVersions: [1], patientName: 'Doe^Jane', patientId: 'P-001' })
    // The pose and pulse-timing tables hold the record's values.
    const pose = e.db.prepare('SELECT * FROM transducer_poses WHERE plan_ref = 1 AND version = 2').get() as {
      transducer_to_ras_json: string
      focus_corrected: number
    }
    expect(JSON.parse(pose.transducer_to_ras_json)).toEqual(replanned.record.pose.transducer_to_ras)
    const protocol = e.db.prepare('SELECT * FROM pulse_timings WHERE plan_ref = 1 AND version = 2').get() as {
      pulse_duration_s: number
      prf_hz: number
      duty_cycle: number
    }
    expect(protocol).toMatchObject({ pulse_duration_s: 0.02, prf_hz: 5, duty_cycle: replanned.metrics.duty_cycle })
  })

  it('validates plan.json on the way in and names the file and field', async () => {
    const e = await open()
    const dir = path.join(tmp, 'bad')
    const { record } = writePlanFolder(dir, 3)
    fs.writeFileSync(path.join(dir, 'plan.json'), JSON.stringify({ ...record, pose: { ...record.pose, apex_ras_m: [0, 0] } }))
    const error = await rejection(() => e.savePlanFolder({ planDir: dir }))
    expect(error.code).toBe('invalid-record')
    expect(error.message).toContain(path.join(dir, 'plan.json'))
    expect(error.message).toContain('pose.apex_ras_m')
    expect(e.listPlans()).toEqual([])
    // ... and a stored record that no longer satisfies the contract is reported, not returned.
    writePlanFolder(dir, 3)
    const ref = e.savePlanFolder({ planDir: dir })
    e.db.exec('DROP TRIGGER plan_versions_no_update')
    e.db.prepare("UPDATE plan_versions SET record_json = json_remove(record_json, '$.pose') WHERE plan_ref = ?").run(ref.planId)
    expect((await rejection(() => e.getPlan(ref))).code).toBe('corrupt-record')
    expect(e.check().invalidRecords[0]).toMatch(/plan 1 version 1: not a valid plan record \(pose/)
  })

  it('reports a missing plan or version clearly', async () => {
    const e = await open()
    expect((await rejection(() => e.getPlan({ planId: 9 }))).message).toBe('no plan 9 in the database')
    writePlanFolder(path.join(tmp, 'p'), 1)
    e.savePlanFolder({ planDir: path.join(tmp, 'p') })
    expect((await rejection(() => e.getPlan({ planId: 1, version: 4 }))).message).toBe('plan 1 has no version 4 (versions: 1)')
  })
})

describe('series import', () => {
  it('importing the same series twice does not duplicate it', async () => {
    const e = await open()
    const file = path.join(tmp, 'images', 'ct.nii')
    writeNifti(file, 42)
    const first = await e.importSeries({ imagePath: file })
    expect(first.alreadyPresent).toBe(false)
    expect(first.series.files).toEqual([{ path: 'ct.nii', ...hashFile(file) }])
    expect(first.series.dims).toEqual([6, 5, 4])
    const blobsAfterFirst = [...e.blobs.list()].length
    const second = await e.importSeries({ imagePath: file })
    expect(second.alreadyPresent).toBe(true)
    expect(second.series).toEqual(first.series)
    // A renamed copy elsewhere is the same series (its UIDs and content hash derive from its bytes).
    const copy = path.join(tmp, 'elsewhere', 'ct-copy.nii')
    fs.mkdirSync(path.dirname(copy))
    fs.copyFileSync(file, copy)
    expect((await e.importSeries({ imagePath: copy })).alreadyPresent).toBe(true)
    expect(e.listSeries()).toHaveLength(1)
    expect((e.db.prepare('SELECT count(*) AS n FROM series').get() as { n: number }).n).toBe(1)
    expect([...e.blobs.list()]).toHaveLength(blobsAfterFirst)
    expect(e.auditLog({}).filter((a) => a.action === 'import-series')).toHaveLength(1)
  })

  it('imports one series of a DICOM folder (its files only, its UIDs and patient); a DICOM file brings its series', async () => {
    const e = await open()
    const folder = path.join(tmp, 'dicom')
    fs.mkdirSync(folder)
    const volume = (nz: number, seed: number): Volume => ({
      data: new Int16Array(4 * 3 * nz).map((_, i) => ((i * seed) % 200) - 100),
      dims: [4, 3, nz],
      spacingM: [1e-3, 1e-3, 2e-3],
      originM: [0, 0, 0],
      direction: IDENTITY3,
      meta: { modality: 'CT' },
      warnings: [],
    })
    const common = { patientName: 'DOE^JANE', patientId: 'P-77', studyInstanceUid: '2.25.1111', frameOfReferenceUid: '2.25.2222', modality: 'CT' as const }
    for (const [uid, nz, prefix] of [
      ['2.25.31', 4, 'a'],
      ['2.25.32', 3, 'b'],
    ] as const) {
      for (const f of writeDicomSeries(volume(nz, nz), { ...common, seriesInstanceUid: uid }))
        fs.writeFileSync(path.join(folder, `${prefix}-${f.name}`), f.bytes)
    }
    const unchosen = await e.importSeries({ imagePath: folder }).catch((x: unknown) => x)
    expect(unchosen).toBeInstanceOf(ImportError)
    expect((unchosen as ImportError).code).toBe('series-not-chosen')
    const a = await e.importSeries({ imagePath: folder, seriesUid: '2.25.31' })
    expect(a.alreadyPresent).toBe(false)
    expect(a.series).toMatchObject({
      seriesInstanceUid: '2.25.31',
      studyInstanceUid: '2.25.1111',
      frameOfReferenceUid: '2.25.2222',
      uidsMinted: false,
      dims: [4, 3, 4],
    })
    expect(a.series.files.map((f) => f.path).sort()).toEqual(
      fs
        .readdirSync(folder)
        .filter((n) => n.startsWith('a-'))
        .sort(),
    )
    expect((await e.importSeries({ imagePath: folder, seriesUid: '2.25.31' })).alreadyPresent).toBe(true)
    const bFile = path.join(
      folder,
      fs.readdirSync(folder).find((n) => n.startsWith('b-'))!,
    )
    const b = await e.importSeries({ imagePath: bFile })
    expect(b.series.seriesInstanceUid).toBe('2.25.32')
    expect(b.series.files).toHaveLength(3)
    const patients = e.db.prepare('SELECT patient_id, name FROM patients').all()
    expect(patients).toEqual([{ patient_id: 'P-77', name: 'DOE^JANE' }])
    expect(e.check().ok).toBe(true)
  })

  it('refuses a second, different set of files under a registered SeriesInstanceUID', async () => {
    const e = await open()
    const file = path.join(tmp, 'ct.nii')
    writeNifti(file, 1)
    const { series } = await e.importSeries({ imagePath: file })
    const other = e.blobs.putBytes(new Uint8Array([1, 2, 3]))
    const error = await rejection(() =>
      registerSeries(
        e.db,
        {
          ...series,
          dims: series.dims,
          spacingM: series.spacingM,
          contentSha256: 'f'.repeat(64),
          files: [{ path: 'x.nii', ...other }],
          patient: null,
          source: 'other.nii',
        },
        { name: 't', at: 'now' },
      ),
    )
    expect(error.code).toBe('conflict')
    expect(error.message).toContain(series.seriesInstanceUid)
  })

  it('links a plan to its imported CT', async () => {
    const e = await open()
    const dir = path.join(tmp, 'dicom-less')
    writeNifti(path.join(tmp, 'ct.nii'), 5)
    const { series } = await e.importSeries({ imagePath: path.join(tmp, 'ct.nii') })
    writePlanFolder(dir, 5, { ctSeriesUid: series.seriesInstanceUid })
    const plan = e.getPlan(e.savePlanFolder({ planDir: dir }))
    expect(plan.ctSeries).toEqual({
      seriesInstanceUid: series.seriesInstanceUid,
      frameOfReferenceUid: series.frameOfReferenceUid,
      source: path.join(tmp, 'ct.nii'),
    })
  })
})

describe('audit log', () => {
  it('records every change and is append-only', async () => {
    const e = await open()
    writePlanFolder(path.join(tmp, 'p'), 1)
    const ref = e.savePlanFolder({ planDir: path.join(tmp, 'p') })
    e.approve({ ...ref, approver: 'Dr. X' })
    e.newVersion({ planId: ref.planId, changes: { note: 'n' } })
    const log = e.auditLog({ planId: ref.planId })
    expect(log.map((l) => [l.action, l.version, l.actor])).toEqual([
      ['save-plan', 1, 'tester'],
      ['approve', 1, 'Dr. X'],
      ['new-version', 2, 'tester'],
    ])
    expect(() => e.db.prepare("UPDATE audit_log SET actor = 'someone else'").run()).toThrow(/audit_log is append-only/)
    expect(() => e.db.prepare('DELETE FROM audit_log WHERE seq = 1').run()).toThrow(/audit_log is append-only/)
    expect(e.auditLog({ planId: ref.planId })).toEqual(log)
  })
})

describe('content store', () => {
  it('round-trips a plan folder byte for byte and check passes', async () => {
    const e = await open()
    const dir = path.join(tmp, 'p')
    writePlanFolder(dir, 8, { bytes: 3 * 1024 * 1024 + 17 }) // over the 1 MiB copy chunk
    const ref = e.savePlanFolder({ planDir: dir })
    const out = path.join(tmp, 'out')
    const m = e.materializePlanFolder({ ...ref, outDir: out })
    expect(m.files).toEqual([
      'focal_6db.nii.gz',
      'medium/alpha_db_cm.nii.gz',
      'medium/density.nii.gz',
      'medium/sound_speed.nii.gz',
      'medium/tissue.nii.gz',
      'metrics.json',
      'plan.json',
      'pressure.nii.gz',
      'pressure_sim.nii.gz',
    ])
    for (const f of VOLUME_FILES) expect(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(dir, f)))).toBe(true)
    expect(JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8'))).toEqual(JSON.parse(fs.readFileSync(path.join(dir, 'plan.json'), 'utf8')))
    const report = e.check()
    expect(report).toMatchObject({
      ok: true,
      integrity: ['ok'],
      foreignKeyViolations: 0,
      plans: 1,
      referencedBlobs: 7,
      verifiedBlobs: 7,
      missing: [],
      corrupt: [],
      orphans: [],
      tempFiles: 0,
    })
  })

  it('keeps plan.json fields newer than the contract when it writes the folder back', async () => {
    const e = await open()
    const dir = path.join(tmp, 'p')
    const { record } = writePlanFolder(dir, 12)
    fs.writeFileSync(path.join(dir, 'plan.json'), JSON.stringify({ ...record, sonication_room: 'OR 3' }))
    const ref = e.savePlanFolder({ planDir: dir })
    expect(e.getPlan(ref).record).toEqual(record) // the typed record: the contract's fields
    e.materializePlanFolder({ ...ref, outDir: path.join(tmp, 'out') })
    expect(JSON.parse(fs.readFileSync(path.join(tmp, 'out', 'plan.json'), 'utf8'))).toEqual({ ...record, sonication_room: 'OR 3' })
  })

  it('check finds a damaged blob, a missing blob and an unreferenced one; exports refuse the damaged blob', async () => {
    const e = await open()
    writePlanFolder(path.join(tmp, 'p'), 9)
    const ref = e.savePlanFolder({ planDir: path.join(tmp, 'p') })
    const plan = e.getPlan(ref)
    const pressure = plan.files.find((f) => f.path === 'pressure.nii.gz')!
    const tissue = plan.files.find((f) => f.path === 'medium/tissue.nii.gz')!
    // Flip one byte of one blob (same size, so only re-hashing finds it), delete another.
    const damaged = e.blobs.pathOf(pressure.sha256)
    const bytes = fs.readFileSync(damaged)
    bytes[100] = bytes[100]! ^ 0xff
    fs.chmodSync(damaged, 0o644)
    fs.writeFileSync(damaged, bytes)
    fs.rmSync(e.blobs.pathOf(tissue.sha256))
    const orphan = e.blobs.putBytes(new TextEncoder().encode('left by an interrupted save'))
    const report = e.check()
    expect(report.ok).toBe(false)
    expect(report.corrupt).toEqual([{ sha256: pressure.sha256, usedBy: 'plan 1@1 pressure.nii.gz' }])
    expect(report.missing).toEqual([{ sha256: tissue.sha256, usedBy: 'plan 1@1 medium/tissue.nii.gz' }])
    expect(report.orphans).toEqual([orphan.sha256])
    expect(report.verifiedBlobs).toBe(5)
    const error = await rejection(() => e.materializePlanFolder({ ...ref, outDir: path.join(tmp, 'out') }))
    expect(error.code).toBe('blob-damaged')
    expect(fs.existsSync(path.join(tmp, 'out', 'pressure.nii.gz'))).toBe(false)
  })

  it('backs up the database and the blobs it references into a folder that opens as a store', async () => {
    const e = await open()
    writePlanFolder(path.join(tmp, 'p'), 10)
    const ref = e.savePlanFolder({ planDir: path.join(tmp, 'p') })
    e.approve({ ...ref, approver: 'Dr. Y' })
    const result = await e.backup({ dest: path.join(tmp, 'backup') })
    expect(result.blobs).toBe(7)
    expect((await rejection(e.backup({ dest: path.join(tmp, 'backup') }))).message).toMatch(/a backup is already there/)
    const restored = await open(path.join(tmp, 'backup'))
    expect(restored.check().ok).toBe(true)
    expect(restored.getPlan(ref)).toEqual(e.getPlan(ref))
  })
})
