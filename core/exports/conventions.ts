/**
 * Axis and unit conventions of the navigation formats, as conversions from and to our pose.
 *
 * Our pose (core/contracts/plan.ts `poseRecord.transducer_to_ras`): row-major 4x4 from the
 * transducer frame (origin at the bowl apex, +z along the beam into the head, metres) to patient
 * RAS (metres). x and y are perpendicular to the beam (a bowl is symmetric about z; their
 * azimuth is whatever placement chose). This is SimNIBS' `matsimnibs` axis convention (z into the
 * head), so the SimNIBS flip matrices apply to it unchanged (simnibs/utils/nnav.py):
 *
 *   Localite    L = S * F, F = [[0,0,1],[0,-1,0],[1,0,0]]  (nnav.py `localite._simnibs2localite`,
 *               applied on the right: `im @ self._simnibs2localite()`): L.x = S.z (into the head),
 *               L.y = -S.y, L.z = S.x. LPS files: L_lps = diag(-1,-1,1) * L_ras (left side:
 *               positions and axis components both flip; nnav.py `_lps2ras() @ im`).
 *   Brainsight  B = S * G, G = diag(-1, 1, -1) (nnav.py `brainsight._transform_brainsight`
 *               reads `matsimnibs @ self._simnibs2brainsight()`): B.z = -S.z, out of the head.
 *               SimNIBS' writer (`np.matmul(_simnibs2brainsight(), matsimnibs)` on a
 *               (4, 4, N) stack) is the same right-multiplication: numpy treats the stack as
 *               N matrices, giving M_n · G per pose. Agrees with BabelBrain's BS_z = -L_x.
 *   k-Plan      from Localite (PlanTUS `convert_Localite_to_kPlan_position_matrix`):
 *               K.x = -L.y = S.y, K.y = L.z = S.x, K.z = -L.x = -S.z; translation in metres.
 *   ITK / Slicer the transform file stores the inverse ("from parent") in LPS:
 *               T_itk = D * inv(T_ras) * D with D = diag(-1,-1,1,1), translation in mm.
 *
 * All the axis maps are signed permutations, so conversions are exact in floating point.
 */
import type { Vec3 } from '../volume/types.ts'
import { add3, affineColumn, FLIP_XY, invertRigid, lpsToRas, type Mat4, rasToLps, multiplyAffine, scale3, scaleTranslation } from '../math/index.ts'

/** Right-multiplied axis maps (4x4 with the 3x3 signed permutation in the top-left). */
const SIMNIBS_TO_LOCALITE: Mat4 = [0, 0, 1, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1]
const SIMNIBS_TO_BRAINSIGHT: Mat4 = [-1, 0, 0, 0, 0, 1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1]
/** K = S * P with columns K.x = S.y, K.y = S.x, K.z = -S.z. */
const SIMNIBS_TO_KPLAN: Mat4 = [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1]
/** Inverse of SIMNIBS_TO_KPLAN (its transpose). */
const KPLAN_TO_SIMNIBS: Mat4 = [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1]

export type CoordinateSpace = 'ras' | 'lps'

const M_TO_MM = 1000

/** mm -> m without the rounding of multiplying by 0.001 (division by 1000 is correctly rounded). */
function toMetres(m: Mat4): number[] {
  const out = [...m]
  out[3] = m[3]! / M_TO_MM
  out[7] = m[7]! / M_TO_MM
  out[11] = m[11]! / M_TO_MM
  return out
}

// ------------------------------------------------------------------------------- Localite

/** Localite Matrix4D (mm, in `space`; column 0 = beam direction into the head; origin = apex). */
export function poseToLocalite(poseRasM: Mat4, space: CoordinateSpace): number[] {
  const l = multiplyAffine(scaleTranslation(poseRasM, M_TO_MM), SIMNIBS_TO_LOCALITE)
  return space === 'lps' ? multiplyAffine(FLIP_XY, l) : l
}

