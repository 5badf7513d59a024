/**
 * Opens the plan database file: refuses a newer schema before anything is written, sets WAL,
 * synchronous=FULL (a commit is on disk when it returns, so a power cut loses nothing that was
 * reported saved) and foreign keys, backs an older database up with SQLite's online backup API,
 * then migrates.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { inspectSchema, migrate } from '../../../core/db/migrate.ts'
import { MIGRATIONS, type Migration } from '../../../core/db/migrations.ts'
import { PlanStoreError } from '../../../core/db/errors.ts'

export interface OpenOptions {
  readonly migrations?: readonly Migration[]
  /** Folder for the pre-migration backup; default `<database folder>/backups`. */
  readonly backupDir?: string
}

export interface OpenedDatabase {
  readonly db: Database.Database
  readonly schemaVersion: number
  /** Migrations applied by this open (empty when the file was current). */
  readonly applied: number[]
  /** The backup taken before migrating, or null. */
  readonly backupFile: string | null
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-')
}

export async function openDatabase(file: string, options: OpenOptions = {}): Promise<OpenedDatabase> {
  const migrations = options.migrations ?? MIGRATIONS
  fs.mkdirSync(path.dirname(file), { recursive: true })
  let db: Database.Database
  try {
    db = new Database(file)
  } catch (e) {
    throw new PlanStoreError('io', `${file}: cannot open the plan database (${e instanceof Error ? e.message : String(e)})`, { cause: e })
  }
  try {
    const state = inspectSchema(db, file, migrations)
    const mode = db.pragma('journal_mode = WAL', { simple: true })
    if (mode !== 'wal') throw new PlanStoreError('io', `${file}: the file system does not support WAL mode (journal_mode is ${String(mode)})`)
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 10000')
    let backupFile: string | null = null
    if (state.needsBackup) {
      const backupDir = options.backupDir ?? path.join(path.dirname(file), 'backups')
      fs.mkdirSync(backupDir, { recursive: true })
      backupFile = path.join(backupDir, `${path.basename(file, '.db')}-schema${state.current}-${timestamp()}.db`)
      await db.backup(backupFile)
      const fd = fs.openSync(backupFile, 'r+')
      try {
        fs.fsyncSync(fd)
      } finally {
        fs.closeSync(fd)
      }
    }
    const applied = migrate(db, file, migrations)
    return { db, schemaVersion: db.pragma('user_version', { simple: true }) as number, applied, backupFile }
  } catch (e) {
    db.close()
    throw e
  }
}
