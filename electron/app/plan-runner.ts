/**
 * A plan from files to a plan folder: read the CT (and the MRI the target was picked on),
 * register, place, simulate (optionally correcting the focus), and write the folder described by
 * `core/contracts/plan.ts`. The CLI (`tfus plan`) and the app's back end both call
 * `runPlanToFolder`; it does its own IO and holds no UI.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { readVolume, writeVolume } from '../adapters/volume-io.ts'
import { readTextInput } from '../adapters/input-file.ts'
import { replaceFolderAtomically, writeFileAtomic } from '../adapters/atomic-file.ts'
import { namingProtocolFile, runThermalOnPlanFolder, TEMPERATURE_RISE_MAX_FILE, type PlanThermalOutcome } from './thermal-plan.ts'
import { loadProtocolFile } from '../adapters/protocols.ts'
import { hostMemoryBudget } from '../adapters/host-memory.ts'
import { checkPlanPointsPerWavelength } from '../../core/solver/limits.ts'
import { checkPlanGrid, planGrid } from '../../core/planning/domain.ts'
import { checkProtocolForGrid } from '../../core/thermal/run.ts'
import type { ThermalProtocolRecord } from '../../core/contracts/protocol.ts'
import type { PlanDevice } from '../../core/planning/run-plan.ts'
import { loadTransducerLibrary } from '../adapters/transducers.ts'
import { selectBackend, type BackendChoice } from '../adapters/solver-backends.ts'
import { loadSurrogate, type LoadedSurrogate, type ProviderChoice } from '../adapters/onnx-runtime.ts'
import { checkSurrogateRequest, SurrogateModelError } from '../../core/surrogate/manifest.ts'
import { poseFeatures, predictField, type SurrogatePrediction } from '../../core/surrogate/predict.ts'
import { REFERENCE_AMPLITUDE_PA, type FieldFromSource, type PreparedPlan } from '../../core/planning/run-plan.ts'
import { registerRigid, isRegistrationError } from '../adapters/registration.ts'
import { runPlan, type DriveLevel, type PlanResult } from '../../core/planning/run-plan.ts'
import { driveFromDeviceSetting } from '../../core/planning/drive.ts'
import { planDevice } from '../../core/planning/device.ts'
import type { Protocol } from '../../core/planning/metrics.ts'
import { PlacementError, type Pose } from '../../core/planning/placement.ts'
import { correctFocus } from '../../core/planning/focus-correction.ts'
import { getHuMapping, isHuMappingId, HU_MAPPING_IDS, type HuMappingId } from '../../core/skull/mappings.ts'
import type { BoneMapping, TissueValues } from '../../core/planning/domain.ts'
import { clampAcousticProperties } from '../../core/skull/clamp.ts'
import { BRAIN, COUPLING_WATER, tissueAlphaNpMAt } from '../../core/skull/tissues.ts'
import { webbProtocolWarning, checkCtCalibration } from '../../core/skull/calibration.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'
import type { Progress } from '../../core/solver/run.ts'
import { RigidTransformError, rigidFromTransformFile, transformFileMatrices, withConvention } from '../../core/registration/rigid.ts'
import { applyAffine } from '../../core/volume/geometry.ts'
import type { Vec3, Volume } from '../../core/volume/index.ts'
import { imageRefOf, PLAN_FILES, patientRecordOf, TISSUE_LABELS, planMetricsRecord, planRecord, type PlanMetricsRecord, type PlanRecord } from '../../core/contracts/plan.ts'
import { SOFTWARE_VERSION } from '../adapters/version.ts'
import { writePlanScene } from './plan-medium-export.ts'

export { SOFTWARE_VERSION } from '../adapters/version.ts'
/** The k-space solver's own version: bump when its numerics change (results are not comparable across it). */
export const SOLVER_VERSION = 'tfus-kspace 1.0'

export type DriveInput = DriveLevel | { readonly kind: 'device-setting'; readonly setting: number }

