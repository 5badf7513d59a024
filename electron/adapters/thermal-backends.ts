/**
 * Thermal backend choice for the Node hosts, as electron/adapters/solver-backends.ts does for the
 * acoustic solver: `auto` takes a hardware WebGPU adapter and never a software one (SwiftShader
 * runs the kernels on the CPU, slower than the TypeScript backend); `webgpu` takes any adapter and
 * says when it is a software one; `cpu` is the TypeScript backend.
 */
import { SimulationInputError } from '../../core/solver/errors.ts'
import type { ThermalBackend } from '../../core/thermal/backend.ts'
import { createCpuThermalBackend } from '../../core/thermal/cpu.ts'
import { createWebGpuThermalBackend } from '../../core/thermal/webgpu/backend.ts'
import { requestNodeGpuDevice } from './webgpu-device.ts'

export type ThermalBackendChoice = 'auto' | 'webgpu' | 'cpu'
export const THERMAL_BACKEND_CHOICES: readonly ThermalBackendChoice[] = ['auto', 'webgpu', 'cpu']

export async function requestThermalGpuBackend(allowSoftware: boolean): Promise<{ backend: ThermalBackend; software: boolean } | { unavailable: string }> {
  const gpu = await requestNodeGpuDevice({ allowSoftware })
  if ('unavailable' in gpu) return gpu
  return { backend: createWebGpuThermalBackend(gpu.device, gpu.description), software: gpu.software }
}

export async function selectThermalBackend(choice: ThermalBackendChoice): Promise<{ backend: ThermalBackend; notes: string[] }> {
  if (choice === 'cpu') return { backend: createCpuThermalBackend(), notes: [] }
  if (choice === 'webgpu') {
    const gpu = await requestThermalGpuBackend(true)
    if ('unavailable' in gpu) throw new SimulationInputError('--backend', `webgpu is not available: ${gpu.unavailable}; use --backend cpu or auto`)
    return {
      backend: gpu.backend,
      notes: gpu.software ? [`backend webgpu: ${gpu.backend.device} is a software adapter (it runs on the CPU, slower than --backend cpu)`] : [],
    }
  }
  const gpu = await requestThermalGpuBackend(false)
  if ('unavailable' in gpu) return { backend: createCpuThermalBackend(), notes: [`backend auto: using the CPU backend (${gpu.unavailable})`] }
  return { backend: gpu.backend, notes: [`backend auto: using WebGPU on ${gpu.backend.device}`] }
}
