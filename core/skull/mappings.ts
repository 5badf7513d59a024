/**
 * Named, cited models that turn CT Hounsfield units into acoustic properties of skull (bone)
 * voxels. Formulas and constants are those of docs/physics.md §4, which were read from the k-Wave,
 * PRESTUS and BabelBrain sources.
 *
 * Conventions:
 * - `hu` is conventional HU (water 0, air -1000). k-Wave's own `hounsfield2density` expects
 *   HU + 1000; that shift is applied inside `kwaveDensity`, so callers never add it.
 * - Every model returns density (kg/m^3), sound speed (m/s) and the amplitude attenuation AT
 *   THE DRIVE FREQUENCY (Np/m). The solver applies its own global power-law exponent y, so
 *   only the value at the drive frequency carries over (docs/physics.md §1.2: for a continuous
 *   wave the value at the drive frequency is what enters, whatever the frequency law).
 *   `nativeAlphaPower` only records the frequency law each source used.
 * - The functions are for voxels already classified as bone. Soft tissue and coupling water
 *   take fixed values (`tissues.ts`); out-of-range outputs are bounded by `clamp.ts`.
 */

import { dbPerCmToNpPerM } from '../solver/analytic/units.ts'
import type { VoxelArray } from '../volume/types.ts'

/** Acoustic properties of one voxel. */
export interface AcousticProperties {
  /** Mass density, kg/m^3. */
  readonly density: number
  /** Compressional sound speed, m/s. */
  readonly soundSpeed: number
  /** Amplitude attenuation at the drive frequency, Np/m. */
  readonly alphaNpM: number
}

/** What a mapping may need beyond the voxel's own HU. */
export interface HuMappingContext {
  /** Drive frequency, Hz; the returned attenuation is the value at this frequency. */
  readonly frequencyHz: number
  /** Largest HU inside the skull mask; porosity and HU-normalised models need it. */
  readonly huMaxInSkull?: number
  /**
   * Smallest HU inside the skull mask; only `marsac2017-babelbrain` needs it, because
   * BabelBrain normalises the Marsac speed by the skull's own density range.
   */
  readonly huMinInSkull?: number
}

export type HuMappingFn = (hu: number, ctx: HuMappingContext) => AcousticProperties

export const HU_MAPPING_IDS = ['kwave', 'kplan', 'aubry2003', 'marsac2017-babelbrain', 'marsac2017-prestus', 'webb-ge120-bone'] as const

export type HuMappingId = (typeof HU_MAPPING_IDS)[number]

/** Skull-wide statistics a mapping may read from its context. */
export type SkullHuStatistic = 'huMaxInSkull' | 'huMinInSkull'

/** Where one output property of a mapping comes from. */
export interface PropertySource {
  /** The relation in words, e.g. "c = 1.33 rho + 167 (k-Plan)". */
  readonly model: string
  readonly citation: string
}

export interface HuMapping {
  readonly id: HuMappingId
  readonly name: string
  /** Full reference of the primary model. */
  readonly citation: string
  readonly description: string
  /**
   * What the primary cited model itself gives. Anything it lacks is completed by a named,
   * cited relation listed in `sources`, so every `map` returns all three properties.
   */
  readonly provides: 'density-only' | 'density-and-speed' | 'speed-and-attenuation' | 'full'
  readonly sources: {
    readonly density: PropertySource
    readonly soundSpeed: PropertySource
    readonly attenuation: PropertySource
  }
  /** Skull-wide statistics `map` reads from its context; it throws when one is missing. */
  readonly requires: readonly SkullHuStatistic[]
  /**
   * Exponent y of the attenuation source's own frequency law alpha ~ f^y. Informational:
   * `map` already returns alpha at the drive frequency.
   */
  readonly nativeAlphaPower: number
  /** Properties of a bone voxel of the given HU. */
  readonly map: HuMappingFn
}

// ---------------------------------------------------------------------------------------
// Citations
// ---------------------------------------------------------------------------------------

