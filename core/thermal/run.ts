/**
 * A thermal run: the protocol's schedule on a ThermalProblem through a backend, then per-tissue
 * peaks, times, time courses, CEM43 and the ITRUSST flags.
 *
 * Two passes: the first records the maps and, after every step, the maximum rise over each of
 * skin, skull and brain; the hottest voxel of each tissue is known only then, so a second pass
 * (same steps, no maps) records the time course at those three voxels. Both are exact runs of
 * the same scheme; the second costs about half the first (no dose integration).
 *
 * Drive level: the source is quadratic in pressure, so a protocol's drive_scale s (and the
 * run's driveScale) multiply the heating by s^2; the rise, being linear in the source, scales
 * by s^2 too (a test checks it on the sample plan).
 */
import { TISSUE_LABELS } from '../contracts/plan.ts'
import type { ThermalProtocolRecord } from '../contracts/thermal-protocol.ts'
import { SimulationInputError, SimulationNumericalError } from '../solver/errors.ts'
import type { ThermalBackend } from './backend.ts'
import { CEM43_VARIANT } from './cem43.ts'
import { flagTissue, thermalFlagSummary, ITRUSST_CITATION, type FlaggedTissue, type ThermalFlag } from './flags.ts'
import { buildThermalProblem, COUPLING_DESCRIPTIONS, HELD, TRACKED_LABELS, type CouplingModel, type ThermalProblem } from './model.ts'
import {
  ABSORBED_FRACTIONS,
  BODY_TEMPERATURE_C,
  BLOOD,
  ITIS_CITATION,
  PLAN_THERMAL_MATERIALS,
  perfusionRatePerS,
  type AbsorbedFractionName,
} from './properties.ts'
import { buildSchedule, checkScheduleSize, type HeatingSchedule } from './schedule.ts'
import { checkThermalGrid, MAX_DRIVE_SCALE, MAX_PRESSURE_PA } from './limits.ts'
import type { MemoryBudget } from '../solver/limits.ts'

export interface ThermalFieldInputs {
  readonly dims: readonly [number, number, number]
  readonly spacingM: number
  /** TISSUE_LABELS per voxel. */
  readonly labels: Uint8Array
  readonly density: ArrayLike<number>
  readonly soundSpeed: ArrayLike<number>
  readonly alphaNpM: ArrayLike<number>
  /** Pressure amplitude [Pa] at the plan's drive level. */
  readonly pressurePa: ArrayLike<number>
}

export interface ThermalOptions {
  readonly absorbedFraction?: AbsorbedFractionName
  readonly coupling?: CouplingModel
  /** Extra pressure multiplier on top of each sonication's drive_scale (default 1). */
  readonly driveScale?: number
  /** Fraction of the stable step used (default 0.95). */
  readonly stepFraction?: number
  /** Run the second pass for the hottest voxels' time courses (default true). */
  readonly hottestVoxelCourses?: boolean
  readonly signal?: AbortSignal
  readonly onProgress?: (pass: 1 | 2, done: number, total: number) => void
  /** What the run may allocate on this machine (the host measures it; core cannot). */
  readonly memory?: MemoryBudget
}

export interface TissueThermalSummary {
  readonly tissue: FlaggedTissue
  readonly voxels: number
  readonly peakRiseC: number
  readonly peakTemperatureC: number
  /** When the tissue's hottest voxel peaked [s from the start]. */
  readonly timeOfPeakS: number
  readonly hottestVoxel: readonly [number, number, number] | null
  readonly cem43MaxMin: number
  /** Rise at the end of the simulated time (after the cooling) [K]. */
  readonly riseAtEndC: number
  /** Upper bound of the within-train sawtooth that pulse averaging leaves out [K] (0 when no averaging). */
  readonly pulseRippleBoundC: number
  readonly flag: ThermalFlag
}

export interface ThermalResult {
  readonly maxRise: Float32Array
  readonly temperatureMax: Float32Array
  readonly cem43: Float32Array
  readonly schedule: HeatingSchedule
  readonly dtStableS: number
  readonly dtMaxUsedS: number
  /** Time of each recorded sample [s]: 0 and the end of every step. */
  readonly timesS: Float64Array
  readonly tissues: readonly TissueThermalSummary[]
  /** Per tissue, the maximum rise over the tissue at each time [K]. */
  readonly maxOverTissue: Readonly<Record<FlaggedTissue, Float32Array>>
  /** Per tissue, the rise at its hottest voxel at each time [K] (null when the second pass was skipped). */
  readonly hottestVoxelRise: Readonly<Record<FlaggedTissue, Float32Array>> | null
  readonly flags: readonly ThermalFlag[]
  readonly flagSummary: string
  readonly model: ThermalModelDescription
  readonly backend: string
  readonly device: string
  readonly wallS: number
}

