/**
 * Backend choice for the Node hosts (CLI, utility process). `auto` prefers a hardware WebGPU
 * adapter and never a software one (SwiftShader or any adapter Dawn reports as a fallback or
 * CPU device): those run the kernels far slower than the CPU backend.
 */
import type { BackendFactory } from '../../core/solver/run.ts'
import { cpuParallelBackend } from './cpu-parallel.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'

export type BackendChoice = 'auto' | 'webgpu' | 'cpu'

export interface SelectedBackend {
  readonly factory: BackendFactory
  /** Which backend ran and why, in words the user sees. */
  readonly notes: readonly string[]
}

export async function selectBackend(choice: BackendChoice): Promise<SelectedBackend> {
  // The CPU backend runs one worker thread per core on shared memory (cpu-parallel.ts).
  const cpu = cpuParallelBackend()
  if (choice === 'cpu') return { factory: cpu, notes: [] }
  if (choice === 'webgpu') {
    throw new SimulationInputError('--backend', 'the WebGPU backend is not available in this build yet; use --backend cpu or auto')
  }
  return { factory: cpu, notes: ['backend auto: using the CPU backend (the WebGPU backend is not available in this build yet)'] }
}
