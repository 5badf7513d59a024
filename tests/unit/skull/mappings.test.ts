/**
 * Each HU mapping against the published / reference numbers of docs/physics.md §4.
 */
import { describe, it, expect } from 'vitest'
import {
  HU_MAPPINGS,
  HU_MAPPING_IDS,
  getHuMapping,
  isHuMappingId,
  kplanDensity,
  kplanSoundSpeed,
  kwaveDensity,
  skullHuRange,
} from '../../../core/skull/index.ts'
import type { HuMappingContext } from '../../../core/skull/index.ts'
import { dbPerCmToNpPerM, npPerMToDbPerCm } from '../../../core/solver/analytic/units.ts'

const F500 = 500e3

describe('registry', () => {
  it('holds exactly the six preset ids, each cited and described', () => {
    expect([...HU_MAPPING_IDS]).toEqual(['kwave', 'kplan', 'aubry2003', 'marsac2017-babelbrain', 'marsac2017-prestus', 'webb-ge120-bone'])
    expect(Object.keys(HU_MAPPINGS).sort()).toEqual([...HU_MAPPING_IDS].sort())
    for (const id of HU_MAPPING_IDS) {
      const m = HU_MAPPINGS[id]
      expect(m.id).toBe(id)
      expect(m.name.length).toBeGreaterThan(0)
      expect(m.citation.length).toBeGreaterThan(40)
      expect(m.description.length).toBeGreaterThan(40)
      for (const s of [m.sources.density, m.sources.soundSpeed, m.sources.attenuation]) {
        expect(s.model.length).toBeGreaterThan(0)
        expect(s.citation.length).toBeGreaterThan(20)
      }
    }
  })

  it('records what each primary model provides', () => {
    expect(HU_MAPPINGS.kwave.provides).toBe('density-only')
    expect(HU_MAPPINGS.kplan.provides).toBe('full')
    expect(HU_MAPPINGS.aubry2003.provides).toBe('full')
    expect(HU_MAPPINGS['marsac2017-babelbrain'].provides).toBe('density-and-speed')
    expect(HU_MAPPINGS['marsac2017-prestus'].provides).toBe('density-and-speed')
    expect(HU_MAPPINGS['webb-ge120-bone'].provides).toBe('speed-and-attenuation')
  })

  it('looks mappings up by id and rejects unknown ids', () => {
    expect(getHuMapping('kplan')).toBe(HU_MAPPINGS.kplan)
    expect(isHuMappingId('aubry2003')).toBe(true)
    expect(isHuMappingId('mast')).toBe(false)
    expect(() => getHuMapping('mast')).toThrow(/Unknown HU mapping 'mast'.*kwave/)
  })

  it('every mapping gives finite properties over skull HU, with its statistics supplied', () => {
    const ctx: HuMappingContext = { frequencyHz: F500, huMaxInSkull: 2000, huMinInSkull: 0 }
    for (const id of HU_MAPPING_IDS) {
      for (let hu = 0; hu <= 2000; hu += 50) {
        const p = HU_MAPPINGS[id].map(hu, ctx)
        expect(Number.isFinite(p.density) && Number.isFinite(p.soundSpeed) && Number.isFinite(p.alphaNpM)).toBe(true)
        expect(p.alphaNpM).toBeGreaterThan(0)
      }
    }
  })

  it('throws when a required skull statistic or the frequency is missing', () => {
    for (const id of HU_MAPPING_IDS) {
      const m = HU_MAPPINGS[id]
      expect(() => m.map(1000, { frequencyHz: 0, huMaxInSkull: 2000, huMinInSkull: 0 })).toThrow(/frequencyHz/)
      if (m.requires.includes('huMaxInSkull')) {
        expect(() => m.map(1000, { frequencyHz: F500, huMinInSkull: 0 })).toThrow(/huMaxInSkull/)
        expect(() => m.map(1000, { frequencyHz: F500, huMaxInSkull: 0, huMinInSkull: -5 })).toThrow(/huMaxInSkull/)
      } else {
        expect(() => m.map(1000, { frequencyHz: F500 })).not.toThrow()
      }
      if (m.requires.includes('huMinInSkull')) {
        expect(() => m.map(1000, { frequencyHz: F500, huMaxInSkull: 2000 })).toThrow(/huMinInSkull/)
      }
    }
    expect(HU_MAPPINGS['marsac2017-babelbrain'].requires).toEqual(['huMaxInSkull', 'huMinInSkull'])
    expect(HU_MAPPINGS.kwave.requires).toEqual([])
    expect(HU_MAPPINGS.kplan.requires).toEqual([])
  })
})

