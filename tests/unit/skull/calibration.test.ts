import { describe, it, expect } from 'vitest'
import { checkCtCalibration, webbProtocolWarning } from '../../../core/skull/index.ts'
import type { CalibrationPeak } from '../../../core/skull/index.ts'
import { seededGaussian } from '../../../core/math/random.ts'

const N = 40 * 40 * 40

interface Head {
  readonly data: Int16Array
  readonly air: Uint8Array
  readonly brain: Uint8Array
  readonly water: Uint8Array
}

/**
 * A head-like HU volume: scanner padding (-3024), air around the head (-1000), a water bath
 * (0), fat (-100), brain (30) and bone (1000), each with 10 HU noise, then shifted by
 * `offset` and optionally clipped at -1024 as many scanners store air.
 */
function head(offset = 0, clipAt?: number): Head {
  const g = seededGaussian(12345)
  const data = new Int16Array(N)
  const air = new Uint8Array(N)
  const brain = new Uint8Array(N)
  const water = new Uint8Array(N)
  for (let i = 0; i < N; i++) {
    const f = i / N
    let v: number
    if (f < 0.05) v = -3024
    else if (f < 0.4) {
      v = -1000 + 10 * g()
      air[i] = 1
    } else if (f < 0.5) {
      v = 10 * g()
      water[i] = 1
    } else if (f < 0.55) v = -100 + 10 * g()
    else if (f < 0.85) {
      v = 30 + 10 * g()
      brain[i] = 1
    } else v = 1000 + 50 * g()
    if (v !== -3024) {
      v += offset
      if (clipAt !== undefined) v = Math.max(clipAt, v)
    }
    data[i] = Math.round(v)
  }
  return { data, air, brain, water }
}

const peak = (peaks: readonly CalibrationPeak[], m: CalibrationPeak['material']): CalibrationPeak => {
  const p = peaks.find((q) => q.material === m)
  if (p === undefined) throw new Error(`no ${m} peak`)
  return p
}

describe('checkCtCalibration', () => {
  it('finds air and brain peaks in a calibrated CT and raises no warning', () => {
    const h = head()
    const r = checkCtCalibration({ data: h.data, meta: { modality: 'CT', valueUnit: 'HU' } })
    expect(r.warnings).toEqual([])
    expect(r.peaks.map((p) => p.material)).toEqual(['air', 'brain'])
    expect(peak(r.peaks, 'air').peakHu).toBeCloseTo(-1000, -1)
    // Unmasked, the whole-volume mode in [-300, 300] is the brain (30 % of voxels).
    expect(Math.abs(peak(r.peaks, 'brain').peakHu! - 30)).toBeLessThan(3)
    expect(peak(r.peaks, 'brain').masked).toBe(false)
  })

  it('accepts air clipped at -1024 HU and ignores -3024 padding', () => {
    const r = checkCtCalibration({ data: head(0, -1024).data })
    expect(r.warnings).toEqual([])
    expect(peak(r.peaks, 'air').withinTolerance).toBe(true)
  })

  it('warns when every value is shifted by 100 HU', () => {
    const r = checkCtCalibration({ data: head(100).data })
    expect(Math.abs(peak(r.peaks, 'air').peakHu! + 900)).toBeLessThan(3)
    expect(peak(r.peaks, 'air').withinTolerance).toBe(false)
    expect(r.warnings.some((w) => /air peak in the volume is at -9\d\d HU; expected -1000 ± 50 HU/.test(w))).toBe(true)
    expect(r.warnings.some((w) => /brain \/ water peak .* is at 1[23]\d HU; expected 0 to 40 HU/.test(w))).toBe(true)
  })

  it('warns when the rescale intercept was not applied (air near 0)', () => {
    const h = head(1024, 0) // raw stored values are unsigned, so noise stops at 0
    const data = h.data.map((v) => (v === -3024 ? 0 : v))
    const r = checkCtCalibration({ data })
    expect(peak(r.peaks, 'air').peakHu).toBeUndefined()
    expect(r.warnings.some((w) => /No air peak in the volume between -1500 and -500 HU/.test(w))).toBe(true)
    // Shifted by +1024, air lands at ~24 HU, inside the unmasked brain / water window, so
    // that check alone is fooled; the air and sign checks are the ones that catch this.
    expect(Math.abs(peak(r.peaks, 'brain').peakHu! - 24)).toBeLessThan(3)
    expect(r.warnings.some((w) => /No voxel is below 0/.test(w))).toBe(true)
  })

  it('judges masked air, water and brain against their own targets', () => {
    const h = head()
    const ok = checkCtCalibration({ data: h.data }, { air: h.air, water: h.water, brain: h.brain })
    expect(ok.warnings).toEqual([])
    expect(ok.peaks.map((p) => [p.material, p.masked])).toEqual([
      ['air', true],
      ['water', true],
      ['brain', true],
    ])
    expect(Math.abs(peak(ok.peaks, 'water').peakHu!)).toBeLessThan(3)
    expect(Math.abs(peak(ok.peaks, 'brain').peakHu! - 30)).toBeLessThan(3)

    // Water reading 35 HU is inside the brain interval but 35 HU off water: only water warns.
    const shifted = h.data.map((v, i) => (h.water[i] ? v + 35 : v))
    const r = checkCtCalibration({ data: shifted }, { water: h.water, brain: h.brain })
    expect(r.warnings).toHaveLength(1)
    expect(r.warnings[0]).toMatch(/water peak in the water mask is at 3\d HU; expected 0 ± 20 HU/)
  })

  it('reports a mask with too few voxels as missing, and checks the mask length', () => {
    const h = head()
    const tiny = new Uint8Array(N)
    tiny.fill(1, N - 100)
    const r = checkCtCalibration({ data: h.data }, { brain: tiny })
    expect(r.warnings.some((w) => /No brain peak in the brain mask/.test(w))).toBe(true)
    expect(() => checkCtCalibration({ data: h.data }, { air: new Uint8Array(3) })).toThrow(/air mask has 3 entries/)
  })

  it('warns when the volume is not CT or not in HU', () => {
    const r = checkCtCalibration({ data: head().data, meta: { modality: 'MR', valueUnit: 'a.u.' } })
    expect(r.warnings[0]).toMatch(/modality is MR/)
    expect(r.warnings[1]).toMatch(/'a\.u\.'/)
  })
})