export interface PlanInput {
  readonly ctPath: string
  /** The T1 the target (and entry) were picked on; registered to the CT unless `registrationPath` is given. */
  readonly mriPath?: string
  /** A `tfus register` transform file (MRI -> CT) to use instead of registering again. */
  readonly registrationPath?: string
  /** How the transform file was made, for plan.json (default: "transform file <path>"). */
  readonly registrationMethod?: string
  /** Target, RAS metres, in the MRI's world when `mriPath` is set, else in the CT's. */
  readonly targetRasM: Vec3
  /** Entry on the scalp, same space as the target; proposed when absent. */
  readonly entryRasM?: Vec3
  readonly transducerId: string
  readonly mappingId: string
  readonly pointsPerWavelength: number
  readonly backend: BackendChoice
  readonly drive: DriveInput
  readonly protocol: Protocol
  readonly maxStandoffM?: number
  /** Move the transducer (re-steer an annular array) until the simulated peak lands on the target. */
  readonly correctFocus?: { readonly maxIterations: number; readonly toleranceM: number }
  /** A sonication protocol file: the thermal model then runs on the plan folder (issue 8). */
  readonly thermalProtocolFile?: string
  readonly outDir: string
  /** Predict the field with the neural surrogate instead of solving (tfus predict, the live preview). */
  readonly engine?: { readonly kind: 'surrogate'; readonly modelFile: string; readonly provider: ProviderChoice; readonly loaded?: LoadedSurrogate }
}

export interface PlanRunHooks {
  readonly signal?: AbortSignal
  /** Stage names are sentences ("simulating in the head"); `progress` during solver runs. */
  readonly onStage?: (stage: string, progress?: Progress) => void
  /** Notes the host should show (backend choice, registration quality). */
  readonly onNote?: (line: string) => void
}

export interface PlanRunOutput {
  readonly plan: PlanRecord
  readonly metrics: PlanMetricsRecord
  readonly result: PlanResult
  readonly files: readonly string[]
  /** The thermal run, when a protocol was given; its flag is in `metrics.flags.thermal`. */
  readonly thermal: { readonly protocolName: string; readonly outcome: PlanThermalOutcome } | null
}


export function poseRecordOf(pose: Pose) {
  return {
    transducer_to_ras: [...pose.transducerToRas],
    convention: 'row-major 4x4: transducer (origin at the apex, +z along the beam, m) to patient RAS (m)',
    apex_ras_m: [...pose.apexRasM] as Vec3,
    axis_ras: [...pose.axisRas] as Vec3,
    standoff_m: pose.standoffM,
    focal_distance_from_apex_m: pose.focalDistanceFromApexM,
  }
}

/**
 * The HU mapping (clamped to physical ranges) and tissue values every plan uses; the surrogate's
 * data generator and its inference build their medium with this same function.
 */
export function planMediumModel(mappingId: HuMappingId, frequencyHz: number, onClamp?: () => void): { mapping: (range: { huMinInSkull: number; huMaxInSkull: number }) => BoneMapping; tissues: TissueValues } {
  const model = getHuMapping(mappingId)
  return {
    mapping: (range) => (hu) => {
      const fixed = clampAcousticProperties(model.map(hu, { frequencyHz, ...range }))
      if (fixed.densityClamped || fixed.soundSpeedClamped) onClamp?.()
      return fixed.properties
    },
    tissues: {
      water: { soundSpeed: COUPLING_WATER.soundSpeed, density: COUPLING_WATER.density, alphaNpM: 0 },
      softTissue: { soundSpeed: BRAIN.soundSpeed, density: BRAIN.density, alphaNpM: tissueAlphaNpMAt(BRAIN, frequencyHz, 1) },
    },
  }
}

/** What a plan folder holds at its top level: an existing --out folder with only these is replaced as a whole. */
const PLAN_FOLDER_ENTRIES = new Set<string>([...Object.values(PLAN_FILES).map((f) => f.split('/')[0]!), TEMPERATURE_RISE_MAX_FILE])
/** Temporaries of atomic-file.ts (`.name.pid.time.tmp[.ext]`) a crashed run may have left. */
const ATOMIC_TEMPORARY = /^\..+\.tmp(\.[a-z.]+)?$/i

