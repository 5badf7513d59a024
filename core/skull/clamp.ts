/**
 * Bounds on the density and sound speed of mapped bone voxels.
 *
 * Every HU mapping in `mappings.ts` is a straight-line fit, so it keeps going past the range
 * its data covered: air partial-volumed into a thin skull gives bone lighter and slower than
 * water, and metal, dental fillings or streak artefacts give values far above any bone. Both
 * hurt the simulation beyond their share of voxels: a slow voxel shortens the wavelength the
 * grid must resolve, and a fast one shortens the stable time step, for the whole grid.
 */

import type { AcousticProperties } from './mappings.ts'

export interface ValueRange {
  readonly min: number
  readonly max: number
}

export interface BonePropertyRange {
  /** kg/m^3 */
  readonly density: ValueRange
  /** m/s */
  readonly soundSpeed: ValueRange
}

/**
 * Default bounds for bone voxels:
 * - density 994-2700 kg/m^3 and speed 1500-3758 m/s.
 * - Lower ends: water. Bone is a mineral matrix filled with water-like marrow, so a bone
 *   voxel cannot be lighter or slower than its pore fluid. PRESTUS does the same: it raises
 *   k-Plan and k-Wave densities and k-Plan speeds to water (medium_pct_density.m,
 *   medium_pct_soundspeed.m). The density floor is the lightest water any mapping here uses,
 *   PRESTUS's 994 kg/m^3 (config_default.yaml, water near body temperature), rather than
 *   ITRUSST's 1000, so that no mapping is cut at its own water end-member. The speed floor
 *   is 1500 m/s, the water of every mapping and of ITRUSST (docs/physics.md §1.2).
 * - Density ceiling: 2700 kg/m^3, the densest bone end-member of any mapping here (Marsac /
 *   BabelBrain rho_max, docs/physics.md §4.4). Above it every mapping extrapolates beyond its own
 *   calibration, which in a skull CT happens only in artefacts.
 * - Speed ceiling: 3758 m/s, the k-Plan bone line c = 1.33 rho + 167 at that density
 *   ceiling. It is above every other mapping's end-member (Aubry 3100, Marsac 3000 and 3360
 *   m/s), so no mapping is cut inside its own range, while artefact voxels, which can reach
 *   several thousand m/s, are still held back.
 */
export const BONE_PROPERTY_RANGE: BonePropertyRange = {
  density: { min: 994, max: 2700 },
  soundSpeed: { min: 1500, max: 3758 },
}

/** Voxels changed by a clamp, per property and side. */
export interface ClampCounts {
  /** Voxels whose density was changed (below + above). */
  readonly density: number
  readonly densityBelow: number
  readonly densityAbove: number
  /** Voxels whose sound speed was changed (below + above). */
  readonly soundSpeed: number
  readonly soundSpeedBelow: number
  readonly soundSpeedAbove: number
}

type FloatArray = Float32Array | Float64Array

function checkRange(r: ValueRange, what: string): void {
  if (!(Number.isFinite(r.min) && Number.isFinite(r.max) && r.min <= r.max)) {
    throw new RangeError(`clamp: ${what} range must be finite with min <= max, got [${r.min}, ${r.max}]`)
  }
}

/**
 * Clamps density and sound speed maps in place, optionally only where `mask` is non-zero
 * (the skull), and returns how many voxels each bound changed.
 *
 * NaN is rejected rather than clamped: it means a mapping was called without the skull
 * statistics it needs or on a non-finite HU, and silently turning it into a bound would hide
 * that. +-Infinity is clamped like any out-of-range value.
 */
export function clampBoneProperties(
  maps: { readonly density: FloatArray; readonly soundSpeed: FloatArray },
  opts: { readonly range?: BonePropertyRange; readonly mask?: Uint8Array } = {},
): ClampCounts {
  const range = opts.range ?? BONE_PROPERTY_RANGE
  checkRange(range.density, 'density')
  checkRange(range.soundSpeed, 'sound speed')
  const { density, soundSpeed } = maps
  const n = density.length
  if (soundSpeed.length !== n) {
    throw new Error(`clampBoneProperties: density has ${n} voxels, sound speed ${soundSpeed.length}`)
  }
  const mask = opts.mask
  if (mask !== undefined && mask.length !== n) {
    throw new Error(`clampBoneProperties: mask has ${mask.length} entries, maps have ${n} voxels`)
  }

  let dLo = 0
  let dHi = 0
  let cLo = 0
  let cHi = 0
  for (let i = 0; i < n; i++) {
    if (mask !== undefined && mask[i] === 0) continue
    const d = density[i]!
    const c = soundSpeed[i]!
    if (Number.isNaN(d) || Number.isNaN(c)) {
      throw new RangeError(`clampBoneProperties: NaN at voxel ${i} (density ${d}, sound speed ${c})`)
    }
    if (d < range.density.min) {
      density[i] = range.density.min
      dLo++
    } else if (d > range.density.max) {
      density[i] = range.density.max
      dHi++
    }
    if (c < range.soundSpeed.min) {
      soundSpeed[i] = range.soundSpeed.min
      cLo++
    } else if (c > range.soundSpeed.max) {
      soundSpeed[i] = range.soundSpeed.max
      cHi++
    }
  }
  return {
    density: dLo + dHi,
    densityBelow: dLo,
    densityAbove: dHi,
    soundSpeed: cLo + cHi,
    soundSpeedBelow: cLo,
    soundSpeedAbove: cHi,
  }
}

/** The single-voxel form of {@link clampBoneProperties}; attenuation passes through. */
export function clampAcousticProperties(
  p: AcousticProperties,
  range: BonePropertyRange = BONE_PROPERTY_RANGE,
): { readonly properties: AcousticProperties; readonly densityClamped: boolean; readonly soundSpeedClamped: boolean } {
  checkRange(range.density, 'density')
  checkRange(range.soundSpeed, 'sound speed')
  if (Number.isNaN(p.density) || Number.isNaN(p.soundSpeed)) {
    throw new RangeError(`clampAcousticProperties: NaN (density ${p.density}, sound speed ${p.soundSpeed})`)
  }
  const density = Math.min(range.density.max, Math.max(range.density.min, p.density))
  const soundSpeed = Math.min(range.soundSpeed.max, Math.max(range.soundSpeed.min, p.soundSpeed))
  return {
    properties: { density, soundSpeed, alphaNpM: p.alphaNpM },
    densityClamped: density !== p.density,
    soundSpeedClamped: soundSpeed !== p.soundSpeed,
  }
}