const CITE_KWAVE =
  'k-Wave toolbox, hounsfield2density.m (B. E. Treeby and B. T. Cox, k-Wave, J. Biomed. Opt. ' +
  '15(2):021314, 2010), piecewise-linear fits to the data of U. Schneider, E. Pedroni and ' +
  'A. Lomax, "The calibration of CT Hounsfield units for radiotherapy treatment planning", ' +
  'Phys. Med. Biol. 41:111-124 (1996), and T. D. Mast, "Empirical relationships between ' +
  'acoustic parameters in human soft tissues", Acoust. Res. Lett. Online 1(2):37-42 (2000)'

const CITE_KPLAN =
  'k-Plan documentation (Brainbox Ltd / UCL), "Planning images: CT calibration" and ' +
  '"Simulation pipeline", dispatch.k-plan.io/static/docs; as implemented in PRESTUS ' +
  '(Donders Institute) functions/medium/medium_pct_{density,soundspeed,attenuation}.m, ' +
  "case 'k-plan'"

const CITE_KPLAN_SPEED =
  'k-Plan skull relation c = 1.33 rho + 167 m/s: the line through the bone and water ' +
  'end-members of Aubry et al. 2003 (1000 kg/m^3, 1500 m/s) and (2200 kg/m^3, 3100 m/s); ' +
  "PRESTUS medium_pct_soundspeed.m case 'k-plan'; UCL skull2medium.m (B. Treeby); " +
  'BabelBrain LLSoSITRUST()'

const CITE_PINTON =
  'G. Pinton, J.-F. Aubry, E. Bossy, M. Muller, M. Pernot and M. Tanter, "Attenuation, ' +
  'scattering, and absorption of ultrasound in the skull bone", Med. Phys. 39(1):299-307 ' +
  '(2012), doi:10.1118/1.3668316; 13.3 dB/(cm MHz), y = 1, as used by k-Plan (PRESTUS ' +
  "medium_pct_attenuation.m case 'k-plan')"

const CITE_AUBRY =
  'J.-F. Aubry, M. Tanter, M. Pernot, J.-L. Thomas and M. Fink, "Experimental demonstration ' +
  'of noninvasive transskull adaptive focusing based on prior computed tomography scans", ' +
  'J. Acoust. Soc. Am. 113(1):84-93 (2003); constants as implemented ' +
  'in BabelBrain TranscranialModeling/BabelIntegrationBASE.py (PorositytoDensity, ' +
  "PorositytoLSOS, PorositytoLAtt) and PRESTUS medium_pct_*.m case 'aubry'"

const CITE_MARSAC =
  'L. Marsac, D. Chauvet, R. La Greca, A.-L. Boch, K. Chaumoitre, M. Tanter and J.-F. Aubry, ' +
  '"Ex vivo optimisation of a heterogeneous speed of sound model of the human skull for ' +
  'non-invasive transcranial focused ultrasound at 1 MHz", Int. J. Hyperthermia (2017)'

const CITE_MARSAC_BABELBRAIN =
  `${CITE_MARSAC}; as implemented in BabelBrain (S. Pichardo, github.com/ProteusMRIgHIFU/` +
  'BabelBrain), TranscranialModeling/BabelIntegrationBASE.py HUtoDensityMarsac, ' +
  'DensitytoLSOSMarsac'

const CITE_MARSAC_PRESTUS =
  `${CITE_MARSAC}; and T. Bancel et al., "Comparison between ray-tracing and full-wave ` +
  'simulation for transcranial ultrasound focusing on a clinical system using the transfer ' +
  'matrix formalism", IEEE TUFFC (2021); as implemented in PRESTUS ' +
  "functions/medium/medium_pct_density.m and medium_pct_soundspeed.m case 'marsac'"

const CITE_WEBB_2018 =
  'T. D. Webb et al., "Measurements of the relationship between CT Hounsfield units and ' +
  'acoustic velocity and how it changes with photon energy and reconstruction method", IEEE ' +
  'TUFFC 65(7):1111-1124 (2018), doi:10.1109/TUFFC.2018.2827899, Tables I-II (GE, 120 kVp, ' +
  'BonePlus); BabelBrain WebbHU_SoS.csv row GE,120,B'

