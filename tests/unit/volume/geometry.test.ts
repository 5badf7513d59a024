import { describe, it, expect } from 'vitest'
import {
  affineLpsToRas,
  applyAffine,
  invertAffine,
  lpsToRas,
  mat3Determinant,
  mat3Inverse,
  mat3Multiply,
  mat3MulVec,
  mat3Transpose,
  multiplyAffine,
  rasToLps,
} from '../../../core/math/index.ts'
import {
  IDENTITY3,
  boundsM,
  centerM,
  createVolume,
  indexToWorldAffine,
  orientationCode,
  voxelToWorld,
  worldToIndexAffine,
  worldToVoxel,
} from '../../../core/volume/index.ts'
import type { GridSpec, Mat3, Vec3 } from '../../../core/volume/index.ts'

const MM = 1e-3
const c30 = Math.sqrt(3) / 2
const s30 = 0.5

/** Rotation by 30 degrees about z: column 0 = (c, s, 0), column 1 = (-s, c, 0). */
const RZ30: Mat3 = [c30, -s30, 0, s30, c30, 0, 0, 0, 1]
/** Rx(90) then Rz(30), multiplied out by hand: columns (c, s, 0), (0, 0, 1), (s, -c, 0). */
const RZ30_RX90: Mat3 = [c30, 0, s30, s30, 0, -c30, 0, 1, 0]

const mm = (v: Vec3): Vec3 => [v[0] * MM, v[1] * MM, v[2] * MM]

function expectVec(actual: readonly number[], expected: readonly number[], digits = 12): void {
  expect(actual.length).toBe(expected.length)
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, digits))
}

describe('3x3 algebra', () => {
  it('multiplies, transposes and applies matrices', () => {
    const a: Mat3 = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    const b: Mat3 = [9, 8, 7, 6, 5, 4, 3, 2, 1]
    // Row 0 of a*b: [1*9+2*6+3*3, 1*8+2*5+3*2, 1*7+2*4+3*1] = [30, 24, 18], and so on.
    expect(mat3Multiply(a, b)).toEqual([30, 24, 18, 84, 69, 54, 138, 114, 90])
    expect(mat3Transpose(a)).toEqual([1, 4, 7, 2, 5, 8, 3, 6, 9])
    expect(mat3MulVec(a, [1, 0, -1])).toEqual([-2, -2, -2])
  })

  it('computes determinants', () => {
    expect(mat3Determinant([2, 0, 0, 0, 3, 0, 0, 0, 4])).toBe(24)
    // 1*(50-48) - 2*(40-42) + 3*(32-35) = -3
    expect(mat3Determinant([1, 2, 3, 4, 5, 6, 7, 8, 10])).toBeCloseTo(-3, 12)
  })

  it('inverts a general matrix', () => {
    // Textbook pair with determinant 1.
    expectVec(mat3Inverse([1, 2, 3, 0, 1, 4, 5, 6, 0]), [-24, 18, 5, 20, -15, -4, -5, 4, 1])
  })

  it('inverts a sheared (gantry-tilt) direction, which is not its transpose', () => {
    // Slice axis tilted toward +y: column 2 = (0, 0.6, 0.8). det = 0.8.
    const tilt: Mat3 = [1, 0, 0, 0, 1, 0.6, 0, 0, 0.8]
    expectVec(mat3Inverse(tilt), [1, 0, 0, 0, 1, -0.75, 0, 0, 1.25])
    expect(mat3Inverse(tilt)).not.toEqual(mat3Transpose(tilt))
  })

  it('accepts small but well-conditioned matrices (metre-scale voxel steps)', () => {
    expectVec(mat3Inverse([1e-4, 0, 0, 0, 2e-4, 0, 0, 0, 5e-4]), [1e4, 0, 0, 0, 5e3, 0, 0, 0, 2e3], 6)
  })

  it('throws a clear error for singular or non-finite matrices', () => {
    expect(() => mat3Inverse([1, 2, 3, 2, 4, 6, 0, 0, 1])).toThrow(/singular/)
    expect(() => mat3Inverse([0, 0, 0, 0, 0, 0, 0, 0, 0])).toThrow(/singular/)
    expect(() => mat3Inverse([1, 0, 0, 0, NaN, 0, 0, 0, 1])).toThrow(/non-finite/)
  })
})

