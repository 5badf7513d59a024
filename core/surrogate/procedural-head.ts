/**
 * Procedural head CTs for surrogate training data: an ellipsoidal head whose outline, skull
 * thickness, table/diploe structure, porosity and air cells vary with a seed. Values are HU, so
 * the planning pipeline (segmentation, placement, HU mapping, domain) runs on them unchanged and
 * the surrogate sees exactly what it sees on a patient CT.
 *
 * The ranges span adult calvaria as CT shows them at about 1 mm: 3.5-11 mm of bone, outer and
 * inner cortical tables of roughly a quarter of the thickness each around a porous diploe,
 * cortical bone 1400-2000 HU, diploe 350-1100 HU, scalp 3-7 mm. They are chosen to cover the
 * sample CT and typical adult heads, not fitted to a population.
 */
import { seededRandom } from '../math/random.ts'
import { createVolume } from '../volume/geometry.ts'
import type { Vec3, Volume } from '../volume/types.ts'

/** Smooth value noise in [-1, 1] on a lattice of `cellM`, trilinearly interpolated. */
class ValueNoise {
  private readonly table: Float32Array
  constructor(
    random: () => number,
    private readonly cellM: number,
  ) {
    this.table = new Float32Array(4096)
    for (let i = 0; i < this.table.length; i++) this.table[i] = 2 * random() - 1
  }
  private lattice(i: number, j: number, k: number): number {
    const h = (Math.imul(i, 73856093) ^ Math.imul(j, 19349663) ^ Math.imul(k, 83492791)) & 4095
    return this.table[h]!
  }
  at(x: number, y: number, z: number): number {
    const fx = x / this.cellM
    const fy = y / this.cellM
    const fz = z / this.cellM
    const i = Math.floor(fx)
    const j = Math.floor(fy)
    const k = Math.floor(fz)
    const s = (t: number) => t * t * (3 - 2 * t)
    const u = s(fx - i)
    const v = s(fy - j)
    const w = s(fz - k)
    const l = (a: number, b: number, t: number) => a + (b - a) * t
    return l(
      l(l(this.lattice(i, j, k), this.lattice(i + 1, j, k), u), l(this.lattice(i, j + 1, k), this.lattice(i + 1, j + 1, k), u), v),
      l(l(this.lattice(i, j, k + 1), this.lattice(i + 1, j, k + 1), u), l(this.lattice(i, j + 1, k + 1), this.lattice(i + 1, j + 1, k + 1), u), v),
      w,
    )
  }
}

export interface ProceduralHeadParameters {
  readonly seed: number
  /** Semi-axes of the outer skull surface (L-R, A-P, S-I) [m]. */
  readonly semiAxesM: Vec3
  /** Relative amplitude of the low-frequency outline perturbation. */
  readonly outlineWobble: number
  readonly skullThicknessM: readonly [number, number]
  readonly scalpThicknessM: number
  /** Cortical table HU and the diploe's mean HU. */
  readonly corticalHu: number
  readonly diploeHu: number
  /** Amplitude of the diploe's porosity noise [HU] and its feature size [m]. */
  readonly porosityHu: number
  readonly porosityCellM: number
  /** Air cells (pneumatised bone): centres on the skull and radii [m]. */
  readonly airCells: readonly { readonly directionRas: Vec3; readonly radiusM: number }[]
  readonly noiseHu: number
}

/** Draws a head's parameters from the ranges above. */
export function drawHeadParameters(seed: number): ProceduralHeadParameters {
  const r = seededRandom(seed)
  const between = (a: number, b: number) => a + (b - a) * r()
  const thin = between(0.0035, 0.006)
  const airCells: { directionRas: Vec3; radiusM: number }[] = []
  if (r() < 0.3) {
    const n = 1 + Math.floor(r() * 4)
    const theta = between(0, 2 * Math.PI)
    const elevation = between(-0.2, 0.9)
    for (let c = 0; c < n; c++) {
      const t = theta + between(-0.15, 0.15)
      const e = elevation + between(-0.15, 0.15)
      airCells.push({ directionRas: [Math.cos(e) * Math.cos(t), Math.cos(e) * Math.sin(t), Math.sin(e)], radiusM: between(0.0015, 0.0035) })
    }
  }
  return {
    seed,
    semiAxesM: [between(0.066, 0.078), between(0.08, 0.095), between(0.07, 0.085)],
    outlineWobble: between(0, 0.04),
    skullThicknessM: [thin, thin + between(0.001, 0.005)],
    scalpThicknessM: between(0.003, 0.007),
    corticalHu: between(1400, 2000),
    diploeHu: between(350, 1100),
    porosityHu: between(100, 450),
    porosityCellM: between(0.0015, 0.004),
    airCells,
    noiseHu: between(5, 30),
  }
}

export interface ProceduralHead {
  readonly ct: Volume<Int16Array>
  readonly parameters: ProceduralHeadParameters
  /** Centre of the skull ellipsoid (RAS, m). */
  readonly centreRasM: Vec3
}

