/**
 * Stage 7, write: the plan folder described by `core/contracts/plan.ts` (the CT, the pressure on
 * both grids, the focal region, the medium, the tissue labels, plan.json and metrics.json), into
 * the folder the pipeline renames onto `--out` only when complete. `checkPlanOutDir` is the check
 * of that folder the pipeline makes before any work and again before writing.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { writeVolume } from '../../adapters/volume-io.ts'
import { writeFileAtomic } from '../../adapters/atomic-file.ts'
import { SOFTWARE_VERSION } from '../../adapters/version.ts'
import { TEMPERATURE_RISE_MAX_FILE } from '../thermal-plan.ts'
import type { LoadedSurrogate } from '../../adapters/onnx-runtime.ts'
import type { SurrogatePrediction } from '../../../core/surrogate/predict.ts'
import type { Pose } from '../../../core/planning/placement.ts'
import { getHuMapping, type HuMappingId } from '../../../core/skull/mappings.ts'
import { SimulationInputError } from '../../../core/solver/errors.ts'
import type { Vec3, Volume } from '../../../core/volume/index.ts'
import {
  imageRefOf,
  PLAN_FILES,
  patientRecordOf,
  TISSUE_LABELS,
  planMetricsRecord,
  planRecord,
  type PlanMetricsRecord,
  type PlanRecord,
} from '../../../core/contracts/plan.ts'
import type { PlanInput } from './types.ts'
import type { PlanSetup } from './resolve.ts'
import type { Solved } from './solve.ts'
import { writePlanScene } from '../plan-medium-export.ts'
import { planMediumModel } from './prepare.ts'
import { driveRecordOf } from '../../../core/planning/drive.ts'
import { pulseTimingRecordOf } from '../../../core/planning/metrics.ts'

/** The k-space solver's own version: bump when its numerics change (results are not comparable across it). */
export const SOLVER_VERSION = 'tfus-kspace 1.0'

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
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR')
      throw new SimulationInputError('--out', `${outDir}: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (st) {
    if (!st.isDirectory()) throw new SimulationInputError('--out', `${outDir} is a file, not a folder`)
    const foreign = (await fs.readdir(dir)).filter((name) => !PLAN_FOLDER_ENTRIES.has(name) && !ATOMIC_TEMPORARY.test(name))
    if (foreign.length > 0)
      throw new SimulationInputError(
        '--out',
        `${outDir} already holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}, which is not part of a plan folder: give a new or empty folder (a plan folder is replaced as a whole)`,
      )
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

export interface WriteInput {
  readonly input: PlanInput
  readonly setup: PlanSetup
  readonly ct: Volume
  /** The plan's target in CT RAS and the registration that carried it there (null: none). */
  readonly targetCt: Vec3
  readonly registration: PlanRecord['registration']
  readonly solved: Solved
  /** The model and its last prediction, when the surrogate made the field. */
  readonly surrogate: { readonly model: LoadedSurrogate; readonly prediction: SurrogatePrediction | undefined } | undefined
  /** The image and pipeline warnings that precede the run's own in metrics.warnings. */
  readonly warnings: readonly string[]
  /** performance.now() when the pipeline started: plan.json's wall_s is the whole plan. */
  readonly startedAt: number
}

export interface Written {
  readonly plan: PlanRecord
  readonly metrics: PlanMetricsRecord
  /** The files written, relative to the folder. */
  readonly files: string[]
}

/** Writes every volume, then plan.json and metrics.json (validated), into `outDir`. */
export async function writePlanFolder(outDir: string, w: WriteInput): Promise<Written> {
  const { input, setup, ct, solved } = w
  const { result } = solved
  const device = setup.device
  await fs.mkdir(path.join(outDir, 'medium'), { recursive: true })
  const ctLike = (data: Float32Array | Uint8Array, description: string): Volume => ({
    ...ct,
    data,
    meta: { ...ct.meta, modality: 'OT', seriesDescription: description, valueUnit: '' },
    warnings: [],
  })
  const g = result.domain.gridLps
  const simLike = (data: Float32Array | Uint8Array, description: string): Volume => ({
    data,
    dims: g.dims,
    spacingM: g.spacingM,
    originM: g.originM,
    direction: g.direction,
    meta: { modality: 'OT', seriesDescription: description },
    warnings: [],
  })
  const file = (name: string) => path.join(outDir, name)
  await writeVolume({ ...ct, warnings: [] }, file(PLAN_FILES.ct))
  await writeVolume(ctLike(result.pressureCt, 'pressure amplitude [Pa] on the CT grid'), file(PLAN_FILES.pressureCt))
  await writeVolume(simLike(result.pressureSim, 'pressure amplitude [Pa], simulation grid'), file(PLAN_FILES.pressureSim))
  await writeVolume(ctLike(result.focalMaskCt, '-6 dB focal region'), file(PLAN_FILES.focalMaskCt))
  const med = result.domain.medium
  const asArray = (v: number | Float32Array) => (typeof v === 'number' ? new Float32Array(result.pressureSim.length).fill(v) : v)
  await writeVolume(simLike(asArray(med.soundSpeed), 'sound speed [m/s]'), file(PLAN_FILES.soundSpeed))
  await writeVolume(simLike(asArray(med.density), 'density [kg/m3]'), file(PLAN_FILES.density))
  await writeVolume(
    simLike(
      asArray(med.alphaNpM).map((a) => (a * 8.685889638) / 100),
      'attenuation [dB/cm] at the drive frequency',
    ),
    file(PLAN_FILES.alphaDbCm),
  )
  const d = result.domain
  const tissue = new Uint8Array(d.head.length)
  for (let v = 0; v < tissue.length; v++)
    tissue[v] = !d.head[v] ? TISSUE_LABELS.water : d.skull[v] ? TISSUE_LABELS.skull : d.brain[v] ? TISSUE_LABELS.brain : TISSUE_LABELS.skin
  await writeVolume(simLike(tissue, 'tissue labels: 0 water, 1 skin, 2 skull, 3 brain'), file(PLAN_FILES.tissue))
  // The head run as a scene over those maps: what `tfus export-kwave <plan-dir>` exports.
  await writePlanScene(outDir, device, result, planMediumModel(input.mappingId as HuMappingId, device.frequencyHz).tissues.water)

  const surrogate = w.surrogate
  const prediction = surrogate?.prediction
  const plan = planRecord.parse({
    software: SOFTWARE_VERSION,
    patient: patientRecordOf(ct.meta),
    ct: imageRefOf(input.ctPath, ct.meta),
    target_ras_m: w.targetCt,
    entry_ras_m: [...solved.entry],
    entry_proposed: solved.entryProposed,
    transducer: { id: device.id, frequency_hz: device.frequencyHz, source_file: setup.entryDef.file },
    pose: poseRecordOf(result.placement.pose),
    mapping: { id: input.mappingId, citation: getHuMapping(input.mappingId as HuMappingId).citation },
    simulation: {
      ppw: input.pointsPerWavelength,
      grid_size: [...result.domain.grid.size],
      spacing_m: result.domain.grid.spacingM,
      backend: result.backend,
      device: result.device,
      solver_version: SOLVER_VERSION,
    },
    drive: setup.driveRecord ?? driveRecordOf(setup.drive, result.sourceAmplitudePa),
    pulse_timing: pulseTimingRecordOf(input.pulseTiming),
    registration: w.registration,
    focus_correction: solved.focusCorrection,
    source: surrogate ? 'surrogate' : 'solver',
    surrogate:
      surrogate && prediction
        ? {
            model_version: surrogate.model.manifest.version,
            model_file: surrogate.model.manifestFile,
            provider: prediction.provider,
            confidence: prediction.confidence,
            confidence_low: prediction.low,
            confidence_calibrated: prediction.calibrated,
            expected_peak_error: prediction.expectedPeakError,
            peak_spread: prediction.peakSpread,
            focus_spread_m: prediction.focusSpreadM,
            inference_s: prediction.inferenceS,
          }
        : null,
    // The whole plan (registration and every focus-correction run included), not the last run.
    wall_s: (performance.now() - w.startedAt) / 1000,
  })
  let metrics = planMetricsRecord.parse({ ...result.metrics, warnings: [...w.warnings, ...solved.warnings, ...result.metrics.warnings] })
  if (surrogate && prediction) {
    // Safety numbers from a preview say so where they are read: in the flags themselves.
    const tag = `[surrogate preview, confidence ${prediction.confidence.toFixed(2)}] `
    metrics = planMetricsRecord.parse({
      ...metrics,
      source: 'surrogate',
      confidence: prediction.confidence,
      flags: { mechanical: tag + metrics.flags.mechanical, thermal: tag + metrics.flags.thermal },
    })
  }
  await writeJsonAtomic(file(PLAN_FILES.plan), plan)
  await writeJsonAtomic(file(PLAN_FILES.metrics), metrics)
  const files: string[] = [
    PLAN_FILES.ct,
    PLAN_FILES.pressureCt,
    PLAN_FILES.pressureSim,
    PLAN_FILES.focalMaskCt,
    PLAN_FILES.soundSpeed,
    PLAN_FILES.density,
    PLAN_FILES.alphaDbCm,
    PLAN_FILES.tissue,
    PLAN_FILES.scene,
    PLAN_FILES.plan,
    PLAN_FILES.metrics,
  ]
  return { plan, metrics, files }
}

export function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n')
}
