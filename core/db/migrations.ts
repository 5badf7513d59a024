/**
 * Schema of the plan database as numbered migrations. Each migration is a pure function of a
 * better-sqlite3 `Database` (no file system, no clock): the runner (`migrate.ts`) applies the
 * ones above the file's `PRAGMA user_version`, each in its own transaction together with the
 * new user_version, so a crash leaves the file at one version or the next, never between.
 *
 * Never edit a migration that has shipped: add the next one. A migration must keep every plan
 * readable (the plan table and its versions are the clinical record).
 */
import type Database from 'better-sqlite3'

export interface Migration {
  /** user_version after this migration; migrations are numbered 1, 2, 3, ... without gaps. */
  readonly version: number
  readonly description: string
  readonly up: (db: Database.Database) => void
}

/** `PRAGMA application_id` of a TFUS plan database: the ASCII bytes "TFUS". */
export const TFUS_APPLICATION_ID = 0x54465553

/** Trigger SQL that makes a table append-only: rows can be inserted, never changed or removed. */
function appendOnly(table: string, why: string): string {
  return `
    CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
      BEGIN SELECT RAISE(ABORT, '${table} is append-only: ${why}'); END;
    CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
      BEGIN SELECT RAISE(ABORT, '${table} is append-only: ${why}'); END;`
}

