/**
 * Which way each slice view looks, from the display volume's direction (column k = LPS
 * direction of voxel axis k; display volumes have their axes ordered toward L, P, S, see
 * electron/app/display-volume.ts). Radiological convention, as on clinical consoles:
 * axial seen from the feet (patient right on screen left, anterior up), coronal seen from the
 * front (patient right on screen left, superior up), sagittal seen from the patient's left
 * (anterior on screen left, superior up).
 */
import { mat3Column, neg3, type Mat3, type Vec3 } from '../../../core/math/index.ts'
import { worldToVoxel } from '../../../core/volume/geometry.ts'

export type SliceAxis = 'sagittal' | 'coronal' | 'axial'
export const SLICE_AXES: readonly SliceAxis[] = ['axial', 'coronal', 'sagittal']

/** Voxel axis sliced by a view (display volumes: 0 = toward L, 1 = toward P, 2 = toward S). */
export const SLICE_AXIS_INDEX: Readonly<Record<SliceAxis, 0 | 1 | 2>> = { sagittal: 0, coronal: 1, axial: 2 }

/** Camera direction of projection and view-up (LPS) for a slice view. */
export function sliceCamera(axis: SliceAxis, direction: Mat3): { readonly directionOfProjection: Vec3; readonly viewUp: Vec3 } {
  const toL = mat3Column(direction, 0)
  const toP = mat3Column(direction, 1)
  const toS = mat3Column(direction, 2)
  switch (axis) {
    case 'axial':
      // Looking from inferior toward superior, anterior (-P) up.
      return { directionOfProjection: toS, viewUp: neg3(toP) }
    case 'coronal':
      // Looking from anterior toward posterior, superior up.
      return { directionOfProjection: toP, viewUp: toS }
    case 'sagittal':
      // Looking from the patient's left toward the right, superior up.
      return { directionOfProjection: neg3(toL), viewUp: toS }
  }
}

/** Slice index for a world point, clamped to the volume. */
export function sliceIndexAt(axis: SliceAxis, p: Vec3, geom: { originM: Vec3; spacingM: Vec3; direction: Mat3; dims: Vec3 }): number {
  const k = SLICE_AXIS_INDEX[axis]
  const idx = worldToVoxel(geom, p)[k]
  return Math.max(0, Math.min(geom.dims[k] - 1, Math.round(idx)))
}
