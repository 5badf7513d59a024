/** Pinia stores of the renderer, each test with a fresh Pinia and a fake API client. */
import { beforeEach, describe, expect, test } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiError, type ImageInfo, type PlannerClient } from '../../../core/contracts/api.ts'
import { setApiClient } from '../../../renderer/src/api/index.ts'
import { usePlanStore } from '../../../renderer/src/stores/plan.ts'
import { useImagesStore } from '../../../renderer/src/stores/images.ts'
import { useRegistrationStore } from '../../../renderer/src/stores/registration.ts'
import { useViewStore } from '../../../renderer/src/stores/view.ts'
import { useMessagesStore } from '../../../renderer/src/stores/messages.ts'
import { useCampaignsStore } from '../../../renderer/src/stores/campaigns.ts'
import { metricRows, resolutionWarning } from '../../../renderer/src/lib/metrics-table.ts'
import type { PlanMetricsRecord } from '../../../core/contracts/plan.ts'
import { checkCoordinates, checkField, parseTypedNumber } from '../../../renderer/src/lib/numeric-field.ts'
import { targetRefusal } from '../../../renderer/src/lib/target-check.ts'
import { colorBarModel, decibelsBelowPeak } from '../../../renderer/src/lib/colorbar.ts'
import { sampleNearest } from '../../../renderer/src/lib/sample.ts'
import { metricsFixture, planRecordFixture } from '../db/fixtures.ts'

const image: ImageInfo = {
  imageId: 'img1',
  volumeId: 'image-img1',
  name: 'ct.nii.gz',
  source: '/x/ct.nii.gz',
  role: 'ct',
  modality: 'CT',
  dims: [4, 4, 4],
  spacingM: [0.001, 0.001, 0.001],
  originM: [0, 0, 0],
  direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  orientation: 'LPS',
  range: [-1000, 2000],
  valueUnit: 'HU',
  patient: null,
  warnings: ['modality CT inferred'],
}
const transducer = {
  id: 'bowl',
  name: 'Bowl',
  type: 'bowl' as const,
  frequencyHz: 5e5,
  rocM: 0.064,
  apertureM: 0.064,
  innerApertureM: 0,
  rings: [],
  exitPlaneOffsetM: 0.0086,
  focalRangeM: [0.055, 0.055] as [number, number],
  text: 'Bowl (500 kHz)',
  preview: { available: false, peakErrorPct: null, focalErrorMm: null, measuredOn: null },
}

function fakeClient(over: Partial<Record<keyof PlannerClient, (p: never) => Promise<unknown>>> = {}) {
  const calls: { method: string; params: unknown }[] = []
  const handler: ProxyHandler<object> = {
    get: (_t, method: string) => async (params: unknown) => {
      calls.push({ method, params })
      const f = (over as Record<string, (p: unknown) => Promise<unknown>>)[method]
      if (!f) throw new ApiError('unavailable', `${method} not faked`)
      return f(params)
    },
  }
  setApiClient(new Proxy({}, handler) as PlannerClient)
  return calls
}

beforeEach(() => setActivePinia(createPinia()))

describe('images store', () => {
  test('an opened CT is kept with its warnings shown; a folder with several series asks which', async () => {
    fakeClient({
      openImage: async (p: { path: string; seriesInstanceUid?: string }) =>
        p.path === '/dicom' && !p.seriesInstanceUid
          ? { kind: 'series', folder: '/dicom', series: [{ seriesInstanceUid: '1.2', description: 'head', modality: 'CT', sliceCount: 100 }] }
          : { kind: 'image', image },
    })
    const images = useImagesStore()
    expect(await images.openPath('/dicom')).toBe(true)
    expect(images.seriesChoice?.series).toHaveLength(1)
    expect(images.ct).toBeNull()
    await images.chooseSeries('1.2')
    expect(images.ct?.imageId).toBe('img1')
    expect(images.seriesChoice).toBeNull()
    expect(useMessagesStore().messages.map((m) => m.text)).toEqual(['ct.nii.gz: modality CT inferred'])
  })

  test('a failed import becomes a readable message naming the file', async () => {
    fakeClient({ openImage: async () => Promise.reject(new ApiError('bad-request', '/x/broken.nii.gz: the file is empty (0 bytes)', 'path')) })
    const images = useImagesStore()
    expect(await images.openPath('/x/broken.nii.gz')).toBe(false)
    expect(useMessagesStore().messages[0]).toMatchObject({
      level: 'error',
      text: 'Opening /x/broken.nii.gz: path: /x/broken.nii.gz: the file is empty (0 bytes)',
    })
    expect(await images.openPath('   ')).toBe(false)
  })
})

