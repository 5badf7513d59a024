/**
 * Reversing a voxel axis without moving anything in the world: the data are mirrored along the
 * axis, the direction column is negated and the origin moves to what was the last voxel.
 * DICOM series can only express right-handed (i, j, k) = (row, column, slice normal) frames, so
 * a left-handed volume (e.g. one stored bottom-up like the InVesalius sample) is flipped before
 * export to keep every voxel at its place.
 */
import { mat3Determinant } from '../math/index.ts'
import { voxelToWorld } from './geometry.ts'
import type { Mat3, Volume, VoxelArray } from './types.ts'

export function flipAxis<T extends VoxelArray>(volume: Volume<T>, axis: 0 | 1 | 2): Volume<T> {
  const [nx, ny, nz] = volume.dims
  const src = volume.data
  const out = new (src.constructor as new (n: number) => T)(src.length)
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++) {
      const sj = axis === 1 ? ny - 1 - j : j
      const sk = axis === 2 ? nz - 1 - k : k
      const srcRow = nx * (sj + ny * sk)
      const dstRow = nx * (j + ny * k)
      if (axis === 0) for (let i = 0; i < nx; i++) out[dstRow + i] = src[srcRow + nx - 1 - i]!
      else out.set(src.subarray(srcRow, srcRow + nx), dstRow)
    }
  const last = [0, 0, 0] as [number, number, number]
  last[axis] = volume.dims[axis] - 1
  const d = [...volume.direction]
  for (let r = 0; r < 3; r++) d[3 * r + axis] = -d[3 * r + axis]!
  return { ...volume, data: out, originM: voxelToWorld(volume, last), direction: d as unknown as Mat3 }
}

/** True when (i, j, k) form a right-handed frame in LPS, as every DICOM series does. */
export function isRightHanded(direction: Mat3): boolean {
  return mat3Determinant(direction) > 0
}
