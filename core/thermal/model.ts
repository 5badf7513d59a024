/**
 * The Pennes bioheat equation (H. H. Pennes, J. Appl. Physiol. 1(2):93-122, 1948; docs/physics.md
 * §5.6) on the simulation grid, for the temperature rise theta = T - 37 °C:
 *
 *   rho c_t d(theta)/dt = div(k grad theta) - w rho_b c_b theta + Q,   Q = 2 alpha_abs I = alpha_abs p^2 / (rho c)
 *
 * with p the pressure amplitude (so I = p^2 / (2 rho c) is the intensity averaged over a cycle,
 * while the source is on), alpha_abs = absorbed fraction x alpha [Np/m] (attenuation at the drive
 * frequency), rho and c the acoustic medium's density and sound speed. The equation is linear in
 * theta, and with arterial blood, grid edge and coupling water all at 37 °C the unheated state is
 * 37 °C everywhere; the rise alone is simulated and T = 37 + theta.
 *
 * Discretisation: cell-centred finite volumes on the isotropic grid, conductance between
 * neighbours k_f / dx^2 with k_f the harmonic mean of their conductivities (S. V. Patankar,
 * Numerical Heat Transfer and Fluid Flow, 1980, §4.2-4.3: flux continuity across a material
 * interface). Time: forward Euler for conduction and source, with the perfusion decay integrated
 * exactly over the step (exponential Euler, M. Hochbruck and A. Ostermann, Acta Numerica 19:209,
 * 2010):
 *
 *   theta' = e^{-W dt} theta + (1 - e^{-W dt}) / W x (L theta / (rho c_t) + q),   W = w rho_b c_b / c_t
 *
 * whose fixed point is the exact discrete steady state (L theta - W rho c_t theta + Q = 0) at any dt.
 * Stability and monotonicity: every new value is a non-negative combination of old ones when
 *   dt <= 1 / (sum_f k_f / (rho c_t dx^2) + W)   in every voxel,
 * Patankar's positive-coefficient rule (§4.3-4); in a homogeneous medium without perfusion it is
 * the classical FTCS limit dt <= dx^2 / (6 kappa), kappa = k / (rho c_t) (e.g. W. H. Press et al.,
 * Numerical Recipes, 3rd ed., §20.2, in three dimensions). Perfusion barely changes it at 1 mm.
 *
 * Boundaries: the outermost voxels of the grid are held at 37 °C (Dirichlet). Coupling water is
 * either still water that conducts heat ('conducting', as BabelBrain and PRESTUS keep water in the
 * thermal domain) or a bath held at 37 °C ('bath', a Dirichlet condition on every water voxel).
 */
import { TISSUE_LABELS } from '../contracts/plan.ts'
import { SimulationInputError } from '../solver/errors.ts'
import { perfusionRatePerS, type ThermalMaterial } from './properties.ts'

export type CouplingModel = 'conducting' | 'bath'

export const COUPLING_DESCRIPTIONS: Readonly<Record<CouplingModel, string>> = {
  conducting: 'coupling water at 37 °C at the start, still (conducts heat, k 0.60 W/(m K), c 4178 J/(kg K), no perfusion); grid edge held at 37 °C',
  bath: 'coupling water is a bath held at 37 °C (Dirichlet on every water voxel); grid edge held at 37 °C',
}

/** Bit set on the label of a voxel held at 37 °C (grid edge, bath water). */
export const HELD = 0x80
/** Labels whose spatial maximum is recorded at every step (skin, skull, brain), in this order. */
export const TRACKED_LABELS = [TISSUE_LABELS.skin, TISSUE_LABELS.skull, TISSUE_LABELS.brain] as const
/** Labels 0..MAX_LABELS-1 (the WGSL kernel carries per-label coefficients for this many). */
export const MAX_LABELS = 4

export interface ThermalGridInput {
  /** Voxels along i, j, k (i fastest). */
  readonly dims: readonly [number, number, number]
  /** Isotropic voxel size [m]. */
  readonly spacingM: number
  /** Tissue label per voxel, 0..MAX_LABELS-1 (TISSUE_LABELS for plans). */
  readonly labels: Uint8Array
  /** Density [kg/m3] per voxel (heat capacity per volume and the intensity). */
  readonly density: ArrayLike<number>
  /** Sound speed [m/s] per voxel. */
  readonly soundSpeed: ArrayLike<number>
  /** Attenuation at the drive frequency [Np/m] per voxel. */
  readonly alphaNpM: ArrayLike<number>
  /** Pressure amplitude [Pa] per voxel at drive scale 1. */
  readonly pressurePa: ArrayLike<number>
  /** Thermal materials by label. */
  readonly materials: readonly ThermalMaterial[]
  /** Absorbed fraction of alpha by label. */
  readonly absorbedFraction: readonly number[]
  readonly coupling: CouplingModel
  /** Label treated as coupling water by the 'bath' model (default TISSUE_LABELS.water). */
  readonly waterLabel?: number
}

export interface ThermalProblem {
  readonly dims: readonly [number, number, number]
  readonly spacingM: number
  readonly count: number
  /** Label per voxel, HELD bit set where the rise is held at 0. */
  readonly labels: Uint8Array
  /** Conductance to the +i, +j, +k neighbour, k_f / dx^2 [W/(m3 K)] (0 on the last layer). */
  readonly cx: Float32Array
  readonly cy: Float32Array
  readonly cz: Float32Array
  /** 1 / (rho c_t) [m3 K / J]. */
  readonly invCapacity: Float32Array
  /** Heating rate Q / (rho c_t) at drive scale 1, source on [K/s]. */
  readonly heatingRate: Float32Array
  /** Perfusion rate W by label [1/s]. */
  readonly perfusionByLabel: readonly number[]
  /** Largest stable (monotone) step [s]. */
  readonly dtStableS: number
}

