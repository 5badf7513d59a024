/**
 * The protocol's on/off timing as a list of constant-source segments, each cut into equal time
 * steps no longer than the stable step.
 *
 * Heating follows the timing at the train level: every train's on-time and off-time is its own
 * segment, so the temperature rises and falls train by train. Within a train, the pulses are
 * averaged (the source is the train's energy spread over its on-time) when the pulse repetition
 * period 1/PRF is no longer than the stable step dt_max: dt_max = C dx^2 / sum(k) is already
 * below the diffusion time of one voxel, so at that scale the temperature cannot follow
 * individual pulses; the sawtooth the averaging leaves out is at most Q PD (1 - PD x PRF) / (rho c)
 * above the averaged curve (the heating of one pulse with no conduction), which the run reports.
 * Slower pulsing (1/PRF > dt_max) is simulated pulse by pulse.
 */
import { thermalProtocolDurationS, sonicationDurationS, type ThermalProtocolRecord } from '../contracts/thermal-protocol.ts'
import { SimulationInputError } from '../solver/errors.ts'
import { MAX_THERMAL_STEPS } from './limits.ts'
import { formatCount } from '../solver/limits.ts'

export interface HeatingSegment {
  readonly startS: number
  readonly durationS: number
  /** Source multiplier: drive_scale^2 x (1 during a pulse, 0 off, or the train's pulse duty cycle when averaged). */
  readonly level: number
}

export interface StepBatch {
  /** Number of equal steps. */
  readonly steps: number
  readonly dtS: number
  readonly level: number
}

export interface SonicationTiming {
  readonly index: number
  readonly label?: string
  readonly startS: number
  readonly endS: number
  readonly driveScale: number
  /** Pulses averaged within each train (see the module comment), or simulated one by one. */
  readonly pulsesAveraged: boolean
  /** Pulse duty cycle within a train (PD x PRF). */
  readonly pulseDutyCycle: number
  /** Fraction of the sonication during which trains are on. */
  readonly trainDutyCycle: number
}

export interface HeatingSchedule {
  readonly segments: readonly HeatingSegment[]
  readonly batches: readonly StepBatch[]
  readonly sonications: readonly SonicationTiming[]
  readonly totalS: number
  readonly steps: number
  /** End of the last sonication's on-time [s]: cooling follows. */
  readonly lastSonicationEndS: number
}

/** Beyond this many steps a protocol is refused (core/thermal/limits.ts MAX_THERMAL_STEPS). */
export const MAX_STEPS = MAX_THERMAL_STEPS

/** Pulse on-time inside [0, windowS) for pulses of `pd` every `period` starting at 0. */
function pulseEnergy(windowS: number, pd: number, period: number): number {
  const n = Math.ceil(windowS / period - 1e-9)
  let on = 0
  for (let k = 0; k < n; k++) on += Math.min(pd, windowS - k * period)
  return on
}

/**
 * The segments and steps the schedule will have, counted from the timing alone before anything
 * is expanded: a protocol of 10^9 trains is one refusal naming its field, not 10^9 objects.
 * Every on/off segment takes at least one step, and the whole takes at least total / dt_max.
 */
export function checkScheduleSize(protocol: ThermalProtocolRecord, dtMaxS: number): void {
  let segments = 0
  let worst = { field: 'sonications', count: -1 }
  protocol.sonications.forEach((s, i) => {
    const duration = sonicationDurationS(s)
    const period = 1 / s.prf_hz
    const trains = Math.ceil(duration / s.train_interval_s - 1e-9)
    const averaged = period <= dtMaxS
    // A train is an on and an off segment (one, when the trains are back to back); a pulse
    // simulated on its own likewise (one when it fills its period).
    const perTrain = averaged
      ? s.train_duration_s < s.train_interval_s
        ? 2
        : 1
      : Math.ceil(Math.min(s.train_duration_s, duration) / period - 1e-9) * (s.pulse_duration_s < period ? 2 : 1)
    const count = trains * perTrain
    segments += count
    if (count > worst.count) worst = { field: `sonications.${i}.${averaged ? (s.trains !== undefined ? 'trains' : 'train_interval_s') : 'prf_hz'}`, count }
  })
  if (segments > MAX_THERMAL_STEPS) {
    throw new SimulationInputError(
      worst.field,
      `the protocol has ${formatCount(segments)} on/off segments (trains, and pulses slower than the ${dtMaxS.toPrecision(3)} s step simulated one by one), more than the thermal model's ${formatCount(MAX_THERMAL_STEPS)} time steps`,
    )
  }
  const totalS = thermalProtocolDurationS(protocol)
  const steps = totalS / dtMaxS
  if (steps > MAX_THERMAL_STEPS) {
    throw new SimulationInputError(
      'protocol',
      `${totalS.toPrecision(4)} s at the grid's stable step of ${dtMaxS.toPrecision(3)} s is ${formatCount(steps)} time steps, more than the thermal model's ${formatCount(MAX_THERMAL_STEPS)}: shorten the protocol or coarsen the grid`,
    )
  }
}

