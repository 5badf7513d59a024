/**
 * Annular steering against the Rayleigh integral: the ring phases from transducerElements
 * put the free-field on-axis peak where it was asked for. Each ring's field is
 * cap(outer) - cap(inner), both caps sampled at the same point density (as in
 * tests/integration/solver/disc-annular.test.ts), driven as amplitude * e^{i phase}.
 */
import { describe, it, expect, beforeAll } from 'vitest'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fermatSpiralBowlPoints, rayleighPressure, type ComplexField } from '../../../core/solver/analytic/rayleigh.ts'
import { annularSteeringPhases, parseTransducer, transducerElements, type AnnularDefinition } from '../../../core/transducers/library.ts'

const DIR = path.resolve(import.meta.dirname, '../../../resources/transducers')
const RHO = 1000
const C = 1500
/** Points on the outermost cap; inner caps get the same density. */
const POINTS = 40000

function load(id: string): AnnularDefinition {
  const file = path.join(DIR, `${id}.json`)
  const def = parseTransducer(readFileSync(file, 'utf8'), file)
  if (def.type !== 'annular') throw new Error(`${id} is not annular`)
  return def
}

function capArea(R: number, D: number): number {
  const a = D / 2
  return 2 * Math.PI * R * ((a * a) / (R + Math.sqrt(R * R - a * a)))
}

/** Complex on-axis field of each ring for a unit velocity u0 = 1/(rho c) (source amplitude 1 Pa); apex at 0, axis +x. */
function ringFields(def: AnnularDefinition, axisM: Float64Array, frequencyHz: number): { re: Float64Array; im: Float64Array }[] {
  const R = def.roc_m
  const density = POINTS / capArea(R, def.rings[def.rings.length - 1]!.outer_m)
  const medium = { frequencyHz, soundSpeed: C, density: RHO, u0: 1 / (RHO * C) }
  const line = new Float64Array(3 * axisM.length)
  axisM.forEach((x, i) => (line[3 * i] = x))
  const cap = (D: number): ComplexField | null => {
    if (D === 0) return null
    const pts = fermatSpiralBowlPoints(R, D, Math.max(2, Math.round(capArea(R, D) * density)), { sampling: 'midpoint' })
    return rayleighPressure(pts.xyz, pts.areaPerPointM2, line, medium)
  }
  return def.rings.map((ring) => {
    const outer = cap(ring.outer_m)!
    const inner = cap(ring.inner_m)
    return {
      re: outer.re.map((v, i) => v - (inner ? inner.re[i]! : 0)),
      im: outer.im.map((v, i) => v - (inner ? inner.im[i]! : 0)),
    }
  })
}

function combine(rings: { re: Float64Array; im: Float64Array }[], amplitudes: number[], phases: number[]): Float64Array {
  const n = rings[0]!.re.length
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let re = 0
    let im = 0
    rings.forEach((ring, r) => {
      const c = Math.cos(phases[r]!) * amplitudes[r]!
      const s = Math.sin(phases[r]!) * amplitudes[r]!
      re += ring.re[i]! * c - ring.im[i]! * s
      im += ring.re[i]! * s + ring.im[i]! * c
    })
    out[i] = Math.hypot(re, im)
  }
  return out
}

function peakPosition(values: Float64Array, axisM: Float64Array): number {
  let best = 0
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i
  return axisM[best]!
}