const CITE_WEBB_2021 =
  'T. D. Webb et al., "Acoustic attenuation: multifrequency measurement and relationship to ' +
  'CT and MR imaging", IEEE TUFFC 68(5):1532-1545 (2021), doi:10.1109/TUFFC.2020.3039743, ' +
  'Table IV (GE, 120 kVp, BonePlus); BabelBrain WebbHU_Att.csv row GE,120,B'

// ---------------------------------------------------------------------------------------
// Shared checks
// ---------------------------------------------------------------------------------------

function frequencyMHz(ctx: HuMappingContext): number {
  const f = ctx.frequencyHz
  if (!(Number.isFinite(f) && f > 0)) {
    throw new RangeError(`HU mapping: frequencyHz must be a positive finite number, got ${f}`)
  }
  return f / 1e6
}

function huMax(ctx: HuMappingContext, id: HuMappingId): number {
  const v = ctx.huMaxInSkull
  // HU_max divides HU in every model that uses it; a non-positive value would flip or blow
  // up porosity and density, so it can only be a caller error (a mask holding no bone).
  if (v === undefined || !(Number.isFinite(v) && v > 0)) {
    throw new RangeError(`HU mapping '${id}' needs huMaxInSkull (largest HU inside the skull mask, > 0), got ${v}`)
  }
  return v
}

function huMin(ctx: HuMappingContext, id: HuMappingId, max: number): number {
  const v = ctx.huMinInSkull
  if (v === undefined || !(Number.isFinite(v) && v < max)) {
    throw new RangeError(`HU mapping '${id}' needs huMinInSkull (smallest HU inside the skull mask, below ` + `huMaxInSkull = ${max}), got ${v}`)
  }
  return v
}

// ---------------------------------------------------------------------------------------
// k-Wave hounsfield2density (docs/physics.md §4.1)
// ---------------------------------------------------------------------------------------

/**
 * Density from HU by k-Wave `hounsfield2density.m`: four straight lines on H = HU + 1000
 * fitted to Schneider et al. 1996, breaking at H = 930, 1098 and 1260. The fits meet at the
 * breaks (948.3, 1100.9, 1183.7 kg/m^3), so the boundary inequalities only matter to the
 * last digit.
 */
export function kwaveDensity(hu: number): number {
  const h = hu + 1000
  if (h < 930) return 1.025793065681423 * h - 5.680404011488714
  if (h <= 1098) return 0.9082709691264 * h + 103.6151457847139
  if (h < 1260) return 0.5108369316599 * h + 539.9977189228704
  return 0.6625370912451 * h + 348.8555178455294
}

// ---------------------------------------------------------------------------------------
// k-Plan (docs/physics.md §4.2)
// ---------------------------------------------------------------------------------------

/** k-Plan CT calibration knots (HU, kg/m^3), from PRESTUS medium_pct_density.m 'k-plan'. */
export const KPLAN_DENSITY_KNOTS: readonly (readonly [number, number])[] = [
  [-990, 1.2],
  [60, 1060],
  [1000, 1530],
  [1950, 2150],
]

/** k-Plan piecewise-linear density; the end segments extend linearly beyond the knots. */
export function kplanDensity(hu: number): number {
  const k = KPLAN_DENSITY_KNOTS
  let i = 0
  while (i < k.length - 2 && hu >= k[i + 1]![0]) i++
  const [x0, y0] = k[i]!
  const [x1, y1] = k[i + 1]!
  return y0 + ((y1 - y0) * (hu - x0)) / (x1 - x0)
}

/** Slope (m^4 kg^-1 s^-1) and intercept (m/s) of the k-Plan bone speed line. */
export const KPLAN_SPEED_SLOPE = 1.33
export const KPLAN_SPEED_INTERCEPT_M_S = 167

/**
 * k-Plan bone speed c = 1.33 rho + 167 m/s: the line through Aubry 2003's water and bone
 * end-members (1600 / 1200 = 1.333, 166.7 rounded). This is the bone relation the registry
 * pairs with density-only models; k-Wave's optional Mast relation c = (rho + 349) / 0.893 is
 * a soft-tissue fit and would give only ~2265 m/s at HU 1000.
 */
export function kplanSoundSpeed(densityKgM3: number): number {
  return KPLAN_SPEED_SLOPE * densityKgM3 + KPLAN_SPEED_INTERCEPT_M_S
}

