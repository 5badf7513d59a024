/**
 * A WebGPU device for the Node hosts (CLI, utility process) through the `webgpu` package (Dawn).
 * Never throws for a missing GPU: the caller gets `{ unavailable: reason }` and falls back.
 *
 * "Software" adapters (SwiftShader, llvmpipe/lavapipe, anything Dawn flags as a fallback or CPU
 * device) run the kernels on the CPU, ~20x slower than the TypeScript CPU backend: usable for
 * correctness checks, never a sensible automatic choice.
 */
import type { GPU, GPUAdapter, GPUAdapterInfo, GPUDevice } from '../../core/solver/webgpu/gpu-types.ts'

export interface NodeGpuDevice {
  readonly device: GPUDevice
  /** The adapter in words, e.g. "NVIDIA GeForce RTX 4090 (nvidia, lovelace)". */
  readonly description: string
  readonly software: boolean
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|\bcpu\b|warp|basic render/i

export function isSoftwareAdapter(adapter: Pick<GPUAdapter, 'info' | 'isFallbackAdapter'>): boolean {
  const info = adapter.info
  if (adapter.isFallbackAdapter === true || info.isFallbackAdapter === true) return true
  return [info.vendor, info.architecture, info.device, info.description].some((s) => typeof s === 'string' && SOFTWARE.test(s))
}

export function describeAdapter(info: GPUAdapterInfo, software: boolean): string {
  const name = info.description || info.device || 'unknown adapter'
  const detail = [info.vendor, info.architecture].filter((s) => s).join(', ')
  return `${name}${detail ? ` (${detail}${software ? ', software' : ''})` : software ? ' (software)' : ''}`
}

const NO_ADAPTER =
  'no WebGPU adapter: no GPU driver Dawn can use (Vulkan, Metal or D3D12) was found; for the software adapter install libvulkan1 and chromium (SwiftShader) and set VK_ICD_FILENAMES to its vk_swiftshader_icd.json'

/** Limits raised to the adapter's maximum: the solver's fields are single buffers of the whole grid. */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
] as const

/**
 * Dawn's GPU instance, created once per process and kept reachable for good: when the JS object
 * is garbage-collected Dawn tears the instance down under any device still running on it
 * (observed as crashes inside the Vulkan driver's worker threads mid-dispatch).
 */
let instance: GPU | undefined

export async function requestNodeGpuDevice(options: { allowSoftware?: boolean } = {}): Promise<NodeGpuDevice | { unavailable: string }> {
  let gpu: GPU
  try {
    const dawn = (await import('webgpu')) as unknown as { create(flags: string[]): GPU; globals: Record<string, unknown> }
    // The WebGPU enums and classes a browser defines as globals (GPUBufferUsage, GPUMapMode...).
    // The solver carries its own flag values; this is for host code written against the
    // browser API. Only missing names are installed, so a host's own globals stay.
    const g = globalThis as Record<string, unknown>
    for (const [key, value] of Object.entries(dawn.globals)) if (!(key in g)) g[key] = value
    // TFUS_DAWN_FLAGS: Dawn instance flags separated by spaces, e.g.
    // "enable-dawn-features=disable_robustness" (diagnostics on a real GPU; see scripts/gpu).
    instance ??= dawn.create((process.env.TFUS_DAWN_FLAGS ?? '').split(' ').filter((f) => f))
    gpu = instance
  } catch (e) {
    return { unavailable: `the WebGPU runtime (Dawn, npm package webgpu) could not be loaded: ${e instanceof Error ? e.message : String(e)}` }
  }
  let adapter: GPUAdapter | null
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
  } catch (e) {
    return { unavailable: `${NO_ADAPTER} (${e instanceof Error ? e.message : String(e)})` }
  }
  if (!adapter) return { unavailable: NO_ADAPTER }
  const software = isSoftwareAdapter(adapter)
  const description = describeAdapter(adapter.info, software)
  if (software && options.allowSoftware !== true) {
    return { unavailable: `only a software WebGPU adapter is available (${description}): it runs the kernels on the CPU, slower than the CPU backend` }
  }
  const requiredLimits: Record<string, number> = {}
  for (const name of RAISED_LIMITS) {
    const value = adapter.limits[name]
    if (typeof value === 'number' && value > 0) requiredLimits[name] = value
  }
  try {
    const device = await adapter.requestDevice({ label: 'tfus solver', requiredLimits })
    return { device, description, software }
  } catch (e) {
    return { unavailable: `the WebGPU adapter ${description} refused a device: ${e instanceof Error ? e.message : String(e)}` }
  }
}
