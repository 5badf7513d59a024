/** Pure geometry of the views: orientation labels, slice cameras, the transducer mesh, display volumes. */
import { describe, expect, test } from 'vitest'
import { directionLabel, viewLabels } from '../../../renderer/src/lib/orientation.ts'
import { type Mat3 } from '../../../core/math/index.ts'
import { sliceCamera } from '../../../renderer/src/lib/slice-geometry.ts'
import { voxelToWorld, worldToVoxel } from '../../../core/volume/geometry.ts'
import { transducerMesh, placeMeshLps, transducerProfileLpsMm } from '../../../renderer/src/lib/bowl.ts'
import { toDisplayVolume, axisPermutation } from '../../../electron/app/display-volume.ts'
import { rimDepthM } from '../../../core/transducers/schema.ts'
import type { Volume } from '../../../core/volume/index.ts'

const I: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1]

describe('orientation labels', () => {
  test('letters of LPS directions, oblique ones with two letters', () => {
    expect(directionLabel([1, 0, 0])).toBe('L')
    expect(directionLabel([-1, 0, 0])).toBe('R')
    expect(directionLabel([0, -1, 0])).toBe('A')
    expect(directionLabel([0, 0, -1])).toBe('I')
    expect(directionLabel([0.8, 0, 0.6])).toBe('LS')
    expect(directionLabel([0.99, 0.01, 0])).toBe('L')
  })

  test('radiological views of an LPS-aligned image', () => {
    const ax = sliceCamera('axial', I)
    expect(viewLabels(ax.directionOfProjection, ax.viewUp)).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' })
    const cor = sliceCamera('coronal', I)
    expect(viewLabels(cor.directionOfProjection, cor.viewUp)).toEqual({ left: 'R', right: 'L', top: 'S', bottom: 'I' })
    const sag = sliceCamera('sagittal', I)
    expect(viewLabels(sag.directionOfProjection, sag.viewUp)).toEqual({ left: 'A', right: 'P', top: 'S', bottom: 'I' })
  })

  test('labels follow the image direction, not an assumption: a 30 degree oblique axial', () => {
    const c = Math.cos(Math.PI / 6)
    const s = Math.sin(Math.PI / 6)
    // Voxel axes rotated about S by 30 degrees: axis 0 points mostly L with some P.
    const oblique: Mat3 = [c, -s, 0, s, c, 0, 0, 0, 1]
    const ax = sliceCamera('axial', oblique)
    const labels = viewLabels(ax.directionOfProjection, ax.viewUp)
    expect(labels.right).toBe('LP')
    expect(labels.left).toBe('RA')
  })
})

describe('voxel <-> world', () => {
  test('round trip with a flipped axis', () => {
    const d: Mat3 = [1, 0, 0, 0, -1, 0, 0, 0, 1]
    const g = { originM: [0.1, 0.2, 0.3], spacingM: [0.001, 0.002, 0.003], direction: d } as const
    const p = voxelToWorld(g, [3, 4, 5])
    expect(p[1]).toBeCloseTo(0.2 - 0.008, 12)
    const back = worldToVoxel(g, p)
    back.forEach((v, i) => expect(v).toBeCloseTo([3, 4, 5][i]!, 9))
  })
})

describe('transducer mesh', () => {
  test('bowl points lie on the sphere of radius ROC centred on the axis, rim at the sag depth', () => {
    const R = 0.064
    const D = 0.064
    const mesh = transducerMesh({ type: 'bowl', rocM: R, apertureM: D, innerApertureM: 0 }, 8, 24)
    let maxZ = 0
    for (let i = 0; i < mesh.points.length; i += 3) {
      const [x, y, z] = [mesh.points[i]!, mesh.points[i + 1]!, mesh.points[i + 2]!]
      expect(Math.hypot(x, y, z - R)).toBeCloseTo(R, 6)
      maxZ = Math.max(maxZ, z)
    }
    expect(maxZ).toBeCloseTo(rimDepthM(R, D), 6)
    expect(mesh.polys.length).toBe(8 * 24 * 2 * 4)
  })

  test('the pose moves the apex to the apex position and RAS becomes LPS', () => {
    const mesh = transducerMesh({ type: 'disc', rocM: null, apertureM: 0.02, innerApertureM: 0 }, 1, 4)
    // Apex at RAS (0.01, 0.02, 0.03), beam along RAS -x (toward the right).
    const pose = [0, 0, -1, 0.01, 0, 1, 0, 0.02, 1, 0, 0, 0.03, 0, 0, 0, 1]
    const placed = placeMeshLps(mesh, pose)
    expect([...placed.points.slice(0, 3)].map((v) => Number(v.toFixed(6)))).toEqual([-0.01, -0.02, 0.03])
  })
})

