/**
 * Registration in the app, through the service (a real createPlannerService): the bundled
 * synthetic T1 registered to the sample CT comes back within 1 mm of its known transform (the
 * same acceptance as `tfus register`), with progress events and a transform the plan run reads;
 * the fused volume is the MRI on the CT's grid (bright where the CT is brain); a plan with a
 * target picked on an MRI is refused until that MRI is registered, and a registration can be
 * cancelled. Colin27 (another person) is reported as not acceptable and refused for planning.
 */
import { afterAll, describe, expect, test } from 'vitest'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createPlannerService } from '../../../electron/app/service.ts'
import { registrationRunId, type ApiEvent, type ImageInfo, type PlanRequest } from '../../../core/contracts/api.ts'
import { applyRigid, boxCorners, invertRigid, rigidFromRowsMm, transformError, withConvention, type RigidTransform } from '../../../core/registration/rigid.ts'
import { rejection } from '../../helpers/rejection.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const SAMPLES = path.join(ROOT, 'resources/samples')
const truthDoc = JSON.parse(fs.readFileSync(path.join(SAMPLES, 'cranium-synthetic-t1.transform.json'), 'utf8')) as { matrix_lps_mm: number[][] }
/** p_ct = M p_t1 (LPS), how the sample was made (resources/samples/PROVENANCE.md). */
const truth = rigidFromRowsMm(truthDoc.matrix_lps_mm, 'MRI', 'CT', 'LPS')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tfus-service-registration-'))
const service = createPlannerService({ host: 'browser', workDir: root, probeWebGpu: false })
const events: ApiEvent[] = []
service.onEvent((e) => events.push(e))
afterAll(async () => {
  await service.dispose()
  fs.rmSync(root, { recursive: true, force: true })
})

async function open(file: string, role: 'ct' | 'mri'): Promise<ImageInfo> {
  const r = await service.impl.openImage({ path: path.join(SAMPLES, file), role })
  if (r.kind !== 'image') throw new Error('expected an image')
  return r.image
}

function request(ct: ImageInfo, mri?: ImageInfo): PlanRequest {
  return {
    ctImageId: ct.imageId,
    ...(mri ? { mriImageId: mri.imageId } : {}),
    targetRasM: [0, 0, 0.03],
    transducerId: 'itrusst-bm-bowl',
    mappingId: 'kplan',
    pointsPerWavelength: 3,
    backend: 'cpu',
    drive: { kind: 'isppa-free-water', wPerM2: 1e4 },
    pulseTiming: { pulseDurationS: 0.02, prfHz: 10, trainDutyCycle: 1 },
  }
}

/** The eight corners of the CT's bounding box (LPS, m): the error's worst case over the whole head. */
function ctCorners(ct: ImageInfo) {
  const far = ct.dims.map((d, k) => ct.originM[k]! + (d - 1) * ct.spacingM[k]! * ct.direction[4 * k]!) as [number, number, number]
  const lo = ct.originM.map((o, k) => Math.min(o, far[k]!)) as [number, number, number]
  const hi = ct.originM.map((o, k) => Math.max(o, far[k]!)) as [number, number, number]
  return boxCorners(lo, hi)
}