/** k-Plan bone attenuation prefactor, dB/(cm MHz), with y = 1 (Pinton et al. 2012). */
export const KPLAN_ALPHA_DB_CM_MHZ = 13.3

/** k-Plan bone attenuation at the drive frequency: 13.3 dB/(cm MHz) times f in MHz, in Np/m. */
export function kplanAlphaNpM(frequencyHz: number): number {
  return dbPerCmToNpPerM(KPLAN_ALPHA_DB_CM_MHZ * (frequencyHz / 1e6))
}

// ---------------------------------------------------------------------------------------
// Aubry et al. 2003 porosity model (docs/physics.md §4.3)
// ---------------------------------------------------------------------------------------

/** Water and bone end-members of Aubry 2003 as implemented by BabelBrain and PRESTUS. */
export const AUBRY_WATER_DENSITY_KG_M3 = 1000
export const AUBRY_BONE_DENSITY_KG_M3 = 2200
export const AUBRY_WATER_SPEED_M_S = 1500
export const AUBRY_BONE_SPEED_M_S = 3100
/** Attenuation per MHz at porosity 0 and 1, dB/(cm MHz); BabelBrain scales linearly in f. */
export const AUBRY_ALPHA_MIN_DB_CM_MHZ = 0.2
export const AUBRY_ALPHA_MAX_DB_CM_MHZ = 8
/** Exponent of the porosity in the attenuation law. */
export const AUBRY_ALPHA_POROSITY_EXPONENT = 0.5

/**
 * Porosity Phi = 1 - HU / HU_max. Bounded to [0, 1], since it is a volume fraction: HU < 0
 * or HU > HU_max can only come from a mask or HU_max that does not match the voxel, and
 * Phi < 0 would make Phi^0.5 NaN. Inside [0, HU_max] it is the published formula.
 */
export function aubryPorosity(hu: number, huMaxInSkull: number): number {
  const phi = 1 - hu / huMaxInSkull
  return Math.min(1, Math.max(0, phi))
}

/** rho = rho_w Phi + rho_b (1 - Phi), kg/m^3. */
export function aubryDensity(porosity: number): number {
  return AUBRY_WATER_DENSITY_KG_M3 * porosity + AUBRY_BONE_DENSITY_KG_M3 * (1 - porosity)
}

/** c = c_w Phi + c_b (1 - Phi), m/s. */
export function aubrySoundSpeed(porosity: number): number {
  return AUBRY_WATER_SPEED_M_S * porosity + AUBRY_BONE_SPEED_M_S * (1 - porosity)
}

/**
 * alpha = [alpha_min + (alpha_max - alpha_min) Phi^0.5] f_MHz, in Np/m. Attenuation grows
 * with porosity because it is dominated by scattering in trabecular bone (Aubry 2003).
 */
export function aubryAlphaNpM(porosity: number, frequencyHz: number): number {
  const perMHz = AUBRY_ALPHA_MIN_DB_CM_MHZ + (AUBRY_ALPHA_MAX_DB_CM_MHZ - AUBRY_ALPHA_MIN_DB_CM_MHZ) * Math.pow(porosity, AUBRY_ALPHA_POROSITY_EXPONENT)
  return dbPerCmToNpPerM(perMHz * (frequencyHz / 1e6))
}

// ---------------------------------------------------------------------------------------
// Marsac et al. 2017, BabelBrain variant (docs/physics.md §4.4)
// ---------------------------------------------------------------------------------------

/** BabelBrain HUtoDensityMarsac end-members, kg/m^3. */
export const MARSAC_BB_DENSITY_MIN_KG_M3 = 1000
export const MARSAC_BB_DENSITY_MAX_KG_M3 = 2700
/** BabelBrain DensitytoLSOSMarsac end-members, m/s. */
export const MARSAC_BB_SPEED_MIN_M_S = 1500
export const MARSAC_BB_SPEED_MAX_M_S = 3000

