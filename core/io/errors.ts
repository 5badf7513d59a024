/**
 * Typed import/export failures. Every error names the file (or folder) and the problem in
 * one line a planner can act on; `code` lets callers (CLI exit codes, UI) branch without
 * parsing text.
 */
export type ImportErrorCode =
  | 'not-found'
  | 'empty-folder'
  | 'unsupported-format'
  | 'truncated'
  | 'corrupt-header'
  | 'not-an-image'
  | 'unsupported-pixel-format'
  | 'missing-slice'
  | 'uneven-spacing'
  | 'mixed-series'
  | 'series-not-chosen'
  | 'inconsistent-geometry'
  | 'write-failed'
  /** Not a regular file (a device such as /dev/zero, a FIFO, a socket): refused unread. */
  | 'not-a-file'
  /** The file, or the size its header declares, is beyond what can be read or held. */
  | 'too-large'

export class ImportError extends Error {
  override readonly name = 'ImportError'
  constructor(
    readonly code: ImportErrorCode,
    /** The file or folder at fault, as the user named it. */
    readonly file: string,
    /** What is wrong, in plain words (no file name: `message` adds it). */
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options)
  }
}

export function isImportError(e: unknown): e is ImportError {
  return e instanceof ImportError
}
