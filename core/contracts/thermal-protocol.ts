/**
 * The thermal protocol: the sonication schedule the thermal model heats with (the plan's pulse
 * timing, plan.json `pulse_timing`, is the acoustic exposure figures' and is a separate thing).
 * A thermal protocol as plan data: what the thermal model (`tfus thermal`, `tfus plan
 * --protocol`) heats with. JSON file format of `resources/protocols/*.json`.
 *
 * Timing hierarchy, SI units (s, Hz):
 *   protocol  = sonications in sequence, each followed by its gap, then `cooling_s`
 *   sonication = pulse trains, one every `train_interval_s`, for `trains` trains or `duration_s`
 *   train     = pulses of `pulse_duration_s`, one every 1/`prf_hz`, for `train_duration_s`
 * A continuous-wave train has pulse_duration_s = 1 / prf_hz. A sonication of one long train
 * (train_duration_s = train_interval_s) is plain pulsing at PD x PRF duty cycle.
 *
 * `drive_scale` multiplies the plan's pressure (its drive level, `plan.json` drive): the heat
 * source is quadratic in pressure, so a scale of 2 deposits 4 times the power.
 *
 * Both objects are strict: an unknown key (a misspelt "duration" for `duration_s`) is refused,
 * never silently ignored.
 */
import { z } from 'zod'
import { MAX_DRIVE_SCALE, MAX_PROTOCOL_DURATION_S, MAX_TRAINS } from '../thermal/limits.ts'
import { formatCount } from '../solver/limits.ts'

/** Relative slack for timing comparisons (e.g. a train of 10 pulses at 1 kHz lasting 10 ms). */
const TIMING_SLACK = 1e-9

/** Trains a sonication runs: `trains`, or as many as start within `duration_s`. */
function trainCount(s: { trains?: number | undefined; duration_s?: number | undefined; train_interval_s: number }): number {
  return s.trains ?? Math.ceil((s.duration_s ?? 0) / s.train_interval_s - 1e-9)
}
const hours = (seconds: number) => `${(seconds / 3600).toPrecision(3)} h`

export const sonicationRecord = z
  .strictObject({
    /** Free text shown in reports, e.g. "left M1". */
    label: z.string().optional(),
    pulse_duration_s: z.number().positive(),
    prf_hz: z.number().positive(),
    /** On-time of one pulse train; pulses start at 0, 1/PRF, 2/PRF... while inside it. */
    train_duration_s: z.number().positive(),
    /** Train repetition interval (start to start), >= train_duration_s. */
    train_interval_s: z.number().positive(),
    /** Number of trains; or give `duration_s` (trains repeat until then, the last one cut there). */
    trains: z.number().int().positive().optional(),
    duration_s: z.number().positive().optional(),
    /** Pressure multiplier on the plan's drive level (heat scales with its square). */
    drive_scale: z.number().positive().default(1),
    /** Pause after this sonication before the next one starts (after the last: added to cooling). */
    gap_after_s: z.number().nonnegative().default(0),
  })
  .superRefine((s, ctx) => {
    const period = 1 / s.prf_hz
    if (s.pulse_duration_s > period * (1 + TIMING_SLACK))
      ctx.addIssue({
        code: 'custom',
        path: ['pulse_duration_s'],
        message: `${s.pulse_duration_s} s is longer than the pulse repetition period 1/prf_hz = ${period} s`,
      })
    if (s.pulse_duration_s > s.train_duration_s * (1 + TIMING_SLACK))
      ctx.addIssue({ code: 'custom', path: ['pulse_duration_s'], message: `${s.pulse_duration_s} s is longer than the train (${s.train_duration_s} s)` })
    if (s.train_duration_s > s.train_interval_s * (1 + TIMING_SLACK))
      ctx.addIssue({
        code: 'custom',
        path: ['train_duration_s'],
        message: `${s.train_duration_s} s is longer than the train repetition interval (${s.train_interval_s} s)`,
      })
    if ((s.trains === undefined) === (s.duration_s === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['trains'], message: 'give exactly one of trains or duration_s' })
      return
    }
    // The caps of core/thermal/limits.ts that need no grid: checked when the file is read.
    if (s.drive_scale > MAX_DRIVE_SCALE)
      ctx.addIssue({
        code: 'custom',
        path: ['drive_scale'],
        message: `${s.drive_scale} is more than ${MAX_DRIVE_SCALE}: it multiplies the plan's pressure (heating x ${formatCount(s.drive_scale ** 2)}); past ${MAX_DRIVE_SCALE} any plan's focus is beyond the ~25 MPa intrinsic cavitation threshold where the linear model means nothing: plan at the intended drive level instead`,
      })
    const field = s.trains !== undefined ? 'trains' : 'duration_s'
    const duration = s.trains !== undefined ? s.trains * s.train_interval_s : s.duration_s!
    if (duration > MAX_PROTOCOL_DURATION_S)
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `the sonication would last ${hours(duration)}, more than the ${hours(MAX_PROTOCOL_DURATION_S)} a protocol may simulate`,
      })
    else if (trainCount(s) > MAX_TRAINS)
      ctx.addIssue({
        code: 'custom',
        path: [s.trains !== undefined ? 'trains' : 'train_interval_s'],
        message: `${formatCount(trainCount(s))} trains is more than ${formatCount(MAX_TRAINS)} (each train is at least two time steps of the thermal model)`,
      })
    if (s.gap_after_s > MAX_PROTOCOL_DURATION_S)
      ctx.addIssue({
        code: 'custom',
        path: ['gap_after_s'],
        message: `${hours(s.gap_after_s)} is more than the ${hours(MAX_PROTOCOL_DURATION_S)} a protocol may simulate`,
      })
  })
