/**
 * elastix rigid registration on the bundled samples: the synthetic T1 (made from the CT by a
 * known rigid transform, resources/samples/PROVENANCE.md) must come back within 1 mm and
 * 1 degree; Colin27 (another person) against the CT must be flagged, not silently accepted.
 *
 * Decision for mismatched pairs: elastix always "converges" to something, so the result is
 * judged afterwards. The head outlines (filled foreground masks) of a same-subject pair agree
 * closely (Dice ~0.98 here); another person's head does not (~0.88). registerRigid reports
 * quality.acceptable = false below MIN_HEAD_DICE, and `tfus register` then writes nothing and
 * exits 2 unless --accept-low-quality.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs, existsSync, readFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { readVolume, writeVolume } from '../../../electron/adapters/volume-io.ts'
import { MIN_HEAD_DICE, RegistrationError, registerRigid, type RigidRegistrationResult } from '../../../electron/adapters/registration.ts'
import { boxCorners, rigidFromRowsMm, rigidFromTransformFile, transformError, withConvention, type RigidTransform } from '../../../core/registration/rigid.ts'
import { resampleTrilinear, voxelToWorld, type Vec3, type Volume } from '../../../core/volume/index.ts'
import { cli } from '../../helpers/cli.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const SAMPLES = path.join(ROOT, 'resources/samples')
const CT = path.join(SAMPLES, 'cranium-ct.nii.gz')
const T1 = path.join(SAMPLES, 'cranium-synthetic-t1.nii.gz')
const COLIN = path.join(SAMPLES, 'colin27-t1.nii.gz')

const truthDoc = JSON.parse(readFileSync(path.join(SAMPLES, 'cranium-synthetic-t1.transform.json'), 'utf8')) as { matrix_lps_mm: number[][] }
/** Ground truth, p_ct = M p_t1 in LPS; compared in LPS and (through the file) RAS. */
const truth = rigidFromRowsMm(truthDoc.matrix_lps_mm, 'MRI', 'CT', 'LPS')

let ct: Volume
let t1: Volume
/** Corners of the T1 head's bounding box (T1 world, LPS m): the error's maximum over the box. */
let headBox: Vec3[]
/** T1 voxel centres (LPS m) with brain-like intensities (grey to white matter), every 3rd voxel. */
let brainPoints: Vec3[]

function headBoxAndBrain(v: Volume): { corners: Vec3[]; brain: Vec3[] } {
  const [nx, ny, nz] = v.dims
  const min = [Infinity, Infinity, Infinity]
  const max = [-Infinity, -Infinity, -Infinity]
  const brain: Vec3[] = []
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const value = v.data[i + nx * (j + ny * k)]!
        if (value <= 20) continue
        const p = voxelToWorld(v, [i, j, k])
        for (let a = 0; a < 3; a++) {
          min[a] = Math.min(min[a]!, p[a]!)
          max[a] = Math.max(max[a]!, p[a]!)
        }
        // HU_TO_T1 maps grey matter to ~105 and white matter to ~160 (scripts/build-samples.ts).
        if (value >= 100 && value <= 170 && i % 3 === 0 && j % 3 === 0 && k % 3 === 0) brain.push(p)
      }
  return { corners: boxCorners(min as unknown as Vec3, max as unknown as Vec3), brain }
}

function errors(found: RigidTransform) {
  const box = transformError(found, truth, headBox)
  const brain = transformError(found, truth, brainPoints)
  return { boxMm: box.maxTranslationErrorM * 1000, brainMm: brain.maxTranslationErrorM * 1000, deg: box.rotationErrorDeg }
}

beforeAll(async () => {
  ;[ct, t1] = await Promise.all([readVolume(CT, { modality: 'CT' }), readVolume(T1, { modality: 'MR' })])
  const hb = headBoxAndBrain(t1)
  headBox = hb.corners
  brainPoints = hb.brain
})

