/**
 * Writes a plan's own simulation as `medium/scene.json` (core/planning/plan-scene.ts) beside the
 * medium maps the plan folder already holds, so `tfus export-kwave <plan-dir>` exports exactly
 * the head run (and, without the maps, the free-water run) with no re-derivation from the CT.
 */
import * as path from 'node:path'
import { planSceneJson } from '../../core/planning/plan-scene.ts'
import type { PlanDevice, PlanResult } from '../../core/planning/run-plan.ts'
import type { TissueValues } from '../../core/planning/domain.ts'
import { DEFAULT_SETTINGS } from '../../core/solver/model.ts'
import { PLAN_FILES } from '../../core/contracts/plan.ts'
import { writeFileAtomic } from '../adapters/atomic-file.ts'

export async function writePlanScene(outDir: string, device: PlanDevice, result: PlanResult, water: TissueValues['water']): Promise<string> {
  const sceneFile = path.join(outDir, PLAN_FILES.scene)
  const relative = (f: string) => path.relative(path.dirname(PLAN_FILES.scene), f)
  const scene = planSceneJson({
    frequencyHz: device.frequencyHz,
    grid: result.domain.grid,
    alphaPower: result.domain.medium.alphaPower,
    water,
    // runPlan solves at REFERENCE_AMPLITUDE_PA and scales (linear); the scene drives at the plan's
    // own level, so its field is pressure_sim.nii.gz itself.
    elements: device.elements(result.sourceAmplitudePa, result.placement.pose.focalDistanceFromApexM),
    // runPlan's solves take the default settings (runSimulation without `settings`).
    settings: DEFAULT_SETTINGS,
    files: { soundSpeed: relative(PLAN_FILES.soundSpeed), density: relative(PLAN_FILES.density), alphaDbCm: relative(PLAN_FILES.alphaDbCm) },
  })
  await writeFileAtomic(sceneFile, JSON.stringify(scene, null, 2) + '\n')
  return PLAN_FILES.scene
}