/** rho = 1000 + 1700 HU / HU_max (BabelBrain HUtoDensityMarsac). */
export function marsacBabelBrainDensity(hu: number, huMaxInSkull: number): number {
  return MARSAC_BB_DENSITY_MIN_KG_M3 + ((MARSAC_BB_DENSITY_MAX_KG_M3 - MARSAC_BB_DENSITY_MIN_KG_M3) * hu) / huMaxInSkull
}

/**
 * c = 1500 + 1500 (rho - rho_min) / (rho_max - rho_min) (BabelBrain DensitytoLSOSMarsac),
 * where rho_min and rho_max are the extremes of the mapped skull densities, i.e. the
 * densities at the skull's smallest and largest HU.
 */
export function marsacBabelBrainSoundSpeed(densityKgM3: number, densityMinKgM3: number, densityMaxKgM3: number): number {
  return MARSAC_BB_SPEED_MIN_M_S + ((MARSAC_BB_SPEED_MAX_M_S - MARSAC_BB_SPEED_MIN_M_S) * (densityKgM3 - densityMinKgM3)) / (densityMaxKgM3 - densityMinKgM3)
}

// ---------------------------------------------------------------------------------------
// Marsac et al. 2017, PRESTUS variant ("Marsac 2017 & Bancel 2021", docs/physics.md §4.4)
// ---------------------------------------------------------------------------------------

/** PRESTUS 'marsac' HU window: HU is clamped to [300, 2000] before mapping. */
export const MARSAC_PRESTUS_HU_MIN = 300
export const MARSAC_PRESTUS_HU_MAX = 2000
/** PRESTUS water (config_default.yaml medium_properties.water): 994 kg/m^3, 1500 m/s. */
export const MARSAC_PRESTUS_WATER_DENSITY_KG_M3 = 994
export const MARSAC_PRESTUS_WATER_SPEED_M_S = 1500
/** PRESTUS 'marsac' bone end-members: rho_bone 2100 kg/m^3, c_skull 3360 m/s. */
export const MARSAC_PRESTUS_BONE_DENSITY_KG_M3 = 2100
export const MARSAC_PRESTUS_BONE_SPEED_M_S = 3360

/** rho = rho_w + (2100 - rho_w)(HU - 300) / 1700, with HU clamped to [300, 2000]. */
export function marsacPrestusDensity(hu: number): number {
  const h = Math.min(MARSAC_PRESTUS_HU_MAX, Math.max(MARSAC_PRESTUS_HU_MIN, hu))
  const rw = MARSAC_PRESTUS_WATER_DENSITY_KG_M3
  return rw + ((MARSAC_PRESTUS_BONE_DENSITY_KG_M3 - rw) * (h - MARSAC_PRESTUS_HU_MIN)) / (MARSAC_PRESTUS_HU_MAX - MARSAC_PRESTUS_HU_MIN)
}

/** c = c_w + (3360 - c_w)(rho - rho_w) / (2100 - rho_w). */
export function marsacPrestusSoundSpeed(densityKgM3: number): number {
  const rw = MARSAC_PRESTUS_WATER_DENSITY_KG_M3
  const cw = MARSAC_PRESTUS_WATER_SPEED_M_S
  return cw + ((MARSAC_PRESTUS_BONE_SPEED_M_S - cw) * (densityKgM3 - rw)) / (MARSAC_PRESTUS_BONE_DENSITY_KG_M3 - rw)
}

// ---------------------------------------------------------------------------------------
// Webb et al. 2018 / 2021, GE 120 kVp BonePlus (docs/physics.md §4.6)
// ---------------------------------------------------------------------------------------

/** Webb 2018 speed fit c = slope HU + 1000 intercept; GE, 120 kVp, BonePlus (CSV row GE,120,B). */
export const WEBB_GE120_SPEED_SLOPE = 0.75
export const WEBB_GE120_SPEED_INTERCEPT_M_S = 1320

/** Webb 2021 attenuation fit alpha = 100 alpha_0 f_MHz^beta exp(c HU); GE, 120 kVp, BonePlus. */
export const WEBB_GE120_ALPHA0 = 26
export const WEBB_GE120_BETA = 1.3
export const WEBB_GE120_HU_COEFF = -0.0016

export function webbGe120SoundSpeed(hu: number): number {
  return WEBB_GE120_SPEED_SLOPE * hu + WEBB_GE120_SPEED_INTERCEPT_M_S
}

