/**
 * The `user_version` migration runner. Pure: the host opens the file, decides where a backup
 * goes and takes it (better-sqlite3's online backup is the host's business); this module only
 * reads and changes the database it is given.
 *
 * Order on open (electron/adapters/db/open.ts): `inspectSchema` before anything writes to the file
 * (so a newer database is refused untouched), then a backup when `needsBackup`, then `migrate`.
 */
import type Database from 'better-sqlite3'
import { PlanStoreError } from './errors.ts'
import { MIGRATIONS, TFUS_APPLICATION_ID, type Migration } from './migrations.ts'

export interface SchemaState {
  /** The file's `PRAGMA user_version` (0 for a new, empty database). */
  readonly current: number
  /** The version this build's migrations lead to. */
  readonly target: number
  /** True when an existing database (current >= 1) will be migrated: back it up first. */
  readonly needsBackup: boolean
}

function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration list out of order: entry ${i} has version ${m.version}, expected ${i + 1}`)
  })
}

/**
 * Reads the schema version without writing. Refuses a database from a newer build, and a file
 * that is SQLite but not a TFUS plan database (another application's application_id, or tables
 * but no version).
 */
export function inspectSchema(db: Database.Database, file: string, migrations: readonly Migration[] = MIGRATIONS): SchemaState {
  checkMigrationList(migrations)
  const target = migrations.length
  let current: number
  let applicationId: number
  let tableCount: number
  try {
    current = db.pragma('user_version', { simple: true }) as number
    applicationId = db.pragma('application_id', { simple: true }) as number
    tableCount = (db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number }).n
  } catch (e) {
    throw new PlanStoreError('not-a-database', `${file}: not a SQLite database (${e instanceof Error ? e.message : String(e)})`, { cause: e })
  }
  if (applicationId !== 0 && applicationId !== TFUS_APPLICATION_ID) {
    throw new PlanStoreError(
      'not-a-database',
      `${file}: a SQLite database of another application (application_id 0x${applicationId.toString(16)}), not a TFUS plan database`,
    )
  }
  if (current === 0 && tableCount > 0) {
    throw new PlanStoreError('not-a-database', `${file}: holds ${tableCount} table(s) but no TFUS schema version; refusing to write to it`)
  }
  if (current > target) {
    throw new PlanStoreError(
      'newer-schema',
      `${file}: the plan database has schema version ${current}, newer than this TFUS Planner understands (version ${target}). ` +
        'Open it with the newer TFUS Planner that wrote it, or update this one; the file was left unchanged.',
    )
  }
  return { current, target, needsBackup: current >= 1 && current < target }
}

/**
 * Applies the migrations above the file's user_version, each in one transaction with its new
 * user_version. Returns the versions applied.
 */
export function migrate(db: Database.Database, file: string, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const { current } = inspectSchema(db, file, migrations)
  const applied: number[] = []
  for (const m of migrations.slice(current)) {
    // IMMEDIATE takes the write lock first, and the version is read again under it: a second
    // process opening the same file at the same moment skips what the first has applied.
    const ran = db
      .transaction(() => {
        if ((db.pragma('user_version', { simple: true }) as number) >= m.version) return false
        m.up(db)
        db.pragma(`user_version = ${m.version}`)
        return true
      })
      .immediate()
    if (ran) applied.push(m.version)
  }
  return applied
}
