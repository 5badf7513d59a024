/**
 * Atomic file replacement for everything the app writes for the user (volumes, exports, plan
 * JSON): the content goes to a temp file beside the target, is fsynced, then renamed over the
 * target, so a crash or power cut leaves either the old file or the new one, never half of one.
 * A failure removes the temp file and is reported as an ImportError naming the target.
 */
import { promises as fs } from 'node:fs'
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