/**
 * alpha = 100 alpha_0 f_MHz^beta exp(c HU) Np/m; the factor 100 turns the table's per-cm
 * prefactor into per metre (BabelBrain HUtoAttenuationWebb). Attenuation falls with HU
 * because dense cortical bone scatters less than porous bone.
 */
export function webbGe120AlphaNpM(hu: number, frequencyHz: number): number {
  return 100 * WEBB_GE120_ALPHA0 * Math.pow(frequencyHz / 1e6, WEBB_GE120_BETA) * Math.exp(WEBB_GE120_HU_COEFF * hu)
}

// ---------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------

const SRC_KPLAN_SPEED: PropertySource = {
  model: 'c = 1.33 rho + 167 m/s (k-Plan bone line)',
  citation: CITE_KPLAN_SPEED,
}
const SRC_KPLAN_ALPHA: PropertySource = {
  model: 'alpha = 13.3 dB/(cm MHz) x f_MHz (k-Plan, Pinton 2012, y = 1)',
  citation: CITE_PINTON,
}
const SRC_AUBRY_ALPHA: PropertySource = {
  model: 'alpha = [0.2 + 7.8 Phi^0.5] dB/(cm MHz) x f_MHz, Phi = 1 - HU/HU_max (Aubry 2003)',
  citation: CITE_AUBRY,
}

const KWAVE: HuMapping = {
  id: 'kwave',
  name: 'k-Wave hounsfield2density + k-Plan bone speed and attenuation',
  citation: CITE_KWAVE,
  description:
    'Density from k-Wave hounsfield2density (piecewise linear on HU + 1000, Schneider 1996). ' +
    'That function gives density only; its optional Mast speed is a soft-tissue fit, so bone ' +
    "speed comes from the k-Plan line c = 1.33 rho + 167 and attenuation from k-Plan's " +
    '13.3 dB/(cm MHz). This is the pairing of UCL skull2medium.m.',
  provides: 'density-only',
  sources: {
    density: { model: 'k-Wave hounsfield2density (piecewise linear on HU + 1000)', citation: CITE_KWAVE },
    soundSpeed: SRC_KPLAN_SPEED,
    attenuation: SRC_KPLAN_ALPHA,
  },
  requires: [],
  nativeAlphaPower: 1,
  map: (hu, ctx) => {
    frequencyMHz(ctx)
    const density = kwaveDensity(hu)
    return { density, soundSpeed: kplanSoundSpeed(density), alphaNpM: kplanAlphaNpM(ctx.frequencyHz) }
  },
}

const KPLAN: HuMapping = {
  id: 'kplan',
  name: 'k-Plan',
  citation: CITE_KPLAN,
  description:
    'Density piecewise linear through (-990, 1.2), (60, 1060), (1000, 1530), (1950, 2150) ' +
    'HU -> kg/m^3, extrapolated linearly; c = 1.33 rho + 167 m/s; homogeneous bone ' +
    'attenuation 13.3 dB/(cm MHz) with y = 1 (6.65 dB/cm at 500 kHz).',
  provides: 'full',
  sources: {
    density: { model: 'k-Plan piecewise-linear CT calibration', citation: CITE_KPLAN },
    soundSpeed: SRC_KPLAN_SPEED,
    attenuation: SRC_KPLAN_ALPHA,
  },
  requires: [],
  nativeAlphaPower: 1,
  map: (hu, ctx) => {
    frequencyMHz(ctx)
    const density = kplanDensity(hu)
    return { density, soundSpeed: kplanSoundSpeed(density), alphaNpM: kplanAlphaNpM(ctx.frequencyHz) }
  },
}

