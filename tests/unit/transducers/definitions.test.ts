/**
 * Transducer definition files: every bundled file validates and cites its numbers, bad files
 * name the file and the field, and the elements a definition yields match the solver's own
 * scene sources (the ITRUSST BM1 bowl).
 */
import { describe as suite, it, expect } from 'vitest'
import { readFileSync, readdirSync } from 'node:fs'
import * as path from 'node:path'
import {
  amplitudeFromSetting,
  describe,
  focalRangeM,
  geometricFocusFromApexM,
  parseTransducer,
  rimDepthM,
  transducerElements,
  TransducerDefinitionError,
  type TransducerDefinition,
} from '../../../core/transducers/library.ts'
import { parseScene } from '../../../core/solver/scene.ts'
import { SimulationInputError } from '../../../core/solver/errors.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const DIR = path.join(ROOT, 'resources/transducers')
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()

function bundled(id: string): TransducerDefinition {
  const file = path.join(DIR, `${id}.json`)
  return parseTransducer(readFileSync(file, 'utf8'), file)
}

/** A valid bowl definition to break one field at a time. */
const BOWL = {
  id: 'test-bowl',
  name: 'Test bowl',
  type: 'bowl',
  frequency_hz: 500000,
  roc_m: 0.064,
  aperture_m: 0.064,
  exit_plane_offset_m: 0.0086,
  sources: [{ fields: ['frequency_hz', 'roc_m', 'aperture_m', 'exit_plane_offset_m'], citation: 'test' }],
}

function parseError(value: unknown, file = 'my-probe.json'): TransducerDefinitionError {
  try {
    parseTransducer(typeof value === 'string' ? value : JSON.stringify(value), file)
  } catch (e) {
    expect(e).toBeInstanceOf(TransducerDefinitionError)
    return e as TransducerDefinitionError
  }
  throw new Error('expected the definition to be rejected')
}

suite('bundled transducer definitions', () => {
  it('holds the expected files', () => {
    expect(FILES).toEqual([
      'generic-annular-4ring-500khz.json',
      'generic-bowl-500khz.json',
      'itrusst-bm-bowl.json',
      'itrusst-bm-piston.json',
      'neurofus-ctx-250-4ch.json',
      'neurofus-ctx-500-4ch.json',
    ])
  })

  it.each(FILES)('%s validates, is named after its id and cites every number', (name) => {
    const def = parseTransducer(readFileSync(path.join(DIR, name), 'utf8'), name)
    expect(`${def.id}.json`).toBe(name)
    expect(def.sources.length).toBeGreaterThan(0)
    for (const s of def.sources) expect(s.citation.length).toBeGreaterThan(10)
    // Elements at the nominal frequency and the default focus.
    const elements = transducerElements(def, { amplitudePa: 60000 })
    expect(elements.length).toBe(def.type === 'annular' ? def.rings.length : 1)
    const range = focalRangeM(def)
    if (def.type !== 'disc') expect(range).not.toBeNull()
  })

  it('ITRUSST bowl: the elements equal the BM1 scene bowl (apex at 0, ROC = aperture = 64 mm, 60 kPa)', () => {
    const def = bundled('itrusst-bm-bowl')
    const [mine] = transducerElements(def, { amplitudePa: 60000 })
    const scene = parseScene(JSON.parse(readFileSync(path.join(ROOT, 'resources/scenes/itrusst-bm1.json'), 'utf8')))
    const [bm1] = scene.source.elements
    expect(scene.source.frequencyHz).toBe(def.frequency_hz)
    expect(mine!.kind).toBe('bowl')
    expect(bm1!.kind).toBe('bowl')
    if (mine!.kind !== 'bowl' || bm1!.kind !== 'bowl') return
    expect(mine!.rocM).toBe(bm1!.rocM)
    expect(mine!.apertureM).toBe(bm1!.apertureM)
    expect(mine!.innerApertureM).toBe(bm1!.innerApertureM)
    expect(mine!.amplitudePa).toBe(bm1!.amplitudePa)
    expect(mine!.phaseRad).toBe(bm1!.phaseRad)
    // Same placement up to the frame: the scene's beam runs along +x, transducer coordinates along +z.
    expect(mine!.apexM).toEqual([0, 0, 0])
    expect(bm1!.apexM).toEqual([0, 0, 0])
    expect([mine!.focusM[2], mine!.focusM[0], mine!.focusM[1]]).toEqual([...bm1!.focusM])
    // Rim plane 8.574 mm from the apex, focus 55.43 mm beyond it (docs/physics.md §0).
    if (def.type !== 'bowl') throw new Error('bowl expected')
    expect(rimDepthM(def.roc_m, def.aperture_m)).toBeCloseTo(0.008574, 6)
    expect(def.exit_plane_offset_m).toBeCloseTo(0.008574, 6)
    expect(geometricFocusFromApexM(def)).toBe(0.064)
  })

  it('ITRUSST piston: a 20 mm disc at the origin facing +z', () => {
    const [disc] = transducerElements(bundled('itrusst-bm-piston'), { amplitudePa: 60000 })
    expect(disc).toEqual({ kind: 'disc', centerM: [0, 0, 0], towardM: [0, 0, 1], diameterM: 0.02, amplitudePa: 60000, phaseRad: 0 })
  })

  it('describe() summarises id, name, type, frequency and focal range', () => {
    const ctx = describe(bundled('neurofus-ctx-500-4ch'))
    expect(ctx).toMatchObject({
      id: 'neurofus-ctx-500-4ch',
      type: 'annular',
      elementCount: 4,
      frequencyHz: 500000,
      focalRangeM: [0.033, 0.08],
      geometricFocusFromApexM: 0.0632,
      steerable: true,
    })
    expect(ctx.text).toBe(
      'neurofus-ctx-500-4ch: NeuroFUS CTX-500, 4-channel annular array (ring geometry of unit CTX-500-026), annular (4 rings), 500 kHz, focus 33.0-80.0 mm from the exit plane',
    )
    const bowl = describe(bundled('generic-bowl-500khz'))
    expect(bowl.focalRangeM![0]).toBeCloseTo(0.06 - rimDepthM(0.06, 0.06), 6)
    expect(bowl.steerable).toBe(false)
    expect(describe(bundled('itrusst-bm-piston')).text).toContain('no focus')
  })

  it('CTX-500: exit plane 52.38 mm before the geometric focus, as PRESTUS and BabelBrain place it', () => {
    const def = bundled('neurofus-ctx-500-4ch')
    if (def.type !== 'annular') throw new Error('annular expected')
    expect(def.roc_m - def.exit_plane_offset_m).toBeCloseTo(0.05238, 9)
    expect(def.rings[3]!.outer_m).toBeCloseTo(0.064, 4)
  })
})

