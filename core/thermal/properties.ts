/**
 * Thermal tissue properties and the absorbed fraction of attenuation, per tissue label of a plan
 * (`TISSUE_LABELS`: 0 water, 1 skin, 2 skull, 3 brain).
 *
 * Thermal conductivity, specific heat and perfusion are the IT'IS Foundation tissue database
 * values (P. A. Hasgall et al., "IT'IS Database for thermal and electromagnetic parameters of
 * biological tissues", itis.swiss/database) as BabelBrain (BabelViscoFDTD BHTE,
 * `ThermalModeling/CalculateTemperatureEffects.py`) and PRESTUS (`config_default.yaml`) use
 * them; docs/physics.md §5.6 tabulates both. Density is not taken from the table: the heat capacity
 * per volume uses the plan's own density (the acoustic medium), so the source and the capacity
 * see the same voxel.
 *
 * The plan has one skull label. It gets CORTICAL bone (k 0.32, c 1313, perfusion 10): the lower
 * specific heat of the two bone types (trabecular: c 2274, perfusion 30) heats faster for the
 * same absorbed power, so the single label errs on the safe side.
 */
import { TISSUE_LABELS } from '../contracts/plan.ts'

export interface ThermalMaterial {
  readonly name: string
  /** Thermal conductivity k [W/(m K)]. */
  readonly conductivity: number
  /** Specific heat c_t [J/(kg K)]. */
  readonly specificHeat: number
  /** Blood perfusion [mL/(min kg)], as the IT'IS database and BabelBrain give it. */
  readonly perfusionMlPerMinKg: number
}

export const ITIS_CITATION =
  "P. A. Hasgall et al., IT'IS Database for thermal and electromagnetic parameters of biological tissues (itis.swiss/database), " +
  'values as used by BabelBrain (BabelViscoFDTD BHTE) and PRESTUS (config_default.yaml); docs/physics.md §5.6'

/** Blood, for the perfusion term (BabelViscoFDTD `getPerfusionCoefficient`, IT'IS values). */
export const BLOOD = { density: 1050, specificHeat: 3617 } as const
/** Arterial blood temperature and the body baseline [°C]. */
export const BODY_TEMPERATURE_C = 37

export const THERMAL_WATER: ThermalMaterial = { name: 'water', conductivity: 0.6, specificHeat: 4178, perfusionMlPerMinKg: 0 }
export const THERMAL_SKIN: ThermalMaterial = { name: 'skin', conductivity: 0.37, specificHeat: 3391, perfusionMlPerMinKg: 106 }
export const THERMAL_CORTICAL_BONE: ThermalMaterial = { name: 'skull (cortical bone)', conductivity: 0.32, specificHeat: 1313, perfusionMlPerMinKg: 10 }
export const THERMAL_TRABECULAR_BONE: ThermalMaterial = { name: 'trabecular bone', conductivity: 0.31, specificHeat: 2274, perfusionMlPerMinKg: 30 }
export const THERMAL_BRAIN: ThermalMaterial = { name: 'brain', conductivity: 0.51, specificHeat: 3630, perfusionMlPerMinKg: 559 }

/** Materials indexed by the plan's tissue label. */
export const PLAN_THERMAL_MATERIALS: readonly ThermalMaterial[] = (() => {
  const m: ThermalMaterial[] = []
  m[TISSUE_LABELS.water] = THERMAL_WATER
  m[TISSUE_LABELS.skin] = THERMAL_SKIN
  m[TISSUE_LABELS.skull] = THERMAL_CORTICAL_BONE
  m[TISSUE_LABELS.brain] = THERMAL_BRAIN
  return m
})()

/**
 * Perfusion rate in dT/dt [1/s]: w [mL/(min kg)] x 1e-6 / 60 x rho_b c_b / c_t, the tissue
 * density cancelling (BabelViscoFDTD `getPerfusionCoefficient`; docs/physics.md §5.6).
 */
export function perfusionRatePerS(m: ThermalMaterial): number {
  return (((m.perfusionMlPerMinKg * 1e-6) / 60) * (BLOOD.density * BLOOD.specificHeat)) / m.specificHeat
}

/**
 * Fraction of the attenuation coefficient that turns into heat, per plan tissue label. The
 * rest is scattering (and, in bone, mode conversion) that leaves the voxel.
 */
export interface AbsorbedFractionChoice {
  readonly name: AbsorbedFractionName
  readonly byLabel: readonly number[]
  readonly citation: string
}

export const ABSORBED_FRACTION_NAMES = ['prestus', 'babelbrain', 'full'] as const
export type AbsorbedFractionName = (typeof ABSORBED_FRACTION_NAMES)[number]

function byLabel(water: number, skin: number, skull: number, brain: number): number[] {
  const f: number[] = []
  f[TISSUE_LABELS.water] = water
  f[TISSUE_LABELS.skin] = skin
  f[TISSUE_LABELS.skull] = skull
  f[TISSUE_LABELS.brain] = brain
  return f
}

export const ABSORBED_FRACTIONS: Readonly<Record<AbsorbedFractionName, AbsorbedFractionChoice>> = {
  /**
   * PRESTUS (Donders Institute, `config_default.yaml`, doc_simulations-thermal.md): soft tissue 1,
   * skull 0.28 = (2.7 + 0.2 x 5.4) / 13.3 dB/(cm MHz), the longitudinal plus a fifth of the shear
   * absorption over the bulk attenuation of Pinton et al., Med. Phys. 39(1):299-307 (2012).
   */
  prestus: {
    name: 'prestus',
    byLabel: byLabel(1, 1, 0.28, 1),
    citation:
      'PRESTUS config_default.yaml: soft tissue 1, skull 0.28 ((2.7 + 0.2 x 5.4) / 13.3 from Pinton et al. 2012, Med. Phys. 39:299); docs/physics.md §5.6',
  },
  /**
   * BabelBrain (Pichardo lab, BabelViscoFDTD BHTE material table): skin and brain 0.85,
   * cortical bone 0.16 (trabecular 0.15; the single skull label takes the cortical value), water 0.
   */
  babelbrain: {
    name: 'babelbrain',
    byLabel: byLabel(0, 0.85, 0.16, 0.85),
    citation: 'BabelBrain (BabelViscoFDTD BHTE material table): skin 0.85, cortical bone 0.16 (trabecular 0.15), brain 0.85, water 0; docs/physics.md §5.6',
  },
  /** All attenuation is absorbed: the upper bound (k-Plan's choice per the PRESTUS documentation). */
  full: {
    name: 'full',
    byLabel: byLabel(1, 1, 1, 1),
    citation: 'all attenuation absorbed (upper bound; k-Plan per the PRESTUS documentation, docs/physics.md §4.2)',
  },
}

export function isAbsorbedFractionName(name: string): name is AbsorbedFractionName {
  return (ABSORBED_FRACTION_NAMES as readonly string[]).includes(name)
}
