/**
 * The protocol's timing: train on/off segments, pulse averaging or pulse-by-pulse, sequences of
 * sonications with their own drive scale and gaps, cooling, and the validation of protocol files.
 */
import { describe, expect, it } from 'vitest'
import {
  thermalProtocolDurationS,
  thermalProtocolFromPulseTiming,
  thermalProtocolRecord,
  type ThermalProtocolInput,
} from '../../../core/contracts/thermal-protocol.ts'
import { buildSchedule } from '../../../core/thermal/schedule.ts'

const parse = (p: ThermalProtocolInput) => thermalProtocolRecord.parse(p)

/** Source level at time t (piecewise constant). */
function levelAt(segments: readonly { startS: number; durationS: number; level: number }[], t: number): number {
  for (const s of segments) if (t >= s.startS && t < s.startS + s.durationS) return s.level
  return Number.NaN
}

describe('heating schedule', () => {
  it('resolves trains: on for the train, off until the next; pulses averaged within a train when 1/PRF <= dt_max', () => {
    const p = parse({ sonications: [{ pulse_duration_s: 0.0003, prf_hz: 1000, train_duration_s: 0.5, train_interval_s: 2.5, trains: 4 }], cooling_s: 10 })
    const s = buildSchedule(p, 0.6)
    expect(s.sonications[0]!.pulsesAveraged).toBe(true)
    expect(s.totalS).toBeCloseTo(20, 12)
    expect(s.lastSonicationEndS).toBeCloseTo(10, 12)
    for (const train of [0, 1, 2, 3]) {
      expect(levelAt(s.segments, train * 2.5 + 0.25)).toBeCloseTo(0.3, 12)
      expect(levelAt(s.segments, train * 2.5 + 1.5)).toBe(0)
    }
    expect(levelAt(s.segments, 15)).toBe(0)
    // Energy: 4 trains x 500 pulses x 0.3 ms at level 1.
    const energy = s.batches.reduce((e, b) => e + b.steps * b.dtS * b.level, 0)
    expect(energy).toBeCloseTo(4 * 500 * 0.0003, 12)
    // No step longer than dt_max, and the steps add up to the protocol.
    expect(Math.max(...s.batches.map((b) => b.dtS))).toBeLessThanOrEqual(0.6)
    expect(s.batches.reduce((t, b) => t + b.steps * b.dtS, 0)).toBeCloseTo(20, 9)
  })

  it('simulates pulses one by one when the pulse period is longer than dt_max', () => {
    const p = parse({ sonications: [{ pulse_duration_s: 0.2, prf_hz: 1, train_duration_s: 3, train_interval_s: 3, trains: 1 }] })
    const s = buildSchedule(p, 0.5)
    expect(s.sonications[0]!.pulsesAveraged).toBe(false)
    expect(levelAt(s.segments, 0.1)).toBe(1)
    expect(levelAt(s.segments, 0.5)).toBe(0)
    expect(levelAt(s.segments, 1.1)).toBe(1)
    expect(levelAt(s.segments, 2.1)).toBe(1)
    expect(levelAt(s.segments, 2.9)).toBe(0)
    expect(s.batches.reduce((e, b) => e + b.steps * b.dtS * b.level, 0)).toBeCloseTo(0.6, 12)
  })

  it('runs sonications in sequence with their own drive scale (heat x scale^2), gaps and a cut last train', () => {
    const p = parse({
      sonications: [
        { label: 'A', pulse_duration_s: 0.01, prf_hz: 10, train_duration_s: 1, train_interval_s: 1, duration_s: 5, drive_scale: 2, gap_after_s: 7 },
        { label: 'B', pulse_duration_s: 0.05, prf_hz: 10, train_duration_s: 2, train_interval_s: 4, duration_s: 10 },
      ],
      cooling_s: 30,
    })
    expect(thermalProtocolDurationS(p)).toBe(5 + 7 + 10 + 30)
    const s = buildSchedule(p, 1)
    expect(s.sonications.map((x) => [x.label, x.startS, x.endS])).toEqual([
      ['A', 0, 5],
      ['B', 12, 22],
    ])
    expect(levelAt(s.segments, 2.5)).toBeCloseTo(4 * 0.1, 12)
    expect(levelAt(s.segments, 8)).toBe(0)
    expect(levelAt(s.segments, 13)).toBeCloseTo(0.5, 12)
    expect(levelAt(s.segments, 15)).toBe(0)
    // B's third train starts at 20 s and is cut at 22 s (on for 2 s anyway here).
    expect(levelAt(s.segments, 21.5)).toBeCloseTo(0.5, 12)
    expect(levelAt(s.segments, 40)).toBe(0)
    expect(s.lastSonicationEndS).toBe(22)
    expect(s.totalS).toBeCloseTo(52, 12)
    const energy = s.batches.reduce((e, b) => e + b.steps * b.dtS * b.level, 0)
    expect(energy).toBeCloseTo(4 * 5 * 0.1 + 3 * 2 * 0.5, 9)
  })

  it('refuses inconsistent timing, naming the field', () => {
    const bad = (p: ThermalProtocolInput) => {
      const r = thermalProtocolRecord.safeParse(p)
      return r.success ? null : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
    }
    const base = { pulse_duration_s: 0.02, prf_hz: 5, train_duration_s: 1, train_interval_s: 2, trains: 3 }
    expect(bad({ sonications: [base] })).toBeNull()
    expect(bad({ sonications: [{ ...base, pulse_duration_s: 0.3 }] })).toMatch(/sonications\.0\.pulse_duration_s: .*repetition period/)
    expect(bad({ sonications: [{ ...base, train_duration_s: 3 }] })).toMatch(/train_duration_s: .*repetition interval/)
    expect(bad({ sonications: [{ ...base, duration_s: 10 }] })).toMatch(/exactly one of trains or duration_s/)
    expect(bad({ sonications: [] })).toMatch(/sonications/)
    expect(bad({ sonications: [{ ...base, drive_scale: -1 }] })).toMatch(/drive_scale/)
  })

  it("turns plan.json's pulse timing (pulse duration, PRF, train duty cycle) into trains of 1 s", () => {
    const p = thermalProtocolFromPulseTiming({ pulse_duration_s: 0.02, prf_hz: 5, train_duty_cycle: 0.5 }, 10, 5)
    const s = buildSchedule(p, 1)
    // 0.5 s on per 1 s train, pulses 20 ms at 5 Hz within it: 3 pulses x 20 ms per train, 10 trains.
    expect(s.batches.reduce((e, b) => e + b.steps * b.dtS * b.level, 0)).toBeCloseTo(10 * 3 * 0.02, 12)
    expect(s.totalS).toBeCloseTo(15, 12)
  })
})
