/**
 * A plan database from before migration 3 (schema version 2: plan.json with `protocol` and the
 * drive's `wPerM2` / `amplitudePa`, the `protocols` table), made the way that build made it: its
 * schema from the two migrations it shipped with and its rows written with raw SQL, the records
 * being real plan.json / metrics.json of `tfus plan` before the change (tests/fixtures/plan-v2/). The
 * current code backs it up, migrates it, and reads every plan back in the current style; a plan
 * folder of that age still imports. A database newer than this build is still refused.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { MIGRATIONS, SCHEMA_VERSION } from '../../../core/db/migrations.ts'
import { PlanStoreError } from '../../../core/db/errors.ts'
import { planRecord } from '../../../core/contracts/plan.ts'
import { PlanStoreEngine } from '../../../electron/adapters/db/engine.ts'
import { VOLUME_FILES, writeNifti } from './fixtures.ts'

const FIXTURES = path.join(import.meta.dirname, '../../fixtures/plan-v2')
const oldPlanJson = fs.readFileSync(path.join(FIXTURES, 'plan.json'), 'utf8')
const oldMetricsJson = fs.readFileSync(path.join(FIXTURES, 'metrics.json'), 'utf8')
const oldPlan = JSON.parse(oldPlanJson)
const oldMetrics = JSON.parse(oldMetricsJson)

let tmp: string
let engines: PlanStoreEngine[]
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfus-db-v2-'))
  engines = []
})
afterEach(() => {
  for (const e of engines) e.close()
  fs.rmSync(tmp, { recursive: true, force: true })
})

async function open(dataDir = path.join(tmp, 'data')): Promise<PlanStoreEngine> {
  const e = await PlanStoreEngine.open(dataDir, { actor: 'tester' })
  engines.push(e)
  return e
}

/** The drive of the second plan: a source pressure given directly (the other old drive key). */
const sourceDrive = { kind: 'source', amplitudePa: 60000, source_amplitude_pa: 60000 }

/** plans.db as schema version 2 left it, with two plans (one approved) in the old key style. */
function writeVersion2Database(dataDir: string): string {
  fs.mkdirSync(dataDir, { recursive: true })
  const file = path.join(dataDir, 'plans.db')
  const db = new Database(file)
  for (const m of MIGRATIONS.slice(0, 2)) {
    m.up(db)
    db.pragma(`user_version = ${m.version}`)
  }
  const at = '2026-11-30T10:00:00.000Z'
  db.prepare("INSERT INTO patients (id, patient_id, name, birth_date, created_at) VALUES (1, 'P-7', 'Roe^Ann', '19700101', ?)").run(at)
  const records = [oldPlanJson, JSON.stringify({ ...oldPlan, drive: sourceDrive })]
  records.forEach((record, i) => {
    const id = i + 1
    db.prepare('INSERT INTO plans (id, patient_ref, created_at, created_by) VALUES (?, 1, ?, ?)').run(id, at, 'planner')
    db.prepare(
      `INSERT INTO simulation_runs (id, inputs_sha256, solver_version, backend, device, status, ppw, grid_json, spacing_m, wall_s, recorded_at)
       VALUES (?, ?, ?, ?, ?, 'completed', ?, ?, ?, ?, ?)`,
    ).run(
      id,
      String(id).repeat(64),
      oldPlan.simulation.solver_version,
      oldPlan.simulation.backend,
      oldPlan.simulation.device,
      oldPlan.simulation.ppw,
      JSON.stringify(oldPlan.simulation.grid_size),
      oldPlan.simulation.spacing_m,
      oldPlan.wall_s,
      at,
    )
    db.prepare(
      `INSERT INTO plan_versions (plan_ref, version, based_on_version, run_ref, ct_series_ref, record_json, metrics_json, note, created_at, created_by)
       VALUES (?, 1, NULL, ?, NULL, ?, ?, 'saved before the upgrade', ?, 'planner')`,
    ).run(id, id, record, oldMetricsJson, at)
    const pose = oldPlan.pose
    db.prepare(
      `INSERT INTO transducer_poses (plan_ref, version, transducer_id, frequency_hz, transducer_to_ras_json, apex_ras_m_json, axis_ras_json, standoff_m, focal_distance_from_apex_m, focus_corrected)
       VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, 0)`,
    ).run(
      id,
      oldPlan.transducer.id,
      oldPlan.transducer.frequency_hz,
      JSON.stringify(pose.transducer_to_ras),
      JSON.stringify(pose.apex_ras_m),
      JSON.stringify(pose.axis_ras),
      pose.standoff_m,
      pose.focal_distance_from_apex_m,
    )
    db.prepare(
      'INSERT INTO protocols (plan_ref, version, pulse_duration_s, prf_hz, train_duty_cycle, duty_cycle, total_duration_s) VALUES (?, 1, ?, ?, ?, ?, NULL)',
    ).run(id, oldPlan.protocol.pulse_duration_s, oldPlan.protocol.prf_hz, oldPlan.protocol.train_duty_cycle, oldMetrics.duty_cycle)
  })
  db.prepare(
    "INSERT INTO approvals (plan_ref, version, approver, approved_at, override_reason, acknowledged_flags_json) VALUES (1, 1, 'Dr Who', ?, ?, '[]')",
  ).run(at, 'research sonication, preview resolution accepted')
  db.close()
  return file
}

