/**
 * The plan pipeline's former entry point: everything now lives in ./pipeline/ (one stage a file);
 * these names remain until the callers move there.
 */
export { runPlanPipeline as runPlanToFolder, checkPlanOutDir, planMediumModel, poseRecordOf, SOLVER_VERSION } from './pipeline/index.ts'
export type { DriveInput, PlanInput, PlanRunHooks, PlanRunOutput } from './pipeline/index.ts'
export { SOFTWARE_VERSION } from '../adapters/version.ts'
