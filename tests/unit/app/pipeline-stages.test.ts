/**
 * The plan pipeline's stage boundaries (electron/app/pipeline/), each called on its own: the
 * resolve stage refuses each bad input with the flag named, in its fixed order, before any image
 * is read; resolveDevice names the caller's field; the register stage carries the target through
 * the given matrix (and is the identity without an MRI); refusals of core become the command
 * line's words; the hooks reach every stage. End-to-end plans through the pipeline are in
 * tests/integration/planning/plan-cli.test.ts and tests/integration/surrogate/predict-cli.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { resolveDevice, resolvePlanSetup, type PlanInput } from '../../../electron/app/pipeline/index.ts'
import { stageHooks } from '../../../electron/app/pipeline/types.ts'
import { registerToCt } from '../../../electron/app/pipeline/register.ts'
import { asPlanInputError } from '../../../electron/app/pipeline/solve.ts'
import { SimulationInputError } from '../../../core/solver/errors.ts'
import { PlacementError } from '../../../core/planning/placement.ts'
import { SurrogateModelError } from '../../../core/surrogate/manifest.ts'
import { DEFAULT_PULSE_TIMING } from '../../../core/planning/metrics.ts'
import { IDENTITY3, type Volume } from '../../../core/volume/types.ts'
import { rejection } from '../../helpers/rejection.ts'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tfus-pipeline-stages-'))
const savedDataDir = process.env.TFUS_DATA_DIR
beforeAll(() => {
  process.env.TFUS_DATA_DIR = path.join(root, 'data') // no user transducers
})
afterAll(() => {
  if (savedDataDir === undefined) delete process.env.TFUS_DATA_DIR
  else process.env.TFUS_DATA_DIR = savedDataDir
  fs.rmSync(root, { recursive: true, force: true })
})

function input(patch: Partial<PlanInput> = {}): PlanInput {
  return {
    ctPath: path.join(root, 'never-read.nii.gz'),
    targetRasM: [0.03, -0.018, 0.0135],
    transducerId: 'itrusst-bm-bowl',
    mappingId: 'kplan',
    pointsPerWavelength: 6,
    backend: 'cpu',
    drive: { kind: 'isppa-free-water', wPerM2: 1e5 },
    pulseTiming: DEFAULT_PULSE_TIMING,
    outDir: path.join(root, 'out', `plan-${Math.random().toString(16).slice(2)}`),
    ...patch,
  }
}

describe('resolve', () => {
  test('a good request resolves the device and drive, reads no image and writes nothing', async () => {
    const notes: string[] = []
    const setup = await resolvePlanSetup(input(), (l) => notes.push(l))
    expect(setup.device.id).toBe('itrusst-bm-bowl')
    expect(setup.drive).toEqual({ kind: 'isppa-free-water', wPerM2: 1e5 })
    expect(setup.driveRecord).toBeUndefined()
    expect(setup.mriToCtRas).toBeUndefined()
    expect(setup.thermalProtocol).toBeUndefined()
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false)
  })

  test('each bad input is refused naming its flag; the output folder is checked first', async () => {
    const file = path.join(root, 'a-file')
    fs.writeFileSync(file, 'x')
    const field = async (patch: Partial<PlanInput>) => {
      const e = await rejection(resolvePlanSetup(input(patch)))
      expect(e).toBeInstanceOf(SimulationInputError)
      return (e as SimulationInputError).field
    }
    expect(await field({ outDir: file, mappingId: 'nope', transducerId: 'nope' })).toBe('--out')
    expect(await field({ mappingId: 'nope', transducerId: 'nope' })).toBe('--mapping')
    expect(await field({ pointsPerWavelength: 0.5, transducerId: 'nope' })).toBe('--ppw')
    expect(await field({ transducerId: 'nope', mriPath: path.join(root, 'no-mri') })).toBe('--transducer')
    expect(await field({ mriPath: path.join(root, 'no-mri') })).toBe('--mri')
    expect(await field({ mriPath: file, registrationPath: file })).toBe('--registration')
  })

  test('resolveDevice names the field the caller gives, and lists what is available', async () => {
    const e = await rejection(resolveDevice({ transducerId: 'nope' }, { field: 'transducerId' }))
    expect(e).toMatchObject({ field: 'transducerId', message: expect.stringMatching(/unknown transducer "nope"; available: .*itrusst-bm-bowl/) })
    const { device, entryDef } = await resolveDevice({ transducerId: 'itrusst-bm-bowl', maxStandoffM: 0.02 })
    expect(device.id).toBe('itrusst-bm-bowl')
    expect(entryDef.file).toMatch(/itrusst-bm-bowl\.json$/)
  })
})

function volume(): Volume {
  return {
    data: new Float32Array(8),
    dims: [2, 2, 2],
    spacingM: [1e-3, 1e-3, 1e-3],
    originM: [0, 0, 0],
    direction: IDENTITY3,
    meta: { modality: 'MR' },
    warnings: [],
  }
}

describe('register', () => {
  test('without an MRI the target and entry are in CT RAS already', async () => {
    const r = await registerToCt(
      { request: { ctPath: 'ct.nii', targetRasM: [0.01, 0.02, 0.03], entryRasM: [0, 0, 0.09] }, ct: volume(), mri: undefined, mriToCtRas: undefined },
      stageHooks(),
    )
    expect(r).toEqual({ targetCt: [0.01, 0.02, 0.03], entryCt: [0, 0, 0.09], registration: null })
  })

  test("a transform file's matrix carries target and entry into CT RAS, recorded with its method; nothing is registered", async () => {
    const stages: string[] = []
    // 5 mm along x, then 90 degrees about z.
    const m = [0, -1, 0, 0.005, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    const r = await registerToCt(
      {
        request: { ctPath: 'ct.nii', mriPath: 't1.nii', registrationPath: 'mri-to-ct.json', targetRasM: [0.01, 0, 0], entryRasM: [0, 0.02, 0] },
        ct: volume(),
        mri: volume(),
        mriToCtRas: m,
      },
      stageHooks({ onStage: (s) => stages.push(s) }),
    )
    expect(r.targetCt.map((v) => +v.toFixed(9))).toEqual([0.005, 0.01, 0])
    expect(r.entryCt!.map((v) => +v.toFixed(9))).toEqual([-0.015, 0, 0])
    expect(r.registration).toMatchObject({ mri_ras_to_ct_ras: m, method: 'transform file mri-to-ct.json', target_mri_ras_m: [0.01, 0, 0] })
    expect(stages).toEqual([])
  })
})

describe('solve', () => {
  test("core's refusals in the command line's words; anything else passes through", () => {
    expect(asPlanInputError(new PlacementError('too-deep', 'the target is 9 cm deep'))).toMatchObject({
      field: 'placement (too-deep)',
      problem: 'the target is 9 cm deep',
    })
    expect(asPlanInputError(new SimulationInputError('grid.size', 'is 900x900x900 cells'))).toMatchObject({
      field: '--ppw',
      problem: 'the simulation grid is 900x900x900 cells',
    })
    expect(asPlanInputError(new SurrogateModelError('model.json', 'grid differs'))).toMatchObject({ field: 'model.json', problem: 'grid differs' })
    const other = new Error('disk full')
    expect(asPlanInputError(other)).toBe(other)
  })

  test('stageHooks: stages, progress, notes and the signal pass through; absent hooks are no-ops', () => {
    const seen: unknown[] = []
    const controller = new AbortController()
    const h = stageHooks({ signal: controller.signal, onStage: (s, p) => seen.push([s, p?.step]), onNote: (l) => seen.push(l) })
    h.onStage('simulating in the head', { fraction: 0.3, step: 3, maxSteps: 10, phase: 'steady-state' })
    h.note('backend: cpu')
    expect(seen).toEqual([['simulating in the head', 3], 'backend: cpu'])
    expect(h.signal).toBe(controller.signal)
    expect(() => stageHooks().onStage('x')).not.toThrow()
  })
})
