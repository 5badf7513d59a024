/**
 * Is a point a target a planner can mean? Checked where it is placed (typed or clicked), so a
 * target outside the image, in the coupling water or in bone is refused at once in words, not
 * after Simulate as a placement code. The thresholds are those of the 3D view's scalp and skull
 * surfaces; the plan's own segmentation (calibrated per CT) checks again when it runs.
 */
import type { VolumeHeader } from '../../../core/contracts/api.ts'
import { sampleNearest } from './sample.ts'
import { rasToLps, type Vec3 } from '../../../core/math/index.ts'

/** Skull threshold [HU]: cortical and trabecular bone are above it, soft tissue below (~40 HU). */
export const SKULL_HU = 300
/** Scalp threshold [HU]: between air (-1000) and soft tissue. */
export const SCALP_HU = -300

const fmt = (ras: Vec3) => ras.map((v) => (v * 1000).toFixed(1)).join(', ')

/** Why this RAS point (m) cannot be a target on this CT, or null. `values` are the CT's voxels (HU). */
export function targetRefusal(ras: Vec3, header: VolumeHeader, values: ArrayLike<number>): string | null {
  const hu = sampleNearest(header, values, rasToLps(ras))
  if (hu === null) return `the target (${fmt(ras)}) mm RAS lies outside the CT image`
  if (hu < SCALP_HU) return `the target (${fmt(ras)}) mm RAS lies outside the head (${Math.round(hu)} HU there: air or coupling water)`
  if (hu > SKULL_HU) return `the target (${fmt(ras)}) mm RAS lies in bone (${Math.round(hu)} HU there): pick a point in the brain`
  return null
}