describe('registerRigid (elastix, mutual information, Euler)', () => {
  let result: RigidRegistrationResult

  it('recovers the synthetic T1 -> CT transform within 1 mm and 1 degree', async () => {
    const fractions: number[] = []
    result = await registerRigid(ct, t1, { onProgress: (f) => fractions.push(f) })
    const e = errors(result.transformLps)
    const eRas = errors(withConvention(result.transform, 'LPS'))
    console.info(
      `synthetic T1 -> CT: max error ${e.boxMm.toFixed(3)} mm over the head's bounding box (${headBox.length} corners), ` +
        `${e.brainMm.toFixed(3)} mm over ${brainPoints.length} brain points, rotation ${e.deg.toFixed(3)} deg; ` +
        `NMI ${result.metric.value.toFixed(3)} (start ${result.metric.initial.toFixed(3)}), Dice ${result.quality.final.headDice.toFixed(3)}; ` +
        `${result.iterations} iterations, elastix ${result.elastixS.toFixed(1)} s, total ${result.wallTimeS.toFixed(1)} s`,
    )
    expect(e.boxMm).toBeLessThan(1)
    expect(e.brainMm).toBeLessThan(1)
    expect(e.deg).toBeLessThan(1)
    expect(eRas.boxMm).toBeCloseTo(e.boxMm, 9)
    expect(brainPoints.length).toBeGreaterThan(1000)

    expect(result.transform).toMatchObject({ from: 'MRI', to: 'CT', convention: 'RAS' })
    expect(result.transformLps.convention).toBe('LPS')
    expect(result.quality.acceptable).toBe(true)
    expect(result.quality.final.headDice).toBeGreaterThan(MIN_HEAD_DICE)
    expect(result.metric.value).toBeGreaterThan(result.metric.initial)
    expect(result.iterations).toBe(900)
    expect(result.wallTimeS).toBeGreaterThan(result.elastixS)
    expect(fractions.at(-1)).toBe(1)
    fractions.slice(1).forEach((f, i) => expect(f).toBeGreaterThanOrEqual(fractions[i]!))
  })

  it('cancels: an aborted signal stops elastix (its worker) promptly', async () => {
    const controller = new AbortController()
    const started = performance.now()
    const pending = registerRigid(ct, t1, { signal: controller.signal, onProgress: (f) => f > 0.1 && controller.abort() })
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
    expect(performance.now() - started).toBeLessThan(8000)
  })

  it('fails with a typed error naming both files: no overlap, constant image, elastix failure', async () => {
    const far: Volume = { ...t1, originM: [t1.originM[0] + 1, t1.originM[1], t1.originM[2]] }
    const names = { fixedName: 'ct.nii.gz', movingName: 'far-t1.nii.gz' }
    const noOverlap = registerRigid(ct, far, { ...names, initialize: 'none' })
    await expect(noOverlap).rejects.toBeInstanceOf(RegistrationError)
    await expect(noOverlap).rejects.toMatchObject({
      code: 'no-overlap',
      message: expect.stringMatching(/far-t1\.nii\.gz.*ct\.nii\.gz.*do not overlap/) as string,
    })

    const blank: Volume = { ...t1, data: new Int16Array(t1.data.length).fill(7) }
    await expect(registerRigid(ct, blank, names)).rejects.toMatchObject({ code: 'bad-input', message: expect.stringMatching(/constant/) as string })

    // An invalid parameter makes the pipeline abort (itk-wasm release builds give no reason).
    const broken = registerRigid(ct, t1, { ...names, downsampleM: 0.006, parameterOverrides: { Metric: ['NoSuchMetric'] } })
    await expect(broken).rejects.toMatchObject({
      code: 'elastix-failed',
      message: expect.stringMatching(/far-t1\.nii\.gz.*ct\.nii\.gz.*elastix stopped/) as string,
    })
  })
})

describe('tfus register', () => {
  let tmp: string
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-register-'))
  })
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true })
  })

  it('writes MRI -> CT (RAS m, RAS mm, LPS mm) that matches the ground truth', async () => {
    const out = path.join(tmp, 'synthetic.json')
    const run = await cli(['register', '--ct', CT, '--mri', T1, '--out', out])
    expect(run.err).toBe('')
    expect(run.code).toBe(0)
    expect(run.out).toMatch(/MRI -> CT, RAS, millimetres/)
    expect(run.out).toMatch(/quality: .* ok/)
    const doc = JSON.parse(await fs.readFile(out, 'utf8')) as Record<string, unknown>
    expect(doc).toMatchObject({ format: 'tfus-rigid-transform', from: 'MRI', to: 'CT', from_file: T1, to_file: CT })
    const ras = rigidFromTransformFile(doc)
    expect(ras.convention).toBe('RAS')
    const lps = rigidFromTransformFile({ from: 'MRI', to: 'CT', matrix_lps_mm: doc.matrix_lps_mm })
    const e = errors(withConvention(ras, 'LPS'))
    expect(e.boxMm).toBeLessThan(1)
    expect(e.deg).toBeLessThan(1)
    expect(transformError(lps, withConvention(ras, 'LPS'), headBox).maxTranslationErrorM).toBeLessThan(1e-8)
  })

  it('Colin27 (another person) vs the CT: flagged, nothing written, exit 2', async () => {
    const out = path.join(tmp, 'colin.json')
    const run = await cli(['register', '--ct', CT, '--mri', COLIN, '--out', out])
    console.info(`Colin27 -> CT: ${run.err}`)
    expect(run.code).toBe(2)
    expect(run.err).toMatch(/colin27-t1\.nii\.gz.*cranium-ct\.nii\.gz.*looks wrong.*Dice 0\.\d+ < 0\.92/)
    expect(existsSync(out)).toBe(false)
  })

  it('bad input exits 2 with one line: no overlap, missing option, unreadable file', async () => {
    // A small copy of the T1 moved 1 m to the side, registered without centring.
    const small = resampleTrilinear(t1, { dims: [40, 40, 29], spacingM: [0.006, 0.006, 0.006], originM: t1.originM, direction: t1.direction })
    const farFile = path.join(tmp, 'far-t1.nii.gz')
    await writeVolume({ ...small, originM: [small.originM[0] + 1, small.originM[1], small.originM[2]] }, farFile)
    const out = path.join(tmp, 'far.json')
    const far = await cli(['register', '--ct', CT, '--mri', farFile, '--out', out, '--init', 'none'])
    expect(far.code).toBe(2)
    expect(far.err).toMatch(/far-t1\.nii\.gz.*do not overlap/)
    expect(existsSync(out)).toBe(false)

    const missing = await cli(['register', '--ct', CT, '--out', out])
    expect(missing.code).toBe(2)
    expect(missing.err).toMatch(/--mri is missing/)

    const nothing = await cli(['register', '--ct', CT, '--mri', path.join(tmp, 'nope.nii.gz'), '--out', out])
    expect(nothing.code).toBe(2)
    expect(nothing.err).toMatch(/nope\.nii\.gz/)
  })
})
