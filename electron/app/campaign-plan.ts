/**
 * The one place a campaign task calls the planner: the same entry `tfus plan` uses. Kept apart
 * so that a change of the planner's entry point is a change of this one call.
 */
import { resolvePlanSetup, runPlanPipeline, type DriveInput, type PlanInput, type PlanRunHooks, type PlanRunOutput } from './pipeline/index.ts'

export type { DriveInput, PlanInput, PlanRunHooks, PlanRunOutput }

/** Runs one plan into `input.outDir` (written as a whole: a temporary sibling renamed onto it). */
export function runCampaignPlan(input: PlanInput, hooks: PlanRunHooks = {}): Promise<PlanRunOutput> {
  return runPlanPipeline(input, hooks)
}

/** The planner's own input checks (no image read), at `tfus campaign plan` time. */
export async function checkCampaignPlanInputs(input: PlanInput): Promise<void> {
  await resolvePlanSetup(input)
}
