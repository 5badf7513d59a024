import { describe, it, expect } from 'vitest'
import { BONE_PROPERTY_RANGE, HU_MAPPINGS, HU_MAPPING_IDS, clampAcousticProperties, clampBoneProperties } from '../../../core/skull/index.ts'

describe('BONE_PROPERTY_RANGE', () => {
  it('is water to the densest / fastest published bone end-member', () => {
    expect(BONE_PROPERTY_RANGE.density).toEqual({ min: 994, max: 2700 })
    expect(BONE_PROPERTY_RANGE.soundSpeed.min).toBe(1500)
    expect(BONE_PROPERTY_RANGE.soundSpeed.max).toBeCloseTo(1.33 * 2700 + 167, 9)
  })

  it('does not cut any mapping over skull HU 300-2000', () => {
    const ctx = { frequencyHz: 500e3, huMaxInSkull: 2000, huMinInSkull: 300 }
    for (const id of HU_MAPPING_IDS) {
      for (let hu = 300; hu <= 2000; hu += 25) {
        const r = clampAcousticProperties(HU_MAPPINGS[id].map(hu, ctx))
        expect([id, hu, r.densityClamped, r.soundSpeedClamped]).toEqual([id, hu, false, false])
      }
    }
  })
})

describe('clampBoneProperties', () => {
  it('clamps in place and counts voxels per property and side', () => {
    const density = new Float32Array([500, 1000, 1800, 2700, 3500, 4000, Infinity])
    const soundSpeed = new Float64Array([300, 1500, 2500, 3800, 3000, -Infinity, 2000])
    const counts = clampBoneProperties({ density, soundSpeed })
    expect(counts).toEqual({
      density: 4,
      densityBelow: 1,
      densityAbove: 3,
      soundSpeed: 3,
      soundSpeedBelow: 2,
      soundSpeedAbove: 1,
    })
    expect([...density]).toEqual([994, 1000, 1800, 2700, 2700, 2700, 2700])
    expect([...soundSpeed]).toEqual([1500, 1500, 2500, 3758, 3000, 1500, 2000])
  })

  it('leaves voxels outside the mask alone and accepts a custom range', () => {
    const density = new Float32Array([500, 500, 3000])
    const soundSpeed = new Float32Array([1000, 1000, 5000])
    const counts = clampBoneProperties(
      { density, soundSpeed },
      { mask: new Uint8Array([1, 0, 1]), range: { density: { min: 900, max: 2000 }, soundSpeed: { min: 1400, max: 4000 } } },
    )
    expect(counts.density).toBe(2)
    expect(counts.soundSpeed).toBe(2)
    expect([...density]).toEqual([900, 500, 2000])
    expect([...soundSpeed]).toEqual([1400, 1000, 4000])
  })

  it('rejects NaN, mismatched lengths and inverted ranges', () => {
    expect(() => clampBoneProperties({ density: new Float32Array([NaN]), soundSpeed: new Float32Array([1500]) })).toThrow(/NaN at voxel 0/)
    expect(() => clampBoneProperties({ density: new Float32Array(2), soundSpeed: new Float32Array(3) })).toThrow(/voxels/)
    expect(() => clampBoneProperties({ density: new Float32Array(2), soundSpeed: new Float32Array(2) }, { mask: new Uint8Array(1) })).toThrow(/mask/)
    expect(() =>
      clampBoneProperties(
        { density: new Float32Array(1), soundSpeed: new Float32Array(1) },
        { range: { density: { min: 2, max: 1 }, soundSpeed: { min: 0, max: 1 } } },
      ),
    ).toThrow(/min <= max/)
  })
})

describe('clampAcousticProperties', () => {
  it('clamps one voxel and passes attenuation through', () => {
    const r = clampAcousticProperties({ density: 900, soundSpeed: 9000, alphaNpM: 123 })
    expect(r.properties).toEqual({ density: 994, soundSpeed: 3758, alphaNpM: 123 })
    expect(r.densityClamped).toBe(true)
    expect(r.soundSpeedClamped).toBe(true)
    const ok = clampAcousticProperties({ density: 1800, soundSpeed: 2500, alphaNpM: 1 })
    expect(ok.densityClamped || ok.soundSpeedClamped).toBe(false)
    expect(() => clampAcousticProperties({ density: NaN, soundSpeed: 2500, alphaNpM: 1 })).toThrow(/NaN/)
  })
})
