/**
 * What the slice views overlay on the CT, decided in one place for the views, their colour bars
 * and the cursor readout: while two plans are compared, their difference B - A; otherwise the
 * result on screen as pressure (optionally only inside the brain) or, after a thermal run and
 * when asked, its peak temperature rise. `scale` is where the colour map tops out: the in-brain
 * peak [Pa], the larger of the two peaks [Pa], or the largest tissue rise [°C].
 */
import { computed, type ComputedRef } from 'vue'
import { usePlanStore } from '../stores/plan.ts'
import { useViewStore } from '../stores/view.ts'

export interface OverlayChoice {
  readonly volumeId: string
  readonly kind: 'pressure' | 'difference' | 'temperature'
  readonly scale: number
}

export function useOverlay(): ComputedRef<OverlayChoice | null> {
  const plan = usePlanStore()
  const view = useViewStore()
  return computed(() => {
    const cmp = plan.comparison
    if (cmp?.differenceVolumeId) return { volumeId: cmp.differenceVolumeId, kind: 'difference', scale: cmp.differenceScalePa }
    const shown = plan.shown
    if (!shown) return null
    const thermal = shown.thermal
    if (view.overlayKind === 'temperature' && shown.temperatureRiseVolumeId && thermal && thermal.tissues.length > 0) {
      return { volumeId: shown.temperatureRiseVolumeId, kind: 'temperature', scale: Math.max(1e-3, ...thermal.tissues.map((t) => t.peakRiseC)) }
    }
    const volumeId = view.maskOutsideBrain && shown.brainPressureVolumeId ? shown.brainPressureVolumeId : shown.pressureVolumeId
    return { volumeId, kind: 'pressure', scale: Math.max(shown.metrics.peak_pressure_pa, 1e-9) }
  })
}
