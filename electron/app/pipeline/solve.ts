/**
 * Stage 6, solve with focus correction: prepare the domain, take the field from the field
 * source, scale it to the drive and measure (core/planning/run-plan.ts runPreparedPlan); with
 * focus correction, move the transducer (re-steer an annular array) and run again until the
 * simulated peak lands on the target (core/planning/focus-correction.ts).
 */
import { runPreparedPlan, type DriveLevel, type PlanDevice, type PlanResult } from '../../../core/planning/run-plan.ts'
import type { PulseTiming } from '../../../core/planning/metrics.ts'
import { PlacementError } from '../../../core/planning/placement.ts'
import { correctFocus } from '../../../core/planning/focus-correction.ts'
import { SurrogateModelError } from '../../../core/surrogate/manifest.ts'
import { SimulationInputError } from '../../../core/solver/errors.ts'
import type { HuMappingId } from '../../../core/skull/mappings.ts'
import type { PlanRecord } from '../../../core/contracts/plan.ts'
import type { Vec3, Volume } from '../../../core/volume/index.ts'
import { prepareDomain } from './prepare.ts'
import type { FieldSource } from './field-source.ts'
import type { StageHooks } from './types.ts'
import { poseRecordOf } from './write.ts'

/**
 * A refusal of core's in the words of the command line: a placement error, a grid too large for
 * the resolution (the flag the user sets) or a surrogate model that does not fit the domain.
 */
export function asPlanInputError(e: unknown): unknown {
  if (e instanceof PlacementError) return new SimulationInputError(`placement (${e.code})`, e.message)
  if (e instanceof SimulationInputError && e.field === 'grid.size') return new SimulationInputError('--ppw', `the simulation grid ${e.problem}`)
  if (e instanceof SurrogateModelError) return new SimulationInputError(e.where, e.message.slice(e.where.length + 2))
  return e
}

export interface SolveInput {
  readonly ct: Volume
  /** Target and entry in CT RAS [m]; the entry is proposed by the first run when absent. */
  readonly targetRasM: Vec3
  readonly entryRasM: Vec3 | undefined
  readonly device: PlanDevice
  readonly mappingId: HuMappingId
  readonly pointsPerWavelength: number
  readonly drive: DriveLevel
  readonly pulseTiming: PulseTiming
  readonly field: FieldSource
  readonly correctFocus?: { readonly maxIterations: number; readonly toleranceM: number }
}

export interface Solved {
  /** The run kept: the last one, or the best of focus correction. */
  readonly result: PlanResult
  /** The plan's entry (CT RAS): the planner's, else the scalp point the first run proposed. */
  readonly entry: Vec3
  readonly entryProposed: boolean
  readonly focusCorrection: PlanRecord['focus_correction']
  /** Warnings of this stage (focus correction stopped early, clamped bone voxels). */
  readonly warnings: readonly string[]
}

export async function solveWithFocusCorrection(s: SolveInput, hooks: StageHooks): Promise<Solved> {
  const { field } = s
  const { signal } = hooks
  let clamped = 0
  // Free-water peaks by grid and focus: re-aimed runs of focus correction reuse them.
  const freeWaterCache = new Map<string, number>()
  const runOnce = async (aimRasM: Vec3, entryRasM: Vec3 | undefined): Promise<PlanResult> => {
    clamped = 0
    const started = performance.now()
    try {
      const memory = field.memoryBudget()
      const prepared = prepareDomain({
        ct: s.ct,
        targetRasM: s.targetRasM,
        ...(aimRasM !== s.targetRasM ? { aimRasM } : {}),
        ...(entryRasM ? { entryRasM } : {}),
        device: s.device,
        mappingId: s.mappingId,
        pointsPerWavelength: s.pointsPerWavelength,
        onProgress: hooks.onStage,
        ...(memory ? { memory } : {}),
      })
      clamped = prepared.clampedVoxels
      return await runPreparedPlan(
        {
          ct: s.ct,
          targetRasM: s.targetRasM,
          device: s.device,
          mappingId: s.mappingId,
          ...prepared.medium,
          pointsPerWavelength: s.pointsPerWavelength,
          drive: s.drive,
          pulseTiming: s.pulseTiming,
          backend: field.backend,
          freeWaterCache,
          ...(field.fieldSource ? { fieldSource: field.fieldSource } : {}),
          ...(signal ? { signal } : {}),
          onProgress: hooks.onStage,
        },
        prepared,
        started,
      )
    } catch (e) {
      throw asPlanInputError(e)
    }
  }

  let result = await runOnce(s.targetRasM, s.entryRasM)
  // Stored in plan.json either way (entry_proposed says which), so the app can adopt it and the
  // exports can carry it; focus correction keeps it fixed.
  const entry: Vec3 = s.entryRasM ?? result.placement.path.scalpPointRasM
  const warnings: string[] = []
  let focusCorrection: PlanRecord['focus_correction'] = null
  if (s.correctFocus) {
    const initialPose = poseRecordOf(result.placement.pose)
    const withPeak = (r: PlanResult) => Object.assign(r, { peakRasM: r.metrics.peak_position_ras_m })
    const corrected = await correctFocus(
      s.targetRasM,
      withPeak(result),
      async (aim, iteration) => {
        hooks.onStage(`correcting the focus (iteration ${iteration})`)
        return withPeak(await runOnce(aim, entry))
      },
      { ...s.correctFocus, isRefusal: (e) => e instanceof SimulationInputError },
    )
    result = corrected.best
    focusCorrection = {
      initial_pose: initialPose,
      iterations: corrected.iterations,
      residual_m: corrected.residualM,
      initial_shift_m: corrected.initialShiftM,
      steered_focal_distance_m: s.device.kind === 'annular' ? result.placement.pose.focalDistanceFromApexM : null,
    }
    if (corrected.stoppedBecause)
      warnings.push(`focus correction stopped: ${corrected.stoppedBecause}; the peak is ${(corrected.residualM * 1000).toFixed(1)} mm from the target`)
  }
  if (clamped > 0) warnings.push(`${clamped} bone voxels had density or sound speed clamped into the physical range`)
  return { result, entry, entryProposed: !s.entryRasM, focusCorrection, warnings }
}