describe('webbProtocolWarning', () => {
  it('is silent for GE / 120 kVp / BonePlus', () => {
    expect(webbProtocolWarning({ manufacturer: 'GE MEDICAL SYSTEMS', kvp: 120, convolutionKernel: 'BONEPLUS' })).toBeUndefined()
    expect(webbProtocolWarning({ manufacturer: 'GE Healthcare', kvp: 120, convolutionKernel: 'Bone Plus' })).toBeUndefined()
    expect(webbProtocolWarning({ manufacturer: 'GE', kvp: 120, convolutionKernel: 'STANDARD\\BONEPLUS' })).toBeUndefined()
  })

  it('names each tag that does not match', () => {
    const w = webbProtocolWarning({ manufacturer: 'SIEMENS', kvp: 100, convolutionKernel: 'Hr64h' })
    expect(w).toMatch(/manufacturer 'SIEMENS' \(expected GE\)/)
    expect(w).toMatch(/100 kVp \(expected 120\)/)
    expect(w).toMatch(/kernel 'Hr64h' \(expected BonePlus\)/)
    const k = webbProtocolWarning({ manufacturer: 'GE MEDICAL SYSTEMS', kvp: 120, convolutionKernel: 'BONE' })
    expect(k).toMatch(/kernel 'BONE'/)
    expect(k).not.toMatch(/manufacturer '|expected GE|expected 120/)
    expect(webbProtocolWarning({ manufacturer: 'GE MEDICAL SYSTEMS', kvp: 140, convolutionKernel: 'BONEPLUS' })).toMatch(/140 kVp/)
  })

  it('warns that the protocol is unknown when the tags are missing (NIfTI)', () => {
    const w = webbProtocolWarning({})
    expect(w).toMatch(/manufacturer, kVp, convolution kernel are unknown/)
    expect(w).toMatch(/GE scanners at 120 kVp with the BonePlus kernel/)
    expect(webbProtocolWarning({ manufacturer: 'GE MEDICAL SYSTEMS', kvp: 120 })).toMatch(/convolution kernel is unknown/)
  })
})
