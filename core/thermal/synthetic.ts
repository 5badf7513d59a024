/**
 * A synthetic layered head on a beam-aligned grid (water, skin, skull, brain slabs across +z)
 * with a Gaussian-beam pressure field focused in the brain (waist and Rayleigh range of the ITRUSST
 * bowl's -6 dB focus, about 4 x 26 mm at 500 kHz, docs/physics.md §0): a stand-in for a plan folder in the
 * benchmark and the tests, whose shape (77 x 77 x 87 at 1 mm) matches the sample plan's grid at
 * 3 points per wavelength. Properties are the ITRUSST benchmark values at 500 kHz (Aubry et al.
 * 2022, Table I; docs/physics.md §0), one skull slab of cortical bone.
 */
import { TISSUE_LABELS } from '../contracts/plan.ts'
import type { ThermalFieldInputs } from './run.ts'

export interface SyntheticHeadOptions {
  readonly dims?: readonly [number, number, number]
  readonly spacingM?: number
  /** Depths along +z [m] where skin, skull and brain start (water before). */
  readonly skinStartM?: number
  readonly skullStartM?: number
  readonly brainStartM?: number
  /** Focus depth [m] and peak pressure there [Pa]. */
  readonly focusM?: number
  readonly focalPressurePa?: number
  /** Gaussian waist radius at the focus [m] and Rayleigh range [m]. */
  readonly waistM?: number
  readonly rayleighRangeM?: number
}

const DB_CM_TO_NP_M = 100 / 8.685889638

export function syntheticLayeredHead(options: SyntheticHeadOptions = {}): ThermalFieldInputs {
  const dims = options.dims ?? [77, 77, 87]
  const dx = options.spacingM ?? 1e-3
  const [nx, ny, nz] = dims
  const skin = options.skinStartM ?? 0.012
  const skull = options.skullStartM ?? 0.015
  const brain = options.brainStartM ?? 0.022
  const focus = options.focusM ?? 0.055
  const p0 = options.focalPressurePa ?? 5e5
  const w0 = options.waistM ?? 0.0035
  const zr = options.rayleighRangeM ?? 0.013
  const n = nx * ny * nz
  const labels = new Uint8Array(n)
  const density = new Float32Array(n)
  const soundSpeed = new Float32Array(n)
  const alphaNpM = new Float32Array(n)
  const pressurePa = new Float32Array(n)
  // [label, c, rho, alpha dB/cm]
  const layers = {
    water: [TISSUE_LABELS.water, 1500, 1000, 0],
    skin: [TISSUE_LABELS.skin, 1610, 1090, 0.2],
    skull: [TISSUE_LABELS.skull, 2800, 1850, 4],
    brain: [TISSUE_LABELS.brain, 1560, 1040, 0.3],
  } as const
  for (let k = 0; k < nz; k++) {
    const z = k * dx
    const layer = z < skin ? layers.water : z < skull ? layers.skin : z < brain ? layers.skull : layers.brain
    const w = w0 * Math.sqrt(1 + ((z - focus) / zr) ** 2)
    // In the skull the incident and reflected waves add (bone's impedance is about three times
    // water's): twice the beam there, as in the sample plan, whose skull peak (173 kPa) exceeds
    // its brain peak (153 kPa) at ppw 2.
    const amplitude = p0 * (w0 / w) * (z >= skull && z < brain ? 2 : 1)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const v = i + nx * (j + ny * k)
        const x = (i - (nx - 1) / 2) * dx
        const y = (j - (ny - 1) / 2) * dx
        labels[v] = layer[0]
        soundSpeed[v] = layer[1]
        density[v] = layer[2]
        alphaNpM[v] = layer[3] * DB_CM_TO_NP_M
        pressurePa[v] = amplitude * Math.exp(-(x * x + y * y) / (w * w))
      }
  }
  return { dims: [nx, ny, nz], spacingM: dx, labels, density, soundSpeed, alphaNpM, pressurePa }
}