/**
 * Builds the CT (RAS-aligned: voxel axes point Left, Posterior, Superior in LPS, i.e. an
 * identity direction) at `spacingM`, centred on the world origin.
 */
export function proceduralHeadCt(parameters: ProceduralHeadParameters, spacingM = 0.001): ProceduralHead {
  const r = seededRandom(parameters.seed ^ 0x5bd1e995)
  const outline = new ValueNoise(r, 0.05)
  const thickness = new ValueNoise(r, 0.03)
  const tables = new ValueNoise(r, 0.02)
  const pores = new ValueNoise(r, parameters.porosityCellM)
  const pores2 = new ValueNoise(r, parameters.porosityCellM / 2)
  const [a, b, c] = parameters.semiAxesM
  const margin = 0.012 + parameters.scalpThicknessM
  const dims: Vec3 = [Math.ceil((2 * (a + margin)) / spacingM), Math.ceil((2 * (b + margin)) / spacingM), Math.ceil((2 * (c + margin)) / spacingM)]
  const originM: Vec3 = [(-(dims[0] - 1) * spacingM) / 2, (-(dims[1] - 1) * spacingM) / 2, (-(dims[2] - 1) * spacingM) / 2]
  const data = new Int16Array(dims[0] * dims[1] * dims[2])
  const [t0, t1] = parameters.skullThicknessM
  // Lowest slices cut the head like a CT's field of view does (above the chin).
  const zCut = -0.55 * c
  let v = 0
  for (let k = 0; k < dims[2]; k++) {
    const z = originM[2] + k * spacingM
    for (let j = 0; j < dims[1]; j++) {
      const yLps = originM[1] + j * spacingM
      for (let i = 0; i < dims[0]; i++, v++) {
        const xLps = originM[0] + i * spacingM
        // RAS of this voxel (identity direction in LPS).
        const x = -xLps
        const y = -yLps
        const rho = Math.hypot(x / a, y / b, z / c)
        if (rho < 1e-6) {
          data[v] = 35
          continue
        }
        // Outline: the ellipsoid's radius along this direction, perturbed smoothly.
        const ux = x / (rho * a)
        const uy = y / (rho * b)
        const uz = z / (rho * c)
        const wobble = 1 + parameters.outlineWobble * outline.at(ux * 0.1, uy * 0.1, uz * 0.1)
        const rOuter = Math.hypot(x, y, z) / rho // distance from centre to the ellipsoid along this ray
        const dist = Math.hypot(x, y, z)
        const skullOuter = rOuter * wobble
        const t = t0 + (t1 - t0) * (0.5 + 0.5 * thickness.at(ux * 0.1, uy * 0.1, uz * 0.1))
        const depth = skullOuter - dist // > 0 inside the outer skull surface
        let hu: number
        if (z < zCut) hu = -1000
        else if (depth < -parameters.scalpThicknessM) hu = -1000
        else if (depth < 0) hu = 40
        else if (depth < t) {
          const outerTable = t * (0.22 + 0.08 * tables.at(x, y, z))
          const innerTable = t * (0.2 + 0.08 * tables.at(z, x, y))
          if (depth < outerTable || depth > t - innerTable) hu = parameters.corticalHu
          else hu = parameters.diploeHu + parameters.porosityHu * (0.7 * pores.at(x, y, z) + 0.3 * pores2.at(x, y, z))
        } else if (depth < t + 0.0015)
          hu = 10 // CSF under the inner table
        else hu = 35
        data[v] = Math.round(hu + parameters.noiseHu * (r() * 2 - 1))
      }
    }
  }
  // Air cells replace bone inside small spheres centred in the skull along given directions.
  for (const cell of parameters.airCells) {
    const d = cell.directionRas
    const s = Math.hypot(d[0] / a, d[1] / b, d[2] / c)
    const mid = 1 / s - (t0 + t1) / 4
    const centreRas: Vec3 = [d[0] * mid, d[1] * mid, d[2] * mid]
    const rad = cell.radiusM
    for (let k = 0; k < dims[2]; k++) {
      const z = originM[2] + k * spacingM - centreRas[2]
      if (Math.abs(z) > rad) continue
      for (let j = 0; j < dims[1]; j++) {
        const y = -(originM[1] + j * spacingM) - centreRas[1]
        if (Math.abs(y) > rad) continue
        for (let i = 0; i < dims[0]; i++) {
          const x = -(originM[0] + i * spacingM) - centreRas[0]
          if (x * x + y * y + z * z <= rad * rad) data[i + dims[0] * (j + dims[1] * k)] = -950
        }
      }
    }
  }
  const ct = createVolume({
    data,
    dims,
    spacingM: [spacingM, spacingM, spacingM],
    originM,
    meta: { modality: 'CT', valueUnit: 'HU', seriesDescription: `procedural head, seed ${parameters.seed}`, source: `procedural-head-${parameters.seed}` },
  })
  return { ct, parameters, centreRasM: [0, 0, 0] }
}