const AUBRY: HuMapping = {
  id: 'aubry2003',
  name: 'Aubry 2003 porosity',
  citation: CITE_AUBRY,
  description:
    'Porosity Phi = 1 - HU/HU_max; density and speed linear in Phi between water (1000 kg/m^3, ' +
    '1500 m/s) and bone (2200 kg/m^3, 3100 m/s); alpha = alpha_min + (alpha_max - alpha_min) ' +
    'Phi^0.5 with 0.2 and 8 dB/(cm MHz), scaled linearly with frequency as BabelBrain does.',
  provides: 'full',
  sources: {
    density: { model: 'rho = 1000 Phi + 2200 (1 - Phi)', citation: CITE_AUBRY },
    soundSpeed: { model: 'c = 1500 Phi + 3100 (1 - Phi)', citation: CITE_AUBRY },
    attenuation: SRC_AUBRY_ALPHA,
  },
  requires: ['huMaxInSkull'],
  nativeAlphaPower: 1,
  map: (hu, ctx) => {
    frequencyMHz(ctx)
    const phi = aubryPorosity(hu, huMax(ctx, 'aubry2003'))
    return {
      density: aubryDensity(phi),
      soundSpeed: aubrySoundSpeed(phi),
      alphaNpM: aubryAlphaNpM(phi, ctx.frequencyHz),
    }
  },
}

const MARSAC_BABELBRAIN: HuMapping = {
  id: 'marsac2017-babelbrain',
  name: 'Marsac 2017 (BabelBrain variant) + Aubry 2003 attenuation',
  citation: CITE_MARSAC_BABELBRAIN,
  description:
    'rho = 1000 + 1700 HU/HU_max (1000-2700 kg/m^3); c = 1500 + 1500 (rho - rho_min)/(rho_max - ' +
    "rho_min) over the skull's own density range (1500-3000 m/s). Marsac gives no " +
    'attenuation; BabelBrain\'s "Marsac-Aubry" option pairs it with Aubry 2003.',
  provides: 'density-and-speed',
  sources: {
    density: { model: 'rho = 1000 + 1700 HU/HU_max', citation: CITE_MARSAC_BABELBRAIN },
    soundSpeed: {
      model: 'c = 1500 + 1500 (rho - rho_min)/(rho_max - rho_min)',
      citation: CITE_MARSAC_BABELBRAIN,
    },
    // BabelBrain's Marsac-Aubry passes the HU array itself to PorositytoLAtt, where a
    // porosity is expected; the comment there ("we use Aubry's old") shows porosity is meant,
    // so Phi = 1 - HU/HU_max is used here.
    attenuation: SRC_AUBRY_ALPHA,
  },
  requires: ['huMaxInSkull', 'huMinInSkull'],
  nativeAlphaPower: 1,
  map: (hu, ctx) => {
    frequencyMHz(ctx)
    const max = huMax(ctx, 'marsac2017-babelbrain')
    const min = huMin(ctx, 'marsac2017-babelbrain', max)
    const density = marsacBabelBrainDensity(hu, max)
    const soundSpeed = marsacBabelBrainSoundSpeed(density, marsacBabelBrainDensity(min, max), marsacBabelBrainDensity(max, max))
    return { density, soundSpeed, alphaNpM: aubryAlphaNpM(aubryPorosity(hu, max), ctx.frequencyHz) }
  },
}

const MARSAC_PRESTUS: HuMapping = {
  id: 'marsac2017-prestus',
  name: 'Marsac 2017 (PRESTUS variant) + Aubry 2003 attenuation',
  citation: CITE_MARSAC_PRESTUS,
  description:
    'HU clamped to [300, 2000]; rho = rho_w + (2100 - rho_w)(HU - 300)/1700; c = c_w + ' +
    '(3360 - c_w)(rho - rho_w)/(2100 - rho_w), with PRESTUS water rho_w = 994 kg/m^3, ' +
    'c_w = 1500 m/s. Marsac gives no attenuation; it is paired, as BabelBrain pairs Marsac, ' +
    "with Aubry 2003 (Phi = 1 - HU/HU_max on the unclamped HU, as PRESTUS's 'aubry' case).",
  provides: 'density-and-speed',
  sources: {
    density: {
      model: 'rho = 994 + 1106 (HU - 300)/1700, HU clamped to [300, 2000]',
      citation: CITE_MARSAC_PRESTUS,
    },
    soundSpeed: { model: 'c = 1500 + 1860 (rho - 994)/1106', citation: CITE_MARSAC_PRESTUS },
    attenuation: SRC_AUBRY_ALPHA,
  },
  requires: ['huMaxInSkull'],
  nativeAlphaPower: 1,
  map: (hu, ctx) => {
    frequencyMHz(ctx)
    const max = huMax(ctx, 'marsac2017-prestus')
    const density = marsacPrestusDensity(hu)
    return {
      density,
      soundSpeed: marsacPrestusSoundSpeed(density),
      alphaNpM: aubryAlphaNpM(aubryPorosity(hu, max), ctx.frequencyHz),
    }
  },
}

