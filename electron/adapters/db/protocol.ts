/**
 * The request/response protocol between `openPlanStore` (client.ts, the caller's thread) and the
 * database worker (worker.ts). Every request carries an id, a method name and parameters that
 * the worker validates with zod; every response carries the id and either the result or a
 * serialized error (name, code, message) that the client turns back into a PlanStoreError or
 * ImportError, so callers can branch on `code` across the thread boundary.
 */
import { z } from 'zod'
import { ImportError, type ImportErrorCode } from '../../../core/io/errors.ts'
import { PlanStoreError, type PlanStoreErrorCode } from '../../../core/db/errors.ts'
import type { ApprovalRow, CheckReport, PlanRef, PlanSummary, StoredPlan, SeriesRow, AuditEntry } from '../../../core/db/plan-store.ts'

const planId = z.number().int().positive()
const version = z.number().int().positive()

export const patientParams = z.object({
  patientId: z.string().nullable().optional(),
  name: z.string().nullable().optional(),
  birthDate: z
    .string()
    .regex(/^\d{8}$/, 'birth date as YYYYMMDD')
    .nullable()
    .optional(),
})

export const newVersionChanges = z
  .object({
    /** The version to start from (default: the latest). */
    basedOn: version.optional(),
    /** A re-planned folder: its plan.json, metrics.json and files become the new version's run. */
    planDir: z.string().min(1).optional(),
    /** A whole planRecord (validated against core/contracts/plan.ts). */
    record: z.unknown().optional(),
    /** A whole planMetricsRecord. */
    metrics: z.unknown().optional(),
    note: z.string().nullable().optional(),
    patient: patientParams.optional(),
    author: z.string().min(1).optional(),
  })
  .refine((c) => c.planDir !== undefined || c.record !== undefined || c.metrics !== undefined || c.note !== undefined, {
    message: 'a new version needs a change: planDir, record, metrics or note',
  })

export const requestParams = {
  open: z.object({ dataDir: z.string().min(1), actor: z.string().min(1).optional() }),
  importSeries: z.object({ imagePath: z.string().min(1), seriesUid: z.string().min(1).optional() }),
  savePlanFolder: z.object({
    planDir: z.string().min(1),
    patient: patientParams.optional(),
    note: z.string().optional(),
    author: z.string().min(1).optional(),
  }),
  listPlans: z.object({}),
  listSeries: z.object({}),
  getPlan: z.object({ planId, version: version.optional() }),
  materializePlanFolder: z.object({ planId, version: version.optional(), outDir: z.string().min(1) }),
  approve: z.object({
    planId,
    version: version.optional(),
    approver: z.string().trim().min(1, "the approver's name is empty"),
    overrideReason: z.string().max(2000).optional(),
    acknowledged: z.array(z.string().max(40)).max(10).optional(),
  }),
  newVersion: z.object({ planId, changes: newVersionChanges }),
  auditLog: z.object({ planId: planId.optional() }),
  check: z.object({}),
  backup: z.object({ dest: z.string().min(1) }),
  close: z.object({}),
} as const

export type Method = keyof typeof requestParams
export type Params<M extends Method> = z.infer<(typeof requestParams)[M]>
export type PatientParams = z.infer<typeof patientParams>
export type NewVersionChanges = z.infer<typeof newVersionChanges>

export interface OpenResult {
  readonly dataDir: string
  readonly database: string
  readonly schemaVersion: number
  readonly applied: number[]
  readonly backupFile: string | null
}

export interface ImportSeriesResult {
  readonly series: SeriesRow
  /** True when the same series (same UID, same files) was already registered. */
  readonly alreadyPresent: boolean
}

export interface MaterializeResult {
  readonly dir: string
  readonly planId: number
  readonly version: number
  /** Relative paths written, plan.json and metrics.json included. */
  readonly files: string[]
}

export interface BackupResult {
  readonly database: string
  readonly blobs: number
  readonly bytes: number
}

export interface Results {
  open: OpenResult
  importSeries: ImportSeriesResult
  savePlanFolder: PlanRef
  listPlans: PlanSummary[]
  listSeries: SeriesRow[]
  getPlan: StoredPlan
  materializePlanFolder: MaterializeResult
  approve: ApprovalRow
  newVersion: PlanRef
  auditLog: AuditEntry[]
  check: CheckReport
  backup: BackupResult
  close: null
}

/** One call to the database worker (worker-rpc.ts carries it; the worker validates both fields). */
export interface DbRequest {
  readonly method: string
  readonly params: unknown
}

export interface SerializedError {
  readonly name: string
  readonly code: string | null
  readonly message: string
  /** ImportError's file and problem, so the error keeps its shape. */
  readonly file?: string
  readonly problem?: string
  readonly stack?: string
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof ImportError)
    return { name: e.name, code: e.code, message: e.message, file: e.file, problem: e.problem, ...(e.stack ? { stack: e.stack } : {}) }
  if (e instanceof PlanStoreError) return { name: e.name, code: e.code, message: e.message, ...(e.stack ? { stack: e.stack } : {}) }
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code
    return { name: e.name, code: typeof code === 'string' ? code : null, message: e.message, ...(e.stack ? { stack: e.stack } : {}) }
  }
  return { name: 'Error', code: null, message: String(e) }
}

/** The error as the caller would have seen it in-thread; unknown errors stay plain Errors with name and code. */
export function deserializeError(s: SerializedError): Error {
  let error: Error
  if (s.name === 'ImportError' && s.file !== undefined && s.problem !== undefined) error = new ImportError(s.code as ImportErrorCode, s.file, s.problem)
  else if (s.name === 'PlanStoreError') error = new PlanStoreError(s.code as PlanStoreErrorCode, s.message)
  else {
    error = new Error(s.message)
    error.name = s.name
    if (s.code !== null) Object.assign(error, { code: s.code })
  }
  if (s.stack) error.stack = `${s.stack}\n    at (database worker)`
  return error
}

/** Zod issues of a bad request as one line naming the method and the fields. */
export function describeParamIssues(method: string, error: z.ZodError): string {
  return `${method}: ${error.issues.map((i) => `${i.path.map(String).join('.') || 'params'}: ${i.message}`).join('; ')}`
}
