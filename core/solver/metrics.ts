/**
 * Focal metrics of a steady-state amplitude field, in the ITRUSST intercomparison's terms
 * (Aubry et al. 2022; docs/physics.md §1.5): the peak beyond the source's exit plane, its position
 * (here refined below the grid spacing by a parabola through the neighbours on each axis), and
 * the -6 dB widths along the beam axis and across it, with linear interpolation at the
 * half-amplitude crossings (the fwhm2.m convention).
 */
import { cross3, normalize3, type Vec3 } from '../math/index.ts'
import type { Grid, SourceElement } from './model.ts'

export interface FocalMetrics {
  readonly peakPa: number
  /** Sub-voxel position of the peak in the scene frame [m]. */
  readonly peakPositionM: Vec3
  /** Distance of the peak from the source's reference point (bowl apex / disc centre) along the axis [m]. */
  readonly peakDistanceFromSourceM: number
  readonly fwhm6dbAxialM: number
  /** -6 dB width across the axis, along the first and second perpendicular directions [m]. */
  readonly fwhm6dbLateralM: number
  readonly fwhm6dbLateral2M: number
  readonly beamAxis: Vec3
  readonly warnings: readonly string[]
}

/** The beam axis, its reference point and the distance of the exit plane from it. */
export function beamGeometry(elements: readonly SourceElement[]): { origin: Vec3; axis: Vec3; exitDistanceM: number } {
  const first = elements[0]!
  if (first.kind === 'bowl') {
    const axis = normalize3([first.focusM[0] - first.apexM[0], first.focusM[1] - first.apexM[1], first.focusM[2] - first.apexM[2]])
    let depth = 0
    for (const e of elements) if (e.kind === 'bowl') depth = Math.max(depth, e.rocM - Math.sqrt(e.rocM ** 2 - (e.apertureM / 2) ** 2))
    return { origin: first.apexM, axis, exitDistanceM: depth }
  }
  if (first.kind === 'plane') {
    const axis: Vec3 = [first.axis === 0 ? 1 : 0, first.axis === 1 ? 1 : 0, first.axis === 2 ? 1 : 0]
    const origin = [0, 0, 0]
    origin[first.axis] = first.positionM
    return { origin: origin as unknown as Vec3, axis, exitDistanceM: 0 }
  }
  const axis = normalize3([first.towardM[0] - first.centerM[0], first.towardM[1] - first.centerM[1], first.towardM[2] - first.centerM[2]])
  return { origin: first.centerM, axis, exitDistanceM: 0 }
}

/**
 * Points this close to a face of the grid (in voxels) count as on it: a grid point's own
 * coordinate, recomputed from metres, can land a rounding error outside (e.g. nx - 1 + 1e-15),
 * which would make a peak on a face unsampleable along every direction, not just outward.
 */
const FACE_TOLERANCE_VOXELS = 1e-6