describe('kwave: k-Wave hounsfield2density (docs/physics.md §4.1)', () => {
  it('matches the worked densities at HU -70, 0, 500, 1000, 2000', () => {
    const table: [number, number][] = [
      [-70, 948.3],
      [0, 1011.9],
      [500, 1342.7],
      [1000, 1673.9],
      [2000, 2336.5],
    ]
    for (const [hu, rho] of table) expect(kwaveDensity(hu)).toBeCloseTo(rho, 1)
  })

  it('is continuous at the breakpoints H = 930, 1098, 1260 (HU -70, 98, 260)', () => {
    const breaks: [number, number][] = [
      [-70, 948.3],
      [98, 1100.9],
      [260, 1183.7],
    ]
    for (const [hu, rho] of breaks) {
      const below = kwaveDensity(hu - 1e-9)
      const above = kwaveDensity(hu + 1e-9)
      expect(Math.abs(above - below)).toBeLessThan(1e-3)
      expect(kwaveDensity(hu)).toBeCloseTo(rho, 1)
    }
  })

  it('pairs the density with the k-Plan bone speed, not the Mast soft-tissue relation', () => {
    const m = HU_MAPPINGS.kwave
    const p = m.map(1000, { frequencyHz: F500 })
    expect(p.density).toBeCloseTo(1673.93, 2)
    expect(p.soundSpeed).toBeCloseTo(1.33 * p.density + 167, 9)
    // Mast's (rho + 349) / 0.893 = 2265 m/s at HU 1000 (docs/physics.md §4.1) must not be used for bone.
    expect(Math.abs(p.soundSpeed - (p.density + 349) / 0.893)).toBeGreaterThan(100)
    expect(m.sources.soundSpeed.model).toMatch(/1\.33 rho \+ 167/)
    expect(m.sources.attenuation.model).toMatch(/13\.3/)
    expect(npPerMToDbPerCm(p.alphaNpM)).toBeCloseTo(6.65, 10)
  })
})

describe('kplan (docs/physics.md §4.2)', () => {
  it('passes through the calibration knots and extrapolates the end segments linearly', () => {
    expect(kplanDensity(-990)).toBeCloseTo(1.2, 10)
    expect(kplanDensity(60)).toBeCloseTo(1060, 10)
    expect(kplanDensity(1000)).toBeCloseTo(1530, 10)
    expect(kplanDensity(1950)).toBeCloseTo(2150, 10)
    expect(kplanDensity(530)).toBeCloseTo((1060 + 1530) / 2, 10)
    expect(kplanDensity(2000)).toBeCloseTo(2150 + (50 * 620) / 950, 10)
    expect(kplanDensity(-1000)).toBeCloseTo(1.2 - (10 * 1058.8) / 1050, 10)
  })

  it('c = 1.33 rho + 167: about 1500 m/s at 1000 kg/m^3 and 3093 m/s at 2200 kg/m^3', () => {
    expect(kplanSoundSpeed(1000)).toBeCloseTo(1497, 10)
    expect(Math.abs(kplanSoundSpeed(1000) - 1500)).toBeLessThan(5)
    expect(kplanSoundSpeed(2200)).toBeCloseTo(3093, 10)
  })

  it('13.3 dB/(cm MHz) with y = 1: 6.65 dB/cm at 500 kHz, 13.3 dB/cm at 1 MHz', () => {
    const m = HU_MAPPINGS.kplan
    expect(m.nativeAlphaPower).toBe(1)
    const p500 = m.map(1000, { frequencyHz: F500 })
    expect(p500.density).toBeCloseTo(1530, 10)
    expect(p500.soundSpeed).toBeCloseTo(1.33 * 1530 + 167, 9)
    expect(p500.alphaNpM).toBeCloseTo(dbPerCmToNpPerM(6.65), 10)
    expect(p500.alphaNpM).toBeCloseTo(76.56, 2)
    expect(npPerMToDbPerCm(m.map(1000, { frequencyHz: 1e6 }).alphaNpM)).toBeCloseTo(13.3, 10)
  })
})

