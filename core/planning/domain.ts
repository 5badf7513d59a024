/**
 * The simulation domain of a plan: a grid aligned with the transducer (its frame is the solver's
 * scene frame: origin at the apex, +z along the beam, metres), covering the transducer and the
 * target with margins, spaced for a points-per-wavelength choice in water, and the medium
 * resampled from the CT onto it.
 */
import type { GridSpec, Mat3, Vec3, Volume } from '../volume/index.ts'
import { rasToLps } from '../math/index.ts'
import { createVolume, resampleTrilinear } from '../volume/index.ts'
import { DEFAULT_SETTINGS, type Grid, type Medium } from '../solver/model.ts'
import { checkComputationalGrid, checkPlanPointsPerWavelength, checkUserGrid, type MemoryBudget } from '../solver/limits.ts'
import { nextFftFriendly } from '../fft/plan.ts'
import { SimulationInputError } from '../solver/errors.ts'
import type { HeadSegmentation } from './masks.ts'
import type { Placement } from './placement.ts'

export interface BoneProperties {
  readonly density: number
  readonly soundSpeed: number
  readonly alphaNpM: number
}

/** Properties of a voxel of bone from its HU at the drive frequency (a named mapping). */
export type BoneMapping = (hu: number) => BoneProperties

export interface TissueValues {
  readonly water: BoneProperties
  /** Skin, soft tissue and brain: one set of literature values (the CT cannot tell them apart). */
  readonly softTissue: BoneProperties
}

export interface PlanDomain {
  readonly grid: Grid
  /** The same grid as an oblique LPS grid of the CT's world, for resampling. */
  readonly gridLps: GridSpec
  readonly medium: Medium
  /** 1 where bone, on the simulation grid. */
  readonly skull: Uint8Array
  /** 1 inside the head, on the simulation grid. */
  readonly head: Uint8Array
  /** 1 in the intracranial soft tissue (inside the head, past the skull along the beam). */
  readonly brain: Uint8Array
  readonly warnings: readonly string[]
}

export interface DomainOptions {
  readonly frequencyHz: number
  /** Points per wavelength in water (1500 m/s). */
  readonly pointsPerWavelength: number
  readonly apertureM: number
  readonly focalDistanceFromApexM: number
  readonly targetDepthFromApexM: number
  readonly mapping: BoneMapping
  readonly tissues: TissueValues
  readonly alphaPower: number
  /** Lateral margin beyond the aperture and axial margin beyond the focus/target [m]. */
  readonly lateralMarginM?: number
  readonly axialMarginM?: number
  /** What the solver may allocate on this machine: the grid is refused before anything is resampled onto it. */
  readonly memory?: MemoryBudget
}

function steps(span: number, dx: number): number {
  return Math.ceil(span / dx - 1e-9)
}

/** Lateral (aperture + margin) and axial (apex side to past the focus or target) extent of a plan's grid. */
export interface PlanGridExtent {
  readonly frequencyHz: number
  readonly pointsPerWavelength: number
  readonly apertureM: number
  /** Deepest point the grid must reach from the apex (focus or target), before the axial margin [m]. */
  readonly depthFromApexM: number
  readonly lateralMarginM?: number
  readonly axialMarginM?: number
}

/** The beam-aligned grid of a plan: spacing for the resolution in water (1500 m/s), sizes and origin. */
export function planGrid(extent: PlanGridExtent): Grid {
  const dx = 1500 / (extent.frequencyHz * extent.pointsPerWavelength)
  const lateral = extent.apertureM / 2 + (extent.lateralMarginM ?? 0.006)
  const zEnd = extent.depthFromApexM + (extent.axialMarginM ?? 0.02)
  const nLat = steps(2 * lateral, dx)
  const half = (nLat * dx) / 2
  const zStart = -2 * dx
  const nz = steps(zEnd - zStart, dx)
  return { spacingM: dx, size: [nLat + 1, nLat + 1, nz + 1], originM: [-half, -half, zStart] }
}

/**
 * The solver's caps for a plan grid, before anything is allocated for it: the resolution range,
 * the cells and (with a budget) the memory of the solve, as a lower bound (the default PML,
 * no source margin), so a refusal here is certain. The field is the resolution the user chose.
 */
