/**
 * Orientation labels of a view, from the camera's screen axes in LPS world coordinates: the
 * letter of the patient direction a screen edge points toward (L/R, P/A, S/I), two letters for an
 * oblique direction (the larger component first, as 3D Slicer does). Nothing is assumed about the
 * image: the camera is set from the image's direction (see slice-geometry.ts), so a flipped or
 * oblique scan gets the labels of where its voxels really are.
 */
import { cross3, neg3, type Vec3 } from '../../../core/math/index.ts'

const LETTERS: readonly [string, string][] = [
  ['L', 'R'],
  ['P', 'A'],
  ['S', 'I'],
]

/** Letters for an LPS direction; components below `minor` (cosine) of the largest are left out. */
export function directionLabel(v: Vec3, minor = 0.3): string {
  const parts = [0, 1, 2]
    .map((axis) => ({ axis, value: v[axis]! }))
    .filter((p) => Math.abs(p.value) > 1e-9)
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value))
  const largest = Math.abs(parts[0]?.value ?? 0)
  return parts
    .filter((p) => Math.abs(p.value) >= minor * largest)
    .slice(0, 2)
    .map((p) => LETTERS[p.axis]![p.value > 0 ? 0 : 1])
    .join('')
}

export interface ViewLabels {
  readonly left: string
  readonly right: string
  readonly top: string
  readonly bottom: string
}

/**
 * Labels at the four screen edges for a camera looking along `directionOfProjection` with
 * `viewUp` pointing up the screen (both LPS). Screen right = directionOfProjection x viewUp.
 */
export function viewLabels(directionOfProjection: Vec3, viewUp: Vec3): ViewLabels {
  const right = cross3(directionOfProjection, viewUp)
  return { left: directionLabel(neg3(right)), right: directionLabel(right), top: directionLabel(viewUp), bottom: directionLabel(neg3(viewUp)) }
}
