/**
 * The MRI registered to the CT in the app: the back end runs the same elastix rigid registration
 * as `tfus register` (registerMri) and answers with the MRI -> CT map, its quality and the fused
 * volume (the MRI on the CT's grid). A registration belongs to one CT and one MRI: opening
 * another image of either drops it. Only an acceptable one is used to plan (`usable`): the plan
 * then records the map and the target in the MRI's RAS, as `tfus plan --mri` does.
 */
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { registrationRunId, type ApiEvent, type RegistrationResultPayload } from '../../../core/contracts/api.ts'
import { applyAffine, invertRigid, type Vec3 } from '../../../core/math/index.ts'
import { api } from '../api/index.ts'
import { useImagesStore } from './images.ts'
import { describeError } from './messages.ts'

export type RegistrationStatus = 'idle' | 'running' | 'done' | 'failed' | 'cancelled'

export const useRegistrationStore = defineStore('registration', () => {
  const images = useImagesStore()
  const status = ref<RegistrationStatus>('idle')
  const progress = ref<{ stage: string; fraction: number; elapsedS: number } | null>(null)
  const result = ref<RegistrationResultPayload | null>(null)
  const error = ref<string | null>(null)

  /** The registration of the CT and MRI on screen (none after either changed). */
  const current = computed(() => {
    const r = result.value
    return r && r.ctImageId === images.ct?.imageId && r.mriImageId === images.mri?.imageId ? r : null
  })
  /** The registration plans may use: current and of acceptable quality. */
  const usable = computed(() => (current.value?.quality.acceptable ? current.value : null))

  // Another CT or MRI: the map no longer describes what is on screen.
  watch(
    () => [images.ct?.imageId, images.mri?.imageId],
    () => {
      if (status.value === 'running') void cancel()
      result.value = null
      status.value = 'idle'
      progress.value = null
      error.value = null
    },
  )

  const blockedBecause = computed(() => {
    if (status.value === 'running') return 'a registration is running'
    if (!images.ct) return 'open the CT first'
    if (!images.mri) return 'open the MRI (T1) first'
    return null
  })

  async function register(): Promise<boolean> {
    const ct = images.ct
    const mri = images.mri
    if (!ct || !mri || blockedBecause.value) return false
    status.value = 'running'
    progress.value = { stage: 'starting the registration', fraction: 0, elapsedS: 0 }
    error.value = null
    result.value = null
    try {
      const r = await api().registerMri({ ctImageId: ct.imageId, mriImageId: mri.imageId })
      // The images may have changed while it ran: an answer for other images is dropped.
      if (r.ctImageId !== images.ct?.imageId || r.mriImageId !== images.mri?.imageId) return false
      result.value = r
      status.value = 'done'
      return true
    } catch (e) {
      const cancelled = (e as { code?: string }).code === 'cancelled'
      status.value = cancelled ? 'cancelled' : 'failed'
      error.value = cancelled ? null : describeError('Registering the MRI to the CT', e)
      return false
    } finally {
      progress.value = null
    }
  }

  async function cancel(): Promise<void> {
    const mri = images.mri
    if (!mri) return
    try {
      await api().cancelRegistration({ mriImageId: mri.imageId })
    } catch {
      // Nothing under way any more: the registration call answers on its own.
    }
  }

  function handleEvent(e: ApiEvent): void {
    if (e.type !== 'progress' || status.value !== 'running' || !images.mri || e.runId !== registrationRunId(images.mri.imageId)) return
    progress.value = { stage: e.stage, fraction: e.fraction ?? 0, elapsedS: e.elapsedS }
  }

  /** A CT RAS point (m) in the MRI's RAS, through the inverse of the usable map; null without one. */
  function ctToMri(p: Vec3): Vec3 | null {
    const r = usable.value
    return r ? (applyAffine(invertRigid(r.mriToCtRas), p) as Vec3) : null
  }

  return { status, progress, result, error, current, usable, blockedBecause, register, cancel, handleEvent, ctToMri }
})
