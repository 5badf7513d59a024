/**
 * Rebuilds resources/samples/ from Debian's packages (see resources/samples/PROVENANCE.md):
 *   apt-get install invesalius-examples mricron-data && npm run samples
 * Deterministic: the same inputs give the same voxels (the synthetic T1's noise is seeded).
 */
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { execFileSync } from 'node:child_process'
import { mat3Multiply, mat3MulVec, mat3Transpose, seededRandom } from '../core/math/index.ts'
import { createVolume, resampleTrilinear, centerM, type Mat3, type Vec3 } from '../core/volume/index.ts'
import { writeVolume } from '../electron/adapters/volume-io.ts'

export const CRANIUM_INV3 = '/usr/share/doc/invesalius-examples/examples/Cranium.inv3'
export const COLIN27_T1 = '/usr/share/mricron/templates/ch2.nii.gz'
const OUT = path.resolve(import.meta.dirname, '../resources/samples')

/** InVesalius 3 project layout: matrix.dat is raw little-endian int16 HU, C order (z, y, x). */
const CRANIUM_SHAPE_ZYX = [108, 256, 256] as const
const CRANIUM_SPACING_MM: Vec3 = [0.9570312, 0.9570312, 1.5]
/**
 * Voxel axes of matrix.dat, worked out from the anatomy (resources/samples/PROVENANCE.md):
 * +x (i) toward patient Left, +y (j) toward Anterior (InVesalius' GDCM/VTK reader stores rows
 * bottom-up, flipping DICOM's row order), +z (k) toward Superior. Orientation code LAS.
 */
export const CRANIUM_DIRECTION: Mat3 = [1, 0, 0, 0, -1, 0, 0, 0, 1]

/** Rigid transform from the synthetic T1's world to the CT's world (LPS): p_ct = R p_t1 + t. */
export const SYNTHETIC_T1_ROTATION_DEG = { aboutZ: 6, aboutX: -4 }
export const SYNTHETIC_T1_TRANSLATION_M: Vec3 = [0.005, -0.007, 0.003]

function rotation(aboutZdeg: number, aboutXdeg: number): Mat3 {
  const z = (aboutZdeg * Math.PI) / 180
  const x = (aboutXdeg * Math.PI) / 180
  const rz: Mat3 = [Math.cos(z), -Math.sin(z), 0, Math.sin(z), Math.cos(z), 0, 0, 0, 1]
  const rx: Mat3 = [1, 0, 0, 0, Math.cos(x), -Math.sin(x), 0, Math.sin(x), Math.cos(x)]
  return mat3Multiply(rz, rx)
}

/**
 * HU -> T1-weighted-like intensity, piecewise linear: air dark, fat bright, CSF dark, white
 * matter brighter than grey matter, bone dark. Tissue HU from CT (WM ~25, GM ~40, CSF ~5,
 * fat ~ -100); relative T1 brightness as in a spoiled gradient-echo T1. Not a physical model:
 * it only gives registration and fusion an image whose contrast differs from the CT's.
 */
const HU_TO_T1: ReadonlyArray<readonly [number, number]> = [
  [-1000, 4],
  [-300, 8],
  [-120, 230],
  [-40, 200],
  [0, 30],
  [12, 60],
  [25, 160],
  [40, 105],
  [70, 90],
  [200, 50],
  [400, 25],
  [3000, 15],
]

function huToT1(hu: number): number {
  const first = HU_TO_T1[0]!
  if (hu <= first[0]) return first[1]
  for (let i = 1; i < HU_TO_T1.length; i++) {
    const [h1, v1] = HU_TO_T1[i]!
    const [h0, v0] = HU_TO_T1[i - 1]!
    if (hu <= h1) return v0 + ((hu - h0) / (h1 - h0)) * (v1 - v0)
  }
  return HU_TO_T1[HU_TO_T1.length - 1]![1]
}

export async function loadCraniumCt() {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cranium-'))
  try {
    execFileSync('tar', ['-xzf', CRANIUM_INV3, '-C', tmp])
    const [inner] = await fs.readdir(tmp)
    const raw = await fs.readFile(path.join(tmp, inner!, 'matrix.dat'))
    const [nz, ny, nx] = CRANIUM_SHAPE_ZYX
    if (raw.length !== nx * ny * nz * 2) throw new Error(`${CRANIUM_INV3}: matrix.dat has ${raw.length} bytes, expected ${nx * ny * nz * 2}`)
    const data = new Int16Array(nx * ny * nz)
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
    for (let i = 0; i < data.length; i++) data[i] = view.getInt16(2 * i, true)
    const spacingM = CRANIUM_SPACING_MM.map((v) => v / 1000) as unknown as Vec3
    // Centre the head at the world origin: the project file keeps no scanner position.
    const half: Vec3 = [((nx - 1) * spacingM[0]) / 2, ((ny - 1) * spacingM[1]) / 2, ((nz - 1) * spacingM[2]) / 2]
    const d = mat3MulVec(CRANIUM_DIRECTION, half)
    return createVolume({
      data,
      dims: [nx, ny, nz],
      spacingM,
      originM: [-d[0], -d[1], -d[2]],
      direction: CRANIUM_DIRECTION,
      meta: { modality: 'CT', valueUnit: 'HU', seriesDescription: 'InVesalius sample "Cranium" (ProMED CT 0051)' },
    })
  } finally {
    await fs.rm(tmp, { recursive: true, force: true })
  }
}

