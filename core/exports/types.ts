/**
 * What the navigation writers take and what the readers give back. Poses are always ours
 * (row-major transducer -> patient RAS, metres, see conventions.ts); the writers convert.
 */
import type { Vec3 } from '../volume/types.ts'

/** One transducer pose to write. */
export interface PoseEntry {
  readonly name: string
  /** Row-major 4x4, transducer (apex origin, +z into the head, m) -> patient RAS (m). */
  readonly transducerToRas: readonly number[]
  /** Apex -> geometric focus along +z [m] (plan.json `pose.focal_distance_from_apex_m`). */
  readonly focalDistanceM: number
}

/** A named point (target, entry) in patient RAS, metres. */
export interface PointEntry {
  readonly name: string
  readonly rasM: Vec3
  /** What the point is, where a format has room for it (Slicer control point description); default the pose note. */
  readonly description?: string
}

/** Free text every export carries: where the pose came from (focus correction or not). */
export interface ExportProvenance {
  /** One line, e.g. "pose corrected by focus correction (3 iterations, residual 0.4 mm)". */
  readonly poseNote: string
  readonly software: string
}

export type NavigationFormat = 'brainsight' | 'localite' | 'slicer'

/** A navigation file read back: every point, and every full pose, in our convention. */
export interface ImportedNavigation {
  readonly format: NavigationFormat
  /** Every located entry of the file (Brainsight target/sample location, Localite marker origin, Slicer control point), RAS m. */
  readonly targetsRasM: PointEntry[]
  /** Every entry with a full orientation, converted to our transducer pose (row-major, RAS, m). */
  readonly poses: Array<{ readonly name: string; readonly transducerToRas: number[] }>
  /** What the reader assumed (coordinate system, origin of the pose), in plain words. */
  readonly warnings: string[]
}