describe('aubry2003 porosity model (docs/physics.md §4.3)', () => {
  const m = HU_MAPPINGS.aubry2003
  const ctx = { frequencyHz: F500, huMaxInSkull: 2400 }

  it('HU = HU_max gives the bone constants (Phi = 0)', () => {
    const p = m.map(2400, ctx)
    expect(p.density).toBeCloseTo(2200, 10)
    expect(p.soundSpeed).toBeCloseTo(3100, 10)
    // alpha_min 0.2 dB/(cm MHz) x 0.5 MHz. BabelBrain's 2.302555836 Np/m/MHz used a
    // rounded dB -> Np factor, hence agreement to ~1e-5 relative only.
    expect(p.alphaNpM).toBeCloseTo(dbPerCmToNpPerM(0.1), 12)
    expect(p.alphaNpM).toBeCloseTo(2.302555836 * 0.5, 3)
  })

  it('HU = 0 gives water (Phi = 1) with alpha_max', () => {
    const p = m.map(0, ctx)
    expect(p.density).toBeCloseTo(1000, 10)
    expect(p.soundSpeed).toBeCloseTo(1500, 10)
    // alpha_max 8 dB/(cm MHz) x 0.5 MHz = 4 dB/cm = 46.05 Np/m; BabelBrain: 92.10223344 Np/m/MHz.
    expect(p.alphaNpM).toBeCloseTo(dbPerCmToNpPerM(4), 12)
    expect(p.alphaNpM).toBeCloseTo(92.10223344 * 0.5, 2)
    expect(p.alphaNpM).toBeCloseTo(46.05, 2)
  })

  it('is linear in Phi for rho and c, and goes as Phi^0.5 for alpha', () => {
    const p = m.map(1800, ctx) // Phi = 0.25
    expect(p.density).toBeCloseTo(0.25 * 1000 + 0.75 * 2200, 10)
    expect(p.soundSpeed).toBeCloseTo(0.25 * 1500 + 0.75 * 3100, 10)
    expect(npPerMToDbPerCm(p.alphaNpM)).toBeCloseTo((0.2 + 7.8 * 0.5) * 0.5, 10)
  })

  it('keeps porosity a volume fraction outside [0, HU_max]', () => {
    expect(m.map(3000, ctx)).toEqual(m.map(2400, ctx))
    expect(m.map(-100, ctx)).toEqual(m.map(0, ctx))
  })
})