/**
 * The output folder is replaced as a whole when the plan is complete (see
 * replaceFolderAtomically), so it is checked before minutes of simulation: it must not lie under
 * a file, and an existing folder may hold only what a plan folder holds (never a user's other
 * files, which the replacement would delete).
 */
export async function checkPlanOutDir(outDir: string): Promise<void> {
  const dir = path.resolve(outDir)
  let st: Awaited<ReturnType<typeof fs.stat>> | undefined
  try {
    st = await fs.stat(dir)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') throw new SimulationInputError('--out', `${outDir}: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (st) {
    if (!st.isDirectory()) throw new SimulationInputError('--out', `${outDir} is a file, not a folder`)
    const foreign = (await fs.readdir(dir)).filter((name) => !PLAN_FOLDER_ENTRIES.has(name) && !ATOMIC_TEMPORARY.test(name))
    if (foreign.length > 0) throw new SimulationInputError('--out', `${outDir} already holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}, which is not part of a plan folder: give a new or empty folder (a plan folder is replaced as a whole)`)
    return
  }
  // Not there yet: the nearest existing ancestor must be a folder to create it in.
  for (let up = path.dirname(dir); ; up = path.dirname(up)) {
    const parent = await fs.stat(up).catch(() => undefined)
    if (parent) {
      if (!parent.isDirectory()) throw new SimulationInputError('--out', `${outDir} cannot be created: ${up} is a file`)
      return
    }
    if (path.dirname(up) === up) return
  }
}

/** The MRI -> CT RAS matrix of a `tfus register` transform file; any fault is one line naming the file. */
async function loadRegistrationFile(file: string): Promise<number[]> {
  const text = await readTextInput(file, 'registration file')
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    throw new SimulationInputError('--registration', `${file} is not valid JSON (${e instanceof Error ? e.message : String(e)})`)
  }
  try {
    return [...withConvention(rigidFromTransformFile(doc, { from: 'MRI', to: 'CT' }), 'RAS').matrix]
  } catch (e) {
    if (e instanceof RigidTransformError) throw new SimulationInputError('--registration', `${file}: ${e.message}`)
    throw e
  }
}

/** The shallowest focus the device can have from its apex [m]: the plan grid reaches at least past it. */
function shallowestFocusFromApexM(device: PlanDevice): number {
  return device.focalRangeM ? device.exitPlaneOffsetM + device.focalRangeM[0] : device.rocM
}

interface CheckedPlanInputs {
  readonly entryDef: Awaited<ReturnType<typeof loadTransducerLibrary>>['transducers'][number]
  readonly device: PlanDevice
  readonly drive: DriveLevel
  readonly driveRecord: ReturnType<typeof driveFromDeviceSetting>['record'] | undefined
  readonly mriToCtRas: number[] | undefined
  readonly thermalProtocol: ThermalProtocolRecord | undefined
}

/**
 * Every input of a plan besides the images, checked before any image is read and anything is
 * computed or written (well under a second): the output folder, the mapping, the resolution,
 * the transducer and drive, the grid the resolution makes (cells and this machine's memory), the
 * MRI's path, the registration file and the thermal protocol (its caps, and its length on the
 * thermal grid). A bad one is one SimulationInputError naming the flag or file.
 */