describe('display volumes', () => {
  const vol = (direction: Mat3): Volume => {
    const dims = [3, 4, 2] as const
    const data = new Int16Array(24).map((_, i) => i)
    return { data, dims, spacingM: [0.001, 0.002, 0.003], originM: [0.01, 0.02, 0.03], direction, meta: { modality: 'CT' }, warnings: [] }
  }
  const worldOf = (v: { originM: readonly number[]; spacingM: readonly number[]; direction: readonly number[] }, ijk: number[]) =>
    voxelToWorld(v as never, ijk as never)

  test('an LAS volume becomes LPS-aligned and every voxel keeps its world position', () => {
    const v = vol([1, 0, 0, 0, -1, 0, 0, 0, 1])
    const d = toDisplayVolume(v)
    expect(d.header.direction).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1])
    expect(d.header.dims).toEqual([3, 4, 2])
    for (let k = 0; k < 2; k++)
      for (let j = 0; j < 4; j++)
        for (let i = 0; i < 3; i++) {
          const value = d.data[i + 3 * (j + 4 * k)]!
          // The source voxel with this value sits at the same world point.
          const si = value % 3
          const sj = Math.floor(value / 3) % 4
          const sk = Math.floor(value / 12)
          const a = worldOf(d.header, [i, j, k])
          const b = worldOf(v, [si, sj, sk])
          a.forEach((x, r) => expect(x).toBeCloseTo(b[r]!, 12))
        }
    expect(d.header.range).toEqual([0, 23])
  })

  test('permuted axes (a sagittal acquisition) are reordered', () => {
    // Voxel axis 0 -> S, axis 1 -> -P (anterior), axis 2 -> L.
    const dir: Mat3 = [0, 0, 1, 0, -1, 0, 1, 0, 0]
    expect(axisPermutation(dir)).toEqual({ axis: [2, 1, 0], sign: [1, -1, 1] })
    const d = toDisplayVolume(vol(dir))
    expect(d.header.dims).toEqual([2, 4, 3])
    expect(d.header.direction).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1])
  })

  test('stride keeps every n-th voxel with the spacing scaled', () => {
    const d = toDisplayVolume(vol(I), 2)
    expect(d.header.dims).toEqual([2, 2, 1])
    expect(d.header.spacingM).toEqual([0.002, 0.004, 0.006])
    expect([...d.data]).toEqual([0, 2, 6, 8])
  })
})

describe('the transducer in the slice views', () => {
  // A bowl above the head firing down: apex at S = 100 mm, +z (beam) along -S; x along R, y along -A.
  const pose = [1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0.1, 0, 0, 0, 1]
  const shape = { type: 'bowl' as const, rocM: 0.064, apertureM: 0.064, innerApertureM: 0 }
  test('the section of the bowl lies in the plane of the beam and the view direction, rim at the sag depth; the axis runs down the beam', () => {
    // A coronal view: its in-plane unit vectors are x (L) and z (S) in LPS.
    const { surface, axis } = transducerProfileLpsMm(
      shape,
      pose,
      [
        [1, 0, 0],
        [0, 0, 1],
      ],
      0.08,
    )
    const points = surface.flat()
    // Every point in the coronal plane through the axis (P = 0) and on the sphere about the geometric focus.
    const focusLps = [0, 0, 100 - 64]
    for (const p of points) {
      expect(Math.abs(p[1])).toBeLessThan(1e-9)
      expect(Math.hypot(p[0] - focusLps[0]!, p[1] - focusLps[1]!, p[2] - focusLps[2]!)).toBeCloseTo(64, 6)
    }
    const rims = points.filter((p) => Math.abs(Math.abs(p[0]) - 32) < 1e-9)
    expect(rims.length).toBeGreaterThanOrEqual(2)
    const sag = 64 - Math.sqrt(64 ** 2 - 32 ** 2)
    for (const p of rims) expect(p[2]).toBeCloseTo(100 - sag, 6)
    expect(axis).toEqual(
      [
        [
          [-0, -0, 100],
          [-0, -0, 20],
        ],
      ].map((seg) => seg.map((p) => p.map((v) => expect.closeTo(v, 9)))),
    )
  })
  test('an axial view (across the beam) still gets a section, through the in-plane direction most across the beam', () => {
    const { surface } = transducerProfileLpsMm(
      shape,
      pose,
      [
        [0, 1, 0],
        [0, 0, 1],
      ],
      0.08,
    )
    for (const p of surface.flat()) expect(Math.abs(p[0])).toBeLessThan(1e-9) // the P-S plane
  })
})
