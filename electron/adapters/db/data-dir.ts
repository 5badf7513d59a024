/**
 * Where the plan database lives. Order: the CLI's `--data-dir`, then `$TFUS_DATA_DIR`, then the
 * platform's user-data folder for "tfus-planner" (the folder Electron's app.getPath('userData')
 * gives; the same folder the user transducer library uses, see ../transducers.ts).
 *
 * The app (Electron and the browser mode) and the CLI use the same database: `<data>/plans.db`.
 * The app's own scratch files (uploads, plan runs, exports, browser launch pages) live in
 * `<data>/app` (appWorkDir). Versions before this one kept the app's database in
 * `<data>/app/db/plans.db`; `prepareDataDir` moves it once (migrateLegacyDatabase).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { userDataDir } from '../transducers.ts'
import { privatizeDataDir } from '../private-dir.ts'

export function resolveDataDir(
  flag?: string | null,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  if (flag) return path.resolve(flag)
  return userDataDir(env, platform, home)
}

export interface DataLayout {
  readonly dataDir: string
  /** The SQLite database (WAL mode: `plans.db-wal` and `plans.db-shm` sit beside it). */
  readonly database: string
  /** The content-addressed store. */
  readonly blobs: string
  /** Automatic backups taken before a schema migration. */
  readonly backups: string
}

export function dataLayout(dataDir: string): DataLayout {
  return { dataDir, database: path.join(dataDir, 'plans.db'), blobs: path.join(dataDir, 'blobs'), backups: path.join(dataDir, 'backups') }
}

/** The app's working folder (uploads, runs, exports, launch pages) inside a data folder. */
export function appWorkDir(dataDir: string): string {
  return path.join(dataDir, 'app')
}

/** Where versions before the shared location kept the app's database: `<data>/app/db`. */
export function legacyAppDatabaseDir(dataDir: string): string {
  return path.join(appWorkDir(dataDir), 'db')
}

export interface LegacyMigration {
  /** none: no old database; moved: it is now at `to`; kept-both: both exist, `to` is used; not-moved: it could not be moved (see message). */
  readonly action: 'none' | 'moved' | 'kept-both' | 'not-moved'
  readonly from: string
  readonly to: string
  /** One line for the user, or null when there was nothing to do. */
  readonly message: string | null
}

const exists = (p: string) => fs.existsSync(p)

/** Moves `src` to `dest`; when both are folders, merges entry by entry (blob names are content hashes, backups are timestamped): an entry already at `dest` stays, its twin at `src` too. */
function moveInto(src: string, dest: string): void {
  if (!exists(src)) return
  if (!exists(dest)) return fs.renameSync(src, dest)
  if (!fs.lstatSync(src).isDirectory() || !fs.lstatSync(dest).isDirectory()) return
  for (const name of fs.readdirSync(src)) moveInto(path.join(src, name), path.join(dest, name))
  try {
    fs.rmdirSync(src)
  } catch {
    // Not empty: what stayed behind is named in no message but is not lost either.
  }
}

/**
 * Moves the app's old database (`<legacyDir>/plans.db`, `-wal`, `-shm`, `blobs/`, `backups/`)
 * into `dataDir`, once: only when the old one exists and `dataDir` has no `plans.db` yet. When
 * both exist nothing moves (nothing the user saved is overwritten) and the message names the
 * old one. Renames only (same file system); `plans.db` moves last, so an interrupted move is
 * finished by the next start (the old `plans.db` is still there and the new one is not).
 * Call it before anything opens either database.
 */
export function migrateLegacyDatabase(dataDir: string, legacyDir: string = legacyAppDatabaseDir(dataDir)): LegacyMigration {
  const from = path.resolve(legacyDir)
  const to = path.resolve(dataDir)
  const oldLayout = dataLayout(from)
  const newLayout = dataLayout(to)
  const result = (action: LegacyMigration['action'], message: string | null): LegacyMigration => ({
    action,
    from: oldLayout.database,
    to: newLayout.database,
    message,
  })
  if (from === to || !exists(oldLayout.database)) return result('none', null)
  if (exists(newLayout.database)) {
    return result(
      'kept-both',
      `warning: an older plan database is still at ${oldLayout.database}; the app and tfus use ${newLayout.database} (open the old one with tfus --data-dir ${from}, or move its plans over and delete it)`,
    )
  }
  fs.mkdirSync(to, { recursive: true, mode: 0o700 })
  if (fs.statSync(from).dev !== fs.statSync(to).dev) {
    return result(
      'not-moved',
      `warning: the plan database ${oldLayout.database} is on another file system than ${to} and was not moved; the app and tfus use ${newLayout.database} (open the old one with tfus --data-dir ${from})`,
    )
  }
  moveInto(oldLayout.blobs, newLayout.blobs)
  moveInto(oldLayout.backups, newLayout.backups)
  for (const suffix of ['-shm', '-wal']) if (exists(oldLayout.database + suffix)) fs.renameSync(oldLayout.database + suffix, newLayout.database + suffix)
  fs.renameSync(oldLayout.database, newLayout.database)
  try {
    fs.rmdirSync(from)
  } catch {
    // Something else is in the old folder: it stays.
  }
  return result('moved', `moved the plan database from ${from} to ${to} (the app and tfus now share ${newLayout.database})`)
}

/**
 * Start-up of a data folder, for every entry point that uses the database: the folder made
 * private (0700, created when missing, tightened when older versions left it open), and the
 * app's old database moved in (from `<data>/app/db` and any `extraLegacyDirs`). Returns the lines
 * to show the user (nothing when there was nothing to say).
 */
export function prepareDataDir(dataDir: string, extraLegacyDirs: readonly string[] = []): string[] {
  const lines = privatizeDataDir(dataDir)
  const candidates = [...new Set([legacyAppDatabaseDir(dataDir), ...extraLegacyDirs].map((d) => path.resolve(d)))]
  for (const legacy of candidates) {
    const m = migrateLegacyDatabase(dataDir, legacy)
    if (m.message) lines.push(m.message)
  }
  return lines
}
