/**
 * View settings shared by the four views: the linked crosshair (LPS, metres), window/level, and
 * the pressure overlay's look. Views read these and keep no state of their own.
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { WINDOW_PRESETS, type WindowPreset } from '../lib/windowing.ts'
import { type Vec3 } from '../../../core/math/index.ts'

export const useViewStore = defineStore('view', () => {
  const crosshairLps = ref<Vec3>([0, 0, 0])
  /** Bumped on every click so views (and tests) can see that a click was handled. */
  const clickCount = ref(0)
  const windowWidth = ref<number>(WINDOW_PRESETS.brain.width)
  const windowLevel = ref<number>(WINDOW_PRESETS.brain.level)
  const preset = ref<WindowPreset | 'custom'>('brain')
  const overlayOpacity = ref(0.6)
  /** Overlay hidden below this fraction of the peak pressure. */
  const overlayThreshold = ref(0.3)
  /** The registered MRI over the CT in the slice views: 0 shows the CT only, 1 the MRI only. */
  const mriOpacity = ref(0.5)
  const showContours = ref(true)
  /** What the overlay shows of a result: the pressure, or the thermal run's peak temperature rise. */
  const overlayKind = ref<'pressure' | 'temperature'>('pressure')
  /** Hide the pressure outside the brain (scalp, skull, water): the near field no longer draws the eye. */
  const maskOutsideBrain = ref(false)
  const showIsosurface = ref(true)
  const showSkull = ref(true)

  /** The ruler (LPS, m): its first point, then both; a measurement, not a plan input. */
  const ruler = ref<{ a: Vec3; b: Vec3 | null } | null>(null)
  /** Adds a ruler point: the first click starts a new ruler, the second ends it. Returns true when it is complete. */
  function addRulerPoint(p: Vec3): boolean {
    const r = ruler.value
    if (!r || r.b) {
      ruler.value = { a: [p[0], p[1], p[2]], b: null }
      return false
    }
    ruler.value = { a: r.a, b: [p[0], p[1], p[2]] }
    return true
  }
  function setPreset(p: WindowPreset): void {
    preset.value = p
    windowWidth.value = WINDOW_PRESETS[p].width
    windowLevel.value = WINDOW_PRESETS[p].level
  }
  function setWindow(width: number, level: number): void {
    preset.value = 'custom'
    windowWidth.value = Math.max(1, width)
    windowLevel.value = level
  }
  function setCrosshair(p: Vec3): void {
    crosshairLps.value = [p[0], p[1], p[2]]
    clickCount.value++
  }
  return {
    crosshairLps,
    clickCount,
    windowWidth,
    windowLevel,
    preset,
    overlayOpacity,
    overlayThreshold,
    mriOpacity,
    showContours,
    overlayKind,
    maskOutsideBrain,
    showIsosurface,
    showSkull,
    ruler,
    addRulerPoint,
    setPreset,
    setWindow,
    setCrosshair,
  }
})
