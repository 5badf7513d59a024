import { describe, expect, it } from 'vitest'
import { checkSurrogateRequest, parseSurrogateManifest, SurrogateModelError } from '../../../core/surrogate/manifest.ts'
import { dihedralPermutation, networkInput, predictField, type InferencePort } from '../../../core/surrogate/predict.ts'
import { compareFields, intracranialMask, spearman, stats } from '../../../core/surrogate/metrics.ts'
import { drawHeadParameters, proceduralHeadCt } from '../../../core/surrogate/procedural-head.ts'
import { segmentHead } from '../../../core/planning/masks.ts'

export function manifestFixture(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: 'tfus-surrogate-model/1',
    version: 'test',
    model_file: 'model.onnx',
    model_sha256: 'a'.repeat(64),
    transducer_id: 'itrusst-bm-bowl',
    frequency_hz: 500000,
    points_per_wavelength: 2,
    mapping_id: 'kplan',
    frame: {
      kind: 'beam-aligned',
      description: 'test',
      grid_size: [6, 6, 5],
      spacing_m: 0.0015,
      origin_m: [-0.00375, -0.00375, -0.003],
      focal_distance_from_apex_m: 0.064,
      padded_size_zyx: [8, 8, 8],
      padding_zyx: { z_after: 3, y_before: 1, y_after: 1, x_before: 1, x_after: 1 },
    },
    normalisation: { sound_speed_ref_m_s: 1500, density_ref_kg_m3: 1000, alpha_scale_np_m: 100, log_floor: 0.001, output: 'log' },
    pose_features: ['axis_ras_x', 'axis_ras_y', 'axis_ras_z', 'standoff_per_30mm', 'skull_thickness_per_10mm', 'incidence_per_30deg'],
    free_water: { file: 'free-water.f32', peak_pa: 1000, reference_source_amplitude_pa: 60000 },
    architecture: { kind: 'unet3d-film', widths: [8], film: true, prior: true, parameters: 10 },
    training: { train_samples: 1, validation_samples: 0 },
    ...over,
  }
}

