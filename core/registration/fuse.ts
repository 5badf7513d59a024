/**
 * An MRI shown on the CT's grid: the fused view of the planner. A rigid MRI -> CT map moves the
 * MRI's voxel grid into the CT's world without touching a voxel (the origin is mapped, the axes
 * are rotated), and one trilinear resampling then puts the MRI onto the CT's voxels, so both
 * images share every slice, the crosshair and the cursor.
 */
import { mat3Multiply, rotationOf } from '../math/index.ts'
import { resampleTrilinear, type GridSpec, type Volume } from '../volume/index.ts'
import { applyRigid, withConvention, type RigidTransform } from './rigid.ts'

/**
 * The moving image's grid as it lies in the fixed image's world: same voxels, origin and axes
 * carried through `movingToFixed` (the LPS form of it, the convention of volume geometry).
 */
export function movedGrid(moving: GridSpec, movingToFixed: RigidTransform): GridSpec {
  const lps = withConvention(movingToFixed, 'LPS')
  return {
    dims: moving.dims,
    spacingM: moving.spacingM,
    originM: applyRigid(lps, moving.originM),
    direction: mat3Multiply(rotationOf(lps.matrix), moving.direction),
  }
}

/**
 * `moving` resampled onto `fixed`'s grid through the rigid map moving -> fixed (p_fixed = M
 * p_moving). Voxels of the fixed grid the moving image does not cover get `fill` (0: black).
 * The values keep the moving image's array type (display, not computation).
 */
export function resampleOntoFixed(moving: Volume, fixed: GridSpec, movingToFixed: RigidTransform, fill = 0): Volume {
  const placed: Volume = { ...moving, ...movedGrid(moving, movingToFixed) }
  return resampleTrilinear(placed, fixed, { fill, outputType: 'same' })
}