async function main() {
  await fs.mkdir(OUT, { recursive: true })
  const ct = await loadCraniumCt()
  await writeVolume(ct, path.join(OUT, 'cranium-ct.nii.gz'))
  console.log('wrote cranium-ct.nii.gz', ct.dims.join('x'))

  await fs.copyFile(COLIN27_T1, path.join(OUT, 'colin27-t1.nii.gz'))
  console.log('copied colin27-t1.nii.gz')

  // Synthetic T1: map intensities on the CT grid, then view the CT through the inverse rigid
  // transform and resample onto a 1 mm axial grid (identity direction, LPS).
  const mapped = new Float32Array(ct.data.length)
  for (let i = 0; i < mapped.length; i++) mapped[i] = huToT1(ct.data[i]!)
  const r = rotation(SYNTHETIC_T1_ROTATION_DEG.aboutZ, SYNTHETIC_T1_ROTATION_DEG.aboutX)
  const rt = mat3Transpose(r)
  const t = SYNTHETIC_T1_TRANSLATION_M
  const moved = createVolume({
    data: mapped,
    dims: ct.dims,
    spacingM: ct.spacingM,
    originM: mat3MulVec(rt, [ct.originM[0] - t[0], ct.originM[1] - t[1], ct.originM[2] - t[2]]),
    direction: mat3Multiply(rt, ct.direction),
    meta: ct.meta,
  })
  const dims: Vec3 = [240, 240, 170]
  const spacingM: Vec3 = [0.001, 0.001, 0.001]
  const c = centerM(ct)
  const grid = {
    dims,
    spacingM,
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as Mat3,
    originM: [c[0] - ((dims[0] - 1) * spacingM[0]) / 2, c[1] - ((dims[1] - 1) * spacingM[1]) / 2, c[2] - ((dims[2] - 1) * spacingM[2]) / 2] as Vec3,
  }
  const t1f = resampleTrilinear(moved, grid, { fill: 4, interpolation: 'linear' })
  const rand = seededRandom(27)
  const t1 = new Int16Array(t1f.data.length)
  for (let i = 0; i < t1.length; i++) {
    // Rician-like floor noise: sum of uniforms approximates a Gaussian of sigma 3.
    const noise = (rand() + rand() + rand() + rand() - 2) * 3 * Math.sqrt(3)
    t1[i] = Math.max(0, Math.round(t1f.data[i]! + noise))
  }
  await writeVolume(
    createVolume({
      data: t1,
      dims,
      spacingM,
      originM: grid.originM,
      direction: grid.direction,
      meta: { modality: 'MR', seriesDescription: 'SYNTHETIC T1-like from cranium CT' },
    }),
    path.join(OUT, 'cranium-synthetic-t1.nii.gz'),
  )
  const lps = [
    [r[0], r[1], r[2], t[0] * 1000],
    [r[3], r[4], r[5], t[1] * 1000],
    [r[6], r[7], r[8], t[2] * 1000],
    [0, 0, 0, 1],
  ]
  const ras = lps.map((row, i) => row.map((v, j) => (i < 2 !== j < 2 ? -v : v))) // F M F, F = diag(-1, -1, 1, 1)
  const truth = {
    description:
      'Ground-truth rigid transform of the SYNTHETIC T1 sample: maps a point of cranium-synthetic-t1.nii.gz world space to cranium-ct.nii.gz world space.',
    convention: 'p_ct = M * p_t1, homogeneous column vectors, millimetres',
    rotation_deg: SYNTHETIC_T1_ROTATION_DEG,
    translation_mm_lps: t.map((v) => v * 1000),
    matrix_lps_mm: lps,
    matrix_ras_mm: ras,
  }
  await fs.writeFile(path.join(OUT, 'cranium-synthetic-t1.transform.json'), JSON.stringify(truth, null, 2) + '\n')
  console.log('wrote cranium-synthetic-t1.nii.gz and its transform')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main()
}
