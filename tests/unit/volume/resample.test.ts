import { describe, it, expect } from 'vitest'
import { createVolume, resampleTrilinear, voxelToWorld, worldToVoxel } from '../../../core/volume/index.ts'
import type { GridSpec, Mat3, Vec3, Volume } from '../../../core/volume/index.ts'
import { mat3Multiply } from '../../../core/math/index.ts'

const MM = 1e-3
const mm = (v: Vec3): Vec3 => [v[0] * MM, v[1] * MM, v[2] * MM]
const deg = Math.PI / 180

function rz(a: number): Mat3 {
  const c = Math.cos(a),
    s = Math.sin(a)
  return [c, -s, 0, s, c, 0, 0, 0, 1]
}
function rx(a: number): Mat3 {
  const c = Math.cos(a),
    s = Math.sin(a)
  return [1, 0, 0, 0, c, -s, 0, s, c]
}
function ry(a: number): Mat3 {
  const c = Math.cos(a),
    s = Math.sin(a)
  return [c, 0, s, 0, 1, 0, -s, 0, c]
}

/** f = 0.7 x - 1.3 y + 2.1 z + 5 with x, y, z in millimetres (LPS). */
const ramp = (p: Vec3): number => 0.7 * (p[0] / MM) - 1.3 * (p[1] / MM) + 2.1 * (p[2] / MM) + 5

function grid(dims: Vec3, spacing: Vec3, origin: Vec3, direction: Mat3): GridSpec {
  return { dims, spacingM: mm(spacing), originM: mm(origin), direction }
}

function sampled(g: GridSpec, f: (p: Vec3) => number): Volume {
  const [ni, nj, nk] = g.dims
  const data = new Float64Array(ni * nj * nk)
  let o = 0
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) {
        data[o++] = f(voxelToWorld(g, [i, j, k]))
      }
  return createVolume({ ...g, data, meta: { modality: 'CT', source: 'ramp' } })
}