export function buildSchedule(protocol: ThermalProtocolRecord, dtMaxS: number): HeatingSchedule {
  if (!(dtMaxS > 0 && Number.isFinite(dtMaxS))) throw new RangeError(`buildSchedule: dtMaxS must be positive, got ${dtMaxS}`)
  checkScheduleSize(protocol, dtMaxS)
  const raw: HeatingSegment[] = []
  const sonications: SonicationTiming[] = []
  let t = 0
  let lastEnd = 0
  const push = (durationS: number, level: number) => {
    if (durationS <= 1e-12) return
    raw.push({ startS: t, durationS, level })
    t += durationS
  }
  protocol.sonications.forEach((s, index) => {
    const start = t
    const duration = sonicationDurationS(s)
    const period = 1 / s.prf_hz
    const averaged = period <= dtMaxS
    const scale2 = s.drive_scale * s.drive_scale
    const sonicationEnd = start + duration
    let onTotal = 0
    for (let k = 0; ; k++) {
      const trainStart = start + k * s.train_interval_s
      if (trainStart >= sonicationEnd - 1e-12) break
      if (raw.length > MAX_STEPS) throw new SimulationInputError(`sonications.${index}`, `the protocol has more than ${MAX_STEPS} on/off segments`)
      const on = Math.min(s.train_duration_s, sonicationEnd - trainStart)
      onTotal += on
      t = trainStart
      if (averaged) push(on, (scale2 * pulseEnergy(on, s.pulse_duration_s, period)) / on)
      else {
        for (let p = 0; p * period < on - 1e-12; p++) {
          const pulseOn = Math.min(s.pulse_duration_s, on - p * period)
          push(pulseOn, scale2)
          push(Math.min(period, on - p * period) - pulseOn, 0)
        }
      }
      push(Math.min(trainStart + s.train_interval_s, sonicationEnd) - t, 0)
    }
    t = sonicationEnd
    lastEnd = sonicationEnd
    sonications.push({
      index,
      ...(s.label !== undefined ? { label: s.label } : {}),
      startS: start,
      endS: sonicationEnd,
      driveScale: s.drive_scale,
      pulsesAveraged: averaged,
      pulseDutyCycle: Math.min(1, s.pulse_duration_s * s.prf_hz),
      trainDutyCycle: onTotal / duration,
    })
    push(s.gap_after_s, 0)
  })
  push(protocol.cooling_s, 0)

  // Merge neighbours with the same level (off-time of one train and the gap after it...).
  const segments: HeatingSegment[] = []
  for (const s of raw) {
    const last = segments[segments.length - 1]
    if (last && last.level === s.level) segments[segments.length - 1] = { ...last, durationS: last.durationS + s.durationS }
    else segments.push(s)
  }
  const batches: StepBatch[] = []
  let steps = 0
  for (const s of segments) {
    const n = Math.max(1, Math.ceil(s.durationS / dtMaxS - 1e-9))
    batches.push({ steps: n, dtS: s.durationS / n, level: s.level })
    steps += n
    if (steps > MAX_STEPS)
      throw new SimulationInputError('protocol', `the protocol needs more than ${MAX_STEPS} time steps at dt_max = ${dtMaxS.toPrecision(3)} s`)
  }
  return { segments, batches, sonications, totalS: t, steps, lastSonicationEndS: lastEnd }
}