export function checkPlanGrid(grid: Grid, pointsPerWavelength: number, memory: MemoryBudget | undefined, field = '--ppw'): void {
  checkPlanPointsPerWavelength(pointsPerWavelength, field)
  checkUserGrid(grid.size, field)
  // The solver refuses an absorbing layer thicker than the grid it surrounds; a small, low-frequency
  // device at coarse resolution makes such a grid, and it must be refused here, before the CT is
  // read and segmented (and at `tfus campaign plan` time), not when the solve starts.
  grid.size.forEach((s, d) => {
    const pml = DEFAULT_SETTINGS.pmlPoints[d]!
    if (pml > s)
      throw new SimulationInputError(
        field,
        `the grid this device makes at ${pointsPerWavelength} points per wavelength is ${grid.size.join('x')} points, and axis ${d} (${s}) is thinner than the solver's absorbing layer (${pml} points per side): use more points per wavelength`,
      )
  })
  const paddedSize = grid.size.map((s, d) => nextFftFriendly(s + 2 * DEFAULT_SETTINGS.pmlPoints[d]!)) as unknown as [number, number, number]
  checkComputationalGrid(
    { paddedSize, userSize: grid.size, heterogeneousSoundSpeed: true, heterogeneousDensity: true, absorbing: true, fractional: false },
    memory,
    field,
  )
}

export function buildPlanDomain(ct: Volume, seg: HeadSegmentation, placement: Placement, options: DomainOptions): PlanDomain {
  const warnings: string[] = []
  const grid = planGrid({
    frequencyHz: options.frequencyHz,
    pointsPerWavelength: options.pointsPerWavelength,
    apertureM: options.apertureM,
    depthFromApexM: Math.max(options.focalDistanceFromApexM, options.targetDepthFromApexM),
    ...(options.lateralMarginM === undefined ? {} : { lateralMarginM: options.lateralMarginM }),
    ...(options.axialMarginM === undefined ? {} : { axialMarginM: options.axialMarginM }),
  })
  checkPlanGrid(grid, options.pointsPerWavelength, options.memory)
  const dx = grid.spacingM

  // Transducer axes in RAS are the pose's columns; LPS flips the first two components.
  const m = placement.pose.transducerToRas
  const col = (c: number): Vec3 => rasToLps([m[c]!, m[4 + c]!, m[8 + c]!])
  const [ex, ey, ez] = [col(0), col(1), col(2)]
  const direction: Mat3 = [ex[0], ey[0], ez[0], ex[1], ey[1], ez[1], ex[2], ey[2], ez[2]]
  const o = grid.originM
  const originRas: Vec3 = [
    m[0]! * o[0] + m[1]! * o[1] + m[2]! * o[2] + m[3]!,
    m[4]! * o[0] + m[5]! * o[1] + m[6]! * o[2] + m[7]!,
    m[8]! * o[0] + m[9]! * o[1] + m[10]! * o[2] + m[11]!,
  ]
  const gridLps: GridSpec = { dims: grid.size as unknown as Vec3, spacingM: [dx, dx, dx], originM: rasToLps(originRas), direction }

  const hu = resampleTrilinear(ct, gridLps, { fill: -1000, interpolation: 'linear', outputType: 'float32' }).data
  const asVolume = (mask: Uint8Array) =>
    createVolume({ data: mask, dims: ct.dims, spacingM: ct.spacingM, originM: ct.originM, direction: ct.direction, meta: ct.meta })
  const head = resampleTrilinear(asVolume(seg.head), gridLps, { interpolation: 'nearest', fill: 0 }).data as Uint8Array
  const skull = resampleTrilinear(asVolume(seg.skull), gridLps, { interpolation: 'nearest', fill: 0 }).data as Uint8Array

  const n = hu.length
  const c = new Float32Array(n)
  const rho = new Float32Array(n)
  const alpha = new Float32Array(n)
  let airInHead = 0
  const { water, softTissue } = options.tissues
  for (let v = 0; v < n; v++) {
    let p: BoneProperties
    if (!head[v]) p = water
    else if (skull[v]) p = options.mapping(hu[v]!)
    else {
      // Air inside the head off the beam path (the path itself was checked at placement):
      // modelled as soft tissue, counted and reported, never silently.
      if (hu[v]! < -300) airInHead++
      p = softTissue
    }
    c[v] = p.soundSpeed
    rho[v] = p.density
    alpha[v] = p.alphaNpM
  }
  if (airInHead > 0) warnings.push(`${airInHead} voxels of air inside the head (sinus or mastoid cells, off the beam axis) were modelled as soft tissue`)

  // Intracranial: head, not bone, and past bone along +z in its column (the beam crosses the skull first).
  const [gx, gy, gz] = grid.size
  const brain = new Uint8Array(n)
  for (let j = 0; j < gy; j++)
    for (let i = 0; i < gx; i++) {
      let seenBone = false
      for (let k = 0; k < gz; k++) {
        const v = i + gx * (j + gy * k)
        if (skull[v]) seenBone = true
        else if (seenBone && head[v]) brain[v] = 1
      }
    }
  const medium: Medium = { soundSpeed: c, density: rho, alphaNpM: alpha, alphaPower: options.alphaPower }
  return { grid, gridLps, medium, skull, head, brain, warnings }
}
