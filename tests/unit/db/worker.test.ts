/**
 * The worker-thread client `openPlanStore`: the same operations across the thread boundary,
 * parameters validated in the worker, and errors arriving as the typed errors they were.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { PlanStoreError } from '../../../core/db/errors.ts'
import { SCHEMA_VERSION } from '../../../core/db/migrations.ts'
import { ImportError } from '../../../core/io/errors.ts'
import { openPlanStore, type PlanStore } from '../../../electron/adapters/db/client.ts'
import { deserializeError, serializeError } from '../../../electron/adapters/db/protocol.ts'
import { resolveDataDir } from '../../../electron/adapters/db/data-dir.ts'
import { writeNifti, writePlanFolder } from './fixtures.ts'

let tmp: string
let store: PlanStore

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfus-dbw-'))
  store = await openPlanStore(path.join(tmp, 'data'), { actor: 'worker-test' })
})
afterAll(async () => {
  await store.close()
  fs.rmSync(tmp, { recursive: true, force: true })
})

async function caught(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (e) {
    return e as Error
  }
  throw new Error('expected a rejection')
}

describe('openPlanStore (database worker thread)', () => {
  it('saves, lists, reads, approves, versions and materializes a plan through the worker', async () => {
    expect(store.opened.schemaVersion).toBe(SCHEMA_VERSION)
    const dir = path.join(tmp, 'plan')
    const { record } = writePlanFolder(dir, 11)
    const ref = await store.savePlanFolder(dir, { note: 'via worker', patient: { patientId: 'W-1' } })
    expect(ref.version).toBe(1)
    const [summary] = await store.listPlans()
    expect(summary).toMatchObject({ planId: ref.planId, latestVersion: 1, patientId: 'W-1', note: 'via worker' })
    const plan = await store.getPlan(ref.planId)
    expect(plan.record).toEqual(record)
    expect((await store.approve(ref.planId, 1, 'Dr. W')).approver).toBe('Dr. W')
    const v2 = await store.newVersion(ref.planId, { note: 'edited' })
    expect(v2.version).toBe(2)
    expect((await store.getPlan(ref.planId, 1)).approval?.approver).toBe('Dr. W')
    const out = await store.materializePlanFolder(ref.planId, 2, path.join(tmp, 'out'))
    expect(out.files).toContain('pressure.nii.gz')
    expect((await store.check()).ok).toBe(true)
    expect((await store.auditLog(ref.planId)).map((a) => a.action)).toEqual(['save-plan', 'approve', 'new-version'])
  })

  it('imports an image through the worker; a second import finds it', async () => {
    const file = path.join(tmp, 'img', 'mr.nii')
    writeNifti(file, 3)
    expect((await store.importSeries(file)).alreadyPresent).toBe(false)
    expect((await store.importSeries(file)).alreadyPresent).toBe(true)
    expect(await store.listSeries()).toHaveLength(1)
  })

  it('refuses malformed requests with a bad-request error naming the method and field', async () => {
    const bad = await caught(store.rawRequest('getPlan', { planId: 'seven' }))
    expect(bad).toBeInstanceOf(PlanStoreError)
    expect((bad as PlanStoreError).code).toBe('bad-request')
    expect(bad.message).toMatch(/^getPlan: planId: /)
    const unknown = await caught(store.rawRequest('dropAllTables', {}))
    expect((unknown as PlanStoreError).code).toBe('bad-request')
    expect(unknown.message).toContain('unknown method "dropAllTables"')
    const noChange = await caught(store.newVersion(1, {}))
    expect(noChange.message).toContain('a new version needs a change')
    const emptyApprover = await caught(store.approve(1, 2, '   '))
    expect(emptyApprover.message).toContain("the approver's name is empty")
  })

  it('carries typed errors across the thread: not-found, already-approved, ImportError with its file', async () => {
    const missing = await caught(store.getPlan(404))
    expect(missing).toBeInstanceOf(PlanStoreError)
    expect((missing as PlanStoreError).code).toBe('not-found')
    expect(missing.message).toBe('no plan 404 in the database')
    const twice = await caught(store.approve(1, 1, 'Dr. Z'))
    expect((twice as PlanStoreError).code).toBe('already-approved')
    const notImage = path.join(tmp, 'notes.txt')
    fs.writeFileSync(notImage, 'not an image')
    const importError = await caught(store.importSeries(notImage))
    expect(importError).toBeInstanceOf(ImportError)
    expect((importError as ImportError).file).toBe(notImage)
    expect(importError.stack).toContain('(database worker)')
  })

  it('serializes unknown errors with their name and code', () => {
    const e = Object.assign(new RangeError('too far'), { code: 'ERR_X' })
    const back = deserializeError(serializeError(e))
    expect(back.name).toBe('RangeError')
    expect(back.message).toBe('too far')
    expect((back as Error & { code?: string }).code).toBe('ERR_X')
    expect(deserializeError(serializeError('plain')).message).toBe('plain')
  })

  it('rejects opening a newer database, and calls after close', async () => {
    const dir = path.join(tmp, 'newer')
    const first = await openPlanStore(dir)
    await first.close()
    const db = new Database(path.join(dir, 'plans.db'))
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    const refused = await caught(openPlanStore(dir))
    expect((refused as PlanStoreError).code).toBe('newer-schema')
    expect((await caught(first.listPlans())) as PlanStoreError).toMatchObject({ code: 'closed' })
  })
})

describe('data folder', () => {
  it('takes --data-dir, then TFUS_DATA_DIR, then the platform user-data folder', () => {
    expect(resolveDataDir('rel/dir', { TFUS_DATA_DIR: '/env' })).toBe(path.resolve('rel/dir'))
    expect(resolveDataDir(undefined, { TFUS_DATA_DIR: '/env/tfus' })).toBe(path.resolve('/env/tfus'))
    expect(resolveDataDir(undefined, {}, 'linux', '/home/u')).toBe('/home/u/.config/tfus-planner')
    expect(resolveDataDir(undefined, { XDG_CONFIG_HOME: '/xdg' }, 'linux', '/home/u')).toBe('/xdg/tfus-planner')
    expect(resolveDataDir(undefined, {}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/tfus-planner')
    expect(resolveDataDir(undefined, { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u')).toBe(
      'C:\\Users\\u\\AppData\\Roaming\\tfus-planner',
    )
  })
})