describe('marsac2017 variants (docs/physics.md §4.4)', () => {
  it('BabelBrain: rho 1000 to 2700 and c 1500 to 3000 over the skull HU range', () => {
    const m = HU_MAPPINGS['marsac2017-babelbrain']
    const full = { frequencyHz: F500, huMaxInSkull: 2000, huMinInSkull: 0 }
    expect(m.map(0, full).density).toBeCloseTo(1000, 10)
    expect(m.map(0, full).soundSpeed).toBeCloseTo(1500, 10)
    expect(m.map(2000, full).density).toBeCloseTo(2700, 10)
    expect(m.map(2000, full).soundSpeed).toBeCloseTo(3000, 10)
    expect(m.map(1000, full).density).toBeCloseTo(1850, 10)
    expect(m.map(1000, full).soundSpeed).toBeCloseTo(2250, 10)

    // rho_min / rho_max are the skull's own extremes (BabelBrain Density.min()/max()).
    const ctx = { frequencyHz: F500, huMaxInSkull: 2500, huMinInSkull: 300 }
    const lo = m.map(300, ctx)
    expect(lo.density).toBeCloseTo(1000 + (1700 * 300) / 2500, 10)
    expect(lo.soundSpeed).toBeCloseTo(1500, 10)
    const hi = m.map(2500, ctx)
    expect(hi.density).toBeCloseTo(2700, 10)
    expect(hi.soundSpeed).toBeCloseTo(3000, 10)
    // Aubry attenuation, as BabelBrain's Marsac-Aubry: alpha_min at HU_max.
    expect(npPerMToDbPerCm(hi.alphaNpM)).toBeCloseTo(0.2 * 0.5, 10)
    expect(m.sources.attenuation.model).toMatch(/Aubry/)
  })

  it('PRESTUS: HU clamped to [300, 2000]; (994, 1500) to (2100, 3360)', () => {
    const m = HU_MAPPINGS['marsac2017-prestus']
    const ctx = { frequencyHz: F500, huMaxInSkull: 2000 }
    const lo = m.map(300, ctx)
    expect(lo.density).toBeCloseTo(994, 10)
    expect(lo.soundSpeed).toBeCloseTo(1500, 10)
    const hi = m.map(2000, ctx)
    expect(hi.density).toBeCloseTo(2100, 10)
    expect(hi.soundSpeed).toBeCloseTo(3360, 10)
    const mid = m.map(1150, ctx)
    expect(mid.density).toBeCloseTo((994 + 2100) / 2, 10)
    expect(mid.soundSpeed).toBeCloseTo((1500 + 3360) / 2, 10)
    expect(m.map(100, ctx).density).toBeCloseTo(994, 10)
    expect(m.map(2600, ctx).soundSpeed).toBeCloseTo(3360, 10)
    expect(m.sources.attenuation.model).toMatch(/Aubry/)
    expect(npPerMToDbPerCm(hi.alphaNpM)).toBeCloseTo(0.2 * 0.5, 10)
  })
})

describe('webb-ge120-bone (docs/physics.md §4.6)', () => {
  const m = HU_MAPPINGS['webb-ge120-bone']
  const ctx = { frequencyHz: F500, huMaxInSkull: 2000 }

  it('attenuation 213 Np/m (18.5 dB/cm) at HU 1000 and 43 Np/m at HU 2000, 500 kHz', () => {
    const a1000 = m.map(1000, ctx).alphaNpM
    expect(a1000).toBeCloseTo(213, 0)
    expect(npPerMToDbPerCm(a1000)).toBeCloseTo(18.5, 1)
    expect(m.map(2000, ctx).alphaNpM).toBeCloseTo(43, 0)
    expect(m.map(1000, { ...ctx, frequencyHz: 1e6 }).alphaNpM).toBeCloseTo(a1000 * Math.pow(2, 1.3), 9)
    expect(m.nativeAlphaPower).toBe(1.3)
  })

  it('c = 0.75 HU + 1320 and Marsac (BabelBrain) density', () => {
    expect(m.map(1000, ctx).soundSpeed).toBeCloseTo(2070, 10)
    expect(m.map(2000, ctx).soundSpeed).toBeCloseTo(2820, 10)
    expect(m.map(0, ctx).density).toBeCloseTo(1000, 10)
    expect(m.map(2000, ctx).density).toBeCloseTo(2700, 10)
  })
})

describe('skullHuRange', () => {
  it('takes min and max over finite voxels inside the mask', () => {
    const hu = new Float32Array([-1000, 300, 1800, NaN, 2500, 40])
    const mask = new Uint8Array([0, 1, 1, 1, 0, 1])
    expect(skullHuRange(hu, mask)).toEqual({ huMinInSkull: 40, huMaxInSkull: 1800 })
    expect(skullHuRange(hu, new Uint8Array(6))).toEqual({ huMinInSkull: NaN, huMaxInSkull: NaN })
    expect(() => skullHuRange(hu, new Uint8Array(5))).toThrow(/mask/)
  })
})