/** The model's choices, as thermal.json records them (snake_case, as the plan files). */
export interface ThermalModelDescription {
  readonly equation: string
  readonly heat_source: string
  readonly absorbed_fraction: { readonly name: AbsorbedFractionName; readonly by_tissue: Record<string, number>; readonly citation: string }
  readonly tissue_properties: {
    readonly table: Record<string, { conductivity_w_mk: number; specific_heat_j_kgk: number; perfusion_ml_min_kg: number; perfusion_rate_per_s: number }>
    readonly density: string
    readonly citation: string
  }
  readonly blood: { readonly density_kg_m3: number; readonly specific_heat_j_kgk: number; readonly arterial_temperature_c: number }
  readonly coupling: { readonly model: CouplingModel; readonly description: string }
  readonly boundary: string
  readonly scheme: string
  readonly stability: string
  readonly pulse_averaging: string
  readonly cem43_variant: string
  readonly flags_citation: string
}

const TISSUE_NAMES: Readonly<Record<number, FlaggedTissue>> = { [TISSUE_LABELS.skin]: 'skin', [TISSUE_LABELS.skull]: 'skull', [TISSUE_LABELS.brain]: 'brain' }

export function describeModel(absorbed: AbsorbedFractionName, coupling: CouplingModel, problem: ThermalProblem): ThermalModelDescription {
  const choice = ABSORBED_FRACTIONS[absorbed]
  const byTissue: Record<string, number> = {}
  const table: ThermalModelDescription['tissue_properties']['table'] = {}
  for (const [name, label] of Object.entries(TISSUE_LABELS)) {
    byTissue[name] = choice.byLabel[label] ?? 0
    const m = PLAN_THERMAL_MATERIALS[label]!
    table[name === 'skull' ? 'skull (cortical bone values)' : name] = {
      conductivity_w_mk: m.conductivity,
      specific_heat_j_kgk: m.specificHeat,
      perfusion_ml_min_kg: m.perfusionMlPerMinKg,
      perfusion_rate_per_s: problem.perfusionByLabel[label] ?? 0,
    }
  }
  return {
    equation: 'Pennes bioheat: rho c_t dT/dt = div(k grad T) - w rho_b c_b (T - 37 °C) + Q (Pennes 1948)',
    heat_source:
      'Q = 2 alpha_abs I = alpha_abs p^2 / (rho c), p the pressure amplitude while on, alpha_abs = absorbed fraction x alpha [Np/m] at the drive frequency',
    absorbed_fraction: { name: absorbed, by_tissue: byTissue, citation: choice.citation },
    tissue_properties: { table, density: 'the plan medium density (medium/density.nii.gz) per voxel', citation: ITIS_CITATION },
    blood: { density_kg_m3: BLOOD.density, specific_heat_j_kgk: BLOOD.specificHeat, arterial_temperature_c: BODY_TEMPERATURE_C },
    coupling: { model: coupling, description: COUPLING_DESCRIPTIONS[coupling] },
    boundary: 'outermost voxels of the simulation grid held at 37 °C (Dirichlet)',
    scheme:
      'finite volumes (harmonic-mean face conductivity), explicit Euler for conduction and source, perfusion decay integrated exactly over each step (exponential Euler)',
    stability:
      'dt <= 1 / max over voxels of (sum_faces k_f / (rho c_t dx^2) + W): positive coefficients (Patankar 1980 §4.3); dx^2 / (6 kappa) in a homogeneous medium',
    pulse_averaging:
      'pulses are averaged within a train (the train energy spread over its on-time) when 1/PRF <= the stable step; otherwise simulated one by one; trains are always resolved',
    cem43_variant: CEM43_VARIANT,
    flags_citation: ITRUSST_CITATION,
  }
}

/** Default fraction of the stable step a run uses (ThermalOptions.stepFraction). */
const STEP_FRACTION = 0.95

/**
 * Before a plan is simulated: the protocol's schedule on the plan's thermal grid (spacing
 * `spacingM`, brain of density `brainDensity`) is at least this big, so a protocol that cannot
 * run is refused before the acoustics rather than after. The stable step is at most that of a
 * brain voxel among brain (every plan has them): 1 / (6 k / (rho c_t dx^2) + W); a longer step
 * gives fewer steps and segments, so the count is a lower bound and a refusal is certain.
 */
export function checkProtocolForGrid(protocol: ThermalProtocolRecord, spacingM: number, brainDensity: number): void {
  const brain = PLAN_THERMAL_MATERIALS[TISSUE_LABELS.brain]!
  const rate = (6 * brain.conductivity) / (brainDensity * brain.specificHeat * spacingM * spacingM) + perfusionRatePerS(brain)
  checkScheduleSize(protocol, STEP_FRACTION / rate)
}

