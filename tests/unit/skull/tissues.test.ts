import { describe, it, expect } from 'vitest'
import {
  BRAIN,
  COUPLING_WATER,
  ITRUSST_BRAIN,
  ITRUSST_CORTICAL_BONE,
  ITRUSST_SKIN,
  ITRUSST_TRABECULAR_BONE,
  ITRUSST_WATER,
  SOFT_TISSUE,
  tissueAlphaNpMAt,
} from '../../../core/skull/index.ts'

describe('ITRUSST tissue values (docs/physics.md §1.2)', () => {
  it('match Table I at 500 kHz, attenuation in Np/m', () => {
    const rows = [
      [ITRUSST_WATER, 1500, 1000, 0],
      [ITRUSST_CORTICAL_BONE, 2800, 1850, 46.05],
      [ITRUSST_TRABECULAR_BONE, 2300, 1700, 92.1],
      [ITRUSST_SKIN, 1610, 1090, 2.303],
      [ITRUSST_BRAIN, 1560, 1040, 3.454],
    ] as const
    for (const [t, c, rho, alpha] of rows) {
      expect(t.soundSpeed).toBe(c)
      expect(t.density).toBe(rho)
      expect(t.alphaNpM).toBeCloseTo(alpha, 2)
      expect(t.alphaReferenceFrequencyHz).toBe(500e3)
      expect(t.citation).toMatch(/10\.1121\/10\.0013426/)
    }
  })

  it('names the coupling water, soft tissue and brain', () => {
    expect(COUPLING_WATER).toBe(ITRUSST_WATER)
    expect(SOFT_TISSUE).toBe(ITRUSST_SKIN)
    expect(BRAIN).toBe(ITRUSST_BRAIN)
  })

  it('scales attenuation with an explicit power law', () => {
    expect(tissueAlphaNpMAt(BRAIN, 1e6, 1)).toBeCloseTo(2 * BRAIN.alphaNpM, 12)
    expect(tissueAlphaNpMAt(BRAIN, 250e3, 2)).toBeCloseTo(BRAIN.alphaNpM / 4, 12)
    expect(tissueAlphaNpMAt(BRAIN, 500e3, 1.3)).toBeCloseTo(BRAIN.alphaNpM, 12)
    expect(() => tissueAlphaNpMAt(BRAIN, 0, 1)).toThrow(/frequencyHz/)
  })
})
