/**
 * What the plan pipeline takes and gives (index.ts composes the stages): the request as the CLI,
 * the app's plan worker and the API fill it, the hooks every stage reports through, and the
 * outcome.
 */
import type { BackendChoice } from '../../adapters/solver-backends.ts'
import type { LoadedSurrogate, ProviderChoice } from '../../adapters/onnx-runtime.ts'
import type { DriveLevel, PlanResult } from '../../../core/planning/run-plan.ts'
import type { PulseTiming } from '../../../core/planning/metrics.ts'
import type { Progress } from '../../../core/solver/run.ts'
import type { Vec3 } from '../../../core/volume/index.ts'
import type { PlanMetricsRecord, PlanRecord } from '../../../core/contracts/plan.ts'
import type { PlanThermalOutcome } from '../thermal-plan.ts'

export type DriveInput = DriveLevel | { readonly kind: 'device-setting'; readonly setting: number }

export interface PlanInput {
  readonly ctPath: string
  /** The T1 the target (and entry) were picked on; registered to the CT unless `registrationPath` is given. */
  readonly mriPath?: string
  /** A `tfus register` transform file (MRI -> CT) to use instead of registering again. */
  readonly registrationPath?: string
  /** How the transform file was made, for plan.json (default: "transform file <path>"). */
  readonly registrationMethod?: string
  /** Target, RAS metres, in the MRI's world when `mriPath` is set, else in the CT's. */
  readonly targetRasM: Vec3
  /** Entry on the scalp, same space as the target; proposed when absent. */
  readonly entryRasM?: Vec3
  readonly transducerId: string
  readonly mappingId: string
  readonly pointsPerWavelength: number
  readonly backend: BackendChoice
  readonly drive: DriveInput
  readonly pulseTiming: PulseTiming
  readonly maxStandoffM?: number
  /** Move the transducer (re-steer an annular array) until the simulated peak lands on the target. */
  readonly correctFocus?: { readonly maxIterations: number; readonly toleranceM: number }
  /** A sonication protocol file: the thermal model then runs on the plan folder (issue 8). */
  readonly thermalProtocolFile?: string
  readonly outDir: string
  /** Predict the field with the neural surrogate instead of solving (tfus predict, the live preview). */
  readonly engine?: { readonly kind: 'surrogate'; readonly modelFile: string; readonly provider: ProviderChoice; readonly loaded?: LoadedSurrogate }
}

export interface PlanRunHooks {
  readonly signal?: AbortSignal
  /** Stage names are sentences ("simulating in the head"); `progress` during solver runs. */
  readonly onStage?: (stage: string, progress?: Progress) => void
  /** Notes the host should show (backend choice, registration quality). */
  readonly onNote?: (line: string) => void
}

/** The hooks as every stage receives them: cancellation, stage names (with progress) and notes. */
export interface StageHooks {
  readonly signal?: AbortSignal
  readonly onStage: (stage: string, progress?: Progress) => void
  readonly note: (line: string) => void
}

export function stageHooks(hooks: PlanRunHooks = {}): StageHooks {
  return {
    ...(hooks.signal ? { signal: hooks.signal } : {}),
    onStage: (stage, progress) => hooks.onStage?.(stage, progress),
    note: (line) => hooks.onNote?.(line),
  }
}

export interface PlanRunOutput {
  readonly plan: PlanRecord
  readonly metrics: PlanMetricsRecord
  readonly result: PlanResult
  readonly files: readonly string[]
  /** The thermal run, when a protocol was given; its flag is in `metrics.flags.thermal`. */
  readonly thermal: { readonly thermalProtocolName: string; readonly outcome: PlanThermalOutcome } | null
}
