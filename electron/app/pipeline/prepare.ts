/**
 * Stage 4, prepare: segmentation, placement and the beam-aligned domain with its medium
 * (core/planning/run-plan.ts preparePlan), with the HU mapping (clamped to physical ranges) and
 * tissue values every plan uses. The surrogate's data generator and its inference build their
 * medium and domain through this same stage.
 */
import { preparePlan, type PlanDevice, type PreparedPlan } from '../../../core/planning/run-plan.ts'
import type { BoneMapping, TissueValues } from '../../../core/planning/domain.ts'
import type { HeadSegmentation } from '../../../core/planning/masks.ts'
import type { MemoryBudget } from '../../../core/solver/limits.ts'
import type { Progress } from '../../../core/solver/run.ts'
import { getHuMapping, type HuMappingId } from '../../../core/skull/mappings.ts'
import { clampAcousticProperties } from '../../../core/skull/clamp.ts'
import { BRAIN, COUPLING_WATER, tissueAlphaNpMAt } from '../../../core/skull/tissues.ts'
import type { Vec3, Volume } from '../../../core/volume/index.ts'

export interface PlanMediumModel {
  readonly mapping: (range: { huMinInSkull: number; huMaxInSkull: number }) => BoneMapping
  readonly tissues: TissueValues
}

/** The HU mapping (clamped to physical ranges; `onClamp` counts the voxels clamped) and tissue values. */
export function planMediumModel(mappingId: HuMappingId, frequencyHz: number, onClamp?: () => void): PlanMediumModel {
  const model = getHuMapping(mappingId)
  return {
    mapping: (range) => (hu) => {
      const fixed = clampAcousticProperties(model.map(hu, { frequencyHz, ...range }))
      if (fixed.densityClamped || fixed.soundSpeedClamped) onClamp?.()
      return fixed.properties
    },
    tissues: {
      water: { soundSpeed: COUPLING_WATER.soundSpeed, density: COUPLING_WATER.density, alphaNpM: 0 },
      softTissue: { soundSpeed: BRAIN.soundSpeed, density: BRAIN.density, alphaNpM: tissueAlphaNpMAt(BRAIN, frequencyHz, 1) },
    },
  }
}

export interface PrepareInput {
  readonly ct: Volume
  /** Target in CT RAS [m]; the device is aimed at `aimRasM` when given (focus correction). */
  readonly targetRasM: Vec3
  readonly aimRasM?: Vec3
  /** Entry on the scalp in CT RAS; proposed when absent. */
  readonly entryRasM?: Vec3
  readonly device: PlanDevice
  readonly mappingId: HuMappingId
  readonly pointsPerWavelength: number
  /** The CT's segmentation when the caller has it already (segmented here otherwise). */
  readonly segmentation?: HeadSegmentation
  /** What the solve may allocate here: the domain is refused before anything is resampled onto it. */
  readonly memory?: MemoryBudget
  readonly onProgress?: (stage: string, progress?: Progress) => void
}

export interface Prepared extends PreparedPlan {
  readonly medium: PlanMediumModel
  /** Bone voxels whose density or sound speed was clamped into the physical range. */
  readonly clampedVoxels: number
}

/**
 * Segmentation (unless given), placement and the domain. Throws core's own errors
 * (PlacementError, SimulationInputError on the grid): the pipeline names the flag (solve.ts).
 */
export function prepareDomain(input: PrepareInput): Prepared {
  let clampedVoxels = 0
  const medium = planMediumModel(input.mappingId, input.device.frequencyHz, () => clampedVoxels++)
  const prepared = preparePlan(
    {
      ct: input.ct,
      targetRasM: input.targetRasM,
      ...(input.aimRasM ? { aimRasM: input.aimRasM } : {}),
      ...(input.entryRasM ? { entryRasM: input.entryRasM } : {}),
      device: input.device,
      ...medium,
      pointsPerWavelength: input.pointsPerWavelength,
      ...(input.onProgress ? { onProgress: input.onProgress } : {}),
      ...(input.memory ? { memory: input.memory } : {}),
    },
    input.segmentation,
  )
  return { ...prepared, medium, clampedVoxels }
}
