/**
 * The app's save and approve through the service (a real createPlannerService, a plan worker that
 * copies a template folder): identity typed for a NIfTI is stored with the plan, a 2-ppw plan is
 * refused approval with the field to point at until a reason is given, and the API contract
 * refuses drive and pulse values outside their plausible ranges.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createPlannerService, type PlannerService } from '../../../electron/app/service.ts'
import { planRequest as planRequestSchema, type ApiEvent, type OpenResult, type PlanRequest } from '../../../core/contracts/api.ts'
import { PlanStoreEngine } from '../../../electron/adapters/db/engine.ts'
import { writeNifti, writePlanFolder } from '../db/fixtures.ts'
import { rejection } from '../../helpers/rejection.ts'
import { buildNifti1 } from '../../helpers/nifti.ts'
import { gzipSync } from 'node:zlib'
import { PLAN_FILES } from '../../../core/contracts/plan.ts'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tfus-service-approval-'))
const clinicalTemplate = path.join(root, 'template-6ppw')
const previewTemplate = path.join(root, 'template-2ppw')
const savedTemplateEnv = process.env.TFUS_TEST_PLAN_TEMPLATE
let services: PlannerService[] = []

beforeAll(() => {
  writePlanFolder(clinicalTemplate, 7)
  const { record, metrics } = writePlanFolder(previewTemplate, 8)
  fs.writeFileSync(path.join(previewTemplate, 'plan.json'), JSON.stringify({ ...record, simulation: { ...record.simulation, ppw: 2 } }))
  fs.writeFileSync(path.join(previewTemplate, 'metrics.json'), JSON.stringify({ ...metrics, ppw: 2 }))
})
afterEach(async () => {
  await Promise.all(services.map((s) => s.dispose()))
  services = []
})
afterAll(() => {
  if (savedTemplateEnv === undefined) delete process.env.TFUS_TEST_PLAN_TEMPLATE
  else process.env.TFUS_TEST_PLAN_TEMPLATE = savedTemplateEnv
  fs.rmSync(root, { recursive: true, force: true })
})

function request(ctImageId: string): PlanRequest {
  return {
    ctImageId,
    targetRasM: [0, 0, 0],
    transducerId: 'ok',
    mappingId: 'kplan',
    pointsPerWavelength: 3,
    backend: 'cpu',
    drive: { kind: 'isppa-free-water', wPerM2: 1e4 },
    pulseTiming: { pulseDurationS: 0.02, prfHz: 10, trainDutyCycle: 1 },
  }
}

async function finishedRun(template: string): Promise<{ s: PlannerService; runId: string; dataDir: string }> {
  process.env.TFUS_TEST_PLAN_TEMPLATE = template
  const workDir = fs.mkdtempSync(path.join(root, 'work-'))
  const dataDir = path.join(workDir, 'data')
  const s = createPlannerService({ host: 'browser', workDir, dataDir, probeWebGpu: false, workerUrl: new URL('./fixtures/folder-worker.mjs', import.meta.url) })
  services.push(s)
  const events: ApiEvent[] = []
  s.onEvent((e) => events.push(e))
  const file = path.join(workDir, 'ct.nii')
  writeNifti(file, 3)
  const opened: OpenResult = await s.impl.openImage({ path: file, role: 'ct' })
  if (opened.kind !== 'image') throw new Error('expected an image')
  expect(opened.image.patient).toBeNull()
  const { runId } = await s.impl.startPlan(request(opened.image.imageId))
  const t0 = Date.now()
  while (!events.some((e) => e.type === 'done' && e.runId === runId)) {
    if (Date.now() - t0 > 20_000) throw new Error('the run did not finish')
    await new Promise((r) => setTimeout(r, 20))
  }
  return { s, runId, dataDir }
}

describe('save and approve in the app', () => {
  test('identity typed for a NIfTI is stored with the plan; a clinical-resolution plan is approved once, by a named person', async () => {
    const { s, runId, dataDir } = await finishedRun(clinicalTemplate)
    const { planId } = await s.impl.savePlan({ runId, patient: { name: 'DOE^JANE', id: 'P-17', birthDate: '19700102' } })
    expect((await s.impl.listPlans({})).plans.find((p) => p.planId === planId)?.patient).toBe('DOE^JANE · P-17')
    expect(await rejection(s.impl.approvePlan({ planId, approver: '  ' }))).toMatchObject({ code: 'bad-request', field: 'approver' })
    await s.impl.approvePlan({ planId, approver: 'Dr. A' })
    expect(await rejection(s.impl.approvePlan({ planId, approver: 'Dr. B' }))).toMatchObject({ code: 'conflict' })
    await s.dispose()
    const engine = await PlanStoreEngine.open(dataDir)
    try {
      const stored = engine.getPlan({ planId: Number(planId) })
      expect(stored.patient).toEqual({ patientId: 'P-17', name: 'DOE^JANE', birthDate: '19700102' })
      expect(stored.approval).toMatchObject({ approver: 'Dr. A', overrideReason: null, acknowledged: [] })
    } finally {
      engine.close()
    }
  })

  test('a plan with a thermal run: per-tissue numbers and the curve at the hottest point reach the app', async () => {
    const withThermal = path.join(root, 'template-thermal')
    fs.cpSync(clinicalTemplate, withThermal, { recursive: true })
    const tissue = (rise: number, within: boolean) => ({
      peak_rise_c: rise,
      peak_temperature_c: 37 + rise,
      cem43_max_min: 0.01,
      flag: { within, criterion: within ? 'rise' : 'none', text: `${rise}` },
    })
    fs.writeFileSync(
      path.join(withThermal, 'thermal.json'),
      JSON.stringify({
        flags: { thermal: 'exceeds ITRUSST limits in skull' },
        tissues: { skin: tissue(0.5, true), skull: tissue(3.1, false), brain: tissue(0.8, true) },
        time_courses: {
          t_s: [0, 10, 20],
          skin: { hottest_voxel_c: [37, 37.4, 37.5] },
          skull: { hottest_voxel_c: [37, 39.5, 40.1] },
          brain: { hottest_voxel_c: [37, 37.6, 37.8] },
        },
      }),
    )
    const { s, runId } = await finishedRun(withThermal)
    const { thermal } = await s.impl.getPlanResult({ runId })
    expect(thermal?.summary).toBe('thermal: exceeds ITRUSST limits in skull')
    expect(thermal?.tissues.map((t) => [t.tissue, t.peakRiseC, t.within])).toEqual([
      ['skin', 0.5, true],
      ['skull', 3.1, false],
      ['brain', 0.8, true],
    ])
    expect(thermal?.curve).toEqual({ tissue: 'skull', tS: [0, 10, 20], temperatureC: [37, 39.5, 40.1] })
  })

  test('re-planning a stored plan adds a version (the saved one never changes); approval is per version', async () => {
    const { s, runId, dataDir } = await finishedRun(clinicalTemplate)
    const first = await s.impl.savePlan({ runId })
    expect(first.version).toBe(1)
    await s.impl.approvePlan({ planId: first.planId, approver: 'Dr. A' })
    const ct = (await s.impl.openImage({ path: path.join(path.dirname(dataDir), 'ct.nii'), role: 'ct' })) as { kind: 'image'; image: { imageId: string } }
    const { runId: again } = await s.impl.startPlan(request(ct.image.imageId))
    const t0 = Date.now()
    while ((await s.impl.getPlanResult({ runId: again }).catch(() => null)) === null) {
      if (Date.now() - t0 > 20_000) throw new Error('the second run did not finish')
      await new Promise((r) => setTimeout(r, 20))
    }
    const second = await s.impl.savePlan({ runId: again, asVersionOf: first.planId, label: 'target moved 2 mm' })
    expect(second).toEqual({ planId: first.planId, version: 2 })
    const listed = (await s.impl.listPlans({})).plans
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({ planId: first.planId, label: 'target moved 2 mm (v2)', approved: false })
    expect(await rejection(s.impl.savePlan({ runId: again, asVersionOf: '999' }))).toMatchObject({ code: 'not-found' })
  })

  test('a 2-ppw plan: refused with the field to fix until a reason is given; the reason is recorded', async () => {
    const { s, runId } = await finishedRun(previewTemplate)
    const { planId } = await s.impl.savePlan({ runId })
    const refused = await rejection(s.impl.approvePlan({ planId, approver: 'Dr. A' }))
    expect(refused).toMatchObject({ code: 'bad-request', field: 'overrideReason' })
    expect(refused.message).toMatch(/cannot be approved: this plan was computed at 2 points per wavelength, below the clinical 6/)
    expect((await s.impl.listPlans({})).plans.find((p) => p.planId === planId)?.approved).toBe(false)
    await s.impl.approvePlan({ planId, approver: 'Dr. A', overrideReason: 'phantom session, preview accepted' })
    expect((await s.impl.listPlans({})).plans.find((p) => p.planId === planId)?.approved).toBe(true)
  })
})

describe('approvals live in the database', () => {
  test('an approval given elsewhere (a second window on the same database) is what the report shows; after a restart the reopened plan carries it', async () => {
    // A template whose CT exists, so that the stored plan can be opened again after the restart.
    const ctFile = path.join(root, 'ct-approvals.nii')
    writeNifti(ctFile, 3)
    const withCt = path.join(root, 'template-with-ct')
    fs.cpSync(clinicalTemplate, withCt, { recursive: true })
    const record = JSON.parse(fs.readFileSync(path.join(withCt, 'plan.json'), 'utf8'))
    fs.writeFileSync(path.join(withCt, 'plan.json'), JSON.stringify({ ...record, ct: { ...record.ct, source: ctFile } }))
    // The report draws slices of the pressure and the focal region on the CT grid: real volumes.
    const dims: [number, number, number] = [6, 5, 4]
    const nifti = (data: Int16Array | Float32Array, datatype: 4 | 16) =>
      gzipSync(
        buildNifti1({
          dims,
          sform: [
            [1, 0, 0, 0],
            [0, 1, 0, 0],
            [0, 0, 1, 0],
          ],
          datatype,
          data,
        }),
      )
    fs.writeFileSync(path.join(withCt, PLAN_FILES.pressureCt), nifti(new Float32Array(120).fill(500), 16))
    fs.writeFileSync(path.join(withCt, PLAN_FILES.focalMaskCt), nifti(new Int16Array(120).fill(1), 4))
    const { s, runId, dataDir } = await finishedRun(withCt)
    const workDir = path.dirname(dataDir)
    const { planId } = await s.impl.savePlan({ runId })
    const notApproved = /Not approved in the planning software/
    expect((await s.impl.reportHtml({ runId })).html).toMatch(notApproved)
    const second = createPlannerService({
      host: 'browser',
      workDir,
      dataDir,
      probeWebGpu: false,
      workerUrl: new URL('./fixtures/folder-worker.mjs', import.meta.url),
    })
    services.push(second)
    await second.impl.approvePlan({ planId, approver: 'Dr. Second' })
    const html = (await s.impl.reportHtml({ runId })).html
    expect(html).not.toMatch(notApproved)
    expect(html).toContain('Dr. Second')
    await s.dispose()
    await second.dispose()

    const restarted = createPlannerService({
      host: 'browser',
      workDir,
      dataDir,
      probeWebGpu: false,
      workerUrl: new URL('./fixtures/folder-worker.mjs', import.meta.url),
    })
    services.push(restarted)
    const reopened = await restarted.impl.openStoredPlan({ planId })
    expect(reopened.approved).toBe(true)
    expect((await restarted.impl.reportHtml({ runId: reopened.runId })).html).toContain('Dr. Second')
  })
})

describe('the session and stored plans survive a reload and a restart', () => {
  test('saveSession / restoreSession: the run on screen is found again; after a restart the CT is reopened from its file and the stored plan opens as a finished run', async () => {
    const { s, runId, dataDir } = await finishedRun(clinicalTemplate)
    const workDir = path.dirname(dataDir)
    const { planId } = await s.impl.savePlan({ runId })
    const inputs = {
      targetRasM: [0.01, 0.02, 0.03] as [number, number, number],
      entryRasM: null,
      transducerId: 'ok',
      pointsPerWavelength: 3,
      mappingId: 'kplan',
      isppaFreeWaterWPerM2: 1e4,
      pulseDurationS: 0.02,
      prfHz: 10,
      trainDutyCycle: 1,
      thermalProtocolId: '',
    }
    const ct = (await s.impl.openImage({ path: path.join(workDir, 'ct.nii'), role: 'ct' })) as { kind: 'image'; image: { imageId: string } }
    await s.impl.saveSession({ ctImageId: ct.image.imageId, inputs, runId, runInputs: inputs, savedPlanId: planId })
    // A reload: the same back end answers with the same CT and the run, done.
    const again = await s.impl.restoreSession({})
    expect(again).toMatchObject({
      state: { ctImageId: ct.image.imageId, inputs, runId, savedPlanId: planId },
      ct: { imageId: ct.image.imageId },
      run: { runId, status: 'done' },
      note: null,
    })
    expect(fs.statSync(path.join(workDir, 'session.json')).mode & 0o077).toBe(0)
    await s.dispose()
    // A restart: a new back end on the same folders.
    const s2 = createPlannerService({
      host: 'browser',
      workDir,
      dataDir,
      probeWebGpu: false,
      workerUrl: new URL('./fixtures/folder-worker.mjs', import.meta.url),
    })
    services.push(s2)
    const restored = await s2.impl.restoreSession({})
    expect(restored.ct?.imageId).toBeDefined()
    expect(restored.ct?.imageId).not.toBe(ct.image.imageId)
    expect(restored.state).toMatchObject({ ctImageId: restored.ct!.imageId, inputs, runId: null, runInputs: null })
    expect(restored.run).toBeNull()
    expect(restored.note).toMatch(/simulation on screen before the restart is gone/)
    // The template plan's CT path does not exist: opening it says so in words.
    expect(await rejection(s2.impl.openStoredPlan({ planId }))).toMatchObject({
      code: 'not-found',
      message: expect.stringMatching(/^the CT of plan 1 \(ct-7\.nii\.gz\) cannot be opened: .*open it, then the plan again$/),
    })
    expect(await rejection(s2.impl.openStoredPlan({ planId: '99' }))).toMatchObject({ code: 'not-found' })
  })
})

describe('an MRI opened as the CT', () => {
  test('is known as an MRI (its intensities, not the button) and refused for a plan and a preview in words', async () => {
    const workDir = fs.mkdtempSync(path.join(root, 'work-'))
    const s = createPlannerService({ host: 'browser', workDir, probeWebGpu: false, workerUrl: new URL('./fixtures/folder-worker.mjs', import.meta.url) })
    services.push(s)
    const file = path.join(workDir, 't1.nii')
    const data = new Int16Array(6 * 5 * 4).map((_, i) => 100 + (i % 50))
    fs.writeFileSync(
      file,
      buildNifti1({
        dims: [6, 5, 4],
        sform: [
          [1, 0, 0, 0],
          [0, 1, 0, 0],
          [0, 0, 1, 0],
        ],
        datatype: 4,
        data,
      }),
    )
    const opened = await s.impl.openImage({ path: file, role: 'ct' })
    if (opened.kind !== 'image') throw new Error('expected an image')
    expect(opened.image.modality).toBe('MR')
    expect(opened.image.warnings).toContainEqual(expect.stringMatching(/^modality MR inferred from the intensity range/))
    const refused = await rejection(s.impl.startPlan(request(opened.image.imageId)))
    expect(refused).toMatchObject({
      code: 'bad-request',
      field: 'ctImageId',
      message: expect.stringMatching(/^t1\.nii is an MRI: acoustic planning needs a CT/),
    })
    // A CT opened as the CT says nothing about the inference.
    const ctFile = path.join(workDir, 'ct.nii')
    writeNifti(ctFile, 4)
    const ct = await s.impl.openImage({ path: ctFile, role: 'ct' })
    expect(ct.kind === 'image' && ct.image.modality).toBe('CT')
    expect(ct.kind === 'image' && ct.image.warnings.filter((w) => /inferred/.test(w))).toEqual([])
  })
})

describe('comparing two stored plans', () => {
  /** A plan folder whose pressure field is a real NIfTI: `value(i)` Pa at voxel i of a dims grid. */
  function templateWithPressure(name: string, seed: number, dims: [number, number, number], value: (i: number) => number): string {
    const dir = path.join(root, name)
    writePlanFolder(dir, seed)
    const data = new Float32Array(dims[0] * dims[1] * dims[2]).map((_, i) => value(i))
    fs.writeFileSync(
      path.join(dir, PLAN_FILES.pressureCt),
      gzipSync(
        buildNifti1({
          dims,
          sform: [
            [1, 0, 0, 0],
            [0, 1, 0, 0],
            [0, 0, 1, 0],
          ],
          datatype: 16,
          data,
        }),
      ),
    )
    return dir
  }

  test('the table shows A, B and B - A; the difference overlay is B - A voxel by voxel; plans on different grids get no overlay, and a reason', async () => {
    const a = templateWithPressure('cmp-a', 11, [6, 5, 4], (i) => 1000 + i)
    const b = templateWithPressure('cmp-b', 12, [6, 5, 4], (i) => 1000 + 3 * i)
    const other = templateWithPressure('cmp-c', 13, [7, 5, 4], () => 5)
    const workDir = fs.mkdtempSync(path.join(root, 'work-'))
    const s = createPlannerService({
      host: 'browser',
      workDir,
      dataDir: path.join(workDir, 'data'),
      probeWebGpu: false,
      workerUrl: new URL('./fixtures/folder-worker.mjs', import.meta.url),
    })
    services.push(s)
    const events: ApiEvent[] = []
    s.onEvent((e) => events.push(e))
    const file = path.join(workDir, 'ct.nii')
    writeNifti(file, 3)
    const opened = await s.impl.openImage({ path: file, role: 'ct' })
    if (opened.kind !== 'image') throw new Error('expected an image')
    const saveFrom = async (template: string) => {
      process.env.TFUS_TEST_PLAN_TEMPLATE = template
      const { runId } = await s.impl.startPlan(request(opened.image.imageId))
      const t0 = Date.now()
      while (!events.some((e) => e.type === 'done' && e.runId === runId)) {
        if (Date.now() - t0 > 20_000) throw new Error('the run did not finish')
        await new Promise((r) => setTimeout(r, 20))
      }
      return (await s.impl.savePlan({ runId })).planId
    }
    const idA = await saveFrom(a)
    const idB = await saveFrom(b)
    const idC = await saveFrom(other)

    const listed = (await s.impl.listPlans({})).plans.find((p) => p.planId === idA)!
    expect(listed).toMatchObject({ version: 1, approved: false, source: 'solver', ppw: expect.any(Number) as number, ct: expect.any(String) as string })

    const cmp = await s.impl.comparePlans({ planIdA: idA, planIdB: idB })
    expect(cmp.a.planId).toBe(idA)
    expect(cmp.b.planId).toBe(idB)
    const peak = cmp.rows.find((r) => r.key === 'peak')!
    expect(peak.unit).toBe('kPa')
    expect(peak.difference).toBeCloseTo((peak.b as number) - (peak.a as number), 9)
    expect(cmp.differenceNote).toBeNull()
    expect(cmp.differenceMaxPa).toBeCloseTo(2 * 119, 3)
    expect(cmp.differenceScalePa).toBe(Math.max(...cmp.rows.filter((r) => r.key === 'peak').flatMap((r) => [r.a as number, r.b as number])) * 1000)
    const diff = await s.impl.getVolume({ volumeId: cmp.differenceVolumeId!, stride: 1 })
    expect(diff.header.dims).toEqual([6, 5, 4])
    const values = new Float32Array(diff.bytes)
    expect([...values].sort((x, y) => x - y)).toEqual(Array.from({ length: 120 }, (_, i) => 2 * i))

    const apart = await s.impl.comparePlans({ planIdA: idA, planIdB: idC })
    expect(apart.differenceVolumeId).toBeNull()
    expect(apart.differenceNote).toMatch(/different grids \(6 x 5 x 4 and 7 x 5 x 4 voxels\): they were planned on different CTs/)
    expect(await rejection(s.impl.comparePlans({ planIdA: idA, planIdB: idA }))).toMatchObject({ code: 'bad-request', field: 'planIdB' })
    expect(await rejection(s.impl.comparePlans({ planIdA: idA, planIdB: '999' }))).toMatchObject({ code: 'not-found' })
    // The scratch folders the fields were read from are gone.
    await new Promise((r) => setTimeout(r, 200))
    const runsLeft = fs.readdirSync(path.join(workDir, 'runs'))
    expect(runsLeft.length).toBeLessThanOrEqual(1) // the newest run's own folder
  })
})

