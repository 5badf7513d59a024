/**
 * Approval is a clinical act (core/planning/approval.ts): the rules themselves, the plan database
 * that enforces them for every client (a preview-grade plan refused, an override recorded with its
 * reason, blocking safety flags acknowledged by name), and `tfus plans approve` on top.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { approvalRefusal, blockingFlags, MIN_OVERRIDE_REASON_CHARS } from '../../../core/planning/approval.ts'
import { PlanStoreError } from '../../../core/db/errors.ts'
import { PlanStoreEngine } from '../../../electron/adapters/db/engine.ts'
import { cli } from '../../helpers/cli.ts'
import { buildReportHtml } from '../../../core/report/report.ts'
import { metricsFixture, planRecordFixture, writePlanFolder } from '../db/fixtures.ts'

const REASON = 'research sonication under protocol IRB-2026-17, preview resolution accepted'

describe('the approval rules', () => {
  const clinical = planRecordFixture(1)
  const preview = { ...clinical, simulation: { ...clinical.simulation, ppw: 2 } }
  const metrics = metricsFixture(1)
  const overMi = { ...metrics, mi: 2.4, mi_tc: 2.1, flags: { ...metrics.flags, mechanical: 'exceeds: MI 2.40 and MI_tc 2.10 > 1.9 (ITRUSST)' } }
  const overThermal = { ...metrics, flags: { ...metrics.flags, thermal: 'exceeds ITRUSST limits in skull' } }

  it('a clinical-resolution plan with no flag needs only a name, and a non-blank one', () => {
    expect(approvalRefusal(clinical, metrics, { approver: 'Dr. A' })).toBeNull()
    expect(approvalRefusal(clinical, metrics, { approver: ' \t ' })).toMatchObject({ field: 'approver' })
  })

  it('below 6 points per wavelength: refused without a reason, a token reason is not one', () => {
    expect(approvalRefusal(preview, metrics, { approver: 'Dr. A' })).toMatchObject({
      field: 'overrideReason',
      message: expect.stringMatching(/2 points per wavelength, below the clinical 6/),
    })
    expect(approvalRefusal(preview, metrics, { approver: 'Dr. A', overrideReason: 'x'.repeat(MIN_OVERRIDE_REASON_CHARS - 1) })).toMatchObject({
      field: 'overrideReason',
    })
    expect(approvalRefusal(preview, metrics, { approver: 'Dr. A', overrideReason: `   ${'ok'.repeat(3)}      ` })).toMatchObject({ field: 'overrideReason' })
    expect(approvalRefusal(preview, metrics, { approver: 'Dr. A', overrideReason: REASON })).toBeNull()
  })

  it('a surrogate preview is never approvable, whatever the grounds', () => {
    expect(
      approvalRefusal({ ...clinical, source: 'surrogate' }, metrics, { approver: 'Dr. A', overrideReason: REASON, acknowledged: ['mechanical', 'thermal'] }),
    ).toMatchObject({ field: 'plan' })
  })

  it('blocking flags: MI over 1.9 (both MI and MI_tc) and a tissue over the thermal limits, each acknowledged by name', () => {
    expect(blockingFlags(metrics)).toEqual([])
    // MI over but MI_tc within: ITRUSST accepts either, so it does not block.
    expect(blockingFlags({ ...metrics, mi: 2.4, mi_tc: 1.5 })).toEqual([])
    expect(blockingFlags(overMi).map((f) => f.id)).toEqual(['mechanical'])
    expect(blockingFlags(overThermal).map((f) => f.id)).toEqual(['thermal'])
    expect(approvalRefusal(clinical, overMi, { approver: 'Dr. A' })).toMatchObject({
      field: 'acknowledged',
      message: expect.stringContaining('mechanical (exceeds: MI 2.40'),
    })
    expect(approvalRefusal(clinical, overMi, { approver: 'Dr. A', acknowledged: ['thermal'] })).toMatchObject({ field: 'acknowledged' })
    expect(approvalRefusal(clinical, overMi, { approver: 'Dr. A', acknowledged: ['mechanical'] })).toBeNull()
    expect(approvalRefusal(clinical, overThermal, { approver: 'Dr. A', acknowledged: ['mechanical'] })).toMatchObject({ field: 'acknowledged' })
  })
})

describe('the report of a preview-grade plan', () => {
  const base = {
    metrics: metricsFixture(1),
    thermal: null,
    planLabel: 'p',
    patient: null,
    deidentified: true,
    images: [],
    slices: [],
    generatedAt: '2026-01-01T00:00:00Z',
    software: 'test',
  } as const
  const clinical = planRecordFixture(1)
  const banner = (html: string) => /<div class="not-for-treatment"[^>]*>([^<]*)<\/div>/.exec(html)?.[1] ?? null

  it('says NOT FOR TREATMENT at the top (fixed in print, so on every page) below 6 ppw and for a surrogate preview; nothing at 6', () => {
    expect(banner(buildReportHtml({ ...base, plan: clinical }))).toBeNull()
    const low = buildReportHtml({ ...base, plan: { ...clinical, simulation: { ...clinical.simulation, ppw: 2 } } })
    expect(banner(low)).toBe('NOT FOR TREATMENT · preview resolution: 2 points per wavelength, below the clinical 6')
    // Before the title, and printed on every page.
    expect(low.indexOf('not-for-treatment">')).toBeLessThan(low.indexOf('<h1>'))
    expect(low).toMatch(/@media print \{ \.not-for-treatment \{ position: fixed; top: 0/)
    expect(banner(buildReportHtml({ ...base, plan: { ...clinical, source: 'surrogate' } }))).toMatch(/^NOT FOR TREATMENT · neural-surrogate preview/)
  })

  it('an override approval is shown as such, with its reason and the acknowledged flags', () => {
    const html = buildReportHtml({
      ...base,
      plan: { ...clinical, simulation: { ...clinical.simulation, ppw: 3 } },
      approval: { by: 'Dr. A', at: '2026-01-02T00:00:00Z', overrideReason: REASON, acknowledged: ['mechanical'] },
    })
    expect(banner(html)).toMatch(/^BELOW THE CLINICAL RESOLUTION · preview resolution: 3 points per wavelength/)
    expect(html).toContain(REASON)
    expect(html).toMatch(/Safety flags acknowledged<\/th><td>mechanical/)
  })
})

describe('the plan database enforces them', () => {
  let tmp: string
  let engine: PlanStoreEngine
  beforeEach(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfus-approval-'))
    engine = await PlanStoreEngine.open(path.join(tmp, 'data'), { actor: 'tester' })
  })
  afterEach(() => {
    engine.close()
    fs.rmSync(tmp, { recursive: true, force: true })
  })

  function savePreviewPlan(seed: number, metricsChange: Record<string, unknown> = {}): number {
    const dir = path.join(tmp, `plan-${seed}`)
    const { record, metrics } = writePlanFolder(dir, seed)
    fs.writeFileSync(path.join(dir, 'plan.json'), JSON.stringify({ ...record, simulation: { ...record.simulation, ppw: 2 } }))
    fs.writeFileSync(path.join(dir, 'metrics.json'), JSON.stringify({ ...metrics, ppw: 2, ...metricsChange }))
    return engine.savePlanFolder({ planDir: dir }).planId
  }

  it('refuses a 2-ppw plan without a reason (nothing recorded), records the reason with the approval', () => {
    const planId = savePreviewPlan(3)
    let refused: unknown
    try {
      engine.approve({ planId, approver: 'Dr. A' })
    } catch (e) {
      refused = e
    }
    expect(refused).toBeInstanceOf(PlanStoreError)
    expect((refused as PlanStoreError).code).toBe('not-approvable')
    expect((refused as PlanStoreError).message).toMatch(/^plan 1 version 1 cannot be approved: this plan was computed at 2 points per wavelength/)
    expect(engine.getPlan({ planId }).approval).toBeNull()
    expect(engine.auditLog({ planId }).map((a) => a.action)).toEqual(['save-plan'])

    const a = engine.approve({ planId, approver: '  Dr. A  ', overrideReason: `  ${REASON}  ` })
    expect(a).toMatchObject({ approver: 'Dr. A', overrideReason: REASON, acknowledged: [] })
    expect(engine.getPlan({ planId }).approval).toMatchObject({ approver: 'Dr. A', overrideReason: REASON, acknowledged: [] })
  })

  it('a plan over the MI limit is approved only with the flag acknowledged, and the acknowledgement is stored', () => {
    const planId = savePreviewPlan(4, {
      mi: 2.5,
      mi_tc: 2.2,
      flags: { mechanical: 'exceeds: MI 2.50 and MI_tc 2.20 > 1.9 (ITRUSST)', thermal: 'not assessed' },
    })
    expect(() => engine.approve({ planId, approver: 'Dr. A', overrideReason: REASON })).toThrow(/acknowledge the safety flag first: mechanical/)
    const a = engine.approve({ planId, approver: 'Dr. A', overrideReason: REASON, acknowledged: ['mechanical'] })
    expect(a.acknowledged).toEqual(['mechanical'])
    expect(engine.auditLog({ planId }).at(-1)).toMatchObject({ action: 'approve' })
  })

  it('tfus plans approve: refused in one line (exit 2), then approved with --override-reason', async () => {
    engine.close()
    const dataDir = path.join(tmp, 'data')
    engine = await PlanStoreEngine.open(dataDir, { actor: 'tester' })
    savePreviewPlan(5)
    engine.close()
    const refused = await cli(['plans', 'approve', '1', '--by', 'Dr. C', '--data-dir', dataDir])
    expect(refused.code).toBe(2)
    expect(refused.err.trim().split('\n')).toHaveLength(1)
    expect(refused.err).toMatch(/below the clinical 6: re-run it at 6 or give the reason/)
    const badFlag = await cli(['plans', 'approve', '1', '--by', 'Dr. C', '--acknowledge', 'mechanic', '--data-dir', dataDir])
    expect(badFlag.code).toBe(2)
    expect(badFlag.err).toMatch(/--acknowledge takes mechanical and\/or thermal, not "mechanic"/)
    const ok = await cli(['plans', 'approve', '1', '--by', 'Dr. C', '--override-reason', REASON, '--data-dir', dataDir])
    expect(ok.code, ok.err).toBe(0)
    expect(ok.out).toMatch(/^plan 1 version 1 approved by Dr\. C at .*\nbelow the clinical resolution, approved for the stated reason: research sonication/)
    const show = await cli(['plans', 'show', '1', '--data-dir', dataDir])
    expect(show.out).toMatch(/approved by Dr\. C at .*; below the clinical resolution, reason: research sonication/)
    engine = await PlanStoreEngine.open(dataDir, { actor: 'tester' })
  })
})
