/**
 * k-Plan transducer position (`.kps`, HDF5): the pose mapping and the dataset layout. The HDF5
 * file itself is written by the host (electron/adapters/kps.ts, h5wasm). Layout, axes and
 * sources: kplan.md beside this file.
 */
import { ImportError } from '../io/errors.ts'
import { kplanToPose, poseToKplan } from './conventions.ts'
import { ROTATION_TOLERANCE, rotationDefect } from './matrix.ts'

export const KPS_ATTRIBUTES = {
  application_name: 'k-Plan',
  file_type: 'k-Plan Transducer Position',
} as const

/** Dataset shape as PlanTUS `create_kps_file_for_kPlan` writes it: (1, 4, 4). */
export const KPS_DATASET_SHAPE = [1, 4, 4] as const

/**
 * The `/<n>/position_transform` values in HDF5 (C, row-major) order: k-Plan's 4x4 (metres)
 * transposed, because k-Plan (MATLAB) reads HDF5 column-major (PlanTUS writes
 * `position_matrix.T`). Element [0][r][c] of the dataset is K[c][r].
 */
export function kplanDatasetValues(poseRasM: readonly number[]): Float32Array {
  const k = poseToKplan(poseRasM)
  const out = new Float32Array(16)
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) out[4 * r + c] = k[4 * c + r]!
  return out
}

/** Our pose from a dataset read back (16 values in HDF5 order). */
export function poseFromKplanDataset(values: ArrayLike<number>, file: string, label: string): number[] {
  if (values.length !== 16) throw new ImportError('corrupt-header', file, `${label} holds ${values.length} values, a 4x4 transform has 16`)
  const k = new Array<number>(16)
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) k[4 * c + r] = Number(values[4 * r + c])
  const bottom = [k[12], k[13], k[14], k[15]]
  if (bottom[0] !== 0 || bottom[1] !== 0 || bottom[2] !== 0 || bottom[3] !== 1) {
    throw new ImportError('corrupt-header', file, `${label}: last row of the transform is [${bottom.join(', ')}], not [0, 0, 0, 1] (transposed by the writer?)`)
  }
  const defect = rotationDefect(k)
  // float32 storage: orthogonality to about 1e-7.
  if (defect.orthogonality > ROTATION_TOLERANCE || defect.determinant < 0) {
    throw new ImportError(
      'corrupt-header',
      file,
      `${label} is not a rotation (orthogonality error ${defect.orthogonality.toExponential(1)}, determinant ${defect.determinant.toFixed(3)})`,
    )
  }
  return kplanToPose(k)
}