suite('bad definition files name the file and the field', () => {
  it('missing field', () => {
    const { roc_m: _drop, ...noRoc } = BOWL
    const e = parseError({ ...noRoc, sources: [{ fields: ['frequency_hz', 'aperture_m', 'exit_plane_offset_m'], citation: 'test' }] })
    expect(e.file).toBe('my-probe.json')
    expect(e.field).toBe('roc_m')
    expect(e.message).toBe('my-probe.json: roc_m: is missing')
  })

  it('aperture > 2 ROC', () => {
    const e = parseError({ ...BOWL, aperture_m: 0.13 })
    expect(e.field).toBe('aperture_m')
    expect(e.message).toMatch(/^my-probe\.json: aperture_m: .*exceeds twice the radius of curvature/)
  })

  it('negative frequency', () => {
    const e = parseError({ ...BOWL, frequency_hz: -500000 })
    expect(e.field).toBe('frequency_hz')
    expect(e.message).toMatch(/^my-probe\.json: frequency_hz: /)
  })

  it('unknown type', () => {
    const e = parseError({ ...BOWL, type: 'cone' })
    expect(e.field).toBe('type')
    expect(e.message).toBe('my-probe.json: type: must be one of bowl, annular, disc, got "cone"')
  })

  it('not JSON at all', () => {
    const e = parseError('{ "id": ', 'broken.json')
    expect(e.file).toBe('broken.json')
    expect(e.field).toBe('(file)')
    expect(e.message).toMatch(/^broken\.json: \(file\): is not valid JSON/)
  })

  it('misspelt field', () => {
    const e = parseError({ ...BOWL, roc_mm: 64 })
    expect(e.field).toBe('roc_mm')
    expect(e.problem).toMatch(/not a field/)
  })

  it('a number without a citation, and a citation of a field the file lacks', () => {
    expect(parseError({ ...BOWL, sources: [{ fields: ['frequency_hz', 'roc_m', 'aperture_m'], citation: 'test' }] }).message).toBe(
      'my-probe.json: sources: no entry cites "exit_plane_offset_m": add it to the fields of the citation its numbers come from',
    )
    const e = parseError({ ...BOWL, sources: [...BOWL.sources, { fields: ['diameter_m'], citation: 'test' }] })
    expect(e.field).toBe('sources[1].fields[0]')
  })

  it('exit plane inside the bowl', () => {
    const e = parseError({ ...BOWL, exit_plane_offset_m: 0.005 })
    expect(e.field).toBe('exit_plane_offset_m')
    expect(e.problem).toMatch(/rim depth .* 0\.0085744 m/)
  })

  it('a bowl whose focal range is not its geometric focus', () => {
    const e = parseError({ ...BOWL, focal_range_m: [0.03, 0.06], sources: [{ ...BOWL.sources[0]!, fields: [...BOWL.sources[0]!.fields, 'focal_range_m'] }] })
    expect(e.field).toBe('focal_range_m')
    expect(e.problem).toMatch(/does not steer/)
  })

  it('annular: overlapping rings, ring beyond 2 ROC, missing focal range', () => {
    const ctx = JSON.parse(readFileSync(path.join(DIR, 'neurofus-ctx-500-4ch.json'), 'utf8'))
    const overlapping = structuredClone(ctx)
    overlapping.rings[2].inner_m = 0.04
    expect(parseError(overlapping, 'ctx.json').message).toMatch(/^ctx\.json: rings\[2\]\.inner_m: overlaps rings\[1\]/)
    const inverted = structuredClone(ctx)
    inverted.rings[1].outer_m = 0.03
    expect(parseError(inverted, 'ctx.json').field).toBe('rings[1].outer_m')
    const tooWide = structuredClone(ctx)
    tooWide.rings[3].outer_m = 0.2
    expect(parseError(tooWide, 'ctx.json').field).toBe('rings[3].outer_m')
    const { focal_range_m: _drop, ...noRange } = ctx
    noRange.sources = ctx.sources.filter((s: { fields: string[] }) => !s.fields.includes('focal_range_m'))
    expect(parseError(noRange, 'ctx.json').message).toBe('ctx.json: focal_range_m: is missing')
  })

  it('calibration ring weights must match the rings', () => {
    const ctx = JSON.parse(readFileSync(path.join(DIR, 'neurofus-ctx-500-4ch.json'), 'utf8'))
    ctx.calibration = { setting_unit: 'V', pa_per_setting_unit: 1000, ring_weights: [1, 1, 1] }
    ctx.sources[0].fields.push('calibration')
    expect(parseError(ctx, 'ctx.json').field).toBe('calibration.ring_weights')
  })
})

