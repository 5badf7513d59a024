/**
 * Volumes for display: the voxel axes permuted and flipped so that axis 0, 1, 2 point as close
 * as possible to +L, +P, +S (LPS), optionally keeping every n-th voxel. The renderer then slices
 * along voxel axes and the slices are the anatomical planes; what remains of the direction (the
 * identity for any axis-aligned scan, a small rotation for an oblique one) goes in the header,
 * so nothing moves in the world. Geometry stays LPS, metres, as in core/volume/types.ts.
 */
import type { Mat3, Vec3, Volume, VoxelArray } from '../../core/volume/index.ts'
import type { VolumeHeader, VoxelType } from '../../core/contracts/api.ts'

export interface DisplayVolume {
  readonly header: Omit<VolumeHeader, 'volumeId'>
  readonly data: VoxelArray
}

/** For each LPS axis a: the voxel axis that points most nearly along it, and the sign. */
export function axisPermutation(direction: Mat3): { readonly axis: readonly [number, number, number]; readonly sign: readonly [number, number, number] } {
  const axis: number[] = []
  const sign: number[] = []
  const used = new Set<number>()
  // Largest cosines first so an oblique scan cannot give two world axes the same voxel axis.
  const pairs: { a: number; k: number; v: number }[] = []
  for (let a = 0; a < 3; a++) for (let k = 0; k < 3; k++) pairs.push({ a, k, v: Math.abs(direction[3 * a + k]!) })
  pairs.sort((p, q) => q.v - p.v)
  const assigned = new Set<number>()
  for (const p of pairs) {
    if (assigned.has(p.a) || used.has(p.k)) continue
    assigned.add(p.a)
    used.add(p.k)
    axis[p.a] = p.k
    sign[p.a] = direction[3 * p.a + p.k]! < 0 ? -1 : 1
  }
  return { axis: axis as unknown as [number, number, number], sign: sign as unknown as [number, number, number] }
}

export function voxelTypeOf(data: VoxelArray): VoxelType {
  if (data instanceof Int8Array) return 'int8'
  if (data instanceof Uint8Array) return 'uint8'
  if (data instanceof Int16Array) return 'int16'
  if (data instanceof Uint16Array) return 'uint16'
  if (data instanceof Int32Array) return 'int32'
  if (data instanceof Uint32Array) return 'uint32'
  if (data instanceof Float32Array) return 'float32'
  return 'float64'
}

export function toDisplayVolume(volume: Volume, stride = 1): DisplayVolume {
  const { axis, sign } = axisPermutation(volume.direction)
  const [nx, ny] = volume.dims
  const srcStrides = [1, nx, nx * ny]
  const outDims = [0, 1, 2].map((a) => Math.ceil(volume.dims[axis[a]!]! / stride)) as [number, number, number]
  // Start and step in the source index space along each output axis.
  const start = [0, 0, 0]
  const step = [0, 0, 0]
  const startIndex: [number, number, number] = [0, 0, 0]
  for (let a = 0; a < 3; a++) {
    const k = axis[a]!
    const n = volume.dims[k]!
    const first = sign[a]! > 0 ? 0 : (outDims[a]! - 1) * stride
    // Flipped axes start at the last kept voxel so both directions keep the same voxels.
    startIndex[k] = Math.min(first, n - 1)
    start[a] = startIndex[k] * srcStrides[k]!
    step[a] = sign[a]! * stride * srcStrides[k]!
  }
  const src = volume.data
  const out = new (src.constructor as new (n: number) => VoxelArray)(outDims[0] * outDims[1] * outDims[2])
  const base = start[0]! + start[1]! + start[2]!
  let o = 0
  let lo = Infinity
  let hi = -Infinity
  for (let k = 0; k < outDims[2]; k++)
    for (let j = 0; j < outDims[1]; j++) {
      let s = base + k * step[2]! + j * step[1]!
      for (let i = 0; i < outDims[0]; i++, s += step[0]!) {
        const v = src[s]!
        out[o++] = v
        if (v < lo) lo = v
        if (v > hi) hi = v
      }
    }
  const d = volume.direction
  const direction: number[] = new Array(9).fill(0)
  for (let a = 0; a < 3; a++) for (let r = 0; r < 3; r++) direction[3 * r + a] = sign[a]! * d[3 * r + axis[a]!]! + 0 // + 0: no -0 in the header
  const spacingM = [0, 1, 2].map((a) => volume.spacingM[axis[a]!]! * stride) as unknown as Vec3
  const originM = worldOf(volume, startIndex)
  return {
    header: {
      dims: outDims,
      spacingM: [...spacingM] as [number, number, number],
      originM: [...originM] as [number, number, number],
      direction: direction as [number, number, number, number, number, number, number, number, number],
      dataType: voxelTypeOf(out),
      range: [Number.isFinite(lo) ? lo : 0, Number.isFinite(hi) ? hi : 0],
      stride,
    },
    data: out,
  }
}

function worldOf(v: Volume, ijk: readonly number[]): Vec3 {
  const d = v.direction
  const s = v.spacingM
  const out = [0, 0, 0]
  for (let r = 0; r < 3; r++) out[r] = v.originM[r]! + d[3 * r]! * s[0] * ijk[0]! + d[3 * r + 1]! * s[1] * ijk[1]! + d[3 * r + 2]! * s[2] * ijk[2]!
  return out as unknown as Vec3
}

/** The bytes of a typed array as a standalone ArrayBuffer (what IPC and HTTP carry). */
export function bytesOf(data: VoxelArray): ArrayBuffer {
  const copy = new Uint8Array(data.byteLength)
  copy.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
  return copy.buffer
}
