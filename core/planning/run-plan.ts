/**
 * From a CT, a target and a device to a simulated plan: segmentation, placement, the
 * beam-aligned domain, the solver in the head and in free water (same grid), metrics, and the
 * pressure resampled onto the CT grid. Hosts inject the solver backend; everything here is pure.
 */
import type { Vec3, Volume } from '../volume/index.ts'
import { resampleTrilinear } from '../volume/index.ts'
import type { SourceElement } from '../solver/model.ts'
import { runSimulation, type BackendFactory, type Progress } from '../solver/run.ts'
import { ACCURATE_POINTS_PER_WAVELENGTH, type MemoryBudget } from '../solver/limits.ts'
import { segmentHead, type HeadSegmentation } from './masks.ts'
import { CtSampler, placeTransducer, proposeEntry, type Placement, type PlacementDevice } from './placement.ts'
import { buildPlanDomain, type BoneMapping, type PlanDomain, type TissueValues } from './domain.ts'
import { planMetrics, type PlanMetrics, type PulseTiming } from './metrics.ts'

export interface PlanDevice extends PlacementDevice {
  readonly frequencyHz: number
  /** Emitting surface area and projected aperture area [m^2] (for TIC). */
  readonly emittingAreaM2: number
  readonly apertureAreaM2: number
  /** Elements in transducer coordinates focusing at `focalDistanceFromApexM`. */
  elements(amplitudePa: number, focalDistanceFromApexM: number): SourceElement[]
}

export type DriveLevel =
  | { readonly kind: 'source'; readonly amplitudePa: number }
  | { readonly kind: 'isppa-free-water'; readonly wPerM2: number }
  | { readonly kind: 'isppa-target'; readonly wPerM2: number }

export interface PlanningInputs {
  readonly ct: Volume
  readonly targetRasM: Vec3
  /**
   * Where the device is aimed when it differs from the target (focus correction aims at
   * target - shift); metrics still measure the shift from `targetRasM`.
   */
  readonly aimRasM?: Vec3
  readonly entryRasM?: Vec3
  readonly device: PlanDevice
  /** Builds the bone mapping once the skull's HU range is known (some models normalise by it). */
  readonly mapping: (skullHu: { huMinInSkull: number; huMaxInSkull: number }) => BoneMapping
  readonly mappingId: string
  readonly tissues: TissueValues
  readonly pointsPerWavelength: number
  readonly drive: DriveLevel
  readonly pulseTiming: PulseTiming
  readonly backend: BackendFactory
  readonly signal?: AbortSignal
  readonly onProgress?: (stage: string, progress?: Progress) => void
  /**
   * Free-water peaks of earlier runs, keyed by grid and focus: the free-water field depends only
   * on the transducer frame, so repeated runs (focus correction) reuse it.
   */
  readonly freeWaterCache?: Map<string, number>
  /**
   * Where the head field comes from instead of the solver (the surrogate): given the prepared
   * domain, the amplitude on the simulation grid and the free-water peak, both at
   * REFERENCE_AMPLITUDE_PA.
   */
  readonly fieldSource?: (prepared: PreparedPlan) => Promise<FieldFromSource>
  /** The CT's head segmentation when the caller already has it (the live preview reuses it). */
  readonly segmentation?: HeadSegmentation
  /**
   * What the solve may allocate on this machine (the host measures it): the domain is refused
   * before anything is resampled onto it. The solver checks again with its backend's budget.
   */
  readonly memory?: MemoryBudget
}

export interface FieldFromSource {
  readonly amplitudePa: Float32Array
  readonly freeWaterPeakPa: number
  readonly backend: string
  readonly device: string
  readonly warnings: readonly string[]
}

export interface PlanResult {
  readonly segmentation: HeadSegmentation
  readonly placement: Placement
  readonly domain: PlanDomain
  /** Pressure amplitude on the simulation grid [Pa], at the plan's drive level. */
  readonly pressureSim: Float32Array
  /** The same resampled onto the CT grid [Pa]. */
  readonly pressureCt: Float32Array
  /** -6 dB focal region on the CT grid. */
  readonly focalMaskCt: Uint8Array
  readonly metrics: PlanMetrics
  /** Source amplitude that realises the requested drive [Pa]. */
  readonly sourceAmplitudePa: number
  readonly backend: string
  readonly device: string
  readonly wallS: number
  readonly warnings: readonly string[]
}

