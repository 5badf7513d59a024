/**
 * Random transducer placements for training data: a target at a drawn depth under the skull
 * along a drawn direction from the skull's centre, and an entry tilted off that direction so
 * the beam meets the skull obliquely as often as a planner's choice does.
 */
import type { Vec3, Volume } from '../volume/types.ts'
import type { HeadSegmentation } from '../planning/masks.ts'
import { CtSampler } from '../planning/placement.ts'
import { cross3, lpsToRas, normalize3 } from '../math/index.ts'
import { voxelToWorld } from '../volume/geometry.ts'

export interface DrawnPlacement {
  readonly targetRasM: Vec3
  readonly entryRasM: Vec3
  /** Depth of the target under the outer skull surface [m] and the axis tilt [rad]. */
  readonly depthM: number
  readonly tiltRad: number
}

export interface PlacementRanges {
  /** Elevation of the direction above the head's axial plane through the skull centre [rad]. */
  readonly elevationRad: readonly [number, number]
  readonly depthM: readonly [number, number]
  readonly maxTiltRad: number
  /** Keep only directions whose RAS x has this sign (held-out hemispheres); 0 keeps all. */
  readonly hemisphere: -1 | 0 | 1
}

export const DEFAULT_PLACEMENT_RANGES: PlacementRanges = { elevationRad: [0.1, 1.25], depthM: [0.018, 0.04], maxTiltRad: (20 * Math.PI) / 180, hemisphere: 0 }

/** Centroid of the skull voxels (RAS, m). */
export function skullCentroidRas(ct: Volume, seg: HeadSegmentation): Vec3 {
  const [nx, ny] = ct.dims
  let si = 0
  let sj = 0
  let sk = 0
  let n = 0
  for (let v = 0; v < seg.skull.length; v++) {
    if (!seg.skull[v]) continue
    const k = Math.floor(v / (nx * ny))
    const j = Math.floor((v - k * nx * ny) / nx)
    si += v - nx * (j + ny * k)
    sj += j
    sk += k
    n++
  }
  if (n === 0) throw new Error(`${ct.meta.source ?? 'CT'}: no skull voxels to place a transducer against`)
  return lpsToRas(voxelToWorld(ct, [si / n, sj / n, sk / n]))
}

export function drawPlacement(
  ct: Volume,
  seg: HeadSegmentation,
  centreRas: Vec3,
  random: () => number,
  ranges: PlacementRanges = DEFAULT_PLACEMENT_RANGES,
): DrawnPlacement | undefined {
  const sampler = new CtSampler(ct, seg)
  const azimuth = random() * 2 * Math.PI
  const elevation = ranges.elevationRad[0] + (ranges.elevationRad[1] - ranges.elevationRad[0]) * random()
  const u: Vec3 = [Math.cos(elevation) * Math.cos(azimuth), Math.cos(elevation) * Math.sin(azimuth), Math.sin(elevation)]
  if (ranges.hemisphere !== 0 && Math.sign(u[0]) !== ranges.hemisphere) return undefined
  // Outer skull surface along u: the last bone sample marching outward from the centre.
  let outer = -1
  for (let s = 0; s < 0.16; s += 0.0005) {
    const p: Vec3 = [centreRas[0] + s * u[0], centreRas[1] + s * u[1], centreRas[2] + s * u[2]]
    if (!sampler.inVolume(p)) break
    if (sampler.skull(p)) outer = s
  }
  if (outer < 0.04) return undefined
  const depthM = ranges.depthM[0] + (ranges.depthM[1] - ranges.depthM[0]) * random()
  const target: Vec3 = [centreRas[0] + (outer - depthM) * u[0], centreRas[1] + (outer - depthM) * u[1], centreRas[2] + (outer - depthM) * u[2]]
  // Tilt u by up to maxTilt about a random axis perpendicular to it.
  const tiltRad = ranges.maxTiltRad * Math.sqrt(random())
  const helper: Vec3 = Math.abs(u[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0]
  const e1 = normalize3(cross3(u, helper))
  const e2 = cross3(u, e1)
  const phi = random() * 2 * Math.PI
  const w: Vec3 = [
    Math.cos(tiltRad) * u[0] + Math.sin(tiltRad) * (Math.cos(phi) * e1[0] + Math.sin(phi) * e2[0]),
    Math.cos(tiltRad) * u[1] + Math.sin(tiltRad) * (Math.cos(phi) * e1[1] + Math.sin(phi) * e2[1]),
    Math.cos(tiltRad) * u[2] + Math.sin(tiltRad) * (Math.cos(phi) * e1[2] + Math.sin(phi) * e2[2]),
  ]
  const entry: Vec3 = [target[0] + 0.06 * w[0], target[1] + 0.06 * w[1], target[2] + 0.06 * w[2]]
  return { targetRasM: target, entryRasM: entry, depthM, tiltRad }
}
