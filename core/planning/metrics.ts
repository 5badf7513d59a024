/**
 * Plan metrics on the simulation grid (never after resampling), named after the ITRUSST
 * reporting consensus (Martin et al. 2024) and k-Plan/PRESTUS reports; SI units.
 * Formulas: docs/physics.md §5 (Isppa = p^2 / (2 rho c) for a linear CW-within-pulse field; MI =
 * p_r[MPa] / sqrt(f[MHz]) with MI_tc from the in-situ brain pressure; TIC = W / (C_TIC D_eq),
 * IEC 62359, C_TIC = 40 mW/cm).
 */
import type { Vec3 } from '../volume/types.ts'
import type { Grid } from '../solver/model.ts'
import { widthAlong } from '../solver/metrics.ts'
import { SimulationNumericalError } from '../solver/errors.ts'
import type { PlanDomain } from './domain.ts'
import type { Placement } from './placement.ts'
import { mechanicalFlag } from './limits.ts'
import { growRegion } from '../volume/region.ts'
import type { PlanRecord } from '../contracts/plan.ts'

export interface PulseTiming {
  /** Pulse duration [s]. */
  readonly pulseDurationS: number
  /** Pulse repetition frequency [Hz]. */
  readonly prfHz: number
  /** Fraction of time the pulse train is on (1 for continuous trains). */
  readonly trainDutyCycle: number
}

export const DEFAULT_PULSE_TIMING: PulseTiming = { pulseDurationS: 0.02, prfHz: 5, trainDutyCycle: 1 }

/** plan.json `pulse_timing`. */
export function pulseTimingRecordOf(p: PulseTiming): PlanRecord['pulse_timing'] {
  return { pulse_duration_s: p.pulseDurationS, prf_hz: p.prfHz, train_duty_cycle: p.trainDutyCycle }
}

/** Widths [m] along the beam axis and the two lateral axes; null = could not be measured. */
export interface FocalWidths {
  readonly axial: number | null
  readonly lateral1: number | null
  readonly lateral2: number | null
}

export interface PlanMetrics {
  readonly peak_pressure_pa: number
  readonly peak_position_ras_m: Vec3
  readonly target_ras_m: Vec3
  readonly focal_shift_m: Vec3
  readonly focal_shift_length_m: number
  /** -3 dB / -6 dB widths through the peak; null where not measurable (a warning says which). */
  readonly fwhm_3db_m: FocalWidths
  readonly fwhm_6db_m: FocalWidths
  readonly volume_6db_m3: number
  readonly isppa_w_m2: number
  readonly ispta_w_m2: number
  readonly duty_cycle: number
  readonly mi: number
  readonly mi_tc: number
  readonly tic: number
  readonly free_water_peak_pa: number
  readonly insertion_loss_db: number
  readonly skull_thickness_m: number
  readonly incidence_angle_deg: number
  readonly exit_plane_to_target_m: number
  readonly ppw: number
  readonly source_amplitude_pa: number
  readonly warnings: readonly string[]
  readonly flags: { readonly mechanical: string; readonly thermal: string }
}

function toRas(pose: readonly number[], p: Vec3): Vec3 {
  return [
    pose[0]! * p[0] + pose[1]! * p[1] + pose[2]! * p[2] + pose[3]!,
    pose[4]! * p[0] + pose[5]! * p[1] + pose[6]! * p[2] + pose[7]!,
    pose[8]! * p[0] + pose[9]! * p[1] + pose[10]! * p[2] + pose[11]!,
  ]
}

/** Voxels above half the peak amplitude connected (6-neighbours) to the peak voxel. */
function focalVolumeMask(amplitude: Float32Array, grid: Grid, peakIndex: number, threshold: number): Uint8Array {
  return growRegion(amplitude, grid.size, [peakIndex], threshold)
}

export interface MetricsInput {
  readonly amplitudePa: Float32Array
  readonly freeWaterPeakPa: number
  readonly domain: PlanDomain
  readonly placement: Placement
  readonly targetRasM: Vec3
  readonly frequencyHz: number
  readonly sourceAmplitudePa: number
  /** Area of the emitting surface [m^2] and projected aperture area [m^2] (for TIC). */
  readonly emittingAreaM2: number
  readonly apertureAreaM2: number
  readonly pulseTiming: PulseTiming
  readonly ppw: number
}