const WEBB_GE120: HuMapping = {
  id: 'webb-ge120-bone',
  name: 'Webb GE 120 kVp BonePlus (BabelBrain "Webb-Marsac")',
  citation: `${CITE_WEBB_2018}; ${CITE_WEBB_2021}`,
  description:
    'Speed c = 0.75 HU + 1320 m/s (Webb 2018) and attenuation 100 x 26 x f_MHz^1.3 x ' +
    'exp(-0.0016 HU) Np/m (Webb 2021), both fitted for GE scanners at 120 kVp with the ' +
    'BonePlus kernel; other protocols need their own fits (see webbProtocolWarning). ' +
    "Density follows BabelBrain's default, the Marsac form rho = 1000 + 1700 HU/HU_max.",
  provides: 'speed-and-attenuation',
  sources: {
    density: {
      model: 'rho = 1000 + 1700 HU/HU_max (Marsac, BabelBrain default)',
      citation: CITE_MARSAC_BABELBRAIN,
    },
    soundSpeed: { model: 'c = 0.75 HU + 1320 m/s', citation: CITE_WEBB_2018 },
    attenuation: {
      model: 'alpha = 100 x 26 x f_MHz^1.3 x exp(-0.0016 HU) Np/m',
      citation: CITE_WEBB_2021,
    },
  },
  requires: ['huMaxInSkull'],
  nativeAlphaPower: WEBB_GE120_BETA,
  map: (hu, ctx) => {
    frequencyMHz(ctx)
    return {
      density: marsacBabelBrainDensity(hu, huMax(ctx, 'webb-ge120-bone')),
      soundSpeed: webbGe120SoundSpeed(hu),
      alphaNpM: webbGe120AlphaNpM(hu, ctx.frequencyHz),
    }
  },
}

/** All preset mappings, by id. */
export const HU_MAPPINGS: Readonly<Record<HuMappingId, HuMapping>> = {
  kwave: KWAVE,
  kplan: KPLAN,
  aubry2003: AUBRY,
  'marsac2017-babelbrain': MARSAC_BABELBRAIN,
  'marsac2017-prestus': MARSAC_PRESTUS,
  'webb-ge120-bone': WEBB_GE120,
}

export function isHuMappingId(id: string): id is HuMappingId {
  return (HU_MAPPING_IDS as readonly string[]).includes(id)
}

/** The mapping with this id; throws with the list of known ids otherwise. */
export function getHuMapping(id: string): HuMapping {
  if (!isHuMappingId(id)) {
    throw new Error(`Unknown HU mapping '${id}'; known: ${HU_MAPPING_IDS.join(', ')}`)
  }
  return HU_MAPPINGS[id]
}

/**
 * Smallest and largest finite HU inside a skull mask (non-zero = skull), to fill
 * `huMinInSkull` / `huMaxInSkull`. BabelBrain and PRESTUS take both over the bone voxels
 * of the CT the mapping is applied to. Both are NaN when the mask holds no finite voxel.
 */
export function skullHuRange(hu: VoxelArray | ArrayLike<number>, skullMask: Uint8Array): { readonly huMinInSkull: number; readonly huMaxInSkull: number } {
  if (skullMask.length !== hu.length) {
    throw new Error(`skullHuRange: mask has ${skullMask.length} entries, volume has ${hu.length}`)
  }
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < hu.length; i++) {
    if (skullMask[i] === 0) continue
    const v = hu[i]!
    if (!Number.isFinite(v)) continue
    if (v < min) min = v
    if (v > max) max = v
  }
  if (min > max) return { huMinInSkull: NaN, huMaxInSkull: NaN }
  return { huMinInSkull: min, huMaxInSkull: max }
}
