/**
 * Backend choice for the Node hosts (CLI, utility process). `auto` prefers a hardware WebGPU
 * adapter and never a software one (SwiftShader or any adapter Dawn reports as a fallback or
 * CPU device): those run the kernels far slower than the CPU backend.
 */
import type { BackendFactory } from '../../core/solver/run.ts'
import { cpuBackend } from '../../core/solver/cpu/backend.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'

export type BackendChoice = 'auto' | 'webgpu' | 'cpu'

export interface SelectedBackend {
  readonly factory: BackendFactory
  /** Which backend ran and why, in words the user sees. */
  readonly notes: readonly string[]
}

export async function selectBackend(choice: BackendChoice): Promise<SelectedBackend> {
  if (choice === 'cpu') return { factory: cpuBackend, notes: [] }
  if (choice === 'webgpu') {
    throw new SimulationInputError('--backend', 'the WebGPU backend is not available in this build yet; use --backend cpu or auto')
  }
  return { factory: cpuBackend, notes: ['backend auto: using the CPU backend (the WebGPU backend is not available in this build yet)'] }
}