describe('overlay volumes of a result', () => {
  test("the pressure masked to the brain, and the thermal run's peak rise, both on the CT grid", async () => {
    const dims: [number, number, number] = [6, 5, 4]
    const n = dims[0] * dims[1] * dims[2]
    const dir = path.join(root, 'overlay-template')
    writePlanFolder(dir, 21)
    const nifti = (data: Int16Array | Float32Array, datatype: 4 | 16) =>
      gzipSync(
        buildNifti1({
          dims,
          sform: [
            [1, 0, 0, 0],
            [0, 1, 0, 0],
            [0, 0, 1, 0],
          ],
          datatype,
          data,
        }),
      )
    fs.writeFileSync(path.join(dir, PLAN_FILES.pressureCt), nifti(new Float32Array(n).fill(500), 16))
    // Tissue on the "simulation grid": brain (3) in the first half along x, skull (2) in the rest.
    fs.writeFileSync(
      path.join(dir, PLAN_FILES.tissue),
      nifti(
        new Int16Array(n).map((_, i) => (i % dims[0] < 3 ? 3 : 2)),
        4,
      ),
    )
    fs.writeFileSync(
      path.join(dir, PLAN_FILES.temperatureRiseMax),
      nifti(
        new Float32Array(n).map((_, i) => i % dims[0]),
        16,
      ),
    )
    fs.writeFileSync(
      path.join(dir, 'thermal.json'),
      JSON.stringify({
        flags: { thermal: 'within ITRUSST limits' },
        tissues: { brain: { peak_rise_c: 5, peak_temperature_c: 42, cem43_max_min: 0.1, flag: { within: true, criterion: 'rise', text: 'ok' } } },
      }),
    )
    const { s, runId } = await finishedRun(dir)
    const r = await s.impl.getPlanResult({ runId })
    expect(r.brainPressureVolumeId).toBe(`brain-pressure-${runId}`)
    expect(r.temperatureRiseVolumeId).toBe(`temperature-rise-${runId}`)
    const brain = new Float32Array((await s.impl.getVolume({ volumeId: r.brainPressureVolumeId!, stride: 1 })).bytes)
    const rise = new Float32Array((await s.impl.getVolume({ volumeId: r.temperatureRiseVolumeId!, stride: 1 })).bytes)
    // Display volumes are LPS-aligned: the NIfTI's x (RAS R) runs the other way, so count rather than index.
    expect(brain.filter((v) => v === 500).length).toBe(n / 2)
    expect(brain.filter((v) => v === 0).length).toBe(n / 2)
    expect([...new Set(rise)].sort()).toEqual([0, 1, 2, 3, 4, 5])
    // Without a thermal run there is no rise volume.
    const plain = path.join(root, 'overlay-plain')
    writePlanFolder(plain, 22)
    const other = await finishedRun(plain)
    expect((await other.s.impl.getPlanResult({ runId: other.runId })).temperatureRiseVolumeId).toBeNull()
  })
})

