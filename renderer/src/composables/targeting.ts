/**
 * Placing the target (typed, at the crosshair, or clicked in target mode): checked on the CT
 * first (outside the image, outside the head, in bone are refused in words, core/target-check),
 * then set in the plan store, which records it for undo. The voxels come from the views' image
 * cache, so the check costs no extra transfer.
 */
import { loadImage } from '../lib/vtk/image-cache.ts'
import { targetRefusal } from '../lib/target-check.ts'
import { type Vec3 } from '../../../core/math/index.ts'
import { useImagesStore } from '../stores/images.ts'
import { usePlanStore } from '../stores/plan.ts'
import { describeError } from '../stores/messages.ts'

export async function placeTarget(ras: Vec3): Promise<boolean> {
  const plan = usePlanStore()
  const ct = useImagesStore().ct
  if (plan.running) {
    plan.targetError = 'the target is locked while the simulation runs'
    return false
  }
  if (!ct) {
    plan.targetError = 'import a CT first'
    return false
  }
  let refusal: string | null
  try {
    const image = await loadImage(ct.volumeId)
    refusal = targetRefusal(ras, image.header, image.image.getPointData().getScalars().getData() as ArrayLike<number>)
  } catch (e) {
    refusal = describeError('Checking the target on the CT', e)
  }
  if (refusal) {
    plan.targetError = refusal
    return false
  }
  plan.targetError = null
  plan.setTarget(ras)
  return true
}