describe('registerMri', () => {
  test('the synthetic T1 lands within 1 mm of its known transform; the fused view and the plan use it', { timeout: 240_000 }, async () => {
    const ct = await open('cranium-ct.nii.gz', 'ct')
    const t1 = await open('cranium-synthetic-t1.nii.gz', 'mri')

    // A target picked on an MRI that is not registered yet is refused in words.
    const early = await rejection(service.impl.startPlan(request(ct, t1)))
    expect(early).toMatchObject({
      code: 'bad-request',
      field: 'mriImageId',
      message: expect.stringMatching(/not registered to cranium-ct\.nii\.gz: register the MRI to the CT first/) as string,
    })

    const result = await service.impl.registerMri({ ctImageId: ct.imageId, mriImageId: t1.imageId })
    const found: RigidTransform = { matrix: result.mriToCtRas, from: 'MRI', to: 'CT', convention: 'RAS' }
    // Compared at the CT box's corners taken back into the T1 (the worst case over the whole head), in RAS.
    const points = ctCorners(ct).map((p) => applyRigid(invertRigid(withConvention(truth, 'RAS')), [-p[0], -p[1], p[2]]))
    const error = transformError(found, truth, points)
    console.info(
      `in-app registration: max ${(error.maxTranslationErrorM * 1000).toFixed(2)} mm over the CT's box, ${error.rotationErrorDeg.toFixed(2)} deg, Dice ${result.quality.headDice.toFixed(3)}, ${result.wallS.toFixed(1)} s`,
    )
    expect(error.maxTranslationErrorM).toBeLessThan(0.001)
    expect(error.rotationErrorDeg).toBeLessThan(1)
    expect(result.quality.acceptable).toBe(true)
    expect(result.quality.headDice).toBeGreaterThan(result.quality.headDiceInitial)

    const progress = events.filter((e) => e.type === 'progress' && e.runId === registrationRunId(t1.imageId))
    expect(progress.length).toBeGreaterThan(3)
    expect(events.some((e) => e.type === 'done' && e.runId === registrationRunId(t1.imageId))).toBe(true)

    // The fused volume is on the CT's display grid, and bright (T1 brain) where the CT shows brain.
    const ctVol = await service.impl.getVolume({ volumeId: ct.volumeId, stride: 2 })
    const fused = await service.impl.getVolume({ volumeId: result.fusedVolumeId, stride: 2 })
    expect(fused.header.dims).toEqual(ctVol.header.dims)
    expect(fused.header.originM).toEqual(ctVol.header.originM)
    const ctValues = new Int16Array(ctVol.bytes.slice(0)) // the sample CT is int16
    expect(ctVol.header.dataType).toBe('int16')
    const mriValues =
      fused.header.dataType === 'float32'
        ? new Float32Array(fused.bytes)
        : fused.header.dataType === 'int16'
          ? new Int16Array(fused.bytes)
          : new Uint8Array(fused.bytes)
    let brainBright = 0
    let brainCount = 0
    let airDark = 0
    let airCount = 0
    for (let i = 0; i < ctValues.length; i++) {
      const hu = ctValues[i]!
      if (hu > 20 && hu < 60) {
        brainCount++
        if (mriValues[i]! > 60) brainBright++
      } else if (hu < -900) {
        airCount++
        if (mriValues[i]! < 20) airDark++
      }
    }
    expect(brainBright / brainCount).toBeGreaterThan(0.9)
    expect(airDark / airCount).toBeGreaterThan(0.9)
  })

  test('cancelRegistration stops a registration under way', { timeout: 120_000 }, async () => {
    const ct = await open('cranium-ct.nii.gz', 'ct')
    const t1 = await open('cranium-synthetic-t1.nii.gz', 'mri')
    const pending = service.impl.registerMri({ ctImageId: ct.imageId, mriImageId: t1.imageId })
    const started = performance.now()
    await new Promise<void>((resolve) => {
      const off = service.onEvent((e) => {
        if (e.type === 'progress' && e.runId === registrationRunId(t1.imageId) && (e.fraction ?? 0) > 0.1) {
          off()
          resolve()
        }
      })
    })
    expect(await service.impl.cancelRegistration({ mriImageId: t1.imageId })).toEqual({ cancelled: true })
    expect(await rejection(pending)).toMatchObject({ code: 'cancelled' })
    expect(performance.now() - started).toBeLessThan(15_000)
    expect(await service.impl.cancelRegistration({ mriImageId: t1.imageId })).toEqual({ cancelled: false })
  })

  test('another person (Colin27) is registered but not acceptable, and refused for planning', { timeout: 240_000 }, async () => {
    const ct = await open('cranium-ct.nii.gz', 'ct')
    const colin = await open('colin27-t1.nii.gz', 'mri')
    const result = await service.impl.registerMri({ ctImageId: ct.imageId, mriImageId: colin.imageId })
    expect(result.quality.acceptable).toBe(false)
    expect(result.quality.reasons.join(' ')).toMatch(/outline/)
    const refused = await rejection(service.impl.startPlan(request(ct, colin)))
    expect(refused).toMatchObject({ code: 'bad-request', field: 'mriImageId', message: expect.stringMatching(/looks wrong .*cannot be trusted/) as string })
  })

  test('a CT given as the MRI is refused in words', async () => {
    const ct = await open('cranium-ct.nii.gz', 'ct')
    const ct2 = await open('cranium-ct.nii.gz', 'mri')
    expect(await rejection(service.impl.registerMri({ ctImageId: ct.imageId, mriImageId: ct2.imageId }))).toMatchObject({
      code: 'bad-request',
      message: expect.stringMatching(/is a CT .*not an MRI/) as string,
    })
  })
})