export async function checkPlanInputs(input: PlanInput, note: (line: string) => void = () => {}): Promise<CheckedPlanInputs> {
  await checkPlanOutDir(input.outDir)
  if (!isHuMappingId(input.mappingId)) throw new SimulationInputError('--mapping', `unknown mapping "${input.mappingId}"; choose one of ${HU_MAPPING_IDS.join(', ')}`)
  checkPlanPointsPerWavelength(input.pointsPerWavelength, '--ppw')
  const library = await loadTransducerLibrary()
  const entryDef = library.transducers.find((t) => t.definition.id === input.transducerId)
  if (!entryDef) {
    // A file of that name that was refused says why, in one line (not "unknown" plus a warning).
    const refused = library.warnings.find((w) => [library.userDir, library.builtinDir].some((dir) => w.startsWith(`${path.join(dir, `${input.transducerId}.json`)}:`)))
    if (refused) throw new SimulationInputError('--transducer', `"${input.transducerId}" cannot be used: ${refused}`)
    throw new SimulationInputError('--transducer', `unknown transducer "${input.transducerId}"; available: ${library.transducers.map((t) => t.definition.id).join(', ')}`)
  }
  for (const w of library.warnings) note(`warning: ${w}`)
  const device = planDevice(entryDef.definition, input.maxStandoffM ? { maxStandoffM: input.maxStandoffM } : {})
  const { drive, record: driveRecord } = input.drive.kind === 'device-setting' ? driveFromDeviceSetting(entryDef.definition, input.drive.setting, entryDef.file) : { drive: input.drive, record: undefined }
  // The smallest grid this device and resolution can make (the focus is at least this deep):
  // a grid that cannot fit is refused now, not after the CT is read and segmented.
  const grid = planGrid({ frequencyHz: device.frequencyHz, pointsPerWavelength: input.pointsPerWavelength, apertureM: device.apertureM, depthFromApexM: shallowestFocusFromApexM(device) })
  checkPlanGrid(grid, input.pointsPerWavelength, input.engine?.kind === 'surrogate' ? undefined : hostMemoryBudget())
  if (input.mriPath) {
    const st = await fs.stat(input.mriPath).catch(() => undefined)
    if (!st) throw new SimulationInputError('--mri', `${input.mriPath}: no such file or folder`)
  }
  const mriToCtRas = input.registrationPath ? await loadRegistrationFile(input.registrationPath) : undefined
  let thermalProtocol: ThermalProtocolRecord | undefined
  if (input.thermalProtocolFile) {
    const file = input.thermalProtocolFile
    thermalProtocol = await loadProtocolFile(file)
    await namingProtocolFile(file, async () => checkProtocolForGrid(thermalProtocol!, grid.spacingM, BRAIN.density))
  }
  return { entryDef, device, drive, driveRecord, mriToCtRas, thermalProtocol }
}

