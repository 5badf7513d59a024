/**
 * The plan pipeline: from files to a plan folder in explicit stages, each a function with typed
 * input and output (one file each):
 *
 *   resolve (device, drive, every non-image input)  resolve.ts
 *   -> read inputs (CT, MRI)                         read-inputs.ts
 *   -> register (target into CT RAS)                 register.ts
 *   -> prepare (segmentation, placement, domain)     prepare.ts
 *   -> field source (solver or surrogate)            field-source.ts
 *   -> solve with focus correction                   solve.ts
 *   -> write (the plan folder)                       write.ts
 *   -> thermal (on the folder, when asked)           thermal.ts
 *
 * `tfus plan` / `tfus predict` (electron/cli/plan.ts) and the app's plan worker
 * (electron/workers/plan-worker.ts) run `runPlanPipeline`; the live preview
 * (../surrogate-preview.ts) and the surrogate's data generator (scripts/surrogate-generate.ts)
 * use the stages they share (resolve device, prepare, the surrogate field source). Progress,
 * notes and cancellation pass through every stage (types.ts StageHooks). Prepare, the field and
 * the solve run once per focus-correction iteration, inside the solve stage.
 */
import * as path from 'node:path'
import { replaceFolderAtomically } from '../../adapters/atomic-file.ts'
import type { HuMappingId } from '../../../core/skull/mappings.ts'
import { stageHooks, type PlanInput, type PlanRunHooks, type PlanRunOutput } from './types.ts'
import { resolvePlanSetup } from './resolve.ts'
import { readPlanImages } from './read-inputs.ts'
import { registerToCt } from './register.ts'
import { openFieldSource } from './field-source.ts'
import { solveWithFocusCorrection } from './solve.ts'
import { checkPlanOutDir, writePlanFolder } from './write.ts'
import { runThermalStage } from './thermal.ts'

export type { DriveInput, PlanInput, PlanRunHooks, PlanRunOutput, StageHooks } from './types.ts'
export { checkPlanOutDir, poseRecordOf, SOLVER_VERSION } from './write.ts'
export { planMediumModel, prepareDomain } from './prepare.ts'
export { resolveDevice, resolveDrive, resolvePlanSetup } from './resolve.ts'

export async function runPlanPipeline(input: PlanInput, runHooks: PlanRunHooks = {}): Promise<PlanRunOutput> {
  const startedAt = performance.now()
  const hooks = stageHooks(runHooks)
  const setup = await resolvePlanSetup(input, hooks.note)
  const images = await readPlanImages(input, hooks)
  const registered = await registerToCt({ request: input, ct: images.ct, mri: images.mri, mriToCtRas: setup.mriToCtRas }, hooks)
  const field = await openFieldSource(input, setup.device, hooks)
  const solved = await solveWithFocusCorrection(
    {
      ct: images.ct,
      targetRasM: registered.targetCt,
      entryRasM: registered.entryCt,
      device: setup.device,
      mappingId: input.mappingId as HuMappingId,
      pointsPerWavelength: input.pointsPerWavelength,
      drive: setup.drive,
      pulseTiming: input.pulseTiming,
      field,
      ...(input.correctFocus ? { correctFocus: input.correctFocus } : {}),
    },
    hooks,
  )

  hooks.onStage('writing the plan folder')
  const finalDir = path.resolve(input.outDir)
  // Checked again: the folder may have changed during the simulation.
  await checkPlanOutDir(input.outDir)
  // Everything below writes into a temporary folder, renamed onto --out only when complete
  // (plan.json, metrics.json, every volume and the thermal run), so a failure anywhere here
  // (a metrics record that does not validate, a disk error, the thermal model) leaves no
  // complete-looking plan folder behind.
  return replaceFolderAtomically(finalDir, async (dir): Promise<PlanRunOutput> => {
    const surrogate = field.surrogate ? { model: field.surrogate.model, prediction: field.surrogate.lastPrediction() } : undefined
    const written = await writePlanFolder(dir, {
      input,
      setup,
      ct: images.ct,
      targetCt: registered.targetCt,
      registration: registered.registration,
      solved,
      surrogate,
      warnings: images.warnings,
      startedAt,
    })
    if (!input.thermalProtocolFile || !setup.thermalProtocol)
      return { plan: written.plan, metrics: written.metrics, result: solved.result, files: written.files, thermal: null }
    const heat = await runThermalStage(
      {
        dir,
        finalDir,
        thermalProtocol: setup.thermalProtocol,
        thermalProtocolFile: input.thermalProtocolFile,
        backend: input.backend,
        metrics: written.metrics,
      },
      hooks,
    )
    return { plan: written.plan, metrics: heat.metrics, result: solved.result, files: [...written.files, ...heat.files], thermal: heat.thermal }
  })
}
