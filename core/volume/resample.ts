/**
 * Resampling a volume onto another voxel grid (registration output, planning grids).
 */

import { multiplyAffine } from '../math/index.ts'
import { indexToWorldAffine, worldToIndexAffine } from './geometry.ts'
import type { GridSpec } from './geometry.ts'
import type { Volume, VoxelArray } from './types.ts'

export interface ResampleOptions {
  /** Value for target voxels whose centre falls outside the source grid. Default 0. */
  readonly fill?: number
  /** Default 'linear'. Use 'nearest' for label maps. */
  readonly interpolation?: 'linear' | 'nearest'
  /**
   * 'float32' always, or 'same' as the source array type (integers are rounded and clamped
   * to the type's range). Default: 'float32' for linear, 'same' for nearest, so that labels
   * stay labels and interpolated intensities are not truncated.
   */
  readonly outputType?: 'float32' | 'same'
}

/**
 * A point is inside the source when its continuous index lies within the outermost voxel
 * centres; this slack keeps target centres that coincide with a source edge (up to rounding
 * in the composed affine) from turning into fill.
 */
const EDGE_EPS = 1e-6

/**
 * Samples `src` at the world position of each target voxel centre.
 *
 * The target-index -> source-index map is one affine (source world->index composed with
 * target index->world), so each row along i is a start point plus a constant step.
 */
export function resampleTrilinear(src: Volume, target: GridSpec, opts: ResampleOptions = {}): Volume {
  const interpolation = opts.interpolation ?? 'linear'
  const fill = opts.fill ?? 0
  const outputType = opts.outputType ?? (interpolation === 'nearest' ? 'same' : 'float32')

  const [ti, tj, tk] = target.dims
  if (!target.dims.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw new Error(`resampleTrilinear: target dims must be positive integers, got [${target.dims.join(', ')}]`)
  }
  const [nx, ny, nz] = src.dims
  const nxy = nx * ny
  const sd = src.data

  const m = multiplyAffine(worldToIndexAffine(src), indexToWorldAffine(target))
  const m0 = m[0]!,
    m1 = m[1]!,
    m2 = m[2]!,
    m3 = m[3]!
  const m4 = m[4]!,
    m5 = m[5]!,
    m6 = m[6]!,
    m7 = m[7]!
  const m8 = m[8]!,
    m9 = m[9]!,
    m10 = m[10]!,
    m11 = m[11]!

  const out = allocOutput(sd, outputType, ti * tj * tk)
  const conv = integerRange(out)
  const isInt = conv !== null
  const lo = conv?.[0] ?? 0
  const hi = conv?.[1] ?? 0
  const store = (v: number): number => (isInt ? (v < lo ? lo : v > hi ? hi : Math.round(v)) : v)
  const fillStored = store(fill)

  const xMax = nx - 1 + EDGE_EPS
  const yMax = ny - 1 + EDGE_EPS
  const zMax = nz - 1 + EDGE_EPS
  // A singleton axis has no neighbour; a zero stride makes both corners the same voxel.
  const di = nx > 1 ? 1 : 0
  const dj = ny > 1 ? nx : 0
  const dk = nz > 1 ? nxy : 0
  const linear = interpolation === 'linear'

  let o = 0
  for (let k = 0; k < tk; k++) {
    for (let j = 0; j < tj; j++) {
      let x = m1 * j + m2 * k + m3
      let y = m5 * j + m6 * k + m7
      let z = m9 * j + m10 * k + m11
      for (let i = 0; i < ti; i++, o++, x += m0, y += m4, z += m8) {
        if (!(x >= -EDGE_EPS && x <= xMax && y >= -EDGE_EPS && y <= yMax && z >= -EDGE_EPS && z <= zMax)) {
          out[o] = fillStored
          continue
        }
        if (!linear) {
          const ii = Math.min(nx - 1, Math.max(0, Math.round(x)))
          const jj = Math.min(ny - 1, Math.max(0, Math.round(y)))
          const kk = Math.min(nz - 1, Math.max(0, Math.round(z)))
          out[o] = store(sd[ii + jj * nx + kk * nxy]!)
          continue
        }
        const cx = x < 0 ? 0 : x > nx - 1 ? nx - 1 : x
        const cy = y < 0 ? 0 : y > ny - 1 ? ny - 1 : y
        const cz = z < 0 ? 0 : z > nz - 1 ? nz - 1 : z
        // Keep the lower corner one short of the last voxel so the upper corner exists;
        // the fraction then reaches 1 exactly at the far edge.
        let i0 = Math.floor(cx)
        let j0 = Math.floor(cy)
        let k0 = Math.floor(cz)
        if (i0 > nx - 2) i0 = nx > 1 ? nx - 2 : 0
        if (j0 > ny - 2) j0 = ny > 1 ? ny - 2 : 0
        if (k0 > nz - 2) k0 = nz > 1 ? nz - 2 : 0
        const fx = cx - i0
        const fy = cy - j0
        const fz = cz - k0
        const b = i0 + j0 * nx + k0 * nxy
        const c00 = sd[b]! + (sd[b + di]! - sd[b]!) * fx
        const c10 = sd[b + dj]! + (sd[b + dj + di]! - sd[b + dj]!) * fx
        const c01 = sd[b + dk]! + (sd[b + dk + di]! - sd[b + dk]!) * fx
        const c11 = sd[b + dk + dj]! + (sd[b + dk + dj + di]! - sd[b + dk + dj]!) * fx
        const c0 = c00 + (c10 - c00) * fy
        const c1 = c01 + (c11 - c01) * fy
        out[o] = store(c0 + (c1 - c0) * fz)
      }
    }
  }

  return {
    data: out,
    dims: [ti, tj, tk],
    spacingM: [target.spacingM[0], target.spacingM[1], target.spacingM[2]],
    originM: [target.originM[0], target.originM[1], target.originM[2]],
    direction: [...target.direction] as unknown as GridSpec['direction'],
    meta: src.meta,
    warnings: src.warnings,
  }
}

function allocOutput(like: VoxelArray, type: 'float32' | 'same', n: number): VoxelArray {
  if (type === 'float32') return new Float32Array(n)
  const Ctor = like.constructor as new (length: number) => VoxelArray
  return new Ctor(n)
}

/** [min, max] representable by an integer array, or null for float arrays. */
function integerRange(a: VoxelArray): readonly [number, number] | null {
  if (a instanceof Int8Array) return [-128, 127]
  if (a instanceof Uint8Array) return [0, 255]
  if (a instanceof Int16Array) return [-32768, 32767]
  if (a instanceof Uint16Array) return [0, 65535]
  if (a instanceof Int32Array) return [-2147483648, 2147483647]
  if (a instanceof Uint32Array) return [0, 4294967295]
  return null
}
