/**
 * Typed plan-database failures. Each message is one line a planner can act on and names the
 * file, plan or field at fault; `code` lets hosts (CLI exit codes, the app) branch without
 * parsing text. The worker protocol carries `code` and `message` across the thread boundary.
 */
export type PlanStoreErrorCode =
  /** The database was written by a newer TFUS Planner (schema version above ours). */
  | 'newer-schema'
  /** The file is not a SQLite database, or not a TFUS plan database. */
  | 'not-a-database'
  /** No such plan, version or series. */
  | 'not-found'
  /** plan.json / metrics.json (or a record handed in) does not satisfy the plan contract. */
  | 'invalid-record'
  /** A stored record no longer satisfies the plan contract (damage or a foreign writer). */
  | 'corrupt-record'
  /** The version is already approved; approvals are never replaced. */
  | 'already-approved'
  /** The version may not be approved on the grounds given (core/planning/approval.ts says why). */
  | 'not-approvable'
  /** The same SeriesInstanceUID arrived with different file content. */
  | 'conflict'
  /** A blob in the content store is missing or does not hash to its name. */
  | 'blob-damaged'
  /** A request to the database worker was malformed (unknown method, bad parameters). */
  | 'bad-request'
  /** The store was closed, or its worker stopped. */
  | 'closed'
  /** A file could not be read or written. */
  | 'io'

export class PlanStoreError extends Error {
  override readonly name = 'PlanStoreError'
  constructor(
    readonly code: PlanStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export function isPlanStoreError(e: unknown): e is PlanStoreError {
  return e instanceof PlanStoreError
}
