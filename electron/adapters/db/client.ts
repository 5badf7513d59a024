/**
 * `openPlanStore(dataDir)`: the plan database for the app and the CLI, running on a worker
 * thread so the caller's thread never waits on SQLite or on hashing large files.
 *
 * ```ts
 * const store = await openPlanStore(resolveDataDir(flag))   // creates or migrates; refuses a newer schema
 * const { series, alreadyPresent } = await store.importSeries('ct.nii.gz')
 * const { planId, version } = await store.savePlanFolder('out/plan1', { note: 'left M1' })
 * const plan = await store.getPlan(planId)                 // latest version: record, metrics, file hashes, run, approval
 * await store.approve(planId, 1, 'Dr. A. Jones')
 * const v2 = await store.newVersion(planId, { planDir: 'out/plan1-replanned' })   // v1 stays as it was
 * await store.materializePlanFolder(planId, 1, '/tmp/export-src')   // plan folder back on disk, hashes checked
 * const report = await store.check()                        // integrity + every referenced hash re-verified
 * await store.backup('/media/usb/tfus-backup-2026-11-27')
 * await store.close()
 * ```
 *
 * Data folder layout (`dataDir`): `plans.db` (+ `-wal`, `-shm`), `blobs/<aa>/<sha256 rest>`
 * (the content store; `blobs/tmp/` holds writes in progress), `backups/` (taken automatically
 * before a schema migration). Resolve `dataDir` with `resolveDataDir(flag)` (data-dir.ts):
 * `--data-dir`, else `$TFUS_DATA_DIR`, else the platform's user-data folder.
 *
 * Errors reject with the error the worker threw, rebuilt on this side: `PlanStoreError` (with
 * `code`: 'newer-schema', 'not-found', 'invalid-record', 'already-approved', 'conflict',
 * 'bad-request', 'closed', ...) or `ImportError` (image import). Calls are answered in the order
 * they were made. All methods are safe to call concurrently from one thread; two processes
 * (app and CLI) may open the same folder (SQLite WAL, busy timeout 10 s).
 */
import { startWorker } from '../app-paths.ts'
import { PlanStoreError } from '../../../core/db/errors.ts'
import type { PlanRef } from '../../../core/db/plan-store.ts'
import {
  deserializeError,
  type DbRequest,
  type Method,
  type NewVersionChanges,
  type Params,
  type PatientParams,
  type Results,
  type SerializedError,
} from './protocol.ts'
import { workerRpc } from '../worker-rpc.ts'

export interface PlanStore {
  /** Where the store lives and what opening it did (schema version, migrations applied, backup taken). */
  readonly opened: Results['open']
  /** Registers an image series (NIfTI/NRRD/MHA file, DICOM file or folder); the same series twice is found, not duplicated. */
  importSeries(imagePath: string, options?: { seriesUid?: string }): Promise<Results['importSeries']>
  /** Stores a plan folder written by `tfus plan --out` (plan.json, metrics.json, volumes) as version 1 of a new plan. */
  savePlanFolder(planDir: string, options?: { patient?: PatientParams; note?: string; author?: string }): Promise<PlanRef>
  listPlans(): Promise<Results['listPlans']>
  listSeries(): Promise<Results['listSeries']>
  /** One version (default: the latest): plan and metrics records, result files with hashes, run, approval. */
  getPlan(planId: number, version?: number): Promise<Results['getPlan']>
  /** Writes a stored version back as a plan folder (files checked against their hashes); returns the paths written. */
  materializePlanFolder(planId: number, version: number | undefined, outDir: string): Promise<Results['materializePlanFolder']>
  /** Records the approver of a version (default: the latest); a version is approved once. */
  approve(
    planId: number,
    version: number | undefined,
    approver: string,
    grounds?: { overrideReason?: string; acknowledged?: string[] },
  ): Promise<Results['approve']>
  /** Adds version N+1 (never overwrites): a re-planned folder, a changed record/metrics or a note. */
  newVersion(planId: number, changes: NewVersionChanges): Promise<PlanRef>
  auditLog(planId?: number): Promise<Results['auditLog']>
  /** Integrity check, foreign keys, every plan record, every referenced blob re-hashed; orphans listed. */
  check(): Promise<Results['check']>
  /** Online backup of the database plus the blobs it references into folder `dest`. */
  backup(dest: string): Promise<Results['backup']>
  /** Closes the database and stops the worker. Calls after close reject with code 'closed'. */
  close(): Promise<void>
  /** Sends a raw request (diagnostics and protocol tests); prefer the typed methods. */
  rawRequest(method: string, params: unknown): Promise<unknown>
}

export interface OpenPlanStoreOptions {
  /** Name recorded in the audit log (default: the OS user name). */
  readonly actor?: string
}

export async function openPlanStore(dataDir: string, options: OpenPlanStoreOptions = {}): Promise<PlanStore> {
  const worker = startWorker('db-worker')
  const rpc = workerRpc<DbRequest, unknown>(worker, {
    decodeError: (e) => deserializeError(e as SerializedError),
    workerFailed: (why) =>
      'error' in why
        ? new PlanStoreError('closed', `the plan database worker failed: ${why.error.message}`, { cause: why.error })
        : new PlanStoreError('closed', `the plan database worker stopped (exit code ${why.exitCode})`),
    // The worker keeps the process alive only while a request is waiting for its answer.
    unrefWhenIdle: true,
  })
  let stopped: Error | null = null

  const rawRequest = (method: string, params: unknown): Promise<unknown> => (stopped ? Promise.reject(stopped) : rpc.call({ method, params }))
  const request = <M extends Method>(method: M, params: Params<M>) => rawRequest(method, params) as Promise<Results[M]>

  let opened: Results['open']
  try {
    opened = await request('open', { dataDir, ...(options.actor ? { actor: options.actor } : {}) })
  } catch (e) {
    await worker.terminate()
    throw e
  }

  return {
    opened,
    importSeries: (imagePath, o = {}) => request('importSeries', { imagePath, ...o }),
    savePlanFolder: (planDir, o = {}) => request('savePlanFolder', { planDir, ...o }),
    listPlans: () => request('listPlans', {}),
    listSeries: () => request('listSeries', {}),
    getPlan: (planId, version) => request('getPlan', { planId, ...(version !== undefined ? { version } : {}) }),
    materializePlanFolder: (planId, version, outDir) => request('materializePlanFolder', { planId, outDir, ...(version !== undefined ? { version } : {}) }),
    approve: (planId, version, approver, grounds) =>
      request('approve', {
        planId,
        approver,
        ...(version !== undefined ? { version } : {}),
        ...(grounds?.overrideReason !== undefined ? { overrideReason: grounds.overrideReason } : {}),
        ...(grounds?.acknowledged ? { acknowledged: grounds.acknowledged } : {}),
      }),
    newVersion: (planId, changes) => request('newVersion', { planId, changes }),
    auditLog: (planId) => request('auditLog', planId !== undefined ? { planId } : {}),
    check: () => request('check', {}),
    backup: (dest) => request('backup', { dest }),
    rawRequest,
    async close() {
      if (stopped) return
      try {
        await request('close', {})
      } finally {
        stopped = new PlanStoreError('closed', 'the plan store is closed')
        await worker.terminate()
      }
    },
  }
}
