/**
 * Stage 2, read inputs: the CT (and the MRI the target was picked on), with the warnings that
 * belong to the plan: reader warnings (uneven slices resampled, gantry tilt), the CT's
 * calibration, and the HU mapping's scanner protocol. They go into metrics.warnings, which
 * `tfus plan`, the app and the report all show.
 */
import { readVolume } from '../../adapters/volume-io.ts'
import { webbProtocolWarning, checkCtCalibration } from '../../../core/skull/calibration.ts'
import type { Volume } from '../../../core/volume/index.ts'
import type { PlanInput, StageHooks } from './types.ts'

export interface PlanImages {
  readonly ct: Volume
  readonly mri: Volume | undefined
  readonly warnings: readonly string[]
}

export async function readPlanImages(input: Pick<PlanInput, 'ctPath' | 'mriPath' | 'mappingId'>, hooks: StageHooks): Promise<PlanImages> {
  const { signal } = hooks
  hooks.onStage('reading the CT')
  const ct = await readVolume(input.ctPath, { modality: 'CT', ...(signal ? { signal } : {}) })
  const warnings: string[] = [...ct.warnings.map((w) => `CT ${input.ctPath}: ${w}`), ...checkCtCalibration(ct).warnings]
  if (input.mappingId === 'webb-ge120-bone') {
    const w = webbProtocolWarning(ct.meta)
    if (w) warnings.push(w)
  }
  let mri: Volume | undefined
  if (input.mriPath) {
    hooks.onStage('reading the MRI')
    mri = await readVolume(input.mriPath, { modality: 'MR', ...(signal ? { signal } : {}) })
    for (const w of mri.warnings) warnings.push(`MRI ${input.mriPath}: ${w}`)
  }
  return { ct, mri, warnings }
}