describe('export where the planner chooses', () => {
  test('into an existing folder, never over a file already there; a relative, missing or non-folder destination is refused', async () => {
    const { s, runId } = await finishedRun(clinicalTemplate)
    const dest = fs.mkdtempSync(path.join(root, 'dest-'))
    const first = await s.impl.exportPlan({ runId, format: 'brainsight', deidentify: false, destinationDir: dest })
    expect(first.path).toBe(path.join(dest, 'plan-brainsight.txt'))
    expect(fs.statSync(first.path).size).toBe(first.bytes)
    const before = fs.readFileSync(first.path)
    expect(await rejection(s.impl.exportPlan({ runId, format: 'brainsight', deidentify: false, destinationDir: dest }))).toMatchObject({
      code: 'conflict',
      field: 'destinationDir',
      message: expect.stringMatching(/exists already: nothing was overwritten/) as string,
    })
    expect(fs.readFileSync(first.path)).toEqual(before)
    expect(await rejection(s.impl.exportPlan({ runId, format: 'brainsight', deidentify: false, destinationDir: 'relative/folder' }))).toMatchObject({
      code: 'bad-request',
      field: 'destinationDir',
    })
    expect(await rejection(s.impl.exportPlan({ runId, format: 'brainsight', deidentify: false, destinationDir: path.join(dest, 'missing') }))).toMatchObject({
      code: 'not-found',
      field: 'destinationDir',
    })
    expect(fs.existsSync(path.join(dest, 'missing'))).toBe(false)
    expect(await rejection(s.impl.exportPlan({ runId, format: 'brainsight', deidentify: false, destinationDir: first.path }))).toMatchObject({
      code: 'bad-request',
      message: expect.stringMatching(/is not a folder/) as string,
    })
    // Without a destination: the app's exports folder, as before.
    expect((await s.impl.exportPlan({ runId, format: 'brainsight', deidentify: false })).path).toMatch(/exports/)
  })
})

