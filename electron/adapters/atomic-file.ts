/**
 * Atomic file replacement for everything the app writes for the user (volumes, exports, plan
 * JSON): the content goes to a temp file beside the target, is fsynced, then renamed over the
 * target, so a crash or power cut leaves either the old file or the new one, never half of one.
 * A failure removes the temp file and is reported as an ImportError naming the target.
 */
import { promises as fs } from 'node:fs'
import { randomBytes } from 'node:crypto'
import * as path from 'node:path'
import { ImportError, isImportError } from '../../core/io/errors.ts'

/**
 * Runs `produce(tmp)` to write a temp file (keeping the target's extension when `keepExtension`
 * names it, for writers that choose the format by extension), then fsyncs and renames it onto
 * `target`.
 */
export async function replaceFileAtomically(target: string, produce: (tmp: string) => Promise<void>, keepExtension = ''): Promise<void> {
  const dir = path.dirname(path.resolve(target))
  await fs.mkdir(dir, { recursive: true })
  const tmp = path.join(dir, `.${path.basename(target, keepExtension)}.${process.pid}.${Date.now()}.tmp${keepExtension}`)
  try {
    await produce(tmp)
    const handle = await fs.open(tmp, 'r+')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.rename(tmp, target)
  } catch (e) {
    await fs.rm(tmp, { force: true })
    if (isImportError(e)) throw e
    throw new ImportError('write-failed', target, e instanceof Error ? e.message : String(e), { cause: e })
  }
}

export async function writeFileAtomic(target: string, content: Uint8Array | string): Promise<void> {
  await replaceFileAtomically(target, (tmp) => fs.writeFile(tmp, content))
}

/**
 * Builds a whole folder in a hidden temporary sibling (same parent, so the rename is atomic on
 * one filesystem) and renames it onto `target` only when `produce` has finished. A failure, an
 * abort or a crash part way therefore never leaves a complete-looking folder at `target` (a
 * plan folder with volumes but no plan.json, or a stale plan.json beside new volumes): a
 * failure removes the temporary folder, and a crash leaves only a hidden `.name.partial-*`.
 * An existing `target` is moved aside, the new folder renamed in, and the old one removed; the
 * caller decides beforehand whether `target` may be replaced. Errors from `produce` propagate
 * unchanged; a failed rename is an ImportError naming the target.
 */
export async function replaceFolderAtomically<T>(target: string, produce: (tmpDir: string) => Promise<T>): Promise<T> {
  const dir = path.resolve(target)
  const parent = path.dirname(dir)
  const base = path.basename(dir)
  await fs.mkdir(parent, { recursive: true })
  const stamp = `${process.pid}.${Date.now()}.${randomBytes(4).toString('hex')}`
  const tmp = path.join(parent, `.${base}.partial-${stamp}`)
  await fs.mkdir(tmp)
  let value: T
  try {
    value = await produce(tmp)
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true })
    throw e
  }
  const aside = path.join(parent, `.${base}.replaced-${stamp}`)
  let movedAside = false
  try {
    try {
      await fs.rename(dir, aside)
      movedAside = true
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
    await fs.rename(tmp, dir)
  } catch (e) {
    // Put the previous folder back: the target keeps its old, complete content.
    if (movedAside) await fs.rename(aside, dir).catch(() => undefined)
    await fs.rm(tmp, { recursive: true, force: true })
    throw new ImportError('write-failed', target, e instanceof Error ? e.message : String(e), { cause: e })
  }
  if (movedAside) await fs.rm(aside, { recursive: true, force: true })
  return value
}
