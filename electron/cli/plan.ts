/**
 * `tfus plan`: CT (+ target, device, mapping) to a simulated plan on disk.
 * Millimetres and W/cm2 at this edge; metres, Pa and W/m2 in the files' JSON.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { readVolume, writeVolume } from '../node/volume-io.ts'
import { loadTransducerLibrary } from '../node/transducers.ts'
import { selectBackend, type BackendChoice } from '../node/solver-backends.ts'
import { runPlan, type DriveLevel } from '../../core/planning/run-plan.ts'
import { planDevice } from '../../core/planning/device.ts'
import { DEFAULT_PROTOCOL, type Protocol } from '../../core/planning/metrics.ts'
import { PlacementError } from '../../core/planning/placement.ts'
import { getHuMapping, isHuMappingId, HU_MAPPING_IDS } from '../../core/skull/mappings.ts'
import { clampAcousticProperties } from '../../core/skull/clamp.ts'
import { BRAIN, COUPLING_WATER, tissueAlphaNpMAt } from '../../core/skull/tissues.ts'
import { webbProtocolWarning, checkCtCalibration } from '../../core/skull/calibration.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'
import { lpsToRas, type Vec3, type Volume } from '../../core/volume/index.ts'

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

export async function commandPlan(args: { positional: string[]; flags: Map<string, string | true> }, signal: AbortSignal, out: (l: string) => void, err: (l: string) => void): Promise<number> {
  const f = args.flags
  const ctPath = f.get('ct')
  const outDir = f.get('out')
  const transducerId = f.get('transducer')
  if (typeof ctPath !== 'string') throw new SimulationInputError('--ct', 'is missing: give the CT file or DICOM folder')
  if (typeof outDir !== 'string') throw new SimulationInputError('--out', 'is missing: give the output folder')
  if (typeof transducerId !== 'string') throw new SimulationInputError('--transducer', 'is missing: see `tfus transducers`')
  if (f.has('mri')) throw new SimulationInputError('--mri', 'targets on an MRI need the CT-MRI registration step, which this build does not run as part of `tfus plan` yet: pick the target in CT coordinates')
  const space = (f.get('space') ?? 'ras') as string
  if (space !== 'ras' && space !== 'lps') throw new SimulationInputError('--space', `must be ras or lps, got ${space}`)
  const toRas = (p: Vec3 | undefined) => (p && space === 'lps' ? lpsToRas(p) : p)
  const target = toRas(parsePoint(f.get('target'), '--target'))
  if (!target) throw new SimulationInputError('--target', 'is missing: x,y,z in mm')
  const entry = toRas(parsePoint(f.get('entry'), '--entry'))
  const mappingId = (f.get('mapping') ?? 'kplan') as string
  if (!isHuMappingId(mappingId)) throw new SimulationInputError('--mapping', `unknown mapping "${mappingId}"; choose one of ${HU_MAPPING_IDS.join(', ')}`)
  const ppw = number(f, 'ppw', 6)!
  const choice = (f.get('backend') ?? 'auto') as BackendChoice
  if (!['auto', 'webgpu', 'cpu'].includes(choice)) throw new SimulationInputError('--backend', `must be auto, webgpu or cpu`)
  const isppaFree = number(f, 'isppa-free-water')
  const isppaTarget = number(f, 'isppa-target')
  if (isppaFree !== undefined && isppaTarget !== undefined) throw new SimulationInputError('--isppa-target', 'give either --isppa-free-water or --isppa-target, not both')
  const drive: DriveLevel =
    isppaFree !== undefined ? { kind: 'isppa-free-water', wPerM2: isppaFree * 1e4 } : isppaTarget !== undefined ? { kind: 'isppa-target', wPerM2: isppaTarget * 1e4 } : { kind: 'source', amplitudePa: number(f, 'source-amplitude-kpa', 60)! * 1000 }
  const protocol: Protocol = {
    pulseDurationS: (number(f, 'pulse-duration-ms') ?? DEFAULT_PROTOCOL.pulseDurationS * 1000) / 1000,
    prfHz: number(f, 'prf-hz') ?? DEFAULT_PROTOCOL.prfHz,
    trainDutyCycle: DEFAULT_PROTOCOL.trainDutyCycle,
  }

  const library = await loadTransducerLibrary()
  for (const w of library.warnings) err(`tfus: warning: ${w}`)
  const entryDef = library.transducers.find((t) => t.definition.id === transducerId)
  if (!entryDef) throw new SimulationInputError('--transducer', `unknown transducer "${transducerId}"; available: ${library.transducers.map((t) => t.definition.id).join(', ')}`)
  const device = planDevice(entryDef.definition, { ...(number(f, 'max-standoff-mm') ? { maxStandoffM: number(f, 'max-standoff-mm')! / 1000 } : {}) })
  const ct: Volume = await readVolume(ctPath, { modality: 'CT' })
  const warnings: string[] = [...checkCtCalibration(ct).warnings]
  const mapping = getHuMapping(mappingId)
  if (mappingId === 'webb-ge120-bone') {
    const w = webbProtocolWarning(ct.meta)
    if (w) warnings.push(w)
  }
  const selected = await selectBackend(choice)
  for (const note of selected.notes) err(`tfus: ${note}`)
  const fHz = device.frequencyHz
  let clamped = 0
  const showProgress = process.stderr.isTTY || f.has('progress')
  let lastStage = ''
  let result
  try {
    result = await runPlan({
      ct,
      targetRasM: target,
      ...(entry ? { entryRasM: entry } : {}),
      device,
      mappingId,
      mapping: (range) => (hu) => {
        const raw = mapping.map(hu, { frequencyHz: fHz, ...range })
        const fixed = clampAcousticProperties(raw)
        if (fixed.densityClamped || fixed.soundSpeedClamped) clamped++
        return fixed.properties
      },
      tissues: {
        water: { soundSpeed: COUPLING_WATER.soundSpeed, density: COUPLING_WATER.density, alphaNpM: 0 },
        softTissue: { soundSpeed: BRAIN.soundSpeed, density: BRAIN.density, alphaNpM: tissueAlphaNpMAt(BRAIN, fHz, 1) },
      },
      pointsPerWavelength: ppw,
      drive,
      protocol,
      backend: selected.factory,
      signal,
      onProgress: (stage, p) => {
        if (!showProgress) return
        if (stage !== lastStage) process.stderr.write(`${lastStage ? '\n' : ''}${stage}`)
        lastStage = stage
        if (p) process.stderr.write(`\r${stage}: step ${p.step}/${p.maxSteps}${p.residual === undefined ? '' : ` residual ${p.residual.toExponential(1)}`}   `)
      },
    })
  } catch (e) {
    if (e instanceof PlacementError) throw new SimulationInputError(`placement (${e.code})`, e.message)
    throw e
  }
  if (showProgress) process.stderr.write('\n')
  if (clamped > 0) warnings.push(`${clamped} bone voxels had density or sound speed clamped into the physical range`)
  const m = result.metrics
  const allWarnings = [...warnings, ...m.warnings]

  await fs.mkdir(path.join(outDir, 'medium'), { recursive: true })
  const ctLike = (data: Float32Array | Uint8Array, description: string): Volume => ({ ...ct, data, meta: { ...ct.meta, modality: 'OT', seriesDescription: description, valueUnit: '' }, warnings: [] })
  const g = result.domain.gridLps
  const simLike = (data: Float32Array, description: string): Volume => ({ data, dims: g.dims, spacingM: g.spacingM, originM: g.originM, direction: g.direction, meta: { modality: 'OT', seriesDescription: description }, warnings: [] })
  await writeVolume(ctLike(result.pressureCt, 'pressure amplitude [Pa] on the CT grid'), path.join(outDir, 'pressure.nii.gz'))
  await writeVolume(simLike(result.pressureSim, 'pressure amplitude [Pa], simulation grid'), path.join(outDir, 'pressure_sim.nii.gz'))
  await writeVolume(ctLike(result.focalMaskCt, '-6 dB focal region'), path.join(outDir, 'focal_6db.nii.gz'))
  const med = result.domain.medium
  const asArray = (v: number | Float32Array) => (typeof v === 'number' ? new Float32Array(result.pressureSim.length).fill(v) : v)
  await writeVolume(simLike(asArray(med.soundSpeed), 'sound speed [m/s]'), path.join(outDir, 'medium/sound_speed.nii.gz'))
  await writeVolume(simLike(asArray(med.density), 'density [kg/m3]'), path.join(outDir, 'medium/density.nii.gz'))
  await writeVolume(simLike(asArray(med.alphaNpM).map((a) => (a * 8.685889638) / 100), 'attenuation [dB/cm] at the drive frequency'), path.join(outDir, 'medium/alpha_db_cm.nii.gz'))
  const plan = {
    software: 'tfus-planner 0.1.0',
    ct: { source: ctPath, frame_of_reference_uid: ct.meta.frameOfReferenceUid ?? null, series_instance_uid: ct.meta.seriesInstanceUid ?? null },
    target_ras_m: target,
    entry_ras_m: entry ?? null,
    entry_proposed: !entry,
    transducer: { id: device.id, frequency_hz: device.frequencyHz, source_file: entryDef.file },
    pose: { transducer_to_ras: result.placement.pose.transducerToRas, convention: 'row-major 4x4: transducer (origin at the apex, +z along the beam, m) to patient RAS (m)', apex_ras_m: result.placement.pose.apexRasM, axis_ras: result.placement.pose.axisRas, standoff_m: result.placement.pose.standoffM, focal_distance_from_apex_m: result.placement.pose.focalDistanceFromApexM },
    mapping: { id: mappingId, citation: mapping.citation },
    simulation: { ppw, grid_size: result.domain.grid.size, spacing_m: result.domain.grid.spacingM, backend: result.backend, device: result.device },
    drive: { ...drive, source_amplitude_pa: result.sourceAmplitudePa },
    protocol: { pulse_duration_s: protocol.pulseDurationS, prf_hz: protocol.prfHz, train_duty_cycle: protocol.trainDutyCycle },
    registration: null,
    wall_s: result.wallS,
  }
  await fs.writeFile(path.join(outDir, 'plan.json'), JSON.stringify(plan, null, 2) + '\n')
  await fs.writeFile(path.join(outDir, 'metrics.json'), JSON.stringify({ ...m, warnings: allWarnings }, null, 2) + '\n')
  const mmv = (v: readonly number[]) => v.map((x) => (x * 1000).toFixed(1)).join(', ')
  out(`transducer ${device.id} at apex (${mmv(result.placement.pose.apexRasM)}) mm RAS, standoff ${(result.placement.pose.standoffM * 1000).toFixed(1)} mm${entry ? '' : ' (entry proposed)'}`)
  out(`peak ${(m.peak_pressure_pa / 1000).toFixed(1)} kPa in the brain at (${mmv(m.peak_position_ras_m)}) mm RAS; focal shift ${(m.focal_shift_length_m * 1000).toFixed(1)} mm`)
  out(`Isppa ${(m.isppa_w_m2 / 1e4).toFixed(2)} W/cm2, Ispta ${(m.ispta_w_m2 / 1e4).toFixed(3)} W/cm2, MI ${m.mi.toFixed(2)}, MI_tc ${m.mi_tc.toFixed(2)}, TIC ${m.tic.toFixed(2)}; insertion loss ${m.insertion_loss_db.toFixed(1)} dB; -6 dB ${(m.fwhm_6db_m.axial * 1000).toFixed(1)} x ${(m.fwhm_6db_m.lateral1 * 1000).toFixed(1)} x ${(m.fwhm_6db_m.lateral2 * 1000).toFixed(1)} mm`)
  out(`skull ${(m.skull_thickness_m * 1000).toFixed(1)} mm at ${m.incidence_angle_deg.toFixed(0)} deg incidence; mechanical: ${m.flags.mechanical}; thermal: ${m.flags.thermal}`)
  for (const w of allWarnings) out(`warning: ${w}`)
  out(`${result.wallS.toFixed(0)} s on ${result.device}; wrote ${outDir}/pressure.nii.gz, pressure_sim.nii.gz, focal_6db.nii.gz, medium/, plan.json, metrics.json`)
  return 0
}