export async function runPlanToFolder(input: PlanInput, hooks: PlanRunHooks = {}): Promise<PlanRunOutput> {
  const started = performance.now()
  const { signal } = hooks
  const note = (line: string) => hooks.onNote?.(line)
  const { entryDef, device, drive, driveRecord, mriToCtRas: registeredMriToCt, thermalProtocol } = await checkPlanInputs(input, note)

  hooks.onStage?.('reading the CT')
  const ct: Volume = await readVolume(input.ctPath, { modality: 'CT', ...(signal ? { signal } : {}) })
  // Reader warnings (uneven slices resampled, gantry tilt) belong to the plan: they go into
  // metrics.warnings, which `tfus plan`, the app and the report all show.
  const warnings: string[] = [...ct.warnings.map((w) => `CT ${input.ctPath}: ${w}`), ...checkCtCalibration(ct).warnings]
  const mapping = getHuMapping(input.mappingId)
  if (input.mappingId === 'webb-ge120-bone') {
    const w = webbProtocolWarning(ct.meta)
    if (w) warnings.push(w)
  }

  // Targets picked on the T1 are carried into CT RAS through the rigid MRI -> CT transform.
  let registration: PlanRecord['registration'] = null
  let targetCt = input.targetRasM
  let entryCt = input.entryRasM
  if (input.mriPath) {
    hooks.onStage?.('reading the MRI')
    const mri = await readVolume(input.mriPath, { modality: 'MR', ...(signal ? { signal } : {}) })
    for (const w of mri.warnings) warnings.push(`MRI ${input.mriPath}: ${w}`)
    let mriToCtRas: number[]
    let method: string
    if (input.registrationPath && registeredMriToCt) {
      mriToCtRas = registeredMriToCt
      method = input.registrationMethod ?? `transform file ${input.registrationPath}`
    } else {
      hooks.onStage?.('registering the MRI to the CT')
      try {
        const r = await registerRigid(ct, mri, { ...(signal ? { signal } : {}), fixedName: input.ctPath, movingName: input.mriPath })
        if (!r.quality.acceptable) throw new SimulationInputError('--mri', `registering ${input.mriPath} to ${input.ctPath} looks wrong (${r.quality.reasons.join('; ')}): check that both images show the same patient and overlap`)
        mriToCtRas = transformFileMatrices(r.transform).matrix_ras_m.flat()
        method = `elastix rigid (Euler), ${r.metric.name} ${r.metric.value.toFixed(3)}, head outline Dice ${r.quality.final.headDice.toFixed(3)}`
        note(`registered the MRI to the CT: ${method}`)
      } catch (e) {
        if (isRegistrationError(e)) throw new SimulationInputError('--mri', e.message)
        throw e
      }
    }
    targetCt = applyAffine(mriToCtRas, input.targetRasM)
    if (input.entryRasM) entryCt = applyAffine(mriToCtRas, input.entryRasM)
    registration = {
      mri: imageRefOf(input.mriPath, mri.meta),
      mri_ras_to_ct_ras: mriToCtRas,
      method,
      target_mri_ras_m: [...input.targetRasM] as Vec3,
    }
  }

  const fHz = device.frequencyHz
  let surrogate: LoadedSurrogate | undefined
  let lastPrediction: SurrogatePrediction | undefined
  let fieldSource: ((prepared: PreparedPlan) => Promise<FieldFromSource>) | undefined
  if (input.engine?.kind === 'surrogate') {
    hooks.onStage?.('loading the surrogate model')
    const model = input.engine.loaded ?? (await loadSurrogate(input.engine.modelFile, input.engine.provider))
    surrogate = model
    for (const n of model.notes) note(n)
    const m = model.manifest
    const file = model.manifestFile
    if (m.free_water.reference_source_amplitude_pa !== REFERENCE_AMPLITUDE_PA) throw new SurrogateModelError(file, `free-water reference amplitude ${m.free_water.reference_source_amplitude_pa} Pa differs from the planner's ${REFERENCE_AMPLITUDE_PA} Pa`)
    // Refuse a device the model was not trained for before any placement work.
    if (device.id !== m.transducer_id) throw new SimulationInputError('--transducer', `${file}: trained for transducer ${m.transducer_id}, not ${device.id}: run the full solver (tfus plan) for this transducer`)
    if (Math.abs(device.frequencyHz - m.frequency_hz) > 1e-6 * m.frequency_hz) throw new SimulationInputError('--transducer', `${file}: trained at ${m.frequency_hz / 1e6} MHz, not ${device.frequencyHz / 1e6} MHz`)
    if (input.mappingId !== m.mapping_id) throw new SimulationInputError('--mapping', `${file}: trained with the ${m.mapping_id} HU mapping, not ${input.mappingId}`)
    if (input.pointsPerWavelength !== m.points_per_wavelength) throw new SurrogateModelError(file, `trained at ${m.points_per_wavelength} points per wavelength, not ${input.pointsPerWavelength}`)
    fieldSource = async (prepared) => {
      const g = prepared.domain.grid
      checkSurrogateRequest(m, { transducerId: device.id, frequencyHz: fHz, mappingId: input.mappingId, gridSize: g.size, spacingM: g.spacingM, originM: g.originM }, file)
      const prediction = await predictField(model.port, m, prepared.domain.medium, model.freeWaterPa, poseFeatures(prepared.placement))
      lastPrediction = prediction
      const warnings = [
        `surrogate preview (model ${m.version}, ${prediction.provider}): a neural-network estimate, not a solve; confidence ${prediction.confidence.toFixed(2)}${prediction.calibrated ? '' : ' (uncalibrated)'}. Confirm the final pose with the full solver (tfus plan)`,
      ]
      if (prediction.low) warnings.push(`low surrogate confidence (${prediction.confidence.toFixed(2)}): the expected peak error is ${(prediction.expectedPeakError * 100).toFixed(0)} %; run the full solver`)
      return { amplitudePa: prediction.amplitudePa, freeWaterPeakPa: m.free_water.peak_pa, backend: 'surrogate', device: `ONNX Runtime (${prediction.provider})`, warnings }
    }
  }
  const selected = surrogate ? { factory: (() => Promise.reject(new Error('no solver in a surrogate run'))) as never, notes: [] } : await selectBackend(input.backend)
  // Which device solves is said when the solver starts, not before placement: a plan refused
  // for its inputs (a target outside the head) then ends in exactly one line.
  let backendNoted = false
  const backendFactory = ((...args: Parameters<typeof selected.factory>) => {
    if (!backendNoted) for (const n of selected.notes) note(n)
    backendNoted = true
    return selected.factory(...args)
  }) as typeof selected.factory
  let clamped = 0
  const freeWaterCache = new Map<string, number>()
  const runOnce = async (aimRasM: Vec3, entryRasM: Vec3 | undefined) => {
    clamped = 0
    try {
      return await runPlan({
        ct,
        targetRasM: targetCt,
        ...(aimRasM !== targetCt ? { aimRasM } : {}),
        ...(entryRasM ? { entryRasM } : {}),
        device,
        mappingId: input.mappingId,
        ...planMediumModel(input.mappingId as HuMappingId, fHz, () => clamped++),
        pointsPerWavelength: input.pointsPerWavelength,
        drive,
        protocol: input.protocol,
        backend: backendFactory,
        freeWaterCache,
        ...(fieldSource ? { fieldSource } : {}),
        ...(signal ? { signal } : {}),
        ...(hooks.onStage ? { onProgress: hooks.onStage } : {}),
        ...(surrogate ? {} : { memory: hostMemoryBudget() }),
      })
    } catch (e) {
      if (e instanceof PlacementError) throw new SimulationInputError(`placement (${e.code})`, e.message)
      // The grid is the resolution's doing: name the flag the user sets.
      if (e instanceof SimulationInputError && e.field === 'grid.size') throw new SimulationInputError('--ppw', `the simulation grid ${e.problem}`)
      if (e instanceof SurrogateModelError) throw new SimulationInputError(e.where, e.message.slice(e.where.length + 2))
      throw e
    }
  }

  let result = await runOnce(targetCt, entryCt)
  // The entry of the plan (CT RAS): the planner's, else the scalp point placement proposed on the
  // first run, which focus correction keeps fixed. Stored in plan.json either way (entry_proposed
  // says which), so the app can adopt it and the exports can carry it.
  const entry: Vec3 = entryCt ?? result.placement.path.scalpPointRasM
  let focusCorrection: PlanRecord['focus_correction'] = null
  if (input.correctFocus) {
    const initialPose = poseRecordOf(result.placement.pose)
    const withPeak = (r: PlanResult) => Object.assign(r, { peakRasM: r.metrics.peak_position_ras_m })
    const corrected = await correctFocus(targetCt, withPeak(result), async (aim, iteration) => {
      hooks.onStage?.(`correcting the focus (iteration ${iteration})`)
      return withPeak(await runOnce(aim, entry))
    }, { ...input.correctFocus, isRefusal: (e) => e instanceof SimulationInputError })
    result = corrected.best
    focusCorrection = {
      initial_pose: initialPose,
      iterations: corrected.iterations,
      residual_m: corrected.residualM,
      initial_shift_m: corrected.initialShiftM,
      steered_focal_distance_m: device.kind === 'annular' ? result.placement.pose.focalDistanceFromApexM : null,
    }
    if (corrected.stoppedBecause) warnings.push(`focus correction stopped: ${corrected.stoppedBecause}; the peak is ${(corrected.residualM * 1000).toFixed(1)} mm from the target`)
  }
  if (clamped > 0) warnings.push(`${clamped} bone voxels had density or sound speed clamped into the physical range`)

  hooks.onStage?.('writing the plan folder')
  const finalDir = path.resolve(input.outDir)
  // Checked again: the folder may have changed during the simulation.
  await checkPlanOutDir(input.outDir)
  // Everything below writes into a temporary folder, renamed onto --out only when complete
  // (plan.json, metrics.json, every volume and the thermal run), so a failure anywhere here
  // (a metrics record that does not validate, a disk error, the thermal model) leaves no
  // complete-looking plan folder behind.
  return replaceFolderAtomically(finalDir, async (outDir): Promise<PlanRunOutput> => {
    await fs.mkdir(path.join(outDir, 'medium'), { recursive: true })
    const ctLike = (data: Float32Array | Uint8Array, description: string): Volume => ({ ...ct, data, meta: { ...ct.meta, modality: 'OT', seriesDescription: description, valueUnit: '' }, warnings: [] })
    const g = result.domain.gridLps
    const simLike = (data: Float32Array | Uint8Array, description: string): Volume => ({ data, dims: g.dims, spacingM: g.spacingM, originM: g.originM, direction: g.direction, meta: { modality: 'OT', seriesDescription: description }, warnings: [] })
    const file = (name: string) => path.join(outDir, name)
    await writeVolume({ ...ct, warnings: [] }, file(PLAN_FILES.ct))
    await writeVolume(ctLike(result.pressureCt, 'pressure amplitude [Pa] on the CT grid'), file(PLAN_FILES.pressureCt))
    await writeVolume(simLike(result.pressureSim, 'pressure amplitude [Pa], simulation grid'), file(PLAN_FILES.pressureSim))
    await writeVolume(ctLike(result.focalMaskCt, '-6 dB focal region'), file(PLAN_FILES.focalMaskCt))
    const med = result.domain.medium
    const asArray = (v: number | Float32Array) => (typeof v === 'number' ? new Float32Array(result.pressureSim.length).fill(v) : v)
    await writeVolume(simLike(asArray(med.soundSpeed), 'sound speed [m/s]'), file(PLAN_FILES.soundSpeed))
    await writeVolume(simLike(asArray(med.density), 'density [kg/m3]'), file(PLAN_FILES.density))
    await writeVolume(simLike(asArray(med.alphaNpM).map((a) => (a * 8.685889638) / 100), 'attenuation [dB/cm] at the drive frequency'), file(PLAN_FILES.alphaDbCm))
    const d = result.domain
    const tissue = new Uint8Array(d.head.length)
    for (let v = 0; v < tissue.length; v++) tissue[v] = !d.head[v] ? TISSUE_LABELS.water : d.skull[v] ? TISSUE_LABELS.skull : d.brain[v] ? TISSUE_LABELS.brain : TISSUE_LABELS.skin
    await writeVolume(simLike(tissue, 'tissue labels: 0 water, 1 skin, 2 skull, 3 brain'), file(PLAN_FILES.tissue))
    // The head run as a scene over those maps: what `tfus export-kwave <plan-dir>` exports.
    await writePlanScene(outDir, device, result, planMediumModel(input.mappingId as HuMappingId, fHz).tissues.water)

    const plan = planRecord.parse({
      software: SOFTWARE_VERSION,
      patient: patientRecordOf(ct.meta),
      ct: imageRefOf(input.ctPath, ct.meta),
      target_ras_m: targetCt,
      entry_ras_m: [...entry],
      entry_proposed: !entryCt,
      transducer: { id: device.id, frequency_hz: device.frequencyHz, source_file: entryDef.file },
      pose: poseRecordOf(result.placement.pose),
      mapping: { id: input.mappingId, citation: mapping.citation },
      simulation: { ppw: input.pointsPerWavelength, grid_size: [...result.domain.grid.size], spacing_m: result.domain.grid.spacingM, backend: result.backend, device: result.device, solver_version: SOLVER_VERSION },
      drive: driveRecord ?? { ...drive, source_amplitude_pa: result.sourceAmplitudePa },
      protocol: { pulse_duration_s: input.protocol.pulseDurationS, prf_hz: input.protocol.prfHz, train_duty_cycle: input.protocol.trainDutyCycle },
      registration,
      focus_correction: focusCorrection,
      source: surrogate ? 'surrogate' : 'solver',
      surrogate:
        surrogate && lastPrediction
          ? {
              model_version: surrogate.manifest.version,
              model_file: surrogate.manifestFile,
              provider: lastPrediction.provider,
              confidence: lastPrediction.confidence,
              confidence_low: lastPrediction.low,
              confidence_calibrated: lastPrediction.calibrated,
              expected_peak_error: lastPrediction.expectedPeakError,
              peak_spread: lastPrediction.peakSpread,
              focus_spread_m: lastPrediction.focusSpreadM,
              inference_s: lastPrediction.inferenceS,
            }
          : null,
      // The whole plan (registration and every focus-correction run included), not the last run.
      wall_s: (performance.now() - started) / 1000,
    })
    let metrics = planMetricsRecord.parse({ ...result.metrics, warnings: [...warnings, ...result.metrics.warnings] })
    if (surrogate && lastPrediction) {
      // Safety numbers from a preview say so where they are read: in the flags themselves.
      const tag = `[surrogate preview, confidence ${lastPrediction.confidence.toFixed(2)}] `
      metrics = planMetricsRecord.parse({ ...metrics, source: 'surrogate', confidence: lastPrediction.confidence, flags: { mechanical: tag + metrics.flags.mechanical, thermal: tag + metrics.flags.thermal } })
    }
    await writeJsonAtomic(file(PLAN_FILES.plan), plan)
    await writeJsonAtomic(file(PLAN_FILES.metrics), metrics)
    let thermal: PlanRunOutput['thermal'] = null
    if (input.thermalProtocolFile && thermalProtocol) {
      // The thermal model on the folder just written; its ITRUSST flag replaces "not assessed".
      // The protocol is the one checked before the acoustics (not read again).
      const protocol = thermalProtocol
      const protocolFile = input.thermalProtocolFile
      hooks.onStage?.('thermal model')
      const outcome = await namingProtocolFile(protocolFile, () => runThermalOnPlanFolder(outDir, protocol, {
        backend: input.backend,
        ...(signal ? { signal } : {}),
        onNote: note,
        // One stage with a fraction (the messages carry step counters, which would read as new stages).
        onProgress: (_message, fraction) => hooks.onStage?.('thermal model', { fraction, step: Math.round(fraction * 1000), maxSteps: 1000, phase: 'steady-state' }),
      }))
      metrics = planMetricsRecord.parse({ ...metrics, flags: { ...metrics.flags, thermal: outcome.result.flagSummary } })
      await writeJsonAtomic(file(PLAN_FILES.metrics), metrics)
      thermal = { protocolName: protocol.name ?? path.basename(input.thermalProtocolFile), outcome }
    }
    const files: string[] = [PLAN_FILES.ct, PLAN_FILES.pressureCt, PLAN_FILES.pressureSim, PLAN_FILES.focalMaskCt, PLAN_FILES.soundSpeed, PLAN_FILES.density, PLAN_FILES.alphaDbCm, PLAN_FILES.tissue, PLAN_FILES.scene, PLAN_FILES.plan, PLAN_FILES.metrics]
    if (thermal) {
      const relative = thermal.outcome.files.map((f) => path.relative(outDir, f))
      files.push(...relative)
      // The thermal run wrote into the temporary folder: report where its files will be.
      thermal = { ...thermal, outcome: { ...thermal.outcome, files: relative.map((f) => path.join(finalDir, f)) } }
    }
    return { plan, metrics, result, files, thermal }
  })
}

function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n')
}
