/**
 * The thermal model on a plan folder (written by `tfus plan`): reads the pressure and the medium on
 * the simulation grid, runs core/thermal, writes temperature_max.nii.gz, cem43.nii.gz,
 * temperature_rise_max.nii.gz (all on the simulation grid, the geometry of pressure_sim.nii.gz)
 * and thermal.json. `tfus thermal` and `tfus plan --protocol` call runThermalOnPlanFolder.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { PLAN_FILES, planRecord, type PlanRecord } from '../../core/contracts/plan.ts'
import { thermalProtocolRecord, type ThermalProtocolInput, type ThermalProtocolRecord } from '../../core/contracts/thermal-protocol.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'
import type { CouplingModel } from '../../core/thermal/model.ts'
import type { AbsorbedFractionName } from '../../core/thermal/properties.ts'
import { runThermal, type ThermalFieldInputs, type ThermalResult } from '../../core/thermal/run.ts'
import type { Volume } from '../../core/volume/types.ts'
import { readVolume, writeVolume } from '../adapters/volume-io.ts'
import { selectThermalBackend, type ThermalBackendChoice } from '../adapters/thermal-backends.ts'
import { hostMemoryBudget } from '../adapters/host-memory.ts'
import { checkOutputFolder } from '../adapters/output-folder.ts'
import { SOFTWARE_VERSION } from '../adapters/version.ts'

/** The maximum rise map [K] (PLAN_FILES.temperatureRiseMax). */
export const TEMPERATURE_RISE_MAX_FILE = PLAN_FILES.temperatureRiseMax
const NP_PER_M_PER_DB_PER_CM = 100 / 8.685889638
/** Time courses in thermal.json keep at most this many samples (every k-th step, the last kept). */
const MAX_COURSE_SAMPLES = 2000

export interface PlanThermalInputs {
  readonly inputs: ThermalFieldInputs
  readonly plan: PlanRecord
  /** pressure_sim.nii.gz: the grid every output is written on. */
  readonly grid: Volume
}

async function readPlanVolume(planDir: string, file: string): Promise<Volume> {
  const target = path.join(planDir, file)
  try {
    await fs.access(target)
  } catch {
    throw new SimulationInputError(target, 'is missing: the plan folder must come from `tfus plan` (it writes the pressure and medium on the simulation grid)')
  }
  return readVolume(target, { modality: 'OT' })
}

