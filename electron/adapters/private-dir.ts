/**
 * Patient data stays readable by its user only. Every entry point (the `tfus` CLI, the browser
 * mode's server, the Electron main process) calls `restrictUmask()` first, so whatever it creates
 * afterwards (plan folders, uploads, the database, blobs, exports) is 0700 for folders and 0600
 * for files without each writer having to pass a mode; and the data folder itself goes through
 * `ensurePrivateDir`, which also tightens a folder an older version created group- or
 * world-readable. POSIX only: Windows has no mode bits (the user profile's ACL protects
 * %APPDATA%), so both are no-ops there.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

/** Nobody but the owner: new folders 0700, new files 0600. */
export const PRIVATE_UMASK = 0o077

/**
 * Sets the process umask to PRIVATE_UMASK; returns the previous one (tests restore it), or null
 * where there is none to set (Windows, or a worker thread, where Node refuses to change it).
 */
export function restrictUmask(platform: NodeJS.Platform = process.platform): number | null {
  if (platform === 'win32') return null
  try {
    return process.umask(PRIVATE_UMASK)
  } catch {
    return null
  }
}

export interface PrivateDirResult {
  readonly dir: string
  /** The folder did not exist and was made (0700). */
  readonly created: boolean
  /** The mode it had when it was open to group or others and was tightened to 0700; else null. */
  readonly tightenedFrom: number | null
  /** One line when it could not be tightened (a folder owned by someone else); else null. */
  readonly warning: string | null
}

/**
 * Makes `dir` (and any missing parents) with mode 0700; on POSIX an existing folder with any
 * group or other permission bit becomes 0700. Throws when `dir` exists and is not a folder.
 */
export function ensurePrivateDir(dir: string, platform: NodeJS.Platform = process.platform): PrivateDirResult {
  const abs = path.resolve(dir)
  const existed = fs.existsSync(abs)
  fs.mkdirSync(abs, { recursive: true, mode: 0o700 })
  const st = fs.statSync(abs)
  if (!st.isDirectory()) throw new Error(`${abs}: not a folder`)
  if (platform === 'win32') return { dir: abs, created: !existed, tightenedFrom: null, warning: null }
  const mode = st.mode & 0o777
  if (!existed) {
    // mkdir's mode is masked by the umask; a folder just made is 0700 whatever the umask was.
    if (mode !== 0o700) fs.chmodSync(abs, 0o700)
    return { dir: abs, created: true, tightenedFrom: null, warning: null }
  }
  if ((mode & 0o077) === 0) return { dir: abs, created: false, tightenedFrom: null, warning: null }
  try {
    fs.chmodSync(abs, 0o700)
    return { dir: abs, created: false, tightenedFrom: mode, warning: null }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e)
    return {
      dir: abs,
      created: false,
      tightenedFrom: null,
      warning: `${abs}: readable by other users (mode ${mode.toString(8)}) and cannot be made private (${code}); run chmod 700 on it`,
    }
  }
}

/**
 * Tightens what already exists of one data folder: the folder itself (made when missing) and,
 * when present, the folders and database files an older version created before the umask was
 * set (`app`, `app/uploads|runs|exports|launch|db`, `blobs`, `backups`, `plans.db*`). Missing
 * ones are not created (and their contents are not walked: a 0700 parent already keeps other
 * users out). Tightening is silent; returns one line per thing that could not be made private.
 */
export function privatizeDataDir(dataDir: string, platform: NodeJS.Platform = process.platform): string[] {
  const warnings: string[] = []
  const root = ensurePrivateDir(dataDir, platform)
  if (root.warning) warnings.push(root.warning)
  if (platform === 'win32') return warnings
  const folders = ['app', 'blobs', 'backups', ...['uploads', 'runs', 'exports', 'launch', 'db'].map((f) => path.join('app', f))]
  for (const rel of folders) {
    const p = path.join(root.dir, rel)
    if (!isFolder(p)) continue
    const r = ensurePrivateDir(p, platform)
    if (r.warning) warnings.push(r.warning)
  }
  for (const name of ['plans.db', 'plans.db-wal', 'plans.db-shm']) {
    const p = path.join(root.dir, name)
    try {
      const st = fs.lstatSync(p)
      if (st.isFile() && (st.mode & 0o077) !== 0) fs.chmodSync(p, st.mode & 0o700)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code !== 'ENOENT') warnings.push(`${p}: cannot be made private (${code ?? String(e)})`)
    }
  }
  return warnings
}

function isFolder(p: string): boolean {
  try {
    return fs.lstatSync(p).isDirectory()
  } catch {
    return false
  }
}