describe('annular steering phases (Rayleigh integral, free field, water)', () => {
  const def = load('generic-annular-4ring-500khz')
  const dz = 0.0002
  const axis = Float64Array.from({ length: Math.round((0.11 - 0.015) / dz) + 1 }, (_, i) => 0.015 + i * dz)
  let rings: { re: Float64Array; im: Float64Array }[]
  beforeAll(() => {
    rings = ringFields(def, axis, def.frequency_hz)
  })

  it.each([0.025, 0.035])('steering to %s m from the exit plane puts the on-axis peak within 2 mm of it', (depth) => {
    const elements = transducerElements(def, { amplitudePa: 60000, focalDepthM: depth })
    const amplitudes = elements.map((e) => e.amplitudePa)
    const phases = elements.map((e) => e.phaseRad)
    const field = combine(rings, amplitudes, phases)
    const target = def.exit_plane_offset_m + depth
    const peak = peakPosition(field, axis)
    expect(Math.abs(peak - target)).toBeLessThan(0.002)
    // Steering moved the peak: unsteered (all phases 0) it sits near the geometric focus, 60 mm from the apex.
    const unsteered = peakPosition(combine(rings, amplitudes, [0, 0, 0, 0]), axis)
    expect(Math.abs(unsteered - def.roc_m)).toBeLessThan(0.002)
    expect(Math.abs(unsteered - target)).toBeGreaterThan(0.01)
  })

  it('the phases bring every ring into phase at the target (exact on-axis phase centre)', () => {
    for (const depth of [0.025, 0.04, 0.05]) {
      const target = def.exit_plane_offset_m + depth
      const at = ringFields(def, Float64Array.of(target), def.frequency_hz)
      const phases = transducerElements(def, { amplitudePa: 1, focalDepthM: depth }).map((e) => e.phaseRad)
      const arrival = at.map((ring, r) => Math.atan2(ring.im[0]!, ring.re[0]!) + phases[r]!)
      for (const a of arrival) {
        const diff = Math.atan2(Math.sin(a - arrival[0]!), Math.cos(a - arrival[0]!))
        expect(Math.abs(diff)).toBeLessThan(0.02)
      }
    }
  })

  it('the whole generic focal range keeps the peak within 2 mm of the target (the criterion its file cites)', () => {
    for (const depth of [def.focal_range_m[0], def.focal_range_m[1]]) {
      const elements = transducerElements(def, { amplitudePa: 1, focalDepthM: depth })
      const field = combine(
        rings,
        elements.map((e) => e.amplitudePa),
        elements.map((e) => e.phaseRad),
      )
      expect(Math.abs(peakPosition(field, axis) - (def.exit_plane_offset_m + depth))).toBeLessThan(0.002)
    }
  })

  it('a ring spanning more than a wavelength of path difference is flipped by pi, and still arrives in phase', () => {
    // A central 10 mm disc and one wide ring out to 64 mm on R = 60 mm: off the centre of
    // curvature the wide ring's edge paths differ by more than a wavelength (3 mm).
    const wide: AnnularDefinition = {
      ...def,
      rings: [
        { inner_m: 0, outer_m: 0.01 },
        { inner_m: 0.01, outer_m: 0.064 },
      ],
    }
    const k = (2 * Math.PI * def.frequency_hz) / C
    const targets = Float64Array.from({ length: 17 }, (_, i) => 0.02 + i * 0.005)
    const fields = ringFields(wide, targets, def.frequency_hz)
    let flips = 0
    targets.forEach((target, t) => {
      const phases = annularSteeringPhases(wide.roc_m, wide.rings, target, k)
      const d = (D: number) =>
        Math.sqrt(wide.roc_m ** 2 + (target - wide.roc_m) ** 2 + 2 * (target - wide.roc_m) * wide.roc_m * Math.sqrt(1 - (D / (2 * wide.roc_m)) ** 2))
      const meanPath = (k * (d(0.01) + d(0.064))) / 2 - (k * (d(0) + d(0.01))) / 2
      if (Math.abs(Math.cos(phases[1]! - meanPath) + 1) < 1e-9) flips++
      const arrival = fields.map((ring, r) => Math.atan2(ring.im[t]!, ring.re[t]!) + phases[r]!)
      expect(Math.abs(Math.atan2(Math.sin(arrival[1]! - arrival[0]!), Math.cos(arrival[1]! - arrival[0]!)))).toBeLessThan(0.02)
    })
    expect(flips).toBeGreaterThan(0)
  })
})
