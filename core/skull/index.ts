/** Public API of the skull model: HU -> acoustic property mappings, bounds, CT checks, tissues. */

export {
  AUBRY_ALPHA_MAX_DB_CM_MHZ,
  AUBRY_ALPHA_MIN_DB_CM_MHZ,
  AUBRY_ALPHA_POROSITY_EXPONENT,
  AUBRY_BONE_DENSITY_KG_M3,
  AUBRY_BONE_SPEED_M_S,
  AUBRY_WATER_DENSITY_KG_M3,
  AUBRY_WATER_SPEED_M_S,
  HU_MAPPINGS,
  HU_MAPPING_IDS,
  KPLAN_ALPHA_DB_CM_MHZ,
  KPLAN_DENSITY_KNOTS,
  KPLAN_SPEED_INTERCEPT_M_S,
  KPLAN_SPEED_SLOPE,
  MARSAC_BB_DENSITY_MAX_KG_M3,
  MARSAC_BB_DENSITY_MIN_KG_M3,
  MARSAC_BB_SPEED_MAX_M_S,
  MARSAC_BB_SPEED_MIN_M_S,
  MARSAC_PRESTUS_BONE_DENSITY_KG_M3,
  MARSAC_PRESTUS_BONE_SPEED_M_S,
  MARSAC_PRESTUS_HU_MAX,
  MARSAC_PRESTUS_HU_MIN,
  MARSAC_PRESTUS_WATER_DENSITY_KG_M3,
  MARSAC_PRESTUS_WATER_SPEED_M_S,
  WEBB_GE120_ALPHA0,
  WEBB_GE120_BETA,
  WEBB_GE120_HU_COEFF,
  WEBB_GE120_SPEED_INTERCEPT_M_S,
  WEBB_GE120_SPEED_SLOPE,
  aubryAlphaNpM,
  aubryDensity,
  aubryPorosity,
  aubrySoundSpeed,
  getHuMapping,
  isHuMappingId,
  kplanAlphaNpM,
  kplanDensity,
  kplanSoundSpeed,
  kwaveDensity,
  marsacBabelBrainDensity,
  marsacBabelBrainSoundSpeed,
  marsacPrestusDensity,
  marsacPrestusSoundSpeed,
  skullHuRange,
  webbGe120AlphaNpM,
  webbGe120SoundSpeed,
} from './mappings.ts'
export type { AcousticProperties, HuMapping, HuMappingContext, HuMappingFn, HuMappingId, PropertySource, SkullHuStatistic } from './mappings.ts'

export { BONE_PROPERTY_RANGE, clampAcousticProperties, clampBoneProperties } from './clamp.ts'
export type { BonePropertyRange, ClampCounts, ValueRange } from './clamp.ts'

export { CT_CALIBRATION_TARGETS, checkCtCalibration, webbProtocolWarning } from './calibration.ts'
export type { CalibrationMasks, CalibrationPeak, CalibrationTarget, CtCalibrationOptions, CtCalibrationReport } from './calibration.ts'

export {
  BRAIN,
  COUPLING_WATER,
  ITRUSST_BRAIN,
  ITRUSST_CORTICAL_BONE,
  ITRUSST_SKIN,
  ITRUSST_TRABECULAR_BONE,
  ITRUSST_WATER,
  SOFT_TISSUE,
  tissueAlphaNpMAt,
} from './tissues.ts'
export type { TissueProperties } from './tissues.ts'
