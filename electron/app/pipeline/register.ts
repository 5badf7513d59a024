/**
 * Stage 3, register: targets picked on the T1 are carried into CT RAS through the rigid
 * MRI -> CT transform, from a `tfus register` file or registered here (elastix). Without an MRI
 * the target is in CT RAS already and nothing happens.
 */
import { registerRigid, isRegistrationError } from '../../adapters/registration.ts'
import { transformFileMatrices } from '../../../core/registration/rigid.ts'
import { applyAffine } from '../../../core/math/index.ts'
import { SimulationInputError } from '../../../core/solver/errors.ts'
import { imageRefOf, type PlanRecord } from '../../../core/contracts/plan.ts'
import type { Vec3, Volume } from '../../../core/volume/index.ts'
import type { PlanInput, StageHooks } from './types.ts'

export interface RegisterInput {
  readonly request: Pick<PlanInput, 'ctPath' | 'mriPath' | 'registrationPath' | 'registrationMethod' | 'targetRasM' | 'entryRasM'>
  readonly ct: Volume
  readonly mri: Volume | undefined
  /** The matrix of `registrationPath`, read by the resolve stage. */
  readonly mriToCtRas: number[] | undefined
}

export interface Registered {
  /** Target and entry in CT RAS [m]. */
  readonly targetCt: Vec3
  readonly entryCt: Vec3 | undefined
  /** plan.json's registration record (null: the target was picked on the CT). */
  readonly registration: PlanRecord['registration']
}

export async function registerToCt(r: RegisterInput, hooks: StageHooks): Promise<Registered> {
  const { request: input, ct, mri } = r
  if (!input.mriPath || !mri) return { targetCt: input.targetRasM, entryCt: input.entryRasM, registration: null }
  const { signal } = hooks
  let mriToCtRas: number[]
  let method: string
  if (input.registrationPath && r.mriToCtRas) {
    mriToCtRas = r.mriToCtRas
    method = input.registrationMethod ?? `transform file ${input.registrationPath}`
  } else {
    hooks.onStage('registering the MRI to the CT')
    try {
      const result = await registerRigid(ct, mri, { ...(signal ? { signal } : {}), fixedName: input.ctPath, movingName: input.mriPath })
      if (!result.quality.acceptable)
        throw new SimulationInputError(
          '--mri',
          `registering ${input.mriPath} to ${input.ctPath} looks wrong (${result.quality.reasons.join('; ')}): check that both images show the same patient and overlap`,
        )
      mriToCtRas = transformFileMatrices(result.transform).matrix_ras_m.flat()
      method = `elastix rigid (Euler), ${result.metric.name} ${result.metric.value.toFixed(3)}, head outline Dice ${result.quality.final.headDice.toFixed(3)}`
      hooks.note(`registered the MRI to the CT: ${method}`)
    } catch (e) {
      if (isRegistrationError(e)) throw new SimulationInputError('--mri', e.message)
      throw e
    }
  }
  return {
    targetCt: applyAffine(mriToCtRas, input.targetRasM),
    entryCt: input.entryRasM ? applyAffine(mriToCtRas, input.entryRasM) : undefined,
    registration: {
      mri: imageRefOf(input.mriPath, mri.meta),
      mri_ras_to_ct_ras: mriToCtRas,
      method,
      target_mri_ras_m: [...input.targetRasM] as Vec3,
    },
  }
}