describe('resampleTrilinear', () => {
  it('interpolates a 2x2x2 cube at hand-picked points', () => {
    // Values v(i,j,k) = 1 + i + 2j + 4k, so corners are 1..8.
    const src = createVolume({
      data: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]),
      dims: [2, 2, 2],
      spacingM: mm([1, 1, 1]),
    })
    const centre = resampleTrilinear(src, grid([1, 1, 1], [1, 1, 1], [0.5, 0.5, 0.5], [1, 0, 0, 0, 1, 0, 0, 0, 1]))
    expect(centre.data[0]).toBeCloseTo(4.5, 6) // mean of 1..8
    const row = resampleTrilinear(src, grid([3, 1, 1], [0.5, 1, 1], [0, 0.25, 1], [1, 0, 0, 0, 1, 0, 0, 0, 1]))
    // (0, .25, 1) -> 5 + 2*.25 = 5.5; (.5, .25, 1) -> 6; (1, .25, 1) -> 6.5
    expect(Array.from(row.data)).toEqual([5.5, 6, 6.5])
  })

  it('reproduces a world-space linear ramp between two oblique anisotropic grids', () => {
    // Source: Rx(90) then Rz(30), spacing 0.5 x 1 x 2 mm.
    const srcGrid = grid([20, 24, 16], [0.5, 1, 2], [10, -20, 30], mat3Multiply(rz(30 * deg), rx(90 * deg)))
    const src = sampled(srcGrid, ramp)
    // Target: different rotation and spacing, placed so that it overlaps the source only in part.
    const target = grid([18, 17, 19], [1, 0.7, 1.3], [6, -26, 22], mat3Multiply(rz(-20 * deg), ry(15 * deg)))
    const fill = -999
    const out = resampleTrilinear(src, target, { fill })

    expect(out.data).toBeInstanceOf(Float32Array)
    expect(out.dims).toEqual(target.dims)
    expect(out.meta).toBe(src.meta)

    let inside = 0
    let outside = 0
    let o = 0
    for (let k = 0; k < 19; k++)
      for (let j = 0; j < 17; j++)
        for (let i = 0; i < 18; i++, o++) {
          const p = voxelToWorld(target, [i, j, k])
          const q = worldToVoxel(srcGrid, p)
          const margin = Math.min(q[0], q[1], q[2], 19 - q[0], 23 - q[1], 15 - q[2])
          if (margin >= 1e-9) {
            expect(Math.abs(out.data[o]! - ramp(p))).toBeLessThan(1e-4)
            inside++
          } else if (margin < -1e-3) {
            expect(out.data[o]).toBe(fill)
            outside++
          }
        }
    expect(inside).toBeGreaterThan(200)
    expect(outside).toBeGreaterThan(200)
  })

  it('keeps target centres that land exactly on the source edge', () => {
    const src = createVolume({ data: new Float32Array([0, 10, 20]), dims: [3, 1, 1], spacingM: mm([1, 1, 1]) })
    // Centres at x = 0, 1, 2, 3 mm: the first three are inside (the last one exactly on the
    // edge), the fourth is one voxel beyond it.
    const out = resampleTrilinear(src, grid([4, 1, 1], [1, 1, 1], [0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1]), { fill: -1 })
    expect(Array.from(out.data)).toEqual([0, 10, 20, -1])
  })

  it('returns identical values when resampling onto its own grid', () => {
    const data = new Int16Array(5 * 4 * 3).map((_, n) => ((n * 37) % 1001) - 500)
    const src = createVolume({
      data,
      dims: [5, 4, 3],
      spacingM: mm([0.5, 1, 2]),
      originM: mm([1, 2, 3]),
      direction: mat3Multiply(rz(30 * deg), rx(20 * deg)),
    })
    const asFloat = resampleTrilinear(src, src)
    expect(asFloat.data).toBeInstanceOf(Float32Array)
    expect(Array.from(asFloat.data)).toEqual(Array.from(data))
    const same = resampleTrilinear(src, src, { outputType: 'same' })
    expect(same.data).toBeInstanceOf(Int16Array)
    expect(Array.from(same.data)).toEqual(Array.from(data))
  })

  it('rounds and clamps linear results into an integer output type', () => {
    const src = createVolume({ data: new Uint8Array([0, 10]), dims: [2, 1, 1], spacingM: mm([1, 1, 1]) })
    const out = resampleTrilinear(src, grid([3, 1, 1], [0.34, 1, 1], [0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1]), { outputType: 'same', fill: 300 })
    // 0, 3.4 -> 3, 6.8 -> 7
    expect(Array.from(out.data)).toEqual([0, 3, 7])
    const beyond = resampleTrilinear(src, grid([1, 1, 1], [1, 1, 1], [5, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1]), { outputType: 'same', fill: 300 })
    expect(Array.from(beyond.data)).toEqual([255])
  })

  it('uses nearest neighbour on labels', () => {
    // label(i, j, k) = i + 4j + 16k on a 4x4x4 grid of 2 mm voxels, rotated 30 degrees.
    const data = new Uint8Array(64).map((_, n) => n)
    const dir = rz(30 * deg)
    const src = createVolume({ data, dims: [4, 4, 4], spacingM: mm([2, 2, 2]), originM: mm([5, 5, 5]), direction: dir })
    // Shift the target by 0.6 voxel along i (1.2 mm along the rotated i axis): index i maps
    // to i + 0.6, whose nearest source voxel is i + 1; i = 3 falls outside.
    const shifted = voxelToWorld(src, [0.6, 0, 0])
    const out = resampleTrilinear(src, { dims: [4, 4, 4], spacingM: src.spacingM, originM: shifted, direction: dir }, { interpolation: 'nearest', fill: 255 })
    expect(out.data).toBeInstanceOf(Uint8Array)
    const expected = new Uint8Array(64).map((_, n) => ((n & 3) === 3 ? 255 : n + 1))
    expect(Array.from(out.data)).toEqual(Array.from(expected))

    // A 0.4 voxel shift keeps every label.
    const small = resampleTrilinear(
      src,
      { dims: [4, 4, 4], spacingM: src.spacingM, originM: voxelToWorld(src, [0.4, 0, 0]), direction: dir },
      { interpolation: 'nearest' },
    )
    expect(Array.from(small.data).slice(0, 3)).toEqual([0, 1, 2])
  })

  it('handles a single-slice source', () => {
    const src = createVolume({ data: new Float32Array([1, 2, 3, 4]), dims: [2, 2, 1], spacingM: mm([1, 1, 1]) })
    const id: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1]
    expect(Array.from(resampleTrilinear(src, grid([3, 1, 1], [0.5, 1, 1], [0, 0.5, 0], id)).data)).toEqual([2, 2.5, 3])
    expect(Array.from(resampleTrilinear(src, grid([1, 1, 1], [1, 1, 1], [0, 0, 0.5], id), { fill: 7 }).data)).toEqual([7])
  })

  it('throws for a singular source direction or bad target dims', () => {
    const src = createVolume({ data: new Float32Array(8), dims: [2, 2, 2], spacingM: mm([1, 1, 1]) })
    const broken = { ...src, direction: [1, 0, 0, 1, 0, 0, 0, 0, 1] as Mat3 }
    expect(() => resampleTrilinear(broken, src)).toThrow(/singular/)
    expect(() => resampleTrilinear(src, { ...src, dims: [2, 0, 2] })).toThrow(/dims/)
  })

  // Speed is a benchmark's business (npm run bench:*), not a test's: this checks a clinical-size
  // oblique resampling completes and stays inside the source's value range (trilinear weights are
  // convex), without a wall-clock assertion that a busy machine would fail.
  it('resamples a clinical-size 256x256x108 volume onto an oblique grid within the source range', () => {
    const dims: Vec3 = [256, 256, 108]
    const data = new Int16Array(dims[0] * dims[1] * dims[2]).map((_, n) => n % 2000)
    const src = createVolume({ data, dims, spacingM: mm([0.9, 0.9, 1.5]), originM: mm([-115, -115, -80]) })
    const target: GridSpec = { dims, spacingM: mm([1, 1, 1.4]), originM: mm([-120, -110, -75]), direction: mat3Multiply(rz(10 * deg), rx(8 * deg)) }
    const out = resampleTrilinear(src, target)
    expect(out.data.length).toBe(data.length)
    let lo = Infinity
    let hi = -Infinity
    for (const v of out.data) {
      lo = Math.min(lo, v)
      hi = Math.max(hi, v)
    }
    expect(lo).toBeGreaterThanOrEqual(0)
    expect(hi).toBeLessThanOrEqual(1999)
    expect(hi).toBeGreaterThan(0)
  })
})