export function buildThermalProblem(input: ThermalGridInput): ThermalProblem {
  const [nx, ny, nz] = input.dims
  const n = nx * ny * nz
  if (!(nx >= 3 && ny >= 3 && nz >= 3)) throw new SimulationInputError('grid', `needs at least 3 voxels per axis, got ${input.dims.join('x')}`)
  for (const [name, a] of [
    ['labels', input.labels],
    ['density', input.density],
    ['sound speed', input.soundSpeed],
    ['attenuation', input.alphaNpM],
    ['pressure', input.pressurePa],
  ] as const) {
    if (a.length !== n) throw new SimulationInputError(name, `has ${a.length} voxels, the grid ${input.dims.join('x')} has ${n}`)
  }
  if (!(input.spacingM > 0)) throw new SimulationInputError('grid', `spacing must be positive, got ${input.spacingM}`)
  const waterLabel = input.waterLabel ?? TISSUE_LABELS.water
  const k = new Float64Array(MAX_LABELS)
  const ct = new Float64Array(MAX_LABELS)
  const perfusion: number[] = []
  for (let l = 0; l < MAX_LABELS; l++) {
    const m = input.materials[l]
    k[l] = m?.conductivity ?? 0
    ct[l] = m?.specificHeat ?? 1
    perfusion[l] = m ? perfusionRatePerS(m) : 0
  }
  const labels = new Uint8Array(n)
  const invCapacity = new Float32Array(n)
  const heatingRate = new Float32Array(n)
  for (let v = 0; v < n; v++) {
    const l = input.labels[v]!
    if (l >= MAX_LABELS || !input.materials[l]) throw new SimulationInputError('labels', `voxel ${v} has label ${l}, which has no thermal material`)
    const rho = input.density[v]!
    const c = input.soundSpeed[v]!
    const alpha = input.alphaNpM[v]!
    const p = input.pressurePa[v]!
    if (!(rho > 0) || !(c > 0) || !(alpha >= 0) || !Number.isFinite(p))
      throw new SimulationInputError('medium', `voxel ${v}: density ${rho}, sound speed ${c}, attenuation ${alpha}, pressure ${p} are not physical`)
    const i = v % nx
    const j = Math.floor(v / nx) % ny
    const kk = Math.floor(v / (nx * ny))
    const edge = i === 0 || j === 0 || kk === 0 || i === nx - 1 || j === ny - 1 || kk === nz - 1
    const held = edge || (input.coupling === 'bath' && l === waterLabel)
    labels[v] = held ? l | HELD : l
    invCapacity[v] = 1 / (rho * ct[l]!)
    const q = ((input.absorbedFraction[l] ?? 0) * alpha * p * p) / (rho * c)
    heatingRate[v] = held ? 0 : q * invCapacity[v]!
  }
  const inv2 = 1 / (input.spacingM * input.spacingM)
  const conductance = (a: number, b: number) => {
    const ka = k[input.labels[a]!]!
    const kb = k[input.labels[b]!]!
    return ka + kb > 0 ? ((2 * ka * kb) / (ka + kb)) * inv2 : 0
  }
  const cx = new Float32Array(n)
  const cy = new Float32Array(n)
  const cz = new Float32Array(n)
  const nxy = nx * ny
  for (let kk = 0; kk < nz; kk++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const v = i + nx * j + nxy * kk
        if (i < nx - 1) cx[v] = conductance(v, v + 1)
        if (j < ny - 1) cy[v] = conductance(v, v + nx)
        if (kk < nz - 1) cz[v] = conductance(v, v + nxy)
      }
  let rateMax = 0
  for (let kk = 1; kk < nz - 1; kk++)
    for (let j = 1; j < ny - 1; j++)
      for (let i = 1; i < nx - 1; i++) {
        const v = i + nx * j + nxy * kk
        if (labels[v]! & HELD) continue
        const sum = cx[v]! + cx[v - 1]! + cy[v]! + cy[v - nx]! + cz[v]! + cz[v - nxy]!
        const rate = sum * invCapacity[v]! + perfusion[labels[v]!]!
        if (rate > rateMax) rateMax = rate
      }
  return {
    dims: [nx, ny, nz],
    spacingM: input.spacingM,
    count: n,
    labels,
    cx,
    cy,
    cz,
    invCapacity,
    heatingRate,
    perfusionByLabel: perfusion,
    dtStableS: rateMax > 0 ? 1 / rateMax : Infinity,
  }
}

/** exp(-W dt) and (1 - exp(-W dt)) / W per label for a step (the exponential-Euler weights). */
export function stepWeights(perfusionByLabel: readonly number[], dtS: number): { decay: Float64Array; gain: Float64Array } {
  const decay = new Float64Array(MAX_LABELS)
  const gain = new Float64Array(MAX_LABELS)
  for (let l = 0; l < MAX_LABELS; l++) {
    const w = perfusionByLabel[l] ?? 0
    const x = w * dtS
    decay[l] = Math.exp(-x)
    // (1 - e^-x) / W = dt (1 - e^-x) / x, by its series for small x.
    gain[l] = x < 1e-6 ? dtS * (1 - x / 2) : (dtS * -Math.expm1(-x)) / x
  }
  return { decay, gain }
}