describe('plan store', () => {
  async function ready() {
    const calls = fakeClient({
      listTransducers: async () => ({ transducers: [transducer], warnings: [] }),
      startPlan: async () => ({ runId: 'run1' }),
      cancelPlan: async () => ({ cancelled: true }),
      getPlanResult: async () => ({ runId: 'run1', planDir: '/p', plan: {}, metrics: {}, pressureVolumeId: 'pressure-run1', thermal: null }),
    })
    useImagesStore().accept({ kind: 'image', image: { ...image, warnings: [] } }, 'ct')
    const plan = usePlanStore()
    await plan.loadTransducers()
    return { plan, calls }
  }

  test('an MRI opened as the CT blocks Simulate, saying why in words', async () => {
    fakeClient({ listTransducers: async () => ({ transducers: [transducer], warnings: [] }) })
    useImagesStore().accept({ kind: 'image', image: { ...image, name: 't1.nii.gz', modality: 'MR', warnings: [] } }, 'ct')
    const plan = usePlanStore()
    await plan.loadTransducers()
    plan.setTarget([0.03, -0.018, 0.0135])
    expect(plan.canStart).toBe(false)
    expect(plan.blockedBecause).toMatch(/^t1\.nii\.gz is an MRI: acoustic planning needs a CT/)
  })

  test('simulate is blocked until CT, target and transducer are there, and says why', async () => {
    fakeClient({ listTransducers: async () => ({ transducers: [], warnings: [] }) })
    const plan = usePlanStore()
    expect(plan.blockedBecause).toBe('import a CT first')
    useImagesStore().accept({ kind: 'image', image: { ...image, warnings: [] } }, 'ct')
    expect(plan.blockedBecause).toMatch(/set a target/)
    plan.setTarget([0.03, -0.018, 0.0135])
    expect(plan.blockedBecause).toBe('choose a transducer')
    expect(await plan.start()).toBe(false)
  })

  test('a run: start with SI parameters, progress, done, result; other runs ignored', async () => {
    const { plan, calls } = await ready()
    plan.setTarget([0.03, -0.018, 0.0135])
    plan.pointsPerWavelength = 2
    plan.backend = 'cpu'
    // An event that arrives before startPlan answers is replayed once the id is known.
    const started = plan.start()
    plan.handleEvent({ type: 'progress', runId: 'run1', stage: 'reading the CT', elapsedS: 0.1 })
    expect(await started).toBe(true)
    expect(plan.progress?.stage).toBe('reading the CT')
    const req = calls.find((c) => c.method === 'startPlan')!.params as Record<string, unknown>
    expect(req).toMatchObject({
      ctImageId: 'img1',
      targetRasM: [0.03, -0.018, 0.0135],
      transducerId: 'bowl',
      pointsPerWavelength: 2,
      backend: 'cpu',
      drive: { kind: 'isppa-free-water', wPerM2: 1e5 },
    })
    plan.handleEvent({ type: 'progress', runId: 'other', stage: 'x', elapsedS: 1 })
    plan.handleEvent({ type: 'progress', runId: 'run1', stage: 'simulating in the head', step: 10, maxSteps: 100, fraction: 0.1, etaS: 90, elapsedS: 5 })
    expect(plan.status).toBe('running')
    expect(plan.progress).toMatchObject({ step: 10, maxSteps: 100, etaS: 90 })
    // The target is locked for the running plan: clicks only move the crosshair (views check plan.running).
    expect(plan.running).toBe(true)
    plan.handleEvent({ type: 'done', runId: 'run1', wallS: 60 })
    await new Promise((r) => setTimeout(r, 0))
    expect(plan.status).toBe('done')
    expect(plan.result?.pressureVolumeId).toBe('pressure-run1')
  })

  test('cancel: the run ends as cancelled, not as a failure', async () => {
    const { plan, calls } = await ready()
    plan.setTarget([0, 0, 0])
    await plan.start()
    await plan.cancel()
    expect(plan.status).toBe('cancelling')
    expect(calls.some((c) => c.method === 'cancelPlan')).toBe(true)
    plan.handleEvent({ type: 'error', runId: 'run1', error: { name: 'AbortError', code: 'cancelled', message: 'the run was cancelled' } })
    expect(plan.status).toBe('cancelled')
    expect(plan.failure).toBeNull()
    expect(useMessagesStore().messages).toHaveLength(0)
  })

  test('a failed run shows the field and the reason', async () => {
    const { plan } = await ready()
    plan.setTarget([0, 0, 0])
    await plan.start()
    plan.handleEvent({
      type: 'error',
      runId: 'run1',
      error: { name: 'SimulationInputError', code: 'bad-request', field: 'placement (too-deep)', message: 'the target is 95 mm deep' },
    })
    expect(plan.status).toBe('failed')
    expect(plan.failure).toBe(
      'The transducer cannot be placed for this target: the target is 95 mm deep. Try: choose an entry closer to the target, or a transducer with a longer focal distance.',
    )
  })
})

