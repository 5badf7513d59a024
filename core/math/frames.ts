/**
 * World conventions. Inside TFUS Planner world points are LPS (ITK, DICOM: +x toward patient
 * Left, +y Posterior, +z Superior), in metres; NIfTI, Slicer and most neuro tools use RAS. The
 * two differ by F = diag(-1, -1, 1), which is its own inverse.
 */
import type { Mat4, Affine4 } from './mat4.ts'
import type { Vec3 } from './vec3.ts'

export function lpsToRas(p: Vec3): Vec3 {
  return [-p[0], -p[1], p[2]]
}

export function rasToLps(p: Vec3): Vec3 {
  return [-p[0], -p[1], p[2]]
}

/**
 * Converts an affine whose output is LPS into one whose output is RAS (and back: the flip is
 * its own inverse). Only the output side changes, so the first two rows are negated.
 */
export function affineLpsToRas(affine: Mat4): Affine4 {
  if (affine.length !== 16) throw new Error(`Affine must have 16 entries, got ${affine.length}`)
  return affine.map((v, idx) => (idx < 8 ? -v : v))
}

/** M' = F M F with F = diag(-1, -1, 1, 1): flips x and y on both the input and the output side. */
export function flipLpsRasMatrix(m: Mat4): Affine4 {
  return m.map((v, idx) => {
    const row = Math.floor(idx / 4)
    const col = idx % 4
    return row < 2 !== col < 2 ? -v : v
  })
}
