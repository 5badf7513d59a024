/**
 * The service's scratch folders inside its work folder: `uploads/` (dropped files written to disk
 * so the plan worker can read them by path) and `runs/` (plan run folders). Both are copies or
 * intermediate results: what the user keeps is in the plan database (a saved plan's files are
 * copied into its content store by savePlan) or in `exports/`, which is never touched here.
 *
 * Every entry is named `s<pid>-<session>-<uuid>` so that a service starting up can tell its own
 * and a live neighbour's entries (the Electron app and the browser mode may share a work folder)
 * from what a session that has ended left behind, and remove only the latter.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { randomBytes, randomUUID } from 'node:crypto'
import { ApiError } from '../../core/contracts/api.ts'

export const SCRATCH_FOLDERS = ['uploads', 'runs'] as const

/** Sessions of this process whose scratch entries are in use. */
const liveSessions = new Set<string>()

export interface ScratchSession {
  /** `s<pid>-<8 hex>`: the prefix of every entry this session makes. */
  readonly tag: string
  /** A fresh entry name in this session. */
  entryName(): string
  /** The session is over: a later start-up may remove what it left. */
  end(): void
}

export function startScratchSession(): ScratchSession {
  const session = randomBytes(4).toString('hex')
  liveSessions.add(session)
  const tag = `s${process.pid}-${session}`
  return {
    tag,
    entryName: () => `${tag}-${randomUUID()}`,
    end: () => void liveSessions.delete(session),
  }
}

/** Whether a process with this id exists (a process we may not signal exists too). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Whether a scratch entry belongs to a session that may still use it. */
export function entryInUse(name: string): boolean {
  // A leading dot: the temporary folder a plan run writes beside its run folder (replaceFolderAtomically).
  const m = /^\.?s(\d+)-([0-9a-f]{8})-/.exec(name)
  if (!m) return false // Unnamed (older versions) or foreign: nobody of ours uses it.
  const pid = Number(m[1])
  if (pid === process.pid) return liveSessions.has(m[2]!)
  return processAlive(pid)
}

/**
 * Removes the entries of `uploads/` and `runs/` that no live session owns. Best effort: an entry
 * that cannot be removed is reported, not thrown. Returns what was removed (relative paths).
 */
export async function removeStaleScratch(workDir: string): Promise<{ removed: string[]; failed: string[] }> {
  const removed: string[] = []
  const failed: string[] = []
  for (const folder of SCRATCH_FOLDERS) {
    const dir = path.join(workDir, folder)
    const names = await fs.readdir(dir).catch(() => [] as string[])
    for (const name of names) {
      if (entryInUse(name)) continue
      try {
        await fs.rm(path.join(dir, name), { recursive: true, force: true, maxRetries: 2 })
        removed.push(`${folder}/${name}`)
      } catch {
        failed.push(`${folder}/${name}`)
      }
    }
  }
  return { removed, failed }
}

/** The longest a dropped file's name may be, in UTF-8 bytes (what most file systems allow). */
export const MAX_UPLOAD_NAME_BYTES = 255

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i

/**
 * The name a dropped file is stored under: `name` must be a plain file name (no folder part, not
 * `.` or `..`, no NUL or other control character, at most 255 bytes); anything else is a
 * 'bad-request' for the field `name`. The stored name keeps letters, digits, `.`, `_` and `-`
 * (others become `_`), so the extension that picks the reader survives.
 */
export function uploadFileName(name: string): string {
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}...` : name)
  const refuse = (why: string): never => {
    throw new ApiError('bad-request', `name: ${shown} is not a plain file name (${why})`, 'name')
  }
  if (name.trim().length === 0) refuse('it is empty')
  if (name.includes('\0')) refuse('it holds a NUL character')
  if (/[\u0001-\u001f\u007f]/.test(name)) refuse('it holds a control character')
  if (name.includes('/') || name.includes('\\')) refuse('it holds a path separator; give the file name alone')
  if (name === '.' || name === '..') refuse('it names a folder')
  if (Buffer.byteLength(name, 'utf8') > MAX_UPLOAD_NAME_BYTES) refuse(`it is longer than ${MAX_UPLOAD_NAME_BYTES} bytes`)
  let safe = name.replace(/[^A-Za-z0-9._-]/g, '_')
  // Trailing dots and spaces vanish on Windows; reserved device names open devices there.
  safe = safe.replace(/[. ]+$/, '')
  if (WINDOWS_RESERVED.test(safe) || safe.startsWith('-')) safe = `_${safe}`
  if (safe.length === 0 || /^\.+$/.test(safe)) refuse('it has no usable characters')
  return safe
}

/**
 * A function that replaces the given absolute paths (the work and data folders: the server's own
 * layout) in text with a placeholder, so that no error that leaves the service reveals them.
 * Longer paths are replaced first (a data folder inside the work folder keeps its own label).
 */
export function pathScrubber(paths: ReadonlyArray<{ readonly path: string; readonly label: string }>): (text: string) => string {
  const variants: Array<{ from: string; to: string }> = []
  for (const { path: p, label } of paths) {
    const resolved = path.resolve(p)
    for (const v of new Set([resolved, toPosix(resolved)])) variants.push({ from: v, to: label })
  }
  variants.sort((a, b) => b.from.length - a.from.length)
  return (text) => {
    let out = text
    for (const { from, to } of variants) if (out.includes(from)) out = out.split(from).join(to)
    return out
  }
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/')
}
