/**
 * `tfus plan`: CT (+ target, device, mapping) to a simulated plan on disk.
 * Millimetres and W/cm2 at this edge; metres, Pa and W/m2 in the files' JSON.
 */
import { formatDuration, OverallProgress, stageWeights } from '../../core/planning/progress.ts'
import type { BackendChoice } from '../adapters/solver-backends.ts'
import { runPlanPipeline, type DriveInput, type PlanInput } from '../app/pipeline/index.ts'
import { BUNDLED_MODEL, PROVIDER_CHOICES, type ProviderChoice } from '../adapters/onnx-runtime.ts'
import { parseSurrogateManifest } from '../../core/surrogate/manifest.ts'
import { readJsonInput } from '../adapters/input-file.ts'
import { savePlanToStore } from './db.ts'
import { DEFAULT_PULSE_TIMING, type PulseTiming } from '../../core/planning/metrics.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'
import { lpsToRas } from '../../core/math/index.ts'
import { type Vec3 } from '../../core/volume/index.ts'

function parsePoint(text: string | true | undefined, flag: string): Vec3 | undefined {
  if (text === undefined) return undefined
  const parts = typeof text === 'string' ? text.split(',').map(Number) : []
  if (parts.length !== 3 || parts.some((v) => !Number.isFinite(v))) throw new SimulationInputError(flag, `must be three numbers in mm, e.g. 30,-18,14`)
  return parts.map((v) => v / 1000) as unknown as Vec3
}

function number(flags: Map<string, string | true>, name: string, fallback?: number): number | undefined {
  const v = flags.get(name)
  if (v === undefined) return fallback
  const n = Number(v)
  if (typeof v !== 'string' || !Number.isFinite(n) || n <= 0) throw new SimulationInputError(`--${name}`, `must be a positive number, got ${String(v)}`)
  return n
}

