/**
 * The slice of the WebGPU API the solver uses, declared here because `@webgpu/types` is not a
 * dependency. Module-scoped (not global) so that hosts which do load the standard declarations
 * see no conflict: a standard GPUDevice is structurally assignable to this one. The flag values
 * are the ones fixed by the WebGPU specification, so core/ needs no host globals
 * (GPUBufferUsage etc. exist only where a host installed them).
 */

export const BufferUsage = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const

export const MapMode = { READ: 0x0001, WRITE: 0x0002 } as const

export const ShaderStage = { COMPUTE: 0x0004 } as const

export interface GPUObjectBase {
  label: string
}

export interface GPUSupportedLimits {
  readonly maxBufferSize: number
  readonly maxStorageBufferBindingSize: number
  readonly maxComputeWorkgroupStorageSize: number
  readonly maxComputeInvocationsPerWorkgroup: number
  readonly maxComputeWorkgroupSizeX: number
  readonly maxComputeWorkgroupsPerDimension: number
  readonly maxStorageBuffersPerShaderStage: number
  readonly minUniformBufferOffsetAlignment: number
  readonly minStorageBufferOffsetAlignment: number
}

export interface GPUBuffer extends GPUObjectBase {
  readonly size: number
  readonly usage: number
  mapAsync(mode: number, offset?: number, size?: number): Promise<undefined | void>
  getMappedRange(offset?: number, size?: number): ArrayBuffer
  unmap(): undefined | void
  destroy(): undefined | void
}

export interface GPUBufferDescriptor {
  label?: string
  size: number
  usage: number
  mappedAtCreation?: boolean
}

export type GPUBufferBindingType = 'uniform' | 'storage' | 'read-only-storage'

export interface GPUBindGroupLayoutEntry {
  binding: number
  visibility: number
  buffer?: { type?: GPUBufferBindingType; hasDynamicOffset?: boolean; minBindingSize?: number }
}

export interface GPUBindGroupLayout extends GPUObjectBase {
  readonly __brand?: 'GPUBindGroupLayout'
}
export interface GPUPipelineLayout extends GPUObjectBase {
  readonly __brand?: 'GPUPipelineLayout'
}
export interface GPUBindGroup extends GPUObjectBase {
  readonly __brand?: 'GPUBindGroup'
}

export interface GPUCompilationMessage {
  readonly message: string
  readonly type: 'error' | 'warning' | 'info'
  readonly lineNum: number
  readonly linePos: number
}

export interface GPUShaderModule extends GPUObjectBase {
  getCompilationInfo(): Promise<{ readonly messages: readonly GPUCompilationMessage[] }>
}

export interface GPUComputePipeline extends GPUObjectBase {
  getBindGroupLayout(index: number): GPUBindGroupLayout
}

export interface GPUComputePassEncoder extends GPUObjectBase {
  setPipeline(pipeline: GPUComputePipeline): undefined | void
  setBindGroup(index: number, bindGroup: GPUBindGroup | null, dynamicOffsets?: Iterable<number>): undefined | void
  dispatchWorkgroups(x: number, y?: number, z?: number): undefined | void
  end(): undefined | void
}

export type GPUCommandBuffer = GPUObjectBase

export interface GPUCommandEncoder extends GPUObjectBase {
  beginComputePass(descriptor?: { label?: string }): GPUComputePassEncoder
  copyBufferToBuffer(source: GPUBuffer, sourceOffset: number, destination: GPUBuffer, destinationOffset: number, size: number): undefined | void
  clearBuffer(buffer: GPUBuffer, offset?: number, size?: number): undefined | void
  finish(descriptor?: { label?: string }): GPUCommandBuffer
}

export interface GPUQueue extends GPUObjectBase {
  submit(commandBuffers: Iterable<GPUCommandBuffer>): undefined | void
  writeBuffer(buffer: GPUBuffer, bufferOffset: number, data: ArrayBufferView | ArrayBuffer, dataOffset?: number, size?: number): undefined | void
  onSubmittedWorkDone(): Promise<undefined | void>
}

export interface GPUError {
  readonly message: string
}

export type GPUErrorFilter = 'validation' | 'out-of-memory' | 'internal'

export interface GPUDevice extends GPUObjectBase {
  readonly limits: GPUSupportedLimits
  readonly queue: GPUQueue
  createBuffer(descriptor: GPUBufferDescriptor): GPUBuffer
  createShaderModule(descriptor: { label?: string; code: string }): GPUShaderModule
  createBindGroupLayout(descriptor: { label?: string; entries: Iterable<GPUBindGroupLayoutEntry> }): GPUBindGroupLayout
  createPipelineLayout(descriptor: { label?: string; bindGroupLayouts: Iterable<GPUBindGroupLayout> }): GPUPipelineLayout
  createComputePipeline(descriptor: {
    label?: string
    layout: GPUPipelineLayout | 'auto'
    compute: { module: GPUShaderModule; entryPoint?: string; constants?: Record<string, number> }
  }): GPUComputePipeline
  createBindGroup(descriptor: {
    label?: string
    layout: GPUBindGroupLayout
    entries: Iterable<{ binding: number; resource: { buffer: GPUBuffer; offset?: number; size?: number } }>
  }): GPUBindGroup
  createCommandEncoder(descriptor?: { label?: string }): GPUCommandEncoder
  pushErrorScope(filter: GPUErrorFilter): undefined | void
  popErrorScope(): Promise<GPUError | null>
  destroy(): undefined | void
}

/** Adapter side, used by the Node host to pick and describe a device. */
export interface GPUAdapterInfo {
  readonly vendor: string
  readonly architecture: string
  readonly device: string
  readonly description: string
  readonly isFallbackAdapter?: boolean
}

export interface GPUAdapter {
  readonly info: GPUAdapterInfo
  readonly limits: GPUSupportedLimits
  readonly isFallbackAdapter?: boolean
  requestDevice(descriptor?: { label?: string; requiredLimits?: Record<string, number>; requiredFeatures?: Iterable<string> }): Promise<GPUDevice>
}

export interface GPU {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance'; forceFallbackAdapter?: boolean }): Promise<GPUAdapter | null>
}