/** Source amplitude every run uses; the solver is linear, so results scale to the drive. */
export const REFERENCE_AMPLITUDE_PA = 60000

export interface PreparedPlan {
  readonly segmentation: HeadSegmentation
  readonly placement: Placement
  readonly domain: PlanDomain
}

/** What a request needs to build its domain; the solver and the surrogate share this. */
export type PrepareRequest = Pick<
  PlanningInputs,
  'ct' | 'targetRasM' | 'aimRasM' | 'entryRasM' | 'device' | 'mapping' | 'tissues' | 'pointsPerWavelength' | 'onProgress' | 'memory'
>

/** Segmentation, placement and the beam-aligned domain with its medium: everything before a solve. */
export function preparePlan(request: PrepareRequest, segmentationIn?: HeadSegmentation): PreparedPlan {
  const { ct, device } = request
  if (!segmentationIn) request.onProgress?.('segmenting the head')
  const segmentation = segmentationIn ?? segmentHead(ct)
  const sampler = new CtSampler(ct, segmentation)
  request.onProgress?.('placing the transducer')
  const aim = request.aimRasM ?? request.targetRasM
  const placement = request.entryRasM ? placeTransducer(sampler, device, aim, request.entryRasM) : proposeEntry(sampler, device, aim)
  let huMin = Infinity
  let huMax = -Infinity
  for (let v = 0; v < ct.data.length; v++) {
    if (!segmentation.skull[v]) continue
    const hu = ct.data[v]!
    if (hu < huMin) huMin = hu
    if (hu > huMax) huMax = hu
  }
  const mapping = request.mapping({ huMinInSkull: huMin, huMaxInSkull: huMax })
  const apexToTarget = Math.max(...[request.targetRasM, aim].map((p) => Math.hypot(...[0, 1, 2].map((d) => p[d]! - placement.pose.apexRasM[d]!))))
  const domain = buildPlanDomain(ct, segmentation, placement, {
    frequencyHz: device.frequencyHz,
    pointsPerWavelength: request.pointsPerWavelength,
    apertureM: device.apertureM,
    focalDistanceFromApexM: placement.pose.focalDistanceFromApexM,
    targetDepthFromApexM: apexToTarget,
    mapping,
    tissues: request.tissues,
    alphaPower: 2,
    ...(request.memory ? { memory: request.memory } : {}),
  })
  return { segmentation, placement, domain }
}

async function solveHeadAndFreeWater(request: PlanningInputs, placement: Placement, domain: PlanDomain) {
  const { device } = request
  const source = { frequencyHz: device.frequencyHz, elements: device.elements(REFERENCE_AMPLITUDE_PA, placement.pose.focalDistanceFromApexM) }
  request.onProgress?.('simulating in the head')
  const head = await runSimulation({
    grid: domain.grid,
    medium: domain.medium,
    source,
    backend: request.backend,
    ...(request.signal ? { signal: request.signal } : {}),
    onProgress: (p) => request.onProgress?.('simulating in the head', p),
  })
  const water = request.tissues.water
  // The free-water field is the transducer's own: it depends on the lateral grid, the spacing
  // and the focus, not on how far past the focus the domain reaches (always 2 cm or more), so
  // the key leaves the axial extent out and a re-aimed run reuses it.
  const g = domain.grid
  const freeKey = JSON.stringify([g.spacingM, g.size[0], g.size[1], g.originM[0], g.originM[1], g.originM[2], placement.pose.focalDistanceFromApexM, water])
  let freePeak = request.freeWaterCache?.get(freeKey) ?? 0
  if (freePeak === 0) {
    request.onProgress?.('simulating in free water')
    const free = await runSimulation({
      grid: domain.grid,
      medium: { soundSpeed: water.soundSpeed, density: water.density, alphaNpM: water.alphaNpM, alphaPower: 2 },
      source,
      backend: request.backend,
      ...(request.signal ? { signal: request.signal } : {}),
      onProgress: (p) => request.onProgress?.('simulating in free water', p),
    })
    for (const v of free.amplitudePa) freePeak = Math.max(freePeak, v)
    request.freeWaterCache?.set(freeKey, freePeak)
  }

  return { head, freePeak }
}

/** Prepare, then solve (or predict) and measure: one plan run. */
export async function runPlan(request: PlanningInputs): Promise<PlanResult> {
  const started = performance.now()
  return runPreparedPlan(request, preparePlan(request, request.segmentation), started)
}

