/**
 * Plain, immutable inputs of the acoustic solver, in the style of k-wave-python / j-Wave:
 * a `Grid`, a `Medium`, a continuous-wave `Source` and solver `Settings`. SI units throughout.
 *
 * Grid points lie at originM + spacingM * (i, j, k); the grid is the user's domain only. The
 * PML and any FFT padding are added outside it by `setupSimulation` (k-Wave's PMLInside=false),
 * so the field the user asked for is never eaten by the absorbing layer.
 */
import type { Vec3 } from '../volume/types.ts'

export interface Grid {
  /** Isotropic grid spacing [m]. */
  readonly spacingM: number
  /** Number of points along x, y, z of the user's domain. */
  readonly size: readonly [number, number, number]
  /** Position of point (0, 0, 0) [m], in the scene's frame. */
  readonly originM: Vec3
}

/** A scalar for a homogeneous medium or one value per grid point (x fastest). */
export type Field = number | Float32Array

export interface Medium {
  /** Sound speed [m/s]. */
  readonly soundSpeed: Field
  /** Mass density [kg/m^3]. */
  readonly density: Field
  /**
   * Attenuation at the drive frequency [Np/m]. With the global power-law exponent
   * `alphaPower` it defines alpha(f) = alphaNpM * (f / f0)^y, as k-Wave's alpha_coeff does.
   */
  readonly alphaNpM: Field
  /** Global power-law exponent y in [0, 3), y != 1 (k-Wave restricts y to a scalar too). Default 2. */
  readonly alphaPower: number
}

/** One radiating element: a spherical cap (bowl), a ring of a cap, or a flat disc. */
export type SourceElement =
  | {
      readonly kind: 'bowl'
      /** Centre of the bowl's rear surface (the apex) [m]. */
      readonly apexM: Vec3
      /** Any point on the axis in front of the bowl; usually the geometric focus [m]. */
      readonly focusM: Vec3
      /** Radius of curvature [m]. */
      readonly rocM: number
      /** Outer aperture diameter [m]. */
      readonly apertureM: number
      /** Inner aperture diameter [m] (0 for a full bowl; > 0 for an annular ring). */
      readonly innerApertureM: number
      /** k-Wave additive pressure-source amplitude [Pa] (= rho c u0 of the equivalent baffled piston). */
      readonly amplitudePa: number
      /** Drive phase [rad]; the element is driven as amplitude * cos(omega t + phase). */
      readonly phaseRad: number
    }
  | {
      /**
       * An infinite plane normal to a grid axis, spanning the whole computational grid across:
       * with periodic lateral boundaries (no PML on those axes) it launches an exact plane wave.
       */
      readonly kind: 'plane'
      readonly axis: 0 | 1 | 2
      /** Position of the plane along its axis [m]. */
      readonly positionM: number
      readonly amplitudePa: number
      readonly phaseRad: number
    }
  | {
      readonly kind: 'disc'
      readonly centerM: Vec3
      /** A point the disc faces [m]. */
      readonly towardM: Vec3
      readonly diameterM: number
      readonly amplitudePa: number
      readonly phaseRad: number
    }

export interface Source {
  readonly frequencyHz: number
  readonly elements: readonly SourceElement[]
}

export interface Settings {
  /** Courant number c_max dt / dx. k-Wave's default is 0.3 with the k-space correction. */
  readonly cfl: number
  /**
   * PML thickness in points on both sides of each axis, outside the user's grid (k-Wave 3D
   * default 10). 0 on an axis makes it periodic (used for plane-wave checks).
   */
  readonly pmlPoints: readonly [number, number, number]
  /** PML absorption [Np per grid point] (k-Wave default 2). */
  readonly pmlAlpha: number
  /** Relative change of the amplitude between two successive windows below which we stop. */
  readonly steadyTolerance: number
  /** Periods of the (1 - cos)/2 start-up ramp (k-Wave createCWSignals default 4). */
  readonly rampPeriods: number
  /** Periods per amplitude-extraction window. */
  readonly windowPeriods: number
  /**
   * When the first window may start, after the ramp, in domain traversals. The stop itself is the
   * measured residual; an early start only lets a run that has settled stop sooner. 0.5 measured
   * (docs/benchmarks.md, "Steps to steady state"): ITRUSST BM1 at 1 mm stops at 520 steps instead of
   * 600 and BM3 (skull) at 1102 instead of 1140, each within 0.18 % (relative L2) of the same run
   * continued to 2.5 traversals, as the full-traversal start was (0.11-0.17 %).
   */
  readonly windowStartTraversals: number
  /** Hard limit on the run length, in multiples of the domain traversal time. */
  readonly maxTraversals: number
  /**
   * Equal-area integration points per dx^2 of element surface for the off-grid source
   * (k-Wave kWaveArray UpsamplingRate, default 10).
   */
  readonly sourceUpsampling: number
  /** Band-limited interpolant tolerance (k-Wave kWaveArray BLITolerance, default 0.05). */
  readonly bliTolerance: number
  /**
   * For y != 2, correct alpha_0 so the attenuation realised at the drive frequency equals the
   * requested one (docs/physics.md §6.1). Off only to demonstrate the error it corrects.
   */
  readonly compensateAbsorption: boolean
}

export const DEFAULT_SETTINGS: Settings = {
  cfl: 0.3,
  pmlPoints: [10, 10, 10],
  pmlAlpha: 2,
  steadyTolerance: 1e-3,
  rampPeriods: 4,
  windowPeriods: 2,
  windowStartTraversals: 0.5,
  maxTraversals: 4,
  sourceUpsampling: 10,
  bliTolerance: 0.05,
  compensateAbsorption: true,
}

export function fieldAt(field: Field, index: number): number {
  return typeof field === 'number' ? field : field[index]!
}

export function fieldMin(field: Field): number {
  if (typeof field === 'number') return field
  let m = Infinity
  for (let i = 0; i < field.length; i++) if (field[i]! < m) m = field[i]!
  return m
}

export function fieldMax(field: Field): number {
  if (typeof field === 'number') return field
  let m = -Infinity
  for (let i = 0; i < field.length; i++) if (field[i]! > m) m = field[i]!
  return m
}

export function gridPointCount(grid: Grid): number {
  return grid.size[0] * grid.size[1] * grid.size[2]
}

export function gridPosition(grid: Grid, i: number, j: number, k: number): Vec3 {
  return [grid.originM[0] + i * grid.spacingM, grid.originM[1] + j * grid.spacingM, grid.originM[2] + k * grid.spacingM]
}