export function planMetrics(input: MetricsInput): { metrics: PlanMetrics; focalMask: Uint8Array; peakIndex: number } {
  const { amplitudePa, domain } = input
  const grid = domain.grid
  const [nx, ny] = grid.size
  const warnings: string[] = []
  let peak = -1
  let peakIndex = -1
  for (let v = 0; v < amplitudePa.length; v++) {
    if (domain.brain[v] && amplitudePa[v]! > peak) {
      peak = amplitudePa[v]!
      peakIndex = v
    }
  }
  if (peakIndex < 0) throw new Error('no intracranial voxel in the simulation domain')
  // Every ratio below (insertion loss, widths) divides by the peak: a field that never reached
  // the brain is a failed run, said so in words rather than as Infinity in the metrics.
  if (!(peak > 0 && Number.isFinite(peak)))
    throw new SimulationNumericalError(`the simulated peak pressure in the brain is ${peak} Pa: no usable field reached the target`)
  const ijk = [peakIndex % nx, Math.floor(peakIndex / nx) % ny, Math.floor(peakIndex / (nx * ny))]
  const peakLocal: Vec3 = [0, 1, 2].map((d) => grid.originM[d]! + ijk[d]! * grid.spacingM) as unknown as Vec3
  const pose = input.placement.pose.transducerToRas
  const peakRas = toRas(pose, peakLocal)
  const shift: Vec3 = [peakRas[0] - input.targetRasM[0], peakRas[1] - input.targetRasM[1], peakRas[2] - input.targetRasM[2]]
  // A width that cannot be measured (the region runs off the simulation grid, e.g. a brain peak
  // on its face, or the field never falls to the level) is null with a warning naming it: the
  // plan is still valid and its safety numbers stand, only that size is unknown.
  const widths = (level: number, label: string): FocalWidths => {
    const measured = {
      axial: widthAlong(amplitudePa, grid, peakLocal, [0, 0, 1], level * peak),
      lateral1: widthAlong(amplitudePa, grid, peakLocal, [1, 0, 0], level * peak),
      lateral2: widthAlong(amplitudePa, grid, peakLocal, [0, 1, 0], level * peak),
    }
    const missing = (Object.keys(measured) as Array<keyof FocalWidths>).filter((k) => measured[k] === null)
    if (missing.length > 0)
      warnings.push(
        `the ${label} region reaches the edge of the simulation grid (or the field does not fall to ${label} there): ${missing.join(', ')} ${label} width${missing.length > 1 ? 's' : ''} not measured`,
      )
    return measured
  }
  const w6 = widths(0.5, '-6 dB')
  const w3 = widths(Math.SQRT1_2, '-3 dB')
  const focalMask = focalVolumeMask(amplitudePa, grid, peakIndex, 0.5 * peak)
  let focalVoxels = 0
  for (const m of focalMask) focalVoxels += m
  const rho = typeof domain.medium.density === 'number' ? domain.medium.density : domain.medium.density[peakIndex]!
  const c = typeof domain.medium.soundSpeed === 'number' ? domain.medium.soundSpeed : domain.medium.soundSpeed[peakIndex]!
  const isppa = (peak * peak) / (2 * rho * c)
  const duty = Math.min(1, input.pulseTiming.pulseDurationS * input.pulseTiming.prfHz) * input.pulseTiming.trainDutyCycle
  const fMHz = input.frequencyHz / 1e6
  // In a linear simulation the rarefactional peak equals the amplitude.
  const miFreeWater = input.freeWaterPeakPa / 1e6 / Math.sqrt(fMHz)
  const miTc = peak / 1e6 / Math.sqrt(fMHz)
  // TIC: time-averaged acoustic output W = I0 A DC with I0 = p0^2 / (2 rho c) at the surface.
  const powerW = (input.sourceAmplitudePa ** 2 / (2 * 1000 * 1500)) * input.emittingAreaM2 * duty
  const deqCm = Math.sqrt((4 * input.apertureAreaM2 * 1e4) / Math.PI)
  const tic = (powerW * 1000) / (40 * deqCm)
  const path = input.placement.path
  const metrics: PlanMetrics = {
    peak_pressure_pa: peak,
    peak_position_ras_m: peakRas,
    target_ras_m: input.targetRasM,
    focal_shift_m: shift,
    focal_shift_length_m: Math.hypot(...shift),
    fwhm_3db_m: w3,
    fwhm_6db_m: w6,
    volume_6db_m3: focalVoxels * grid.spacingM ** 3,
    isppa_w_m2: isppa,
    ispta_w_m2: isppa * duty,
    duty_cycle: duty,
    mi: miFreeWater,
    mi_tc: miTc,
    tic,
    free_water_peak_pa: input.freeWaterPeakPa,
    insertion_loss_db: 20 * Math.log10(input.freeWaterPeakPa / peak),
    skull_thickness_m: path.skullThicknessM,
    incidence_angle_deg: path.incidenceAngleDeg,
    exit_plane_to_target_m: path.exitPlaneToTargetM,
    ppw: input.ppw,
    source_amplitude_pa: input.sourceAmplitudePa,
    warnings,
    flags: {
      mechanical: mechanicalFlag(miFreeWater, miTc),
      thermal: 'not assessed',
    },
  }
  return { metrics, focalMask, peakIndex }
}