function indexToIjk(v: number, dims: readonly [number, number, number]): [number, number, number] {
  return [v % dims[0], Math.floor(v / dims[0]) % dims[1], Math.floor(v / (dims[0] * dims[1]))]
}

export async function runThermal(
  inputs: ThermalFieldInputs,
  protocol: ThermalProtocolRecord,
  backend: ThermalBackend,
  options: ThermalOptions = {},
): Promise<ThermalResult> {
  const started = performance.now()
  const absorbed = options.absorbedFraction ?? 'prestus'
  const coupling = options.coupling ?? 'conducting'
  const driveScale = options.driveScale ?? 1
  if (!(driveScale > 0 && driveScale <= MAX_DRIVE_SCALE))
    throw new SimulationInputError('driveScale', `must be positive and at most ${MAX_DRIVE_SCALE}, got ${driveScale}`)
  const stepFraction = options.stepFraction ?? STEP_FRACTION
  if (!(stepFraction > 0 && stepFraction <= 1)) throw new SimulationInputError('stepFraction', `must be in (0, 1], got ${stepFraction}`)
  // Caps before anything grid-sized is built (limits.ts): the grid and its memory, then the
  // scaled pressure against the cavitation threshold, where the linear heat source ends.
  checkThermalGrid(inputs.dims, 0, options.memory)
  let peakPa = 0
  for (let v = 0; v < inputs.pressurePa.length; v++) if (inputs.pressurePa[v]! > peakPa) peakPa = inputs.pressurePa[v]!
  protocol.sonications.forEach((s, i) => {
    const scale = s.drive_scale * driveScale
    if (peakPa * scale > MAX_PRESSURE_PA) {
      const how = driveScale === 1 ? `drive_scale ${s.drive_scale}` : `drive_scale ${s.drive_scale} x the run's drive scale ${driveScale}`
      throw new SimulationInputError(
        `sonications.${i}.drive_scale`,
        `${how} takes the plan's peak pressure of ${(peakPa / 1e6).toPrecision(3)} MPa to ${((peakPa * scale) / 1e6).toPrecision(3)} MPa, beyond the ~${MAX_PRESSURE_PA / 1e6} MPa intrinsic cavitation threshold of tissue (Maxwell et al. 2013) where the linear heat source means nothing`,
      )
    }
  })
  const problem = buildThermalProblem({ ...inputs, materials: PLAN_THERMAL_MATERIALS, absorbedFraction: ABSORBED_FRACTIONS[absorbed].byLabel, coupling })
  if (!Number.isFinite(problem.dtStableS)) throw new SimulationInputError('medium/tissue', 'no voxel conducts heat: the grid is all held voxels')
  const dtMax = problem.dtStableS * stepFraction
  const schedule = buildSchedule(protocol, dtMax)
  checkThermalGrid(inputs.dims, schedule.steps, options.memory)
  const scale2 = driveScale * driveScale
  const batches = schedule.batches.map((b) => ({ ...b, level: b.level * scale2 }))

  const pass1 = await backend.run({
    problem,
    batches,
    recordMaps: true,
    probes: [],
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (d, t) => options.onProgress?.(1, d, t),
  })
  const maxRise = pass1.maxRise!
  const cem43 = pass1.cem43!
  for (let v = 0; v < maxRise.length; v++) {
    if (Number.isFinite(maxRise[v]!) && Number.isFinite(cem43[v]!)) continue
    const [i, j, k] = indexToIjk(v, problem.dims)
    const scales = protocol.sonications.map((s) => s.drive_scale * driveScale)
    const largest = Math.max(...scales)
    const where = protocol.sonications.length === 1 ? 'sonications.0.drive_scale' : `sonications.${scales.indexOf(largest)}.drive_scale`
    const scaleText = driveScale === 1 ? `${where} ${largest}` : `${where} x the run's drive scale = ${largest}`
    throw new SimulationNumericalError(
      `thermal: the ${Number.isFinite(maxRise[v]!) ? `thermal dose (CEM43) overflowed at a rise of ${maxRise[v]!.toPrecision(3)} K` : 'temperature became non-finite'} at voxel (${i}, ${j}, ${k}): the heating is far outside the model's range; the likely cause is the drive scale (${scaleText}, heating x ${(largest * largest).toPrecision(3)})`,
    )
  }

  const steps = schedule.steps
  const timesS = new Float64Array(steps + 1)
  {
    let s = 0
    let t = 0
    for (const b of batches) for (let i = 0; i < b.steps; i++) timesS[++s] = t += b.dtS
  }

  // Hottest voxel, peak dose and size of each tracked tissue.
  const hottest = new Map<number, number>()
  const peakDose = new Map<number, number>()
  const voxels = new Map<number, number>()
  for (let v = 0; v < problem.count; v++) {
    const raw = problem.labels[v]!
    if (raw & HELD) continue
    const l = raw
    if (!(l in TISSUE_NAMES)) continue
    voxels.set(l, (voxels.get(l) ?? 0) + 1)
    const h = hottest.get(l)
    if (h === undefined || maxRise[v]! > maxRise[h]!) hottest.set(l, v)
    if (cem43[v]! > (peakDose.get(l) ?? 0)) peakDose.set(l, cem43[v]!)
  }

  let hottestVoxelRise: Record<FlaggedTissue, Float32Array> | null = null
  const probeLabels = TRACKED_LABELS.filter((l) => hottest.has(l))
  if (options.hottestVoxelCourses !== false && probeLabels.length > 0) {
    const pass2 = await backend.run({
      problem,
      batches,
      recordMaps: false,
      probes: probeLabels.map((l) => hottest.get(l)!),
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (d, t) => options.onProgress?.(2, d, t),
    })
    hottestVoxelRise = {} as Record<FlaggedTissue, Float32Array>
    for (const l of TRACKED_LABELS) {
      const q = probeLabels.indexOf(l)
      const course = new Float32Array(steps + 1)
      if (q >= 0) for (let s = 0; s <= steps; s++) course[s] = pass2.probeRise[s * probeLabels.length + q]!
      hottestVoxelRise[TISSUE_NAMES[l]!] = course
    }
  }

  const maxOverTissue = {} as Record<FlaggedTissue, Float32Array>
  TRACKED_LABELS.forEach((l, slot) => {
    const course = new Float32Array(steps + 1)
    for (let s = 0; s <= steps; s++) course[s] = pass1.trackedMax[s * TRACKED_LABELS.length + slot]!
    maxOverTissue[TISSUE_NAMES[l]!] = course
  })

  // Largest within-train sawtooth that averaging leaves out: q_max s^2 PD (1 - PD PRF).
  const rippleFactor = protocol.sonications.reduce(
    (m, s, i) =>
      schedule.sonications[i]!.pulsesAveraged
        ? Math.max(m, s.drive_scale ** 2 * scale2 * s.pulse_duration_s * (1 - Math.min(1, s.pulse_duration_s * s.prf_hz)))
        : m,
    0,
  )
  const maxRateByLabel = new Map<number, number>()
  for (let v = 0; v < problem.count; v++) {
    const l = problem.labels[v]!
    if (problem.heatingRate[v]! > (maxRateByLabel.get(l) ?? 0)) maxRateByLabel.set(l, problem.heatingRate[v]!)
  }

  const tissues: TissueThermalSummary[] = []
  for (const l of TRACKED_LABELS) {
    const name = TISSUE_NAMES[l]!
    const h = hottest.get(l)
    const course = maxOverTissue[name]
    let peakStep = 0
    for (let s = 1; s <= steps; s++) if (course[s]! > course[peakStep]!) peakStep = s
    const peakRise = h === undefined ? 0 : maxRise[h]!
    const dose = peakDose.get(l) ?? 0
    tissues.push({
      tissue: name,
      voxels: voxels.get(l) ?? 0,
      peakRiseC: peakRise,
      peakTemperatureC: BODY_TEMPERATURE_C + peakRise,
      timeOfPeakS: timesS[peakStep]!,
      hottestVoxel: h === undefined ? null : indexToIjk(h, problem.dims),
      cem43MaxMin: dose,
      riseAtEndC: hottestVoxelRise ? hottestVoxelRise[name][steps]! : course[steps]!,
      pulseRippleBoundC: (maxRateByLabel.get(l) ?? 0) * rippleFactor,
      flag: flagTissue(name, peakRise, BODY_TEMPERATURE_C + peakRise, dose),
    })
  }
  const flags = tissues.filter((t) => t.voxels > 0).map((t) => t.flag)
  const temperatureMax = Float32Array.from(maxRise, (r) => BODY_TEMPERATURE_C + r)
  return {
    maxRise,
    temperatureMax,
    cem43,
    schedule,
    dtStableS: problem.dtStableS,
    dtMaxUsedS: dtMax,
    timesS,
    tissues,
    maxOverTissue,
    hottestVoxelRise,
    flags,
    flagSummary: flags.length > 0 ? thermalFlagSummary(flags) : 'not assessed (no skin, skull or brain voxels)',
    model: describeModel(absorbed, coupling, problem),
    backend: backend.name,
    device: backend.device,
    wallS: (performance.now() - started) / 1000,
  }
}
