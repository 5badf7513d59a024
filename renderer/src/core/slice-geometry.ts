/**
 * Which way each slice view looks, from the display volume's direction (column k = LPS
 * direction of voxel axis k; display volumes have their axes ordered toward L, P, S, see
 * electron/app/display-volume.ts). Radiological convention, as on clinical consoles:
 * axial seen from the feet (patient right on screen left, anterior up), coronal seen from the
 * front (patient right on screen left, superior up), sagittal seen from the patient's left
 * (anterior on screen left, superior up).
 */
import type { Vec3 } from './orientation.ts'

export type SliceAxis = 'sagittal' | 'coronal' | 'axial'
export const SLICE_AXES: readonly SliceAxis[] = ['axial', 'coronal', 'sagittal']

/** Voxel axis sliced by a view (display volumes: 0 = toward L, 1 = toward P, 2 = toward S). */
export const SLICE_AXIS_INDEX: Readonly<Record<SliceAxis, 0 | 1 | 2>> = { sagittal: 0, coronal: 1, axial: 2 }

export type Mat3 = readonly [number, number, number, number, number, number, number, number, number]

export function column(direction: Mat3, k: number): Vec3 {
  return [direction[k]!, direction[3 + k]!, direction[6 + k]!]
}

const neg = (a: Vec3): Vec3 => [-a[0], -a[1], -a[2]]

/** Camera direction of projection and view-up (LPS) for a slice view. */
export function sliceCamera(axis: SliceAxis, direction: Mat3): { readonly directionOfProjection: Vec3; readonly viewUp: Vec3 } {
  const toL = column(direction, 0)
  const toP = column(direction, 1)
  const toS = column(direction, 2)
  switch (axis) {
    case 'axial':
      // Looking from inferior toward superior, anterior (-P) up.
      return { directionOfProjection: toS, viewUp: neg(toP) }
    case 'coronal':
      // Looking from anterior toward posterior, superior up.
      return { directionOfProjection: toP, viewUp: toS }
    case 'sagittal':
      // Looking from the patient's left toward the right, superior up.
      return { directionOfProjection: neg(toL), viewUp: toS }
  }
}

/** RAS <-> LPS (same metres, x and y negated). */
export function rasToLps(p: Vec3): Vec3 {
  return [-p[0], -p[1], p[2]]
}
export const lpsToRas = rasToLps

/** World (LPS) position of a continuous voxel index of a volume with this geometry. */
export function indexToWorld(ijk: Vec3, originM: Vec3, spacingM: Vec3, direction: Mat3): Vec3 {
  const out = [0, 0, 0]
  for (let r = 0; r < 3; r++) out[r] = originM[r]! + direction[3 * r]! * spacingM[0] * ijk[0] + direction[3 * r + 1]! * spacingM[1] * ijk[1] + direction[3 * r + 2]! * spacingM[2] * ijk[2]
  return out as unknown as Vec3
}

/** Continuous voxel index of an LPS point (direction is orthonormal, so its inverse is its transpose). */
export function worldToIndex(p: Vec3, originM: Vec3, spacingM: Vec3, direction: Mat3): Vec3 {
  const d = [p[0] - originM[0], p[1] - originM[1], p[2] - originM[2]]
  const out = [0, 0, 0]
  for (let k = 0; k < 3; k++) out[k] = (direction[k]! * d[0]! + direction[3 + k]! * d[1]! + direction[6 + k]! * d[2]!) / spacingM[k]!
  return out as unknown as Vec3
}

/** Slice index for a world point, clamped to the volume. */
export function sliceIndexAt(axis: SliceAxis, p: Vec3, geom: { originM: Vec3; spacingM: Vec3; direction: Mat3; dims: Vec3 }): number {
  const k = SLICE_AXIS_INDEX[axis]
  const idx = worldToIndex(p, geom.originM, geom.spacingM, geom.direction)[k]
  return Math.max(0, Math.min(geom.dims[k] - 1, Math.round(idx)))
}
