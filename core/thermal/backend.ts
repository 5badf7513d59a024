/**
 * What a thermal backend (CPU in ./cpu.ts, WebGPU in ./webgpu/) does: advance the rise through
 * a list of step batches and record the maps, the per-tissue maxima and probe time courses.
 */
import type { ThermalProblem } from './model.ts'
import type { StepBatch } from './schedule.ts'

export interface ThermalRunRequest {
  readonly problem: ThermalProblem
  readonly batches: readonly StepBatch[]
  /** Maximum-rise and CEM43 maps (the second, probe-only pass skips them). */
  readonly recordMaps: boolean
  /** Voxel indices whose rise is recorded after every step. */
  readonly probes: readonly number[]
  /** Initial rise [K] (default 0, the unheated steady state); held voxels start at 0 regardless. */
  readonly initialRise?: ArrayLike<number>
  readonly signal?: AbortSignal
  /** Steps done so far, of the total. */
  readonly onProgress?: (done: number, total: number) => void
}

export interface ThermalRunOutput {
  /** Maximum rise over time per voxel [K]; null when maps were not recorded. */
  readonly maxRise: Float32Array | null
  /** CEM43 per voxel [min] (0 in held voxels); null when maps were not recorded. */
  readonly cem43: Float32Array | null
  /** Rise at the end [K]. */
  readonly finalRise: Float32Array
  /** (steps + 1) x TRACKED_LABELS.length: maximum rise over each tracked tissue after each step (row 0: start). */
  readonly trackedMax: Float32Array
  /** (steps + 1) x probes.length: rise at each probe voxel. */
  readonly probeRise: Float32Array
}

export interface ThermalBackend {
  readonly name: 'cpu' | 'webgpu'
  /** The hardware in words. */
  readonly device: string
  run(request: ThermalRunRequest): Promise<ThermalRunOutput>
  dispose(): void
}

export function totalSteps(batches: readonly StepBatch[]): number {
  return batches.reduce((s, b) => s + b.steps, 0)
}

export function abortError(): Error {
  const e = new Error('thermal simulation cancelled')
  e.name = 'AbortError'
  return e
}
