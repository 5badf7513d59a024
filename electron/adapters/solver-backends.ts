/**
 * Backend choice for the Node hosts (CLI, utility process). `auto` prefers a hardware WebGPU
 * adapter and never a software one (SwiftShader or any adapter Dawn reports as a fallback or
 * CPU device): those run the kernels far slower than the CPU backend. `webgpu` takes any
 * adapter, software included (useful to check the kernels without a GPU), and says so.
 */
import type { BackendFactory } from '../../core/solver/run.ts'
import { cpuParallelBackend } from './cpu-parallel.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'
import { createWebGpuBackend } from '../../core/solver/webgpu/backend.ts'
import { DEFAULT_FFT_TUNING, type FftTuning } from '../../core/solver/webgpu/fft.ts'
import { requestNodeGpuDevice } from './webgpu-device.ts'

export type BackendChoice = 'auto' | 'webgpu' | 'cpu'

export interface SelectedBackend {
  readonly factory: BackendFactory
  /** Which backend ran and why, in words the user sees. */
  readonly notes: readonly string[]
}

/** "tile,workgroup,unroll[,pad]", e.g. "512,256,0": the form TFUS_FFT_TUNING takes and scripts/gpu prints. */
export function formatFftTuning(t: FftTuning): string {
  return `${t.tileElements},${t.workgroupSize},${t.unrollRadix ? 1 : 0}${t.padRows ? ',1' : ''}`
}

/**
 * TFUS_FFT_TUNING overrides the WebGPU FFT's tuning (fft.ts DEFAULT_FFT_TUNING), so a device run
 * can re-measure with the tuning its own sweep found fastest without a rebuild.
 */
export function fftTuningFromEnv(value = process.env.TFUS_FFT_TUNING): FftTuning | undefined {
  if (!value) return undefined
  const parts = value.split(',').map(Number)
  const [tileElements, workgroupSize, unroll, pad = 0] = parts
  const flag = (v: number | undefined) => v === 0 || v === 1
  if ((parts.length !== 3 && parts.length !== 4) || !parts.every(Number.isInteger) || tileElements! < 1 || workgroupSize! < 1 || !flag(unroll) || !flag(pad)) {
    throw new SimulationInputError(
      'TFUS_FFT_TUNING',
      `"${value}" is not tile,workgroup,unroll[,pad] (integers; unroll and pad 0 or 1), e.g. ${formatFftTuning(DEFAULT_FFT_TUNING)}`,
    )
  }
  return { tileElements: tileElements!, workgroupSize: workgroupSize!, unrollRadix: unroll === 1, ...(pad === 1 ? { padRows: true } : {}) }
}

export async function selectBackend(choice: BackendChoice): Promise<SelectedBackend> {
  // The CPU backend runs one worker thread per core on shared memory (cpu-parallel.ts).
  const cpuBackend = cpuParallelBackend()
  if (choice === 'cpu') return { factory: cpuBackend, notes: [] }
  if (choice === 'webgpu') {
    const gpu = await requestNodeGpuDevice({ allowSoftware: true })
    if ('unavailable' in gpu) throw new SimulationInputError('--backend', `webgpu is not available: ${gpu.unavailable}; use --backend cpu or auto`)
    if (!gpu.software) return { factory: createWebGpuBackend(gpu.device, gpu.description, { fftTuning: fftTuningFromEnv() }), notes: [] }
    return {
      // Software adapters run barrier-synchronised workgroups very slowly: one pass per FFT stage instead.
      factory: createWebGpuBackend(gpu.device, gpu.description, { fft: 'global' }),
      notes: [`backend webgpu: ${gpu.description} is a software adapter (it runs on the CPU, slower than --backend cpu)`],
    }
  }
  const gpu = await requestNodeGpuDevice({ allowSoftware: false })
  if ('unavailable' in gpu) return { factory: cpuBackend, notes: [`backend auto: using the CPU backend (${gpu.unavailable})`] }
  return {
    factory: createWebGpuBackend(gpu.device, gpu.description, { fftTuning: fftTuningFromEnv() }),
    notes: [`backend auto: using WebGPU on ${gpu.description}`],
  }
}