const initialSchema: Migration = {
  version: 1,
  description: 'patients, studies, series, content blobs, plans with immutable versions, poses, protocols, simulation runs, result files, approvals, audit log',
  up(db) {
    db.pragma(`application_id = ${TFUS_APPLICATION_ID}`)
    db.exec(`
      CREATE TABLE patients (
        id INTEGER PRIMARY KEY,
        -- DICOM PatientID (0010,0020); NULL when the images carry none (NIfTI).
        patient_id TEXT,
        name TEXT,
        -- DICOM DA, YYYYMMDD
        birth_date TEXT,
        created_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX patients_by_patient_id ON patients(patient_id) WHERE patient_id IS NOT NULL;

      CREATE TABLE studies (
        id INTEGER PRIMARY KEY,
        study_instance_uid TEXT NOT NULL UNIQUE,
        patient_ref INTEGER REFERENCES patients(id),
        created_at TEXT NOT NULL
      );

      -- Files in the content store, by SHA-256 (lower-case hex) of their bytes.
      CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
        size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0)
      ) WITHOUT ROWID;

      CREATE TABLE series (
        id INTEGER PRIMARY KEY,
        -- The identity of a series: importing it again finds this row instead of adding one.
        series_instance_uid TEXT NOT NULL UNIQUE,
        study_ref INTEGER NOT NULL REFERENCES studies(id),
        frame_of_reference_uid TEXT,
        modality TEXT NOT NULL,
        description TEXT,
        -- File or folder it was imported from, as the user gave it.
        source TEXT NOT NULL,
        -- 1 when the UIDs were minted from the file content (NIfTI, NRRD, MHA), 0 when read from DICOM.
        uids_minted INTEGER NOT NULL CHECK (uids_minted IN (0, 1)),
        dims_json TEXT NOT NULL,
        spacing_m_json TEXT NOT NULL,
        -- SHA-256 over the sorted file hashes: the same content gives the same value, whatever the file names.
        content_sha256 TEXT NOT NULL,
        imported_at TEXT NOT NULL
      );

      CREATE TABLE series_files (
        series_ref INTEGER NOT NULL REFERENCES series(id),
        -- Relative to the series source (the file name for a single file).
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL REFERENCES blobs(sha256),
        PRIMARY KEY (series_ref, path)
      ) WITHOUT ROWID;

      CREATE TABLE plans (
        id INTEGER PRIMARY KEY,
        patient_ref INTEGER REFERENCES patients(id),
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL
      );

      CREATE TABLE simulation_runs (
        id INTEGER PRIMARY KEY,
        -- SHA-256 of the canonical JSON of everything that determines the result (see plan-store.ts).
        inputs_sha256 TEXT NOT NULL,
        solver_version TEXT NOT NULL,
        backend TEXT NOT NULL,
        device TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('completed', 'failed')),
        ppw REAL NOT NULL,
        grid_json TEXT NOT NULL,
        spacing_m REAL NOT NULL,
        wall_s REAL NOT NULL,
        recorded_at TEXT NOT NULL
      );

      CREATE TABLE result_files (
        run_ref INTEGER NOT NULL REFERENCES simulation_runs(id),
        -- Relative path inside the plan folder, e.g. 'medium/tissue.nii.gz'.
        path TEXT NOT NULL,
        -- Key of PLAN_FILES when the path is one of them, else NULL.
        role TEXT,
        sha256 TEXT NOT NULL REFERENCES blobs(sha256),
        PRIMARY KEY (run_ref, path)
      ) WITHOUT ROWID;

      -- A version is written once and never changed: editing makes version N+1.
      CREATE TABLE plan_versions (
        plan_ref INTEGER NOT NULL REFERENCES plans(id),
        version INTEGER NOT NULL CHECK (version >= 1),
        based_on_version INTEGER,
        run_ref INTEGER NOT NULL REFERENCES simulation_runs(id),
        ct_series_ref INTEGER REFERENCES series(id),
        -- planRecord / planMetricsRecord JSON of core/contracts/plan.ts as written (fields the contract
        -- does not know yet are kept), validated on the way in and out.
        record_json TEXT NOT NULL,
        metrics_json TEXT NOT NULL,
        note TEXT,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        PRIMARY KEY (plan_ref, version),
        FOREIGN KEY (plan_ref, based_on_version) REFERENCES plan_versions(plan_ref, version)
      );

      CREATE TABLE transducer_poses (
        plan_ref INTEGER NOT NULL,
        version INTEGER NOT NULL,
        transducer_id TEXT NOT NULL,
        frequency_hz REAL NOT NULL,
        -- Row-major 4x4, transducer coordinates (m) to patient RAS (m).
        transducer_to_ras_json TEXT NOT NULL,
        apex_ras_m_json TEXT NOT NULL,
        axis_ras_json TEXT NOT NULL,
        standoff_m REAL NOT NULL,
        focal_distance_from_apex_m REAL NOT NULL,
        -- 1 when the pose is the focus-corrected one.
        focus_corrected INTEGER NOT NULL CHECK (focus_corrected IN (0, 1)),
        PRIMARY KEY (plan_ref, version),
        FOREIGN KEY (plan_ref, version) REFERENCES plan_versions(plan_ref, version)
      ) WITHOUT ROWID;

      CREATE TABLE protocols (
        plan_ref INTEGER NOT NULL,
        version INTEGER NOT NULL,
        pulse_duration_s REAL NOT NULL CHECK (pulse_duration_s > 0),
        prf_hz REAL NOT NULL CHECK (prf_hz > 0),
        train_duty_cycle REAL NOT NULL CHECK (train_duty_cycle > 0 AND train_duty_cycle <= 1),
        -- Overall duty cycle as the stored run's metrics give it.
        duty_cycle REAL NOT NULL,
        -- Total sonication duration [s]; NULL while the plan contract carries none.
        total_duration_s REAL,
        PRIMARY KEY (plan_ref, version),
        FOREIGN KEY (plan_ref, version) REFERENCES plan_versions(plan_ref, version)
      ) WITHOUT ROWID;

      CREATE TABLE approvals (
        plan_ref INTEGER NOT NULL,
        version INTEGER NOT NULL,
        approver TEXT NOT NULL CHECK (length(trim(approver)) > 0),
        approved_at TEXT NOT NULL,
        PRIMARY KEY (plan_ref, version),
        FOREIGN KEY (plan_ref, version) REFERENCES plan_versions(plan_ref, version)
      ) WITHOUT ROWID;

      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        plan_ref INTEGER,
        version INTEGER,
        detail_json TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_by_plan ON audit_log(plan_ref, version);
      CREATE INDEX result_files_by_blob ON result_files(sha256);
      CREATE INDEX series_files_by_blob ON series_files(sha256);
      CREATE INDEX plan_versions_by_run ON plan_versions(run_ref);
      ${appendOnly('audit_log', 'the record of who did what is never rewritten')}
      ${appendOnly('plan_versions', 'edit a plan by adding a version')}
      ${appendOnly('approvals', 'an approval is never withdrawn or rewritten; approve a new version instead')}
      ${appendOnly('transducer_poses', 'poses belong to an immutable plan version')}
      ${appendOnly('protocols', 'protocols belong to an immutable plan version')}
      ${appendOnly('simulation_runs', 'a recorded run is never rewritten')}
      ${appendOnly('result_files', 'result files belong to a recorded run')}
      ${appendOnly('series_files', 'a series keeps the files it was imported with')}
    `)
  },
}

