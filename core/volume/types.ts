/**
 * The one volume type of TFUS Planner.
 *
 * Geometry follows ITK and DICOM: physical coordinates are LPS (+x toward patient Left,
 * +y toward Posterior, +z toward Superior), in metres inside `core/`.
 *   world = originM + direction * diag(spacingM) * [i, j, k]
 * where (i, j, k) are voxel indices (i fastest in `data`) and `direction` is a 3x3 matrix
 * stored row-major whose column c is the unit vector of voxel axis c in LPS.
 */

// The one vector and 3x3 types (core/math); re-exported because every volume field uses them.
import type { Mat3, Vec3 } from '../math/index.ts'
export type { Mat3, Vec3 }
export { IDENTITY3 } from '../math/mat3.ts'

export type VoxelArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array

export type Modality = 'CT' | 'MR' | 'OT'

/** Identity and provenance that later stages (database, DICOM export for navigation) need. */
export interface VolumeMeta {
  readonly modality: Modality
  readonly patientName?: string
  readonly patientId?: string
  /** DICOM DA (YYYYMMDD) as stored. */
  readonly patientBirthDate?: string
  readonly studyInstanceUid?: string
  /** DICOM DA (YYYYMMDD) of the study, as stored. */
  readonly studyDate?: string
  readonly seriesInstanceUid?: string
  /** DICOM FrameOfReferenceUID; minted at import for files that carry none (NIfTI, NRRD). */
  readonly frameOfReferenceUid?: string
  readonly seriesDescription?: string
  readonly seriesNumber?: number
  /** Physical unit of the voxel values, e.g. 'HU' for rescaled CT. */
  readonly valueUnit?: string
  /** CT acquisition details some HU mappings depend on (scanner, kVp, kernel). */
  readonly manufacturer?: string
  readonly manufacturerModelName?: string
  readonly kvp?: number
  readonly convolutionKernel?: string
  /** File or folder name the volume came from (for messages). */
  readonly source?: string
  /** True when the UIDs above were minted by TFUS Planner rather than read from DICOM. */
  readonly uidsMinted?: boolean
}

export interface Volume<T extends VoxelArray = VoxelArray> {
  /** Voxel values, i fastest, then j, then k. Length = dims[0] * dims[1] * dims[2]. */
  readonly data: T
  /** Number of voxels along voxel axes i, j, k. */
  readonly dims: Vec3
  /** Voxel size along i, j, k in metres. */
  readonly spacingM: Vec3
  /** LPS position of the centre of voxel (0, 0, 0) in metres. */
  readonly originM: Vec3
  /** Row-major direction cosines; column c = LPS unit vector of voxel axis c. */
  readonly direction: Mat3
  readonly meta: VolumeMeta
  /** Problems noticed while reading (gantry tilt, uneven slices, ...), in plain words. */
  readonly warnings: readonly string[]
}
