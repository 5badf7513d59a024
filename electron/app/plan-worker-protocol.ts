/** The plan run's call to its worker thread (plan-worker.ts, through worker-rpc.ts): input PlanInput, these events and this result. */
import type { PlanMetricsRecord, PlanRecord } from '../../core/contracts/plan.ts'

export type PlanWorkerEvent =
  | { readonly type: 'stage'; readonly stage: string; readonly step?: number; readonly maxSteps?: number; readonly fraction?: number }
  | { readonly type: 'note'; readonly line: string }

export interface PlanWorkerResult {
  readonly plan: PlanRecord
  readonly metrics: PlanMetricsRecord
  readonly files: readonly string[]
}
