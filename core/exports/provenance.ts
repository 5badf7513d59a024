/**
 * The line every export carries about its pose: plan.json `pose` is the focus-corrected pose when
 * `focus_correction` is non-null, and each export says which it is (file comment, description
 * field, report line, sidecar).
 */
import type { PlanRecord } from '../contracts/plan.ts'
import type { ExportProvenance } from './types.ts'

const mm = (m: number) => (m * 1000).toFixed(1)

export function poseNote(plan: PlanRecord): string {
  const fc = plan.focus_correction
  if (!fc) return 'Pose as planned (no focus correction).'
  return `Pose corrected by focus correction (${fc.iterations} iteration${fc.iterations === 1 ? '' : 's'}; focal shift ${mm(fc.initial_shift_m)} mm before, ${mm(fc.residual_m)} mm after): this is the corrected pose.`
}

export function exportProvenance(plan: PlanRecord, software: string): ExportProvenance {
  return { poseNote: poseNote(plan), software }
}
