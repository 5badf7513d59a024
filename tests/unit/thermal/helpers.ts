/**
 * Small synthetic grids for the thermal tests: a homogeneous block of one material with a
 * chosen source, and the problem built the way runThermal builds it.
 */
import { buildThermalProblem, type ThermalProblem } from '../../../core/thermal/model.ts'
import type { ThermalMaterial } from '../../../core/thermal/properties.ts'

export interface BlockOptions {
  readonly n: number
  readonly spacingM: number
  readonly material: ThermalMaterial
  /** Label of the block (tracked labels are 1, 2, 3). */
  readonly label?: number
  readonly density?: number
  /** Heat source Q [W/m3] per voxel (index -> value); realised through alpha = 1 Np/m, absorbed fraction 1. */
  readonly sourceWPerM3?: (i: number, j: number, k: number) => number
}

export const BLOCK_SOUND_SPEED = 1500

export function homogeneousBlock(o: BlockOptions): ThermalProblem {
  const { n } = o
  const count = n * n * n
  const label = o.label ?? 3
  const density = o.density ?? 1000
  const pressure = new Float32Array(count)
  if (o.sourceWPerM3) {
    for (let k = 0; k < n; k++)
      for (let j = 0; j < n; j++)
        for (let i = 0; i < n; i++) {
          // Q = alpha p^2 / (rho c) with alpha = 1 Np/m.
          pressure[i + n * (j + n * k)] = Math.sqrt(o.sourceWPerM3(i, j, k) * density * BLOCK_SOUND_SPEED)
        }
  }
  const materials: ThermalMaterial[] = []
  materials[label] = o.material
  const absorbed: number[] = []
  absorbed[label] = 1
  return buildThermalProblem({
    dims: [n, n, n],
    spacingM: o.spacingM,
    labels: new Uint8Array(count).fill(label),
    density: new Float32Array(count).fill(density),
    soundSpeed: new Float32Array(count).fill(BLOCK_SOUND_SPEED),
    alphaNpM: new Float32Array(count).fill(1),
    pressurePa: pressure,
    materials,
    absorbedFraction: absorbed,
    coupling: 'conducting',
  })
}