describe('surrogate manifest', () => {
  it('parses a valid manifest and refuses broken ones naming the file and field', () => {
    const m = parseSurrogateManifest(manifestFixture(), 'model.json')
    expect(m.frame.padded_size_zyx).toEqual([8, 8, 8])
    expect(() => parseSurrogateManifest(manifestFixture({ format: 'other/1' }), 'x/model.json')).toThrow(
      /x\/model.json: not a TFUS surrogate manifest \(format/,
    )
    expect(() => parseSurrogateManifest(manifestFixture({ pose_features: ['a'] }), 'm.json')).toThrow(/pose features/)
    const badPad = manifestFixture()
    ;(badPad['frame'] as Record<string, unknown>)['padded_size_zyx'] = [8, 8, 16]
    expect(() => parseSurrogateManifest(badPad, 'm.json')).toThrow(/does not equal the grid/)
  })

  it('refuses a transducer, frequency, mapping or grid the model was not trained for', () => {
    const m = parseSurrogateManifest(manifestFixture(), 'model.json')
    const ok = {
      transducerId: 'itrusst-bm-bowl',
      frequencyHz: 500000,
      mappingId: 'kplan',
      gridSize: [6, 6, 5] as const,
      spacingM: 0.0015,
      originM: [-0.00375, -0.00375, -0.003] as const,
    }
    expect(() => checkSurrogateRequest(m, ok, 'model.json')).not.toThrow()
    expect(() => checkSurrogateRequest(m, { ...ok, transducerId: 'neurofus-ctx-250-4ch' }, 'model.json')).toThrow(
      /trained for transducer itrusst-bm-bowl, not neurofus-ctx-250-4ch/,
    )
    expect(() => checkSurrogateRequest(m, { ...ok, frequencyHz: 250000 }, 'model.json')).toThrow(SurrogateModelError)
    expect(() => checkSurrogateRequest(m, { ...ok, mappingId: 'aubry' }, 'model.json')).toThrow(/HU mapping/)
    expect(() => checkSurrogateRequest(m, { ...ok, gridSize: [6, 6, 7] }, 'model.json')).toThrow(/6x6x7/)
  })
})

describe('surrogate pre- and post-processing', () => {
  it('the 8 lateral variants are distinct permutations, variant 1 flips x and variant 4 transposes', () => {
    const seen = new Set<string>()
    for (let k = 0; k < 8; k++) {
      const p = dihedralPermutation(k, 3, 3)
      expect([...p].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
      seen.add(p.join(','))
    }
    expect(seen.size).toBe(8)
    expect([...dihedralPermutation(1, 3, 3)]).toEqual([2, 1, 0, 5, 4, 3, 8, 7, 6])
    expect([...dihedralPermutation(4, 3, 3)]).toEqual([0, 3, 6, 1, 4, 7, 2, 5, 8])
    expect([...dihedralPermutation(3, 3, 3)]).toEqual([8, 7, 6, 5, 4, 3, 2, 1, 0])
  })

  it('normalises and pads the medium as the training code does', () => {
    const m = parseSurrogateManifest(manifestFixture(), 'model.json')
    const n = 6 * 6 * 5
    const free = new Float32Array(n).fill(500)
    const x = networkInput(m, { soundSpeed: 3000, density: new Float32Array(n).fill(2000), alphaNpM: 50, alphaPower: 2 }, free)
    const vol = 8 * 8 * 8
    expect(x.length).toBe(4 * vol)
    const inside = 0 * 64 + 1 * 8 + 1 // z 0, y 1, x 1 = voxel (0, 0, 0)
    expect(x[inside]).toBeCloseTo(1)
    expect(x[vol + inside]).toBeCloseTo(1)
    expect(x[2 * vol + inside]).toBeCloseTo(0.5)
    expect(x[3 * vol + inside]).toBeCloseTo(Math.log(0.5 + 0.001), 5)
    expect(x[0]).toBe(0) // padding: water
    expect(x[3 * vol]).toBeCloseTo(Math.log(0.001), 5)
  })

  it('turns the prior back into the free-water field and reads agreement as confidence', async () => {
    const m = parseSurrogateManifest(manifestFixture(), 'model.json')
    const n = 6 * 6 * 5
    const free = Float32Array.from({ length: n }, (_, i) => 100 + (i % 37) * 20)
    const vol = 512
    const echo = (jitter: (k: number) => number): InferencePort => ({
      provider: 'test',
      async run(input, _pose, batch) {
        const out = new Float32Array(batch * vol)
        for (let b = 0; b < batch; b++) for (let q = 0; q < vol; q++) out[b * vol + q] = input[b * 4 * vol + 3 * vol + q]! + jitter(b)
        return out
      },
    })
    const medium = { soundSpeed: 1500, density: 1000, alphaNpM: 0, alphaPower: 2 }
    const same = await predictField(
      echo(() => 0),
      m,
      medium,
      free,
      new Float32Array(6),
    )
    for (let i = 0; i < n; i++) expect(same.amplitudePa[i]).toBeCloseTo(free[i]!, 1)
    expect(same.peakSpread).toBeLessThan(1e-6)
    expect(same.confidence).toBeCloseTo(1, 5)
    const spread = await predictField(
      echo((k) => (k % 2 ? 0.2 : -0.2)),
      m,
      medium,
      free,
      new Float32Array(6),
    )
    expect(spread.peakSpread).toBeGreaterThan(0.15)
    expect(spread.confidence).toBeLessThan(same.confidence)
    expect(spread.low).toBe(true) // uncalibrated: expected error = spread (~20 %) -> confidence ~0
  })
})

describe('surrogate metrics', () => {
  const size = [5, 5, 5] as const
  const field = (cx: number, scale = 1) =>
    Float32Array.from({ length: 125 }, (_, v) => scale * Math.exp(-(((v % 5) - cx) ** 2) - ((Math.floor(v / 5) % 5) - 2) ** 2 - (Math.floor(v / 25) - 2) ** 2))
  it('focal error, peak error and relative L2 on known fields', () => {
    const t = field(2)
    expect(compareFields(t, t, size, 0.0015)).toEqual({ focalErrorM: 0, peakError: 0, relL2Pa: 0, relL2Log1p: 0 })
    const scaled = compareFields(field(2, 1.1), t, size, 0.0015)
    expect(scaled.peakError).toBeCloseTo(0.1, 6)
    expect(scaled.relL2Pa).toBeCloseTo(0.1, 6)
    expect(scaled.relL2Log1p).toBeCloseTo(0, 6) // each field normalised by its own maximum
    expect(compareFields(field(4), t, size, 0.0015).focalErrorM).toBeCloseTo(0.003, 9)
  })
  it('intracranial mask: soft tissue past bone along +z only', () => {
    const c = Float32Array.from([1500, 1500, 1560, 1560, 2500, 2500, 1560, 1560])
    const r = Float32Array.from([1000, 1000, 1040, 1040, 1900, 1900, 1040, 1040])
    expect([...intracranialMask(c, r, [2, 1, 4])]).toEqual([0, 0, 0, 0, 0, 0, 1, 1])
  })
  it('stats and Spearman', () => {
    expect(stats([1, 2, 3, 10])).toMatchObject({ median: 2.5, mean: 4 })
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 100])).toBeCloseTo(1)
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1)
  })
})

describe('procedural heads', () => {
  it('are reproducible from their seed and segment into a head with a skull of the drawn thickness', () => {
    const p = drawHeadParameters(1004)
    expect(drawHeadParameters(1004)).toEqual(p)
    const a = proceduralHeadCt(p, 0.002)
    const b = proceduralHeadCt(p, 0.002)
    expect(Buffer.from(a.ct.data.buffer).equals(Buffer.from(b.ct.data.buffer))).toBe(true)
    const seg = segmentHead(a.ct)
    let skull = 0
    for (const v of seg.skull) skull += v
    // Skull volume ~ surface area x thickness of the ellipsoid shell (within a factor 2 at 2 mm voxels).
    const [ax, by, cz] = p.semiAxesM
    const area = 4 * Math.PI * (((ax * by) ** 1.6 + (ax * cz) ** 1.6 + (by * cz) ** 1.6) / 3) ** (1 / 1.6)
    const expected = (area * 0.8 * (p.skullThicknessM[0] + p.skullThicknessM[1])) / 2 / 0.002 ** 3
    expect(skull).toBeGreaterThan(0.5 * expected)
    expect(skull).toBeLessThan(2 * expected)
  })
})