/** Trilinear interpolation of a grid field at a point [m]; NaN outside the grid. */
export function sampleTrilinear(field: Float32Array, grid: Grid, p: Vec3): number {
  const [nx, ny, nz] = grid.size
  const snap = (v: number, n: number) => (v < 0 && v > -FACE_TOLERANCE_VOXELS ? 0 : v > n - 1 && v < n - 1 + FACE_TOLERANCE_VOXELS ? n - 1 : v)
  const q = [0, 1, 2].map((d) => snap((p[d]! - grid.originM[d]!) / grid.spacingM, grid.size[d]!))
  const [x, y, z] = q as [number, number, number]
  if (!(x >= 0 && y >= 0 && z >= 0 && x <= nx - 1 && y <= ny - 1 && z <= nz - 1)) return Number.NaN
  const i = Math.min(Math.floor(x), nx - 2)
  const j = Math.min(Math.floor(y), ny - 2)
  const k = Math.min(Math.floor(z), nz - 2)
  const fx = x - i
  const fy = y - j
  const fz = z - k
  const at = (a: number, b: number, c: number) => field[a + nx * (b + ny * c)]!
  const c00 = at(i, j, k) * (1 - fx) + at(i + 1, j, k) * fx
  const c10 = at(i, j + 1, k) * (1 - fx) + at(i + 1, j + 1, k) * fx
  const c01 = at(i, j, k + 1) * (1 - fx) + at(i + 1, j, k + 1) * fx
  const c11 = at(i, j + 1, k + 1) * (1 - fx) + at(i + 1, j + 1, k + 1) * fx
  return (c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz
}

/**
 * Width of the region around `centre` along `direction` where the field stays at or above
 * `threshold` [m], or null when it cannot be measured: the region runs off the grid before
 * the field drops below the threshold on both sides (a peak on or near a face, a profile that
 * never falls that far), the centre lies outside the grid, or the inputs are not finite.
 * Callers report null as "not measured"; a NaN here once reached a plan's metrics record and
 * failed its validation after the whole simulation had run.
 */
export function widthAlong(field: Float32Array, grid: Grid, centre: Vec3, direction: Vec3, threshold: number): number | null {
  if (!Number.isFinite(threshold) || !centre.every(Number.isFinite) || !direction.every(Number.isFinite)) return null
  const step = grid.spacingM / 10
  // The walk cannot usefully be longer than the grid's diagonal.
  const maxSteps = Math.ceil((10 * Math.hypot(...grid.size)) / Math.max(1e-12, Math.hypot(...direction))) + 1
  const crossing = (sign: 1 | -1): number | null => {
    let prev = sampleTrilinear(field, grid, centre)
    if (!(prev >= threshold)) return null
    for (let s = 1; s <= maxSteps; s++) {
      const p: Vec3 = [centre[0] + sign * s * step * direction[0], centre[1] + sign * s * step * direction[1], centre[2] + sign * s * step * direction[2]]
      const v = sampleTrilinear(field, grid, p)
      if (!Number.isFinite(v)) return null
      if (v < threshold) return (s - 1 + (prev - threshold) / (prev - v)) * step
      prev = v
    }
    return null
  }
  const ahead = crossing(1)
  const behind = crossing(-1)
  if (ahead === null || behind === null) return null
  const width = ahead + behind
  return Number.isFinite(width) ? width : null
}

export function focalMetrics(amplitude: Float32Array, grid: Grid, elements: readonly SourceElement[]): FocalMetrics {
  const warnings: string[] = []
  const { origin, axis, exitDistanceM } = beamGeometry(elements)
  const [nx, ny, nz] = grid.size
  const dx = grid.spacingM
  let best = -1
  let bestIndex = -1
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const x = grid.originM[0] + i * dx - origin[0]
        const y = grid.originM[1] + j * dx - origin[1]
        const z = grid.originM[2] + k * dx - origin[2]
        if (x * axis[0] + y * axis[1] + z * axis[2] <= exitDistanceM + dx) continue
        const index = i + nx * (j + ny * k)
        if (amplitude[index]! > best) {
          best = amplitude[index]!
          bestIndex = index
        }
      }
  if (bestIndex < 0) {
    return {
      peakPa: Number.NaN,
      peakPositionM: [Number.NaN, Number.NaN, Number.NaN],
      peakDistanceFromSourceM: Number.NaN,
      fwhm6dbAxialM: Number.NaN,
      fwhm6dbLateralM: Number.NaN,
      fwhm6dbLateral2M: Number.NaN,
      beamAxis: axis,
      warnings: ['no grid point lies beyond the source exit plane'],
    }
  }
  const ijk = [bestIndex % nx, Math.floor(bestIndex / nx) % ny, Math.floor(bestIndex / (nx * ny))]
  const strides = [1, nx, nx * ny]
  const position = [0, 0, 0]
  let peak = best
  for (let d = 0; d < 3; d++) {
    position[d] = grid.originM[d]! + ijk[d]! * dx
    if (ijk[d]! <= 0 || ijk[d]! >= grid.size[d]! - 1) continue
    const fm = amplitude[bestIndex - strides[d]!]!
    const fp = amplitude[bestIndex + strides[d]!]!
    const curvature = fm - 2 * best + fp
    if (curvature >= 0) continue
    const offset = (0.5 * (fm - fp)) / curvature
    position[d] = position[d]! + offset * dx
    peak += -0.25 * (fm - fp) * offset
  }
  const centre = position as unknown as Vec3
  const helper: Vec3 = Math.abs(axis[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0]
  const e1 = normalize3(cross3(helper, axis))
  const e2 = cross3(axis, e1)
  const threshold = 0.5 * peak
  // FocalMetrics keeps NaN for "not measured" (with the warning below): its consumers are the
  // validation scripts and `tfus simulate`, whose metrics.json writes NaN as null.
  const axial = widthAlong(amplitude, grid, centre, axis, threshold) ?? Number.NaN
  const lateral = widthAlong(amplitude, grid, centre, e1, threshold) ?? Number.NaN
  const lateral2 = widthAlong(amplitude, grid, centre, e2, threshold) ?? Number.NaN
  if (Number.isNaN(axial)) warnings.push('the -6 dB axial extent reaches the edge of the grid: axial width not measured')
  if (Number.isNaN(lateral) || Number.isNaN(lateral2)) warnings.push('the -6 dB lateral extent reaches the edge of the grid: lateral width not measured')
  const rel: Vec3 = [centre[0] - origin[0], centre[1] - origin[1], centre[2] - origin[2]]
  return {
    peakPa: peak,
    peakPositionM: centre,
    peakDistanceFromSourceM: rel[0] * axis[0] + rel[1] * axis[1] + rel[2] * axis[2],
    fwhm6dbAxialM: axial,
    fwhm6dbLateralM: lateral,
    fwhm6dbLateral2M: lateral2,
    beamAxis: axis,
    warnings,
  }
}
