/**
 * Fixed literature properties for the non-bone parts of a head model: coupling water, skin /
 * soft tissue and brain, plus the homogeneous ITRUSST bone layers for CT-free planning.
 *
 * Values are Table I of the ITRUSST intercomparison, as docs/physics.md §1.2 reads them from the
 * benchmark code (BabelViscoFDTD, k-wave-python and openlifu agree):
 * J.-F. Aubry et al., "Benchmark problems for transcranial ultrasound simulation:
 * Intercomparison of compressional wave models", J. Acoust. Soc. Am. 152(2):1003-1019
 * (2022), doi:10.1121/10.0013426. They are given at 500 kHz only.
 */

import { dbPerCmToNpPerM } from '../solver/analytic/units.ts'
import type { AcousticProperties } from './mappings.ts'

export interface TissueProperties extends AcousticProperties {
  readonly name: string
  /** Frequency at which `alphaNpM` holds, Hz. */
  readonly alphaReferenceFrequencyHz: number
  readonly citation: string
}

const ITRUSST_CITATION =
  'J.-F. Aubry et al., "Benchmark problems for transcranial ultrasound simulation: ' +
  'Intercomparison of compressional wave models", J. Acoust. Soc. Am. 152(2):1003-1019 ' +
  '(2022), doi:10.1121/10.0013426, Table I (500 kHz)'

const F_ITRUSST_HZ = 500e3

function itrusst(name: string, soundSpeed: number, density: number, alphaDbPerCm: number): TissueProperties {
  return {
    name,
    density,
    soundSpeed,
    alphaNpM: dbPerCmToNpPerM(alphaDbPerCm),
    alphaReferenceFrequencyHz: F_ITRUSST_HZ,
    citation: ITRUSST_CITATION,
  }
}

/** Coupling water: 1500 m/s, 1000 kg/m^3, lossless (the benchmark's water). */
export const ITRUSST_WATER = itrusst('water', 1500, 1000, 0)
/** Skin: 1610 m/s, 1090 kg/m^3, 0.2 dB/cm at 500 kHz. */
export const ITRUSST_SKIN = itrusst('skin', 1610, 1090, 0.2)
/** Brain: 1560 m/s, 1040 kg/m^3, 0.3 dB/cm at 500 kHz. */
export const ITRUSST_BRAIN = itrusst('brain', 1560, 1040, 0.3)
/** Cortical bone: 2800 m/s, 1850 kg/m^3, 4 dB/cm at 500 kHz. */
export const ITRUSST_CORTICAL_BONE = itrusst('cortical bone', 2800, 1850, 4)
/** Trabecular bone: 2300 m/s, 1700 kg/m^3, 8 dB/cm at 500 kHz. */
export const ITRUSST_TRABECULAR_BONE = itrusst('trabecular bone', 2300, 1700, 8)

/** The coupling medium between transducer and scalp. */
export const COUPLING_WATER: TissueProperties = ITRUSST_WATER
/** Scalp and other soft tissue outside the skull; ITRUSST models it as skin. */
export const SOFT_TISSUE: TissueProperties = ITRUSST_SKIN
export const BRAIN: TissueProperties = ITRUSST_BRAIN

/**
 * Attenuation at another frequency under a power law alpha(f) = alpha_ref (f / f_ref)^y, in
 * Np/m. ITRUSST fixes only the 500 kHz value, so the exponent y is the caller's modelling
 * choice (the solver's global y); it is a required argument so that no default hides it.
 */
export function tissueAlphaNpMAt(tissue: TissueProperties, frequencyHz: number, y: number): number {
  if (!(Number.isFinite(frequencyHz) && frequencyHz > 0)) {
    throw new RangeError(`tissueAlphaNpMAt: frequencyHz must be a positive finite number, got ${frequencyHz}`)
  }
  if (!Number.isFinite(y)) throw new RangeError(`tissueAlphaNpMAt: y must be finite, got ${y}`)
  return tissue.alphaNpM * Math.pow(frequencyHz / tissue.alphaReferenceFrequencyHz, y)
}