export function localiteToPose(localiteMm: Mat4, space: CoordinateSpace): number[] {
  const ras = space === 'lps' ? multiplyAffine(FLIP_XY, localiteMm) : [...localiteMm]
  // F is its own inverse.
  return toMetres(multiplyAffine(ras, SIMNIBS_TO_LOCALITE))
}

// ----------------------------------------------------------------------------- Brainsight

/**
 * Brainsight trajectory (mm, NIfTI scanner RAS; z out of the head). Its location is the pose's
 * geometric focus, apex + f * beam, where BabelBrain and Brainsight's FUS workflow put the
 * trajectory tip (formats.md §3.1); `focalDistanceM` = plan.json `pose.focal_distance_from_apex_m`.
 */
export function poseToBrainsight(poseRasM: Mat4, focalDistanceM: number): number[] {
  const b = multiplyAffine(scaleTranslation(poseRasM, M_TO_MM), SIMNIBS_TO_BRAINSIGHT)
  const apexMm = affineColumn(b, 3)
  const beam = affineColumn(poseRasM, 2)
  const loc = add3(apexMm, scale3(beam, focalDistanceM * M_TO_MM))
  b[3] = loc[0]
  b[7] = loc[1]
  b[11] = loc[2]
  return b
}

/**
 * Our pose from a Brainsight trajectory. With the focal distance known the apex is the location
 * moved back along the beam (+z of Brainsight, out of the head); without it the pose's origin
 * stays at the file's location (the caller must say so).
 */
export function brainsightToPose(brainsightMm: Mat4, focalDistanceM: number | undefined): number[] {
  const s = multiplyAffine(brainsightMm, SIMNIBS_TO_BRAINSIGHT)
  if (focalDistanceM !== undefined) {
    const outOfHead = affineColumn(brainsightMm, 2)
    const apex = add3(affineColumn(s, 3), scale3(outOfHead, focalDistanceM * M_TO_MM))
    s[3] = apex[0]
    s[7] = apex[1]
    s[11] = apex[2]
  }
  return toMetres(s)
}

// --------------------------------------------------------------------------------- k-Plan

/** k-Plan position_transform (metres, RAS; x = S.y, y = S.x, z = -S.z; origin = apex). */
export function poseToKplan(poseRasM: Mat4): number[] {
  return multiplyAffine(poseRasM, SIMNIBS_TO_KPLAN)
}

export function kplanToPose(kplanM: Mat4): number[] {
  return multiplyAffine(kplanM, KPLAN_TO_SIMNIBS)
}

// --------------------------------------------------------------------------- ITK / Slicer

/**
 * The ITK transform file matrix (LPS, mm) of a Slicer linear transform whose "to parent" matrix
 * is our pose: Slicer shows T_ras (transducer -> world, RAS) and writes its inverse in LPS,
 * because an ITK transform maps points of the fixed (parent) space into the moving space.
 */
export function poseToItk(poseRasM: Mat4): number[] {
  return multiplyAffine(multiplyAffine(FLIP_XY, invertRigid(scaleTranslation(poseRasM, M_TO_MM))), FLIP_XY)
}

export function itkToPose(itkLpsMm: Mat4): number[] {
  return toMetres(invertRigid(multiplyAffine(multiplyAffine(FLIP_XY, itkLpsMm), FLIP_XY)))
}

/** A point between patient spaces: RAS m -> file coordinates in mm. */
export function pointToFile(rasM: Vec3, space: CoordinateSpace): Vec3 {
  const mm: Vec3 = [rasM[0] * M_TO_MM, rasM[1] * M_TO_MM, rasM[2] * M_TO_MM]
  return space === 'lps' ? rasToLps(mm) : mm
}

export function pointFromFile(mm: Vec3, space: CoordinateSpace): Vec3 {
  const ras: Vec3 = space === 'lps' ? lpsToRas(mm) : mm
  return [ras[0] / M_TO_MM, ras[1] / M_TO_MM, ras[2] / M_TO_MM]
}