describe('voxelToWorld / worldToVoxel', () => {
  const oblique = {
    spacingM: mm([0.5, 1, 2]),
    originM: mm([10, -20, 30]),
    direction: RZ30,
  }

  it('maps an index through anisotropic spacing and a 30 degree rotation (hand-computed)', () => {
    // (2,3,4): 1 mm along (c,s,0) + 3 mm along (-s,c,0) + 8 mm along z, plus the origin.
    //   x = 10 + 0.8660254 - 1.5 = 9.3660254
    //   y = -20 + 0.5 + 2.5980762 = -16.9019238
    //   z = 30 + 8 = 38
    expectVec(voxelToWorld(oblique, [2, 3, 4]), mm([9.3660254038, -16.9019237886, 38]), 12)
    expectVec(worldToVoxel(oblique, mm([9.3660254038, -16.9019237886, 38])), [2, 3, 4], 8)
    expectVec(voxelToWorld(oblique, [0, 0, 0]), oblique.originM, 15)
  })

  it('maps an index through a rotation about two axes (hand-computed)', () => {
    const g = { ...oblique, direction: RZ30_RX90 }
    // (2,3,4): 1 mm along (c,s,0) + 3 mm along (0,0,1) + 8 mm along (s,-c,0).
    //   x = 10 + 0.8660254 + 4 = 14.8660254
    //   y = -20 + 0.5 - 6.9282032 = -26.4282032
    //   z = 30 + 3 = 33
    expectVec(voxelToWorld(g, [2, 3, 4]), mm([14.8660254038, -26.4282032303, 33]), 12)
    expectVec(worldToVoxel(g, mm([14.8660254038, -26.4282032303, 33])), [2, 3, 4], 8)
  })

  it('round-trips continuous indices for oblique and tilted grids', () => {
    const tilt: Mat3 = [1, 0, 0, 0, 1, 0.6, 0, 0, 0.8]
    const geoms = [
      oblique,
      { ...oblique, direction: RZ30_RX90 },
      { ...oblique, direction: tilt },
      { ...oblique, direction: [-1, 0, 0, 0, -1, 0, 0, 0, 1] as Mat3 },
    ]
    const points: Vec3[] = [
      [0, 0, 0],
      [1.25, -3.5, 7.75],
      [255, 255, 107],
      [-0.5, 0.5, 1e-3],
    ]
    for (const g of geoms) {
      for (const p of points) expectVec(worldToVoxel(g, voxelToWorld(g, p)), p, 9)
    }
  })

  it('uses the true inverse for a gantry-tilted direction', () => {
    const g = { spacingM: mm([1, 1, 2]), originM: [0, 0, 0] as Vec3, direction: [1, 0, 0, 0, 1, 0.6, 0, 0, 0.8] as Mat3 }
    // Slice 5 sits 10 mm along (0, 0.6, 0.8).
    expectVec(voxelToWorld(g, [0, 0, 5]), mm([0, 6, 8]), 15)
    // A transpose-based inverse would give j = 6 here.
    expectVec(worldToVoxel(g, mm([0, 6, 8])), [0, 0, 5], 10)
  })
})

describe('affines', () => {
  const g = { spacingM: mm([0.5, 1, 2]), originM: mm([10, -20, 30]), direction: RZ30 }

  it('builds the row-major index-to-world affine', () => {
    expectVec(
      indexToWorldAffine(g),
      [c30 * 0.5 * MM, -s30 * 1 * MM, 0, 10 * MM, s30 * 0.5 * MM, c30 * 1 * MM, 0, -20 * MM, 0, 0, 2 * MM, 30 * MM, 0, 0, 0, 1],
      15,
    )
  })

  it('inverts it', () => {
    const fwd = indexToWorldAffine(g)
    const inv = worldToIndexAffine(g)
    expectVec(multiplyAffine(inv, fwd), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 10)
    expectVec(applyAffine(inv, mm([9.3660254038, -16.9019237886, 38])), [2, 3, 4], 8)
    expectVec(invertAffine(inv), fwd, 15)
  })

  it('converts points and affines between LPS and RAS', () => {
    expect(lpsToRas([1, 2, 3])).toEqual([-1, -2, 3])
    expect(rasToLps([-1, -2, 3])).toEqual([1, 2, 3])
    const a = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 1]
    expect(affineLpsToRas(a)).toEqual([-1, -2, -3, -4, -5, -6, -7, -8, 9, 10, 11, 12, 0, 0, 0, 1])
    const ras = affineLpsToRas(indexToWorldAffine(g))
    expectVec(applyAffine(ras, [2, 3, 4]), lpsToRas(voxelToWorld(g, [2, 3, 4])), 15)
  })
})

