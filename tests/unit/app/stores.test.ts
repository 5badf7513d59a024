/** Pinia stores of the renderer, each test with a fresh Pinia and a fake API client. */
import { beforeEach, describe, expect, test } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiError, type ImageInfo, type PlannerClient } from '../../../core/contracts/api.ts'
import { setApiClient } from '../../../renderer/src/api/index.ts'
import { usePlanStore } from '../../../renderer/src/stores/plan.ts'
import { useImagesStore } from '../../../renderer/src/stores/images.ts'
import { useViewStore } from '../../../renderer/src/stores/view.ts'
import { useMessagesStore } from '../../../renderer/src/stores/messages.ts'
import { metricRows, resolutionWarning } from '../../../renderer/src/core/metrics-table.ts'
import type { PlanMetricsRecord } from '../../../core/contracts/plan.ts'

const image: ImageInfo = {
  imageId: 'img1', volumeId: 'image-img1', name: 'ct.nii.gz', source: '/x/ct.nii.gz', role: 'ct', modality: 'CT', dims: [4, 4, 4], spacingM: [0.001, 0.001, 0.001], originM: [0, 0, 0],
  direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], orientation: 'LPS', range: [-1000, 2000], valueUnit: 'HU', warnings: ['modality CT inferred'],
}
const transducer = { id: 'bowl', name: 'Bowl', type: 'bowl' as const, frequencyHz: 5e5, rocM: 0.064, apertureM: 0.064, innerApertureM: 0, rings: [], exitPlaneOffsetM: 0.0086, focalRangeM: [0.055, 0.055] as [number, number], text: 'Bowl (500 kHz)' }

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
        p.path === '/dicom' && !p.seriesInstanceUid ? { kind: 'series', folder: '/dicom', series: [{ seriesInstanceUid: '1.2', description: 'head', modality: 'CT', sliceCount: 100 }] } : { kind: 'image', image },
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
    expect(useMessagesStore().messages[0]).toMatchObject({ level: 'error', text: 'Opening /x/broken.nii.gz: path: /x/broken.nii.gz: the file is empty (0 bytes)' })
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
    expect(req).toMatchObject({ ctImageId: 'img1', targetRasM: [0.03, -0.018, 0.0135], transducerId: 'bowl', pointsPerWavelength: 2, backend: 'cpu', drive: { kind: 'isppa-free-water', wPerM2: 1e5 } })
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
    plan.handleEvent({ type: 'error', runId: 'run1', error: { name: 'SimulationInputError', code: 'bad-request', field: 'placement (too-deep)', message: 'the target is 95 mm deep' } })
    expect(plan.status).toBe('failed')
    expect(plan.failure).toBe('The simulation failed: placement (too-deep): the target is 95 mm deep')
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
  const metrics = { peak_pressure_pa: 5e5, peak_position_ras_m: [0, 0, 0], target_ras_m: [0, 0, 0], focal_shift_m: [0, 0, 0.004], focal_shift_length_m: 0.004, fwhm_3db_m: { axial: 0.02, lateral1: 0.004, lateral2: 0.004 }, fwhm_6db_m: { axial: 0.03, lateral1: 0.006, lateral2: 0.006 }, volume_6db_m3: 5e-7, isppa_w_m2: 8e4, ispta_w_m2: 800, duty_cycle: 0.01, mi: 2.3, mi_tc: 0.7, tic: 0.3, free_water_peak_pa: 1e6, insertion_loss_db: 6, skull_thickness_m: 0.006, incidence_angle_deg: 12, exit_plane_to_target_m: 0.05, ppw: 2, source_amplitude_pa: 6e4, warnings: [], flags: { mechanical: 'pass: MI_tc 0.70 <= 1.9 (ITRUSST, MI or MI_tc)', thermal: 'not assessed' } } as unknown as PlanMetricsRecord

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