const approvalGrounds: Migration = {
  version: 2,
  description: 'approvals record their grounds: the reason a plan below the clinical resolution was approved, and the safety flags acknowledged',
  up(db) {
    // Earlier approvals keep NULL / '[]': they were given before the rule existed, and say so.
    db.exec(`
      ALTER TABLE approvals ADD COLUMN override_reason TEXT CHECK (override_reason IS NULL OR length(trim(override_reason)) > 0);
      ALTER TABLE approvals ADD COLUMN acknowledged_flags_json TEXT NOT NULL DEFAULT '[]';
    `)
  },
}

/**
 * Rewrites one plan JSON from the keys it was stored under up to schema version 2 to the
 * current ones (drive `wPerM2` / `amplitudePa`, top-level `protocol`). Frozen here rather than
 * calling the contract's upgradePlanJson: a shipped migration must do the same thing whatever a
 * later build's contract does. Other fields are kept as stored.
 */
function renameV2PlanKeys(json: string): string {
  const record = JSON.parse(json) as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(record)) {
    if (key === 'protocol' && !('pulse_timing' in record)) out.pulse_timing = value
    else if (key === 'drive' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const drive: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) drive[k === 'wPerM2' ? 'isppa_w_m2' : k === 'amplitudePa' ? 'amplitude_pa' : k] = v
      out.drive = drive
    } else out[key] = value
  }
  return JSON.stringify(out)
}

const snakeCasePlanRecords: Migration = {
  version: 3,
  description:
    'stored plan records in one style: drive wPerM2 -> isppa_w_m2, amplitudePa -> amplitude_pa, protocol -> pulse_timing; the protocols table (pulse timing) is pulse_timings',
  up(db) {
    // plan_versions is append-only for users of the database; the schema itself is the one
    // writer allowed to restate a record, with the values unchanged, so its triggers are lifted
    // for this transaction only.
    db.exec('DROP TRIGGER plan_versions_no_update; DROP TRIGGER protocols_no_update; DROP TRIGGER protocols_no_delete;')
    const rows = db.prepare('SELECT plan_ref, version, record_json FROM plan_versions').all() as Array<{
      plan_ref: number
      version: number
      record_json: string
    }>
    const update = db.prepare('UPDATE plan_versions SET record_json = ? WHERE plan_ref = ? AND version = ?')
    for (const r of rows) {
      const renamed = renameV2PlanKeys(r.record_json)
      if (renamed !== r.record_json) update.run(renamed, r.plan_ref, r.version)
    }
    db.exec(`
      ALTER TABLE protocols RENAME TO pulse_timings;
      CREATE TRIGGER plan_versions_no_update BEFORE UPDATE ON plan_versions
        BEGIN SELECT RAISE(ABORT, 'plan_versions is append-only: edit a plan by adding a version'); END;
      ${appendOnly('pulse_timings', 'pulse timings belong to an immutable plan version')}
    `)
  },
}

/** All migrations of this build, in order. */
export const MIGRATIONS: readonly Migration[] = [initialSchema, approvalGrounds, snakeCasePlanRecords]

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length