export type SonicationRecord = z.infer<typeof sonicationRecord>

export const thermalProtocolRecord = z
  .strictObject({
    name: z.string().optional(),
    /** Where the protocol comes from (paper, device manual), for the report. */
    source: z.string().optional(),
    sonications: z.array(sonicationRecord).min(1),
    /** Time simulated after the last sonication (and its gap), to follow the cooling. */
    cooling_s: z.number().nonnegative().default(0),
  })
  .superRefine((p, ctx) => {
    // Whole-protocol caps (each sonication was checked on its own above).
    const parts: Array<[Array<string | number>, number]> = [[['cooling_s'], p.cooling_s]]
    let trains = 0
    p.sonications.forEach((s, i) => {
      parts.push(
        [['sonications', i, s.trains !== undefined ? 'trains' : 'duration_s'], sonicationDurationS(s)],
        [['sonications', i, 'gap_after_s'], s.gap_after_s],
      )
      trains += trainCount(s)
    })
    const total = parts.reduce((t, [, v]) => t + v, 0)
    const longest = parts.reduce((a, b) => (b[1] > a[1] ? b : a))
    if (total > MAX_PROTOCOL_DURATION_S)
      ctx.addIssue({
        code: 'custom',
        path: longest[0],
        message: `the protocol would simulate ${hours(total)} in all, more than the ${hours(MAX_PROTOCOL_DURATION_S)} a protocol may (a TUS session with its cooling is well within it)`,
      })
    else if (trains > MAX_TRAINS)
      ctx.addIssue({
        code: 'custom',
        path: ['sonications'],
        message: `${formatCount(trains)} trains in all is more than ${formatCount(MAX_TRAINS)} (each train is at least two time steps of the thermal model)`,
      })
  })
export type ThermalProtocolRecord = z.infer<typeof thermalProtocolRecord>
/** The protocol as written in a file (defaults not yet applied). */
export type ThermalProtocolInput = z.input<typeof thermalProtocolRecord>

/** Duration of one sonication: its trains back to back (the last train's off time included). */
export function sonicationDurationS(s: SonicationRecord): number {
  return s.duration_s ?? s.trains! * s.train_interval_s
}

/** Total simulated time: sonications, gaps and cooling. */
export function thermalProtocolDurationS(p: ThermalProtocolRecord): number {
  return p.sonications.reduce((t, s) => t + sonicationDurationS(s) + s.gap_after_s, 0) + p.cooling_s
}

/**
 * The one-train-per-sonication thermal protocol of a plan's pulse timing (`plan.json`
 * pulse_timing: pulse duration, PRF, train duty cycle) for `durationS` seconds: trains of `trainIntervalS` (default 1 s) whose
 * on-time is train_duty_cycle of it. For callers that only have the plan's pulse timing.
 */
export function thermalProtocolFromPulseTiming(
  fields: { pulse_duration_s: number; prf_hz: number; train_duty_cycle: number },
  durationS: number,
  coolingS = 0,
  trainIntervalS = 1,
): ThermalProtocolRecord {
  return thermalProtocolRecord.parse({
    name: 'from plan.json pulse_timing',
    sonications: [
      {
        pulse_duration_s: fields.pulse_duration_s,
        prf_hz: fields.prf_hz,
        train_duration_s: Math.max(fields.pulse_duration_s, fields.train_duty_cycle * trainIntervalS),
        train_interval_s: trainIntervalS,
        duration_s: durationS,
      },
    ],
    cooling_s: coolingS,
  })
}
