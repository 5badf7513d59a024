/** The voxel value nearest to an LPS point (m) of a display volume, or null outside it. */
import type { VolumeHeader } from '../../../core/contracts/api.ts'
import { type Mat3, type Vec3 } from '../../../core/math/index.ts'
import { worldToVoxel } from '../../../core/volume/geometry.ts'

export function sampleNearest(header: Pick<VolumeHeader, 'dims' | 'originM' | 'spacingM' | 'direction'>, values: ArrayLike<number>, lps: Vec3): number | null {
  const ijk = worldToVoxel(
    { originM: header.originM as unknown as Vec3, spacingM: header.spacingM as unknown as Vec3, direction: header.direction as unknown as Mat3 },
    lps,
  ).map(Math.round)
  const [nx, ny, nz] = header.dims
  if (ijk[0]! < 0 || ijk[1]! < 0 || ijk[2]! < 0 || ijk[0]! >= nx || ijk[1]! >= ny || ijk[2]! >= nz) return null
  return values[ijk[0]! + nx * (ijk[1]! + ny * ijk[2]!)] ?? null
}