describe('plan inputs: undo and redo, stale results, a new image', () => {
  async function withResult(ppw = 2) {
    fakeClient({
      listTransducers: async () => ({ transducers: [transducer, { ...transducer, id: 'bowl2', text: 'Bowl 2' }], warnings: [] }),
      startPlan: async () => ({ runId: 'run1' }),
      cancelPlan: async () => ({ cancelled: true }),
      getPlanResult: async () => ({
        runId: 'run1',
        planDir: '/p',
        plan: planRecordFixture(1),
        metrics: metricsFixture(1),
        pressureVolumeId: 'pressure-run1',
        thermal: null,
      }),
      savePlan: async () => ({ planId: '7' }),
      listPlans: async () => ({ plans: [] }),
    })
    useImagesStore().accept({ kind: 'image', image: { ...image, warnings: [] } }, 'ct')
    const plan = usePlanStore()
    await plan.loadTransducers()
    plan.setTarget([0.03, -0.018, 0.0135])
    plan.pointsPerWavelength = ppw
    await plan.start()
    plan.handleEvent({ type: 'done', runId: 'run1', wallS: 60 })
    await new Promise((r) => setTimeout(r, 0))
    return plan
  }

  test('every input change is one undo step; redo replays it; a new change clears redo', async () => {
    const plan = await withResult()
    const start = plan.inputs
    plan.setTarget([0.01, 0.02, 0.03])
    plan.setEntry([0.07, 0, 0.01])
    plan.isppaFreeWaterWPerM2 = 2e5
    plan.undo()
    expect(plan.isppaFreeWaterWPerM2).toBe(1e5)
    expect(plan.entryRasM).toEqual([0.07, 0, 0.01])
    plan.undo()
    expect(plan.entryRasM).toBeNull()
    plan.undo()
    expect(plan.targetRasM).toEqual(start.targetRasM)
    expect(plan.canRedo).toBe(true)
    plan.redo()
    expect(plan.targetRasM).toEqual([0.01, 0.02, 0.03])
    plan.transducerId = 'bowl2'
    expect(plan.canRedo).toBe(false)
  })

  test('a drag (moves of one gesture) is one undo step; separate placements are separate steps', async () => {
    const plan = await withResult()
    plan.setEntry([0.06, 0, 0.01])
    for (let i = 0; i < 20; i++) plan.setEntry([0.07, i * 1e-3, 0.01], 1)
    plan.undo()
    expect(plan.entryRasM).toEqual([0.06, 0, 0.01])
    plan.undo()
    expect(plan.entryRasM).toBeNull()
  })

  test('a changed input marks the result stale (naming it), blocks save, approve and export; undoing it makes the result current again', async () => {
    const plan = await withResult(6)
    expect(plan.stale).toBe(false)
    expect(plan.approvalBlockedBecause({ approver: 'Dr. A' })).toBe('save the plan first')
    plan.setTarget([0.01, 0.02, 0.03])
    plan.prfHz = 10
    expect(plan.stale).toBe(true)
    expect(plan.staleBecause).toEqual(['target', 'PRF'])
    await plan.save()
    expect(plan.savedPlanId).toBeNull()
    expect(useMessagesStore().messages.at(-1)?.text).toMatch(/^Saving the plan: the results are out of date \(target, PRF changed since the run\)/)
    plan.undo()
    plan.undo()
    expect(plan.stale).toBe(false)
    await plan.save()
    expect(plan.savedPlanId).toBe('7')
    expect(plan.approvalBlockedBecause({ approver: '  ' })).toMatch(/approver's name is empty/)
    expect(plan.approvalBlockedBecause({ approver: 'Dr. A' })).toBeNull()
  })

  test('a 2-ppw result cannot be approved without a reason (the database rule, asked in advance)', async () => {
    const plan = await withResult(2)
    // The fixture plan record says 6 ppw; the result's record is what counts.
    plan.result = { ...plan.result!, plan: { ...plan.result!.plan, simulation: { ...plan.result!.plan.simulation, ppw: 2 } } }
    await plan.save()
    expect(plan.approvalBlockedBecause({ approver: 'Dr. A' })).toMatch(/2 points per wavelength, below the clinical 6/)
    expect(plan.approvalBlockedBecause({ approver: 'Dr. A', overrideReason: 'phantom study, preview accepted' })).toBeNull()
  })

  test('another image clears target, entry, result, status and history', async () => {
    const plan = await withResult()
    plan.setEntry([0.07, 0, 0.01])
    useImagesStore().accept({ kind: 'image', image: { ...image, imageId: 'img2', volumeId: 'image-img2', warnings: [] } }, 'ct')
    await new Promise((r) => setTimeout(r, 0))
    expect([plan.targetRasM, plan.entryRasM, plan.result, plan.status, plan.canUndo, plan.stale]).toEqual([null, null, null, 'idle', false, false])
  })
})

describe('colour bar and sampling', () => {
  test("the colour bar is the overlay's lookup: peak at the top (0 dB), -3 and -6 dB ticks, the threshold at the bottom", () => {
    const m = colorBarModel(150_000, 0.3)
    expect(m.ticks.map((t) => `${t.label}|${t.dB}`)).toEqual(['150 kPa|0.0', '106 kPa|-3.0', '75 kPa|-6.0', '45 kPa|-10.5'])
    expect(m.ticks[0]!.at).toBe(1)
    expect(m.ticks.at(-1)!.at).toBe(0)
    expect(m.gradient).toMatch(/^linear-gradient\(to top, rgb\(128, 0, 0\) 0\.0%, .*rgb\(255, 255, 0\) 100\.0%\)$/)
    // A threshold above -6 dB drops the ticks below it.
    expect(colorBarModel(150_000, 0.6).ticks.map((t) => t.dB)).toEqual(['0.0', '-3.0', '-4.4'])
    expect(decibelsBelowPeak(75_000, 150_000)).toBeCloseTo(-6.02, 2)
  })
  test('the nearest voxel of an LPS point, null outside', () => {
    const header = {
      dims: [2, 2, 2] as [number, number, number],
      spacingM: [0.01, 0.01, 0.01] as [number, number, number],
      originM: [0, 0, 0] as [number, number, number],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as never,
    }
    const values = [0, 1, 2, 3, 4, 5, 6, 7]
    expect(sampleNearest(header, values, [0.011, 0.004, 0.009])).toBe(5)
    expect(sampleNearest(header, values, [0.016, 0, 0])).toBeNull()
  })
})

describe('typed numbers and targets', () => {
  const isppa = { label: 'Isppa', unit: 'W/cm²', min: 0.01, max: 190 }
  test('strict parsing: a decimal comma is a decimal point; letters, hex, groups, empty are errors; no clamping', () => {
    expect(parseTypedNumber('12.5')).toBe(12.5)
    expect(parseTypedNumber(' 12,5 ')).toBe(12.5)
    expect(parseTypedNumber('-30')).toBe(-30)
    expect(parseTypedNumber('1e3')).toBe(1000)
    for (const bad of ['abc', '12a', '0x10', '1.000,5', '1,2,3', '', '.', 'Infinity', 'NaN', '1e999']) expect(parseTypedNumber(bad), bad).toBeNull()
    expect(checkField('abc', isppa)).toEqual({ ok: false, error: 'Isppa: "abc" is not a number (digits, one decimal point or comma, e.g. 12.5)' })
    expect(checkField('-5', isppa)).toEqual({ ok: false, error: 'Isppa: -5 W/cm² is outside the plausible range 0.01 to 190 W/cm²' })
    expect(checkField('1e9', isppa)).toMatchObject({ ok: false })
    expect(checkField('10,5', isppa)).toEqual({ ok: true, value: 10.5 })
    expect(checkCoordinates(['30', '1,5', 'x'], 'Target')).toEqual({ ok: false, error: 'Target S: "x" is not a number (mm, RAS; e.g. -30.5)' })
    expect(checkCoordinates(['30', '1,5', '-2'], 'Target')).toEqual({ ok: true, mm: [30, 1.5, -2] })
  })

  test('a target outside the image, in air or in bone is refused in words', () => {
    // 4x4x4 LPS volume at 10 mm: air, then soft tissue, then bone along i.
    const header = {
      volumeId: 'v',
      dims: [4, 4, 4] as [number, number, number],
      spacingM: [0.01, 0.01, 0.01] as [number, number, number],
      originM: [0, 0, 0] as [number, number, number],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as [number, number, number, number, number, number, number, number, number],
      dataType: 'int16' as const,
      range: [-1000, 1200] as [number, number],
      stride: 1,
    }
    const values = new Int16Array(64).map((_, n) => [-1000, 40, 40, 1200][n % 4]!)
    // RAS (x, y) = -LPS (x, y): voxel i=1, j=1, k=1 is LPS (0.01, 0.01, 0.01), RAS (-0.01, -0.01, 0.01).
    expect(targetRefusal([-0.01, -0.01, 0.01], header as never, values)).toBeNull()
    expect(targetRefusal([0, -0.01, 0.01], header as never, values)).toMatch(/lies outside the head \(-1000 HU there/)
    expect(targetRefusal([-0.03, -0.01, 0.01], header as never, values)).toMatch(/lies in bone \(1200 HU there\)/)
    expect(targetRefusal([-0.05, -0.01, 0.01], header as never, values)).toMatch(/lies outside the CT image/)
  })
})

describe('view store', () => {
  test('presets and custom window', () => {
    const v = useViewStore()
    v.setPreset('bone')
    expect([v.windowWidth, v.windowLevel, v.preset]).toEqual([2000, 500, 'bone'])
    v.setWindow(-5, 10)
    expect([v.windowWidth, v.preset]).toEqual([1, 'custom'])
    const before = v.clickCount
    v.setCrosshair([0.01, 0.02, 0.03])
    expect(v.clickCount).toBe(before + 1)
  })
})

describe('results table', () => {
  const metrics = {
    peak_pressure_pa: 5e5,
    peak_position_ras_m: [0, 0, 0],
    target_ras_m: [0, 0, 0],
    focal_shift_m: [0, 0, 0.004],
    focal_shift_length_m: 0.004,
    fwhm_3db_m: { axial: 0.02, lateral1: 0.004, lateral2: 0.004 },
    fwhm_6db_m: { axial: 0.03, lateral1: 0.006, lateral2: 0.006 },
    volume_6db_m3: 5e-7,
    isppa_w_m2: 8e4,
    ispta_w_m2: 800,
    duty_cycle: 0.01,
    mi: 2.3,
    mi_tc: 0.7,
    tic: 0.3,
    free_water_peak_pa: 1e6,
    insertion_loss_db: 6,
    skull_thickness_m: 0.006,
    incidence_angle_deg: 12,
    exit_plane_to_target_m: 0.05,
    ppw: 2,
    source_amplitude_pa: 6e4,
    warnings: [],
    flags: { mechanical: 'pass: MI_tc 0.70 <= 1.9 (ITRUSST, MI or MI_tc)', thermal: 'not assessed' },
  } as unknown as PlanMetricsRecord

  test('MI passes through MI_tc, thermal is never a pass without a model, low ppw is flagged', () => {
    const rows = Object.fromEntries(metricRows(metrics, false).map((r) => [r.key, r]))
    expect(rows.mi!.flag).toBe('ok')
    expect(rows.thermal).toMatchObject({ value: 'thermal: not assessed', flag: 'warn' })
    expect(rows.ppw!.flag).toBe('warn')
    expect(metricRows({ ...metrics, mi_tc: 2.0 }, false).find((r) => r.key === 'mi')!.flag).toBe('exceeds')
    expect(resolutionWarning(2)).toMatch(/below 6/)
    expect(resolutionWarning(6)).toBeNull()
  })
})

/** A CT on screen, a target, and run1 finished (the fake client answers getPlanResult). */
async function finishedRun() {
  useImagesStore().accept({ kind: 'image', image: { ...image, warnings: [] } }, 'ct')
  const plan = usePlanStore()
  await plan.loadTransducers()
  plan.setTarget([0.01, 0.02, 0.03])
  await plan.start()
  plan.handleEvent({ type: 'done', runId: 'run1', wallS: 1 })
  await new Promise((r) => setTimeout(r, 0))
  return plan
}

describe('registration store', () => {
  const mriImage: ImageInfo = {
    ...image,
    imageId: 'mri1',
    volumeId: 'image-mri1',
    name: 't1.nii.gz',
    role: 'mri',
    modality: 'MR',
    range: [0, 200],
    valueUnit: '',
    warnings: [],
  }
  /** MRI -> CT (RAS, m): a 10 mm shift along +R and a 90 degree turn about S. */
  const mriToCtRas = [0, -1, 0, 0.01, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
  const answer = (acceptable: boolean) => ({
    registrationId: 'reg1',
    ctImageId: 'img1',
    mriImageId: 'mri1',
    mriToCtRas,
    rotationDeg: 90,
    translationMm: [10, 0, 0] as [number, number, number],
    quality: {
      acceptable,
      reasons: acceptable ? [] : ['the head outlines agree poorly'],
      headDice: acceptable ? 0.98 : 0.88,
      headDiceInitial: 0.9,
      coverage: 1,
      nmi: 1.2,
    },
    wallS: 9,
    fusedVolumeId: 'fused-reg1',
  })

  async function registered(acceptable: boolean) {
    const calls = fakeClient({
      listTransducers: async () => ({ transducers: [transducer], warnings: [] }),
      registerMri: async () => answer(acceptable),
      startPlan: async () => ({ runId: 'run1' }),
    })
    const images = useImagesStore()
    images.accept({ kind: 'image', image: { ...image, warnings: [] } }, 'ct')
    images.accept({ kind: 'image', image: mriImage }, 'mri')
    const registration = useRegistrationStore()
    const plan = usePlanStore()
    await plan.loadTransducers()
    await new Promise((r) => setTimeout(r, 0))
    expect(await registration.register()).toBe(true)
    return { calls, images, registration, plan }
  }

  test('a usable registration plans the target through the MRI: startPlan gets the MRI and the target in its RAS', async () => {
    const { calls, registration, plan } = await registered(true)
    expect(registration.usable?.registrationId).toBe('reg1')
    plan.setTarget([0.01, 0.02, 0.03])
    // p_mri = M^-1 p_ct: (0.01, 0.02) - (0.01, 0) = (0, 0.02), turned back by -90 degrees: (0.02, 0).
    expect(registration.ctToMri([0.01, 0.02, 0.03])!.map((v) => Number(v.toFixed(12)))).toEqual([0.02, 0, 0.03])
    expect(await plan.start()).toBe(true)
    const start = calls.find((c) => c.method === 'startPlan')!.params as { mriImageId?: string; targetRasM: number[] }
    expect(start.mriImageId).toBe('mri1')
    expect(start.targetRasM.map((v) => Number(v.toFixed(12)))).toEqual([0.02, 0, 0.03])
  })

  test('a registration that looks wrong is shown but never used to plan; another MRI drops the registration', async () => {
    const { calls, images, registration, plan } = await registered(false)
    expect(registration.current?.quality.acceptable).toBe(false)
    expect(registration.usable).toBeNull()
    expect(registration.ctToMri([0, 0, 0])).toBeNull()
    plan.setTarget([0.01, 0.02, 0.03])
    await plan.start()
    const start = calls.find((c) => c.method === 'startPlan')!.params as { mriImageId?: string; targetRasM: number[] }
    expect(start.mriImageId).toBeUndefined()
    expect(start.targetRasM).toEqual([0.01, 0.02, 0.03])
    images.accept({ kind: 'image', image: { ...mriImage, imageId: 'mri2' } }, 'mri')
    await new Promise((r) => setTimeout(r, 0))
    expect(registration.result).toBeNull()
    expect(registration.status).toBe('idle')
  })

  test('a new registration makes a result out of date ("MRI registration")', async () => {
    const calls = fakeClient({
      listTransducers: async () => ({ transducers: [transducer], warnings: [] }),
      registerMri: async () => answer(true),
      startPlan: async () => ({ runId: 'run1' }),
      getPlanResult: async () => ({ runId: 'run1', planDir: '/p', plan: {}, metrics: {}, pressureVolumeId: 'pressure-run1', thermal: null }),
    })
    const plan = await finishedRun()
    expect(plan.stale).toBe(false)
    useImagesStore().accept({ kind: 'image', image: mriImage }, 'mri')
    await useRegistrationStore().register()
    expect(plan.staleBecause).toEqual(['MRI registration'])
    expect(calls.some((c) => c.method === 'registerMri')).toBe(true)
  })
})

describe('the proposed entry', () => {
  test('adopting the entry the planner proposed keeps the result current and makes it the chosen entry', async () => {
    fakeClient({
      listTransducers: async () => ({ transducers: [transducer], warnings: [] }),
      startPlan: async () => ({ runId: 'run1' }),
      getPlanResult: async () => ({
        runId: 'run1',
        planDir: '/p',
        plan: { ...planRecordFixture(1, null), entry_ras_m: [0.07, 0, 0.02], entry_proposed: true },
        metrics: metricsFixture(1),
        pressureVolumeId: 'pressure-run1',
        thermal: null,
      }),
    })
    const plan = await finishedRun()
    expect(plan.entryRasM).toBeNull()
    plan.adoptProposedEntry()
    expect(plan.entryRasM).toEqual([0.07, 0, 0.02])
    expect(plan.stale).toBe(false)
    // Moving it afterwards is a change like any other.
    plan.setEntry([0.07, 0.01, 0.02])
    expect(plan.staleBecause).toEqual(['entry'])
  })
})

describe('the ruler', () => {
  test('the first click starts a ruler, the second ends it, a third starts a new one', () => {
    const view = useViewStore()
    expect(view.addRulerPoint([0, 0, 0])).toBe(false)
    expect(view.ruler).toEqual({ a: [0, 0, 0], b: null })
    expect(view.addRulerPoint([0.03, 0.04, 0])).toBe(true)
    expect(view.ruler).toEqual({ a: [0, 0, 0], b: [0.03, 0.04, 0] })
    expect(view.addRulerPoint([0.01, 0, 0])).toBe(false)
    expect(view.ruler).toEqual({ a: [0.01, 0, 0], b: null })
  })
})

describe('campaigns store', () => {
  const summary = { dir: '/c/sweep', name: 'sweep', kind: 'scene-sweep' as const, total: 2, done: 1, failed: 0, missing: 1 }
  const tasks = [
    { index: 0, label: 'a', group: 'head 1000', state: 'done' as const, wallS: 3, error: null, peakPressurePa: 1e5 },
    { index: 1, label: 'b', group: 'head 1000', state: 'missing' as const, wallS: null, error: null, peakPressurePa: null },
  ]

  test('open shows the tasks and refreshes the list; a folder that is no campaign is one message; forget drops the one on show', async () => {
    let listed: { dir: string; summary: typeof summary | null; note: string | null }[] = []
    const calls = fakeClient({
      listCampaigns: async () => ({ campaigns: listed }),
      openCampaign: async (p: { dir: string }) => {
        if (p.dir !== summary.dir) throw new ApiError('not-found', `${p.dir}: is not a campaign folder`, 'dir')
        listed = [{ dir: summary.dir, summary, note: null }]
        return { summary, tasks }
      },
      forgetCampaign: async () => ((listed = []), { ok: true }),
    })
    const campaigns = useCampaignsStore()
    expect(await campaigns.open('/c/other')).toBe(false)
    expect(useMessagesStore().messages.at(-1)?.text).toMatch(/Opening the campaign \/c\/other: .*not a campaign folder/)
    expect(campaigns.shownTasks).toEqual([])
    expect(await campaigns.open(summary.dir)).toBe(true)
    expect(campaigns.shownDir).toBe(summary.dir)
    expect(campaigns.shownTasks.map((t) => t.state)).toEqual(['done', 'missing'])
    expect(campaigns.campaigns.map((c) => c.summary?.done)).toEqual([1])
    await campaigns.forget(summary.dir)
    expect(campaigns.shownDir).toBeNull()
    expect(campaigns.campaigns).toEqual([])
    expect(calls.map((c) => c.method)).toEqual(['openCampaign', 'openCampaign', 'listCampaigns', 'forgetCampaign', 'listCampaigns'])
  })

  test("Open on a task asks for that campaign's task and shows it as the plan store's finished run", async () => {
    const calls = fakeClient({
      listTransducers: async () => ({ transducers: [transducer], warnings: [] }),
      listCampaigns: async () => ({ campaigns: [] }),
      openCampaign: async () => ({ summary, tasks }),
      openCampaignTask: async () => ({
        runId: 'run7',
        ct: { ...image, warnings: [] },
        inputs: {
          targetRasM: [0.03, -0.018, 0.0135],
          entryRasM: null,
          transducerId: 'bowl',
          pointsPerWavelength: 2,
          mappingId: 'kplan',
          isppaFreeWaterWPerM2: 1e5,
          pulseDurationS: 0.02,
          prfHz: 5,
          trainDutyCycle: 1,
          thermalProtocolId: '',
        },
      }),
      getPlanResult: async () => ({ runId: 'run7', planDir: '/p', plan: {}, metrics: {}, pressureVolumeId: 'pressure-run7', thermal: null }),
    })
    const campaigns = useCampaignsStore()
    expect(await campaigns.openTask(0)).toBe(false)
    await campaigns.open(summary.dir)
    expect(await campaigns.openTask(0)).toBe(true)
    expect(calls.find((c) => c.method === 'openCampaignTask')?.params).toEqual({ dir: summary.dir, index: 0 })
    const plan = usePlanStore()
    expect(plan.runId).toBe('run7')
    expect(plan.savedPlanId).toBeNull()
    expect(plan.targetRasM).toEqual([0.03, -0.018, 0.0135])
  })
})
