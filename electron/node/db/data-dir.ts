/**
 * Where the plan database lives. Order: the CLI's `--data-dir`, then `$TFUS_DATA_DIR`, then the
 * platform's user-data folder for "tfus-planner" (the folder Electron's app.getPath('userData')
 * gives; the same folder the user transducer library uses, see ../transducers.ts).
 */
import * as os from 'node:os'
import * as path from 'node:path'
import { userDataDir } from '../transducers.ts'

export function resolveDataDir(flag?: string | null, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = os.homedir()): string {
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