describe('the live preview is honest about its error', () => {
  test("the transducer list says which device has a preview, with the model card's measured error on real CTs", async () => {
    const workDir = fs.mkdtempSync(path.join(root, 'work-'))
    const s = createPlannerService({ host: 'browser', workDir, probeWebGpu: false })
    services.push(s)
    const { transducers } = await s.impl.listTransducers({})
    const bowl = transducers.find((t) => t.id === 'itrusst-bm-bowl')!
    const card = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../../resources/surrogate/model.json'), 'utf8')) as {
      evaluation: { by_source: Record<string, { n: number; peak_error_pct: { median: number } }> }
    }
    expect(bowl.preview).toMatchObject({
      available: true,
      peakErrorPct: card.evaluation.by_source['sample-ct']!.peak_error_pct.median,
      measuredOn: `${card.evaluation.by_source['sample-ct']!.n} held-out cases on a real CT`,
    })
    expect(bowl.preview.peakErrorPct!).toBeGreaterThan(20) // the figure the issue asks to show, not a reassuring confidence
    expect(bowl.text).toMatch(/· live preview$/)
    const others = transducers.filter((t) => t.id !== 'itrusst-bm-bowl')
    expect(others.length).toBeGreaterThan(0)
    for (const t of others) expect(t.preview, t.id).toEqual({ available: false, peakErrorPct: null, focalErrorMm: null, measuredOn: null })
  })
})

describe('the API contract refuses implausible drive and pulse values', () => {
  const base = request('img1')
  const issues = (r: PlanRequest) => {
    const parsed = planRequestSchema.safeParse(r)
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
  }
  test('Isppa 1e9 W/cm2, PRF 0 and overlapping pulses are refused; the defaults pass', () => {
    expect(issues(base)).toEqual([])
    expect(issues({ ...base, drive: { kind: 'isppa-free-water', wPerM2: 1e13 } })[0]).toMatch(/^drive.wPerM2: /)
    expect(issues({ ...base, pulseTiming: { ...base.pulseTiming, prfHz: 0 } })[0]).toMatch(/^pulseTiming.prfHz: /)
    expect(issues({ ...base, pulseTiming: { ...base.pulseTiming, pulseDurationS: 0.2, prfHz: 10 } })[0]).toMatch(
      /^pulseTiming.prfHz: a 200 ms pulse repeated at 10 Hz overlaps the next one/,
    )
  })
})