describe('a plan database of schema version 2', () => {
  it('is backed up, migrated, and every plan reads back in the current style with its values', async () => {
    // The fixtures are what that build wrote: the drive and pulse timing under the old keys.
    expect(oldPlan.drive).toHaveProperty('wPerM2')
    expect(oldPlan).toHaveProperty('protocol')
    const dataDir = path.join(tmp, 'data')
    writeVersion2Database(dataDir)
    const e = await open(dataDir)
    expect(e.opened.applied).toEqual(MIGRATIONS.slice(2).map((m) => m.version))
    expect(e.opened.schemaVersion).toBe(SCHEMA_VERSION)
    expect(e.opened.backupFile).not.toBeNull()

    const first = e.getPlan({ planId: 1 })
    expect(first.record.drive).toEqual({ kind: 'isppa-free-water', isppa_w_m2: oldPlan.drive.wPerM2, source_amplitude_pa: oldPlan.drive.source_amplitude_pa })
    expect(first.record.pulse_timing).toEqual(oldPlan.protocol)
    expect(first.record.pose).toEqual(oldPlan.pose)
    expect(first.record.target_ras_m).toEqual(oldPlan.target_ras_m)
    expect(first.metrics).toEqual(oldMetrics)
    expect(first.approval).toMatchObject({ approver: 'Dr Who', overrideReason: 'research sonication, preview resolution accepted' })
    expect(first.note).toBe('saved before the upgrade')
    const second = e.getPlan({ planId: 2 })
    expect(second.record.drive).toEqual({ kind: 'source', amplitude_pa: 60000, source_amplitude_pa: 60000 })

    // Stored in the new style (not only read through the converter), other fields as they were.
    const stored = JSON.parse((e.db.prepare('SELECT record_json FROM plan_versions WHERE plan_ref = 1').get() as { record_json: string }).record_json)
    const { protocol, drive: _drive, ...rest } = oldPlan
    expect(stored).toEqual({ ...rest, pulse_timing: protocol, drive: first.record.drive })
    expect(e.db.prepare('SELECT pulse_duration_s, prf_hz, duty_cycle FROM pulse_timings WHERE plan_ref = 2').get()).toEqual({
      pulse_duration_s: oldPlan.protocol.pulse_duration_s,
      prf_hz: oldPlan.protocol.prf_hz,
      duty_cycle: oldMetrics.duty_cycle,
    })
    // Still append-only after the migration lifted the triggers for itself.
    expect(() => e.db.prepare("UPDATE plan_versions SET note = 'x' WHERE plan_ref = 1").run()).toThrow(/append-only/)
    expect(() => e.db.prepare('DELETE FROM pulse_timings WHERE plan_ref = 1').run()).toThrow(/append-only/)
    expect(e.check().invalidRecords).toEqual([])

    // A new version of a migrated plan, and the plan list, work on the migrated rows.
    const next = e.newVersion({ planId: 1, changes: { note: 'after the upgrade' } })
    expect(e.getPlan(next).record.drive).toEqual(first.record.drive)
    expect(e.listPlans().map((p) => p.planId)).toEqual([1, 2])
  })

  it('a plan folder written before the change still imports, stored in the current style', async () => {
    const e = await open()
    const dir = path.join(tmp, 'old-folder')
    fs.mkdirSync(path.join(dir, 'medium'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'plan.json'), oldPlanJson)
    fs.writeFileSync(path.join(dir, 'metrics.json'), oldMetricsJson)
    for (const f of VOLUME_FILES) writeNifti(path.join(dir, f), 1)
    const ref = e.savePlanFolder({ planDir: dir })
    expect(e.getPlan(ref).record.drive).toMatchObject({ isppa_w_m2: oldPlan.drive.wPerM2 })
    const raw = (e.db.prepare('SELECT record_json FROM plan_versions WHERE plan_ref = ?').get(ref.planId) as { record_json: string }).record_json
    expect(raw).not.toMatch(/wPerM2|"protocol"/)
  })

  it('a database newer than this build is still refused, untouched', async () => {
    const dataDir = path.join(tmp, 'data')
    const file = writeVersion2Database(dataDir)
    const db = new Database(file)
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    const before = fs.readFileSync(file)
    const error = await open(dataDir).then(
      () => null,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(PlanStoreError)
    expect((error as PlanStoreError).code).toBe('newer-schema')
    expect(fs.readFileSync(file).equals(before)).toBe(true)
  })
})

describe('the plan contract reads both styles', () => {
  it('an old plan.json and its current form parse to the same record', () => {
    const current = planRecord.parse(oldPlan)
    expect(planRecord.parse(JSON.parse(JSON.stringify(current)))).toEqual(current)
    expect(current).not.toHaveProperty('protocol')
    expect(current.drive).not.toHaveProperty('wPerM2')
  })
})