export async function loadPlanThermalInputs(planDir: string): Promise<PlanThermalInputs> {
  const planFile = path.join(planDir, PLAN_FILES.plan)
  let planJson: unknown
  try {
    planJson = JSON.parse(await fs.readFile(planFile, 'utf8'))
  } catch (e) {
    throw new SimulationInputError(planFile, `cannot be read as JSON (${e instanceof Error ? e.message : String(e)})`)
  }
  const parsed = planRecord.safeParse(planJson)
  if (!parsed.success)
    throw new SimulationInputError(planFile, `is not a plan record: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  const [pressure, density, soundSpeed, alpha, tissue] = await Promise.all(
    [PLAN_FILES.pressureSim, PLAN_FILES.density, PLAN_FILES.soundSpeed, PLAN_FILES.alphaDbCm, PLAN_FILES.tissue].map((f) => readPlanVolume(planDir, f)),
  )
  const volumes = { [PLAN_FILES.density]: density!, [PLAN_FILES.soundSpeed]: soundSpeed!, [PLAN_FILES.alphaDbCm]: alpha!, [PLAN_FILES.tissue]: tissue! }
  for (const [file, v] of Object.entries(volumes)) {
    if (v.dims.some((d, i) => d !== pressure!.dims[i]))
      throw new SimulationInputError(
        path.join(planDir, file),
        `is ${v.dims.join('x')}, the simulation grid (pressure_sim.nii.gz) is ${pressure!.dims.join('x')}`,
      )
  }
  const [sx, sy, sz] = pressure!.spacingM
  if (Math.abs(sx - sy) > 1e-6 * sx || Math.abs(sx - sz) > 1e-6 * sx)
    throw new SimulationInputError(
      path.join(planDir, PLAN_FILES.pressureSim),
      `voxels are ${pressure!.spacingM.map((s) => (s * 1000).toFixed(3)).join(' x ')} mm; the thermal model needs the isotropic simulation grid`,
    )
  const labels = tissue!.data instanceof Uint8Array ? tissue!.data : Uint8Array.from(tissue!.data)
  const alphaNpM = Float32Array.from(alpha!.data, (a) => a * NP_PER_M_PER_DB_PER_CM)
  return {
    inputs: {
      dims: [...pressure!.dims] as [number, number, number],
      spacingM: sx,
      labels,
      density: density!.data,
      soundSpeed: soundSpeed!.data,
      alphaNpM,
      pressurePa: pressure!.data,
    },
    plan: parsed.data,
    grid: pressure!,
  }
}

export interface PlanThermalOptions {
  readonly backend?: ThermalBackendChoice
  readonly absorbedFraction?: AbsorbedFractionName
  readonly coupling?: CouplingModel
  /** Pressure multiplier on the plan's drive level, on top of each sonication's drive_scale. */
  readonly driveScale?: number
  readonly signal?: AbortSignal
  /** Stage in words and the fraction done. */
  readonly onProgress?: (message: string, fraction: number) => void
  /** Lines about the backend choice, before the run starts. */
  readonly onNote?: (line: string) => void
  /** Where to write (default: the plan folder). */
  readonly outDir?: string
}

export interface PlanThermalOutcome {
  readonly result: ThermalResult
  readonly thermalJson: Record<string, unknown>
  readonly files: readonly string[]
  readonly notes: readonly string[]
}

function decimate(steps: number): number[] {
  const stride = Math.max(1, Math.ceil((steps + 1) / MAX_COURSE_SAMPLES))
  const keep: number[] = []
  for (let s = 0; s <= steps; s += stride) keep.push(s)
  if (keep[keep.length - 1] !== steps) keep.push(steps)
  return keep
}

const r4 = (x: number) => Number(x.toFixed(4))

export function thermalJsonOf(
  result: ThermalResult,
  plan: PlanRecord,
  grid: Volume,
  protocol: ThermalProtocolRecord,
  driveScale: number,
): Record<string, unknown> {
  const keep = decimate(result.schedule.steps)
  const course = (a: Float32Array) => keep.map((s) => r4(37 + a[s]!))
  return {
    software: SOFTWARE_VERSION,
    grid: {
      name: 'simulation grid (beam-aligned), the geometry of pressure_sim.nii.gz; temperature_max.nii.gz, temperature_rise_max.nii.gz and cem43.nii.gz are on it',
      dims: [...grid.dims],
      spacing_m: grid.spacingM[0],
    },
    drive: {
      plan_source_amplitude_pa: plan.drive.source_amplitude_pa,
      drive_scale: driveScale,
      note: 'temperature rise scales with the square of the pressure (drive_scale^2)',
    },
    protocol,
    timeline: {
      total_s: result.schedule.totalS,
      last_sonication_end_s: result.schedule.lastSonicationEndS,
      cooling_s: result.schedule.totalS - result.schedule.lastSonicationEndS,
      sonications: result.schedule.sonications.map((s) => ({
        index: s.index,
        label: s.label ?? null,
        start_s: s.startS,
        end_s: s.endS,
        drive_scale: s.driveScale,
        pulses_averaged: s.pulsesAveraged,
        pulse_duty_cycle: s.pulseDutyCycle,
        train_duty_cycle: s.trainDutyCycle,
      })),
      steps: result.schedule.steps,
      dt_stable_s: result.dtStableS,
      dt_max_used_s: result.dtMaxUsedS,
    },
    model: result.model,
    tissues: Object.fromEntries(
      result.tissues.map((t) => [
        t.tissue,
        {
          voxels: t.voxels,
          peak_rise_c: r4(t.peakRiseC),
          peak_temperature_c: r4(t.peakTemperatureC),
          time_of_peak_s: r4(t.timeOfPeakS),
          hottest_voxel_ijk: t.hottestVoxel,
          cem43_max_min: t.cem43MaxMin,
          rise_at_end_c: r4(t.riseAtEndC),
          pulse_ripple_bound_c: t.pulseRippleBoundC,
          flag: { within: t.flag.within, criterion: t.flag.criterion, text: t.flag.text },
        },
      ]),
    ),
    time_courses: {
      note: 'temperature [°C] at t_s; hottest_voxel: at the voxel of the tissue with the highest peak; max_over_tissue: the hottest voxel of the tissue at each time',
      t_s: keep.map((s) => r4(result.timesS[s]!)),
      ...Object.fromEntries(
        (['skin', 'skull', 'brain'] as const).map((name) => [
          name,
          { hottest_voxel_c: result.hottestVoxelRise ? course(result.hottestVoxelRise[name]) : null, max_over_tissue_c: course(result.maxOverTissue[name]) },
        ]),
      ),
    },
    flags: {
      thermal: result.flagSummary,
      tissues: result.flags.map((f) => ({ tissue: f.tissue, within: f.within, criterion: f.criterion, text: f.text })),
      citation: result.model.flags_citation,
    },
    backend: result.backend,
    device: result.device,
    wall_s: r4(result.wallS),
  }
}

export async function runThermalOnPlanFolder(
  planDir: string,
  protocolInput: ThermalProtocolInput | ThermalProtocolRecord,
  options: PlanThermalOptions = {},
): Promise<PlanThermalOutcome> {
  const parsedProtocol = thermalProtocolRecord.safeParse(protocolInput)
  if (!parsedProtocol.success)
    throw new SimulationInputError('protocol', parsedProtocol.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))
  const protocol = parsedProtocol.data
  // A bad --out is refused before the run, not after it.
  if (options.outDir) await checkOutputFolder(options.outDir)
  const loaded = await loadPlanThermalInputs(planDir)
  const selected = await selectThermalBackend(options.backend ?? 'auto')
  for (const note of selected.notes) options.onNote?.(note)
  const driveScale = options.driveScale ?? 1
  let result: ThermalResult
  try {
    result = await runThermal(loaded.inputs, protocol, selected.backend, {
      ...(options.absorbedFraction ? { absorbedFraction: options.absorbedFraction } : {}),
      ...(options.coupling ? { coupling: options.coupling } : {}),
      driveScale,
      memory: hostMemoryBudget(),
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (pass, done, total) =>
        options.onProgress?.(
          pass === 1 ? `thermal: maps, step ${done}/${total}` : `thermal: hottest-voxel time courses, step ${done}/${total}`,
          pass === 1 ? (0.67 * done) / total : 0.67 + (0.33 * done) / total,
        ),
    })
  } finally {
    selected.backend.dispose()
  }
  const outDir = options.outDir ?? planDir
  const g = loaded.grid
  const asVolume = (data: Float32Array, description: string): Volume => ({
    data,
    dims: g.dims,
    spacingM: g.spacingM,
    originM: g.originM,
    direction: g.direction,
    meta: { modality: 'OT', seriesDescription: description },
    warnings: [],
  })
  const files = [PLAN_FILES.temperatureMax, PLAN_FILES.cem43, TEMPERATURE_RISE_MAX_FILE, PLAN_FILES.thermal].map((f) => path.join(outDir, f))
  await writeVolume(asVolume(result.temperatureMax, 'maximum temperature [°C], simulation grid'), files[0]!)
  await writeVolume(asVolume(result.cem43, 'thermal dose CEM43 [min], simulation grid'), files[1]!)
  await writeVolume(asVolume(result.maxRise, 'maximum temperature rise [°C], simulation grid'), files[2]!)
  const thermalJson = thermalJsonOf(result, loaded.plan, g, protocol, driveScale)
  const tmp = `${files[3]!}.${process.pid}.tmp`
  await fs.writeFile(tmp, JSON.stringify(thermalJson, null, 2) + '\n')
  await fs.rename(tmp, files[3]!)
  return { result, thermalJson, files, notes: selected.notes }
}

/**
 * Runs `fn`, naming `protocolFile` in the refusals that concern the protocol (its fields, its
 * length against the grid's step): "protocol.json: sonications.0.drive_scale: ...".
 */
export async function namingProtocolFile<T>(protocolFile: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    if (e instanceof SimulationInputError && /^(sonications|cooling_s|protocol)\b/.test(e.field))
      throw new SimulationInputError(`${protocolFile}: ${e.field}`, e.problem)
    throw e
  }
}
