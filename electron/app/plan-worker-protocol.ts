/** Messages between a plan run's worker thread and its parent (plan-runs.ts). */
import type { SerializedError } from '../../core/contracts/api.ts'
import type { PlanMetricsRecord, PlanRecord } from '../../core/contracts/plan.ts'

export type ParentToWorker = { readonly type: 'cancel' }

export type WorkerToParent =
  | { readonly type: 'stage'; readonly stage: string; readonly step?: number; readonly maxSteps?: number; readonly fraction?: number }
  | { readonly type: 'note'; readonly line: string }
  | { readonly type: 'done'; readonly plan: PlanRecord; readonly metrics: PlanMetricsRecord; readonly files: readonly string[] }
  | { readonly type: 'error'; readonly error: SerializedError }