/**
 * The field on a prepared domain (the solver in the head and free water, or `fieldSource`),
 * scaled to the drive, measured and resampled onto the CT. `startedAt` (performance.now()) is
 * when the run began, for `wallS`; preparation included when the caller prepared.
 */
export async function runPreparedPlan(request: PlanningInputs, prepared: PreparedPlan, startedAt = performance.now()): Promise<PlanResult> {
  const started = startedAt
  const { ct, device } = request
  const { segmentation, placement, domain } = prepared
  let head: { amplitudePa: Float32Array; backend: string; device: string; warnings: readonly string[] }
  let freePeak = 0
  if (request.fieldSource) {
    request.onProgress?.('predicting the field (surrogate)')
    const field = await request.fieldSource({ segmentation, placement, domain })
    head = field
    freePeak = field.freeWaterPeakPa
  } else {
    const solved = await solveHeadAndFreeWater(request, placement, domain)
    head = solved.head
    freePeak = solved.freePeak
  }

  // The solver is linear: run at a reference amplitude, scale to the requested drive.
  const reference = planMetrics({
    amplitudePa: head.amplitudePa,
    freeWaterPeakPa: freePeak,
    domain,
    placement,
    targetRasM: request.targetRasM,
    frequencyHz: device.frequencyHz,
    sourceAmplitudePa: REFERENCE_AMPLITUDE_PA,
    emittingAreaM2: device.emittingAreaM2,
    apertureAreaM2: device.apertureAreaM2,
    pulseTiming: request.pulseTiming,
    ppw: request.pointsPerWavelength,
  })
  const water = request.tissues.water
  const rhoC = water.density * water.soundSpeed
  let factor = 1
  if (request.drive.kind === 'source') factor = request.drive.amplitudePa / REFERENCE_AMPLITUDE_PA
  else if (request.drive.kind === 'isppa-free-water') factor = Math.sqrt(request.drive.wPerM2 * 2 * rhoC) / freePeak
  else factor = Math.sqrt(request.drive.wPerM2 / reference.metrics.isppa_w_m2)
  const pressureSim = new Float32Array(head.amplitudePa.length)
  for (let v = 0; v < pressureSim.length; v++) pressureSim[v] = head.amplitudePa[v]! * factor
  const scaled = planMetrics({
    amplitudePa: pressureSim,
    freeWaterPeakPa: freePeak * factor,
    domain,
    placement,
    targetRasM: request.targetRasM,
    frequencyHz: device.frequencyHz,
    sourceAmplitudePa: REFERENCE_AMPLITUDE_PA * factor,
    emittingAreaM2: device.emittingAreaM2,
    apertureAreaM2: device.apertureAreaM2,
    pulseTiming: request.pulseTiming,
    ppw: request.pointsPerWavelength,
  })

  request.onProgress?.('resampling onto the CT')
  const simVolume = {
    data: pressureSim,
    dims: domain.gridLps.dims,
    spacingM: domain.gridLps.spacingM,
    originM: domain.gridLps.originM,
    direction: domain.gridLps.direction,
    meta: ct.meta,
    warnings: [],
  }
  const pressureCt = resampleTrilinear(simVolume, ct, { fill: 0, outputType: 'float32' }).data as Float32Array
  const maskVolume = { ...simVolume, data: scaled.focalMask }
  const focalMaskCt = resampleTrilinear(maskVolume, ct, { fill: 0, interpolation: 'nearest' }).data as Uint8Array
  const warnings = [...segmentation.warnings, ...placement.warnings, ...domain.warnings, ...head.warnings, ...scaled.metrics.warnings]
  if (request.pointsPerWavelength < ACCURATE_POINTS_PER_WAVELENGTH)
    warnings.push(`${request.pointsPerWavelength} points per wavelength in water is below ${ACCURATE_POINTS_PER_WAVELENGTH}: a preview, not a verified plan`)
  return {
    segmentation,
    placement,
    domain,
    pressureSim,
    pressureCt,
    focalMaskCt,
    metrics: { ...scaled.metrics, warnings },
    sourceAmplitudePa: REFERENCE_AMPLITUDE_PA * factor,
    backend: head.backend,
    device: head.device,
    wallS: (performance.now() - started) / 1000,
    warnings,
  }
}