describe('orientationCode', () => {
  it('names axis-aligned orientations', () => {
    expect(orientationCode(IDENTITY3)).toBe('LPS')
    expect(orientationCode([-1, 0, 0, 0, -1, 0, 0, 0, 1])).toBe('RAS')
    expect(orientationCode([1, 0, 0, 0, -1, 0, 0, 0, 1])).toBe('LAS')
    // Columns (0,1,0) -> P, (0,0,-1) -> I, (-1,0,0) -> R.
    expect(orientationCode([0, 0, -1, 1, 0, 0, 0, -1, 0])).toBe('PIR')
    // Coronal DICOM: rows along L, columns along I (toward feet), slices toward P.
    expect(orientationCode([1, 0, 0, 0, 0, 1, 0, -1, 0])).toBe('LIP')
  })

  it('names a slightly oblique orientation by its dominant components', () => {
    expect(orientationCode(RZ30)).toBe('LPS')
    expect(orientationCode(RZ30_RX90)).toBe('LSA')
    const c = Math.cos((10 * Math.PI) / 180)
    const s = Math.sin((10 * Math.PI) / 180)
    // 10 degrees about z applied to RAS: columns (-c, -s, 0), (s, -c, 0).
    expect(orientationCode([-c, s, 0, -s, -c, 0, 0, 0, 1])).toBe('RAS')
  })

  it('judges a sheared (tilted) direction by the rotation it approximates', () => {
    expect(orientationCode([1, 0, 0, 0, 1, 0.6, 0, 0, 0.8])).toBe('LPS')
  })

  it('uses three different world axes even when two columns peak on the same axis', () => {
    const h = Math.SQRT1_2
    // Orthonormal columns (0.5, h, 0.5), (-0.5, h, -0.5), (-h, 0, h): both of the first
    // two columns are dominated by y, so a per-column argmax would repeat P/A.
    const code = orientationCode([0.5, -0.5, -h, h, h, 0, 0.5, -0.5, h])
    const axes = [...code].map((l) => 'LRPASI'.indexOf(l) >> 1).sort()
    expect(axes).toEqual([0, 1, 2])
  })

  it('resolves by the globally largest entry first', () => {
    // Orthonormal columns (0.8, 0.6, 0), (0.48, -0.64, 0.6), (0.36, -0.48, -0.8).
    expect(orientationCode([0.8, 0.48, 0.36, 0.6, -0.64, -0.48, 0, 0.6, -0.8])).toBe('LAI')
  })
})

describe('boundsM / centerM', () => {
  it('bounds the corner voxel centres of an oblique grid (hand-computed)', () => {
    const g: GridSpec = { dims: [3, 5, 2], spacingM: mm([0.5, 1, 2]), originM: mm([10, -20, 30]), direction: RZ30 }
    // i spans 1 mm along (c, s), j spans 4 mm along (-s, c), k spans 2 mm along z.
    //   x: 10 + {0, 0.8660} + {0, -2}      -> [8, 10.8660254]
    //   y: -20 + {0, 0.5} + {0, 3.4641016} -> [-20, -16.0358984]
    const b = boundsM(g)
    expectVec(b.min, mm([8, -20, 30]), 12)
    expectVec(b.max, mm([10.8660254038, -16.0358983849, 32]), 12)
    expectVec(centerM(g), mm([9.4330127019, -18.0179491924, 31]), 12)
  })
})

describe('createVolume', () => {
  const ok = { data: new Int16Array(24), dims: [2, 3, 4] as Vec3, spacingM: mm([1, 1, 1]) }

  it('fills defaults', () => {
    const v = createVolume(ok)
    expect(v.originM).toEqual([0, 0, 0])
    expect(v.direction).toEqual(IDENTITY3)
    expect(v.meta.modality).toBe('OT')
    expect(v.warnings).toEqual([])
    expect(v.data).toBe(ok.data)
  })

  it('accepts a non-orthogonal direction', () => {
    expect(() => createVolume({ ...ok, direction: [1, 0, 0, 0, 1, 0.6, 0, 0, 0.8] })).not.toThrow()
  })

  it('names the bad field', () => {
    expect(() => createVolume({ ...ok, dims: [2, 3, 0] })).toThrow(/dims/)
    expect(() => createVolume({ ...ok, dims: [2, 3, 4.5] })).toThrow(/dims/)
    expect(() => createVolume({ ...ok, data: new Int16Array(23) })).toThrow(/data length/)
    expect(() => createVolume({ ...ok, spacingM: [1e-3, 0, 1e-3] })).toThrow(/spacingM/)
    expect(() => createVolume({ ...ok, spacingM: [1e-3, -1e-3, 1e-3] })).toThrow(/spacingM/)
    expect(() => createVolume({ ...ok, spacingM: [1e-3, Infinity, 1e-3] })).toThrow(/spacingM/)
    expect(() => createVolume({ ...ok, originM: [0, NaN, 0] })).toThrow(/originM/)
    expect(() => createVolume({ ...ok, direction: [1, 0, 0, 0, 1, 0, 0, 0, NaN] })).toThrow(/direction/)
    expect(() => createVolume({ ...ok, direction: [1, 0, 0, 1, 0, 0, 0, 0, 1] })).toThrow(/direction is singular/)
  })
})