suite('using a definition', () => {
  it('calibration maps a console setting to the source amplitude (linear and sqrt laws), ring weights scale the rings', () => {
    const base = JSON.parse(readFileSync(path.join(DIR, 'generic-annular-4ring-500khz.json'), 'utf8'))
    base.sources[0].fields.push('calibration')
    const linear = parseTransducer(
      JSON.stringify({ ...base, calibration: { setting_unit: 'V (peak)', pa_per_setting_unit: 2000, ring_weights: [1, 0.9, 1.1, 1] } }),
      'cal.json',
    )
    expect(amplitudeFromSetting(linear, 30)).toBe(60000)
    const elements = transducerElements(linear, { amplitudePa: 60000 })
    expect(elements.map((e) => e.amplitudePa)).toEqual([60000, 54000, 66000, 60000])
    const sqrt = parseTransducer(
      JSON.stringify({ ...base, calibration: { setting_unit: 'W/cm^2 (free-field Isppa)', pa_per_setting_unit: 15000, law: 'sqrt' } }),
      'cal.json',
    )
    expect(amplitudeFromSetting(sqrt, 16)).toBe(60000)
    expect(() => amplitudeFromSetting(bundled('itrusst-bm-bowl'), 1)).toThrow(SimulationInputError)
  })

  it('rejects a focus a device cannot reach and a frequency it is not driven at', () => {
    const ctx = bundled('neurofus-ctx-500-4ch')
    expect(() => transducerElements(ctx, { amplitudePa: 1, focalDepthM: 0.02 })).toThrow(
      /focalDepthM: 20\.0 mm lies outside the steerable range 33\.0-80\.0 mm/,
    )
    expect(() => transducerElements(ctx, { amplitudePa: 1, frequencyHz: 250000 })).toThrow(/frequencyHz: neurofus-ctx-500-4ch is driven at its 500 kHz only/)
    const bowl = bundled('itrusst-bm-bowl')
    expect(() => transducerElements(bowl, { amplitudePa: 1, focalDepthM: 0.04 })).toThrow(/single-element bowl/)
    expect(transducerElements(bowl, { amplitudePa: 1, focalDepthM: 0.0554256 })).toHaveLength(1)
    expect(() => transducerElements(bundled('itrusst-bm-piston'), { amplitudePa: 1, focalDepthM: 0.03 })).toThrow(/flat disc/)
    expect(() => transducerElements(ctx, { amplitudePa: -1 })).toThrow(/amplitudePa/)
  })

  it('annular elements: one bowl per ring with the ring diameters, apex at the origin, phases 0 at the geometric focus', () => {
    const def = bundled('neurofus-ctx-500-4ch')
    if (def.type !== 'annular') throw new Error('annular expected')
    const elements = transducerElements(def, { amplitudePa: 50000 })
    elements.forEach((e, n) => {
      expect(e.kind).toBe('bowl')
      if (e.kind !== 'bowl') return
      expect(e.apexM).toEqual([0, 0, 0])
      expect(e.focusM).toEqual([0, 0, 0.0632])
      expect(e.innerApertureM).toBe(def.rings[n]!.inner_m)
      expect(e.apertureM).toBe(def.rings[n]!.outer_m)
      expect(e.phaseRad).toBeCloseTo(0, 12)
    })
  })
})