export async function commandPlan(
  args: { positional: string[]; flags: Map<string, string | true> },
  signal: AbortSignal,
  out: (l: string) => void,
  err: (l: string) => void,
  engineKind: 'solver' | 'surrogate' = 'solver',
): Promise<number> {
  const f = args.flags
  let engine: PlanInput['engine']
  let modelPpw: number | undefined
  if (engineKind === 'surrogate') {
    const model = f.get('model') ?? BUNDLED_MODEL
    if (model === true) throw new SimulationInputError('--model', 'needs a model.json file')
    const provider = (f.get('provider') ?? 'auto') as ProviderChoice
    if (!PROVIDER_CHOICES.includes(provider)) throw new SimulationInputError('--provider', `must be one of ${PROVIDER_CHOICES.join(', ')}`)
    // The model's resolution is the default: a preview at any other resolution is refused.
    const json = await readJsonInput(model, 'model manifest')
    modelPpw = parseSurrogateManifest(json, model).points_per_wavelength
    engine = { kind: 'surrogate', modelFile: model, provider }
  }
  const ctPath = f.get('ct')
  const outDir = f.get('out')
  const transducerId = f.get('transducer')
  if (typeof ctPath !== 'string') throw new SimulationInputError('--ct', 'is missing: give the CT file or DICOM folder')
  if (typeof outDir !== 'string') throw new SimulationInputError('--out', 'is missing: give the output folder')
  if (typeof transducerId !== 'string') throw new SimulationInputError('--transducer', 'is missing: see `tfus transducers`')
  const mriPath = f.get('mri')
  if (mriPath === true) throw new SimulationInputError('--mri', 'needs the T1 file the target was picked on')
  const registrationPath = f.get('registration')
  if (registrationPath !== undefined && typeof mriPath !== 'string')
    throw new SimulationInputError('--registration', 'only applies with --mri (the transform maps the MRI onto the CT)')
  const space = (f.get('space') ?? 'ras') as string
  if (space !== 'ras' && space !== 'lps') throw new SimulationInputError('--space', `must be ras or lps, got ${space}`)
  const toRas = (p: Vec3 | undefined) => (p && space === 'lps' ? lpsToRas(p) : p)
  const target = toRas(parsePoint(f.get('target'), '--target'))
  if (!target) throw new SimulationInputError('--target', 'is missing: x,y,z in mm')
  const entry = toRas(parsePoint(f.get('entry'), '--entry'))
  const mappingId = (f.get('mapping') ?? 'kplan') as string
  const ppw = number(f, 'ppw', modelPpw ?? 6)!
  const choice = (f.get('backend') ?? 'auto') as BackendChoice
  if (!['auto', 'webgpu', 'cpu'].includes(choice)) throw new SimulationInputError('--backend', `must be auto, webgpu or cpu`)
  const isppaFree = number(f, 'isppa-free-water')
  const isppaTarget = number(f, 'isppa-target')
  const setting = number(f, 'device-setting')
  if ([isppaFree, isppaTarget, setting, number(f, 'source-amplitude-kpa')].filter((v) => v !== undefined).length > 1)
    throw new SimulationInputError('--isppa-target', 'give one drive level: --isppa-free-water, --isppa-target, --device-setting or --source-amplitude-kpa')
  const drive: DriveInput =
    isppaFree !== undefined
      ? { kind: 'isppa-free-water', wPerM2: isppaFree * 1e4 }
      : isppaTarget !== undefined
        ? { kind: 'isppa-target', wPerM2: isppaTarget * 1e4 }
        : setting !== undefined
          ? { kind: 'device-setting', setting }
          : { kind: 'source', amplitudePa: number(f, 'source-amplitude-kpa', 60)! * 1000 }
  const pulseTiming: PulseTiming = {
    pulseDurationS: (number(f, 'pulse-duration-ms') ?? DEFAULT_PULSE_TIMING.pulseDurationS * 1000) / 1000,
    prfHz: number(f, 'prf-hz') ?? DEFAULT_PULSE_TIMING.prfHz,
    trainDutyCycle: DEFAULT_PULSE_TIMING.trainDutyCycle,
  }
  const correctFocus = f.has('correct-focus')
    ? { maxIterations: number(f, 'correct-iterations', 3)!, toleranceM: number(f, 'correct-tolerance-mm', 1)! / 1000 }
    : undefined
  const maxStandoff = number(f, 'max-standoff-mm')

  const showProgress = process.stderr.isTTY || f.has('progress')
  let lastStage = ''
  const started = performance.now()
  const overall = new OverallProgress(
    stageWeights({
      thermal: typeof f.get('protocol') === 'string',
      mri: typeof mriPath === 'string',
      registers: typeof mriPath === 'string' && typeof registrationPath !== 'string',
    }),
  )
  const thermalProtocolFile = f.get('protocol')
  if (thermalProtocolFile === true) throw new SimulationInputError('--protocol', 'needs a thermal protocol file (see resources/protocols/)')
  const {
    plan,
    metrics: m,
    result,
    thermal,
  } = await runPlanPipeline(
    {
      ctPath,
      ...(typeof mriPath === 'string' ? { mriPath } : {}),
      ...(typeof registrationPath === 'string' ? { registrationPath } : {}),
      targetRasM: target,
      ...(entry ? { entryRasM: entry } : {}),
      transducerId,
      mappingId,
      pointsPerWavelength: ppw,
      backend: choice,
      drive,
      pulseTiming,
      ...(maxStandoff ? { maxStandoffM: maxStandoff / 1000 } : {}),
      ...(correctFocus ? { correctFocus } : {}),
      ...(typeof thermalProtocolFile === 'string' ? { thermalProtocolFile } : {}),
      outDir,
      ...(engine ? { engine } : {}),
    },
    {
      signal,
      onNote: (line) => err(`tfus: ${line}`),
      onStage: (stage, p) => {
        if (!showProgress) return
        // One bar for the whole run (core/planning/progress.ts, as the app shows it), redrawn in place.
        const stageFraction = p?.fraction ?? (p?.step !== undefined && p.maxSteps ? p.step / p.maxSteps : undefined)
        const whole = overall.update(stage, stageFraction, (performance.now() - started) / 1000)
        const filled = Math.round(whole.fraction * 20)
        const left = whole.etaS === undefined ? '' : ` · about ${formatDuration(whole.etaS)} left`
        const detail =
          p?.step !== undefined ? `: step ${p.step}/${p.maxSteps}${p.residual === undefined ? '' : ` residual ${p.residual.toExponential(1)}`}` : ''
        process.stderr.write(
          `\r[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${Math.round(whole.fraction * 100)}%${left} · ${stage}${detail}`.padEnd(110).slice(0, 110),
        )
        lastStage = stage
      },
    },
  )
  if (showProgress && lastStage) process.stderr.write('\n')
  const mmv = (v: readonly number[]) => v.map((x) => (x * 1000).toFixed(1)).join(', ')
  if (plan.registration)
    out(`target (${mmv(plan.registration.target_mri_ras_m)}) mm on the MRI -> (${mmv(plan.target_ras_m)}) mm CT RAS (${plan.registration.method})`)
  out(
    `transducer ${plan.transducer.id} at apex (${mmv(plan.pose.apex_ras_m)}) mm RAS, standoff ${(plan.pose.standoff_m * 1000).toFixed(1)} mm${plan.entry_proposed ? ' (entry proposed)' : ''}`,
  )
  if (plan.drive.kind === 'device-setting')
    out(
      `console setting ${plan.drive.setting} ${plan.drive.setting_unit} -> source amplitude ${(plan.drive.source_amplitude_pa / 1000).toFixed(1)} kPa (${plan.drive.calibration_source})`,
    )
  else out(`source amplitude ${(plan.drive.source_amplitude_pa / 1000).toFixed(1)} kPa`)
  const fc = plan.focus_correction
  if (fc)
    out(
      `focus correction: ${fc.iterations} iteration(s), shift ${(fc.initial_shift_m * 1000).toFixed(1)} mm -> residual ${(fc.residual_m * 1000).toFixed(1)} mm; corrected apex (${mmv(plan.pose.apex_ras_m)}) mm RAS${fc.steered_focal_distance_m === null ? '' : `, rings steered to ${(fc.steered_focal_distance_m * 1000).toFixed(1)} mm from the apex`}`,
    )
  out(
    `peak ${(m.peak_pressure_pa / 1000).toFixed(1)} kPa in the brain at (${mmv(m.peak_position_ras_m)}) mm RAS; focal shift ${(m.focal_shift_length_m * 1000).toFixed(1)} mm`,
  )
  out(
    `Isppa ${(m.isppa_w_m2 / 1e4).toFixed(2)} W/cm2, Ispta ${(m.ispta_w_m2 / 1e4).toFixed(3)} W/cm2, MI ${m.mi.toFixed(2)}, MI_tc ${m.mi_tc.toFixed(2)}, TIC ${m.tic.toFixed(2)}; insertion loss ${m.insertion_loss_db.toFixed(1)} dB; -6 dB ${[m.fwhm_6db_m.axial, m.fwhm_6db_m.lateral1, m.fwhm_6db_m.lateral2].map((w) => (w === null ? 'not measured' : (w * 1000).toFixed(1))).join(' x ')} mm`,
  )
  out(
    `skull ${(m.skull_thickness_m * 1000).toFixed(1)} mm at ${m.incidence_angle_deg.toFixed(0)} deg incidence; mechanical: ${m.flags.mechanical}; thermal: ${m.flags.thermal}`,
  )
  if (plan.surrogate)
    out(
      `surrogate: model ${plan.surrogate.model_version}, ${plan.surrogate.provider} execution provider, ${plan.surrogate.inference_s.toFixed(2)} s; confidence ${plan.surrogate.confidence.toFixed(2)}${plan.surrogate.confidence_low ? ' (LOW: run tfus plan to confirm)' : ''}`,
    )
  for (const w of m.warnings) out(`warning: ${w}`)
  out(
    `${plan.wall_s.toFixed(0)} s on ${result.device}; wrote ${outDir}/pressure.nii.gz, pressure_sim.nii.gz, focal_6db.nii.gz, medium/, plan.json, metrics.json`,
  )
  if (thermal) {
    const peaks = thermal.outcome.result.tissues.map((t) => `${t.tissue} +${t.peakRiseC.toFixed(2)} C (CEM43 ${t.cem43MaxMin.toPrecision(2)} min)`).join(', ')
    out(`thermal (${thermal.thermalProtocolName}): peak rise ${peaks}; ${thermal.outcome.result.flagSummary}`)
  }
  if (f.has('save')) {
    const dataDir = f.get('data-dir')
    const note = f.get('note')
    const ref = await savePlanToStore(outDir, { ...(typeof dataDir === 'string' ? { dataDir } : {}), ...(typeof note === 'string' ? { note } : {}) })
    out(`plan id: ${ref.planId} (version ${ref.version})`)
  }
  return 0
}
