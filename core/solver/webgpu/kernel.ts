/**
 * Kernel plumbing shared by every WGSL file of the WebGPU backend. A kernel is one entry point
 * plus a typed descriptor: its group-0 bindings (binding 0 is always the `params` uniform, laid
 * out by `uniforms`), its workgroup size (passed to the shader as the WORKGROUP_SIZE override
 * so TS and WGSL cannot disagree) and whether it reads the per-step uniform slot in group 1.
 * The descriptor is checked against the WGSL text when the pipeline is built, so a renamed
 * field or a reordered binding fails at setup instead of silently reading the wrong bytes.
 *
 * Everything here runs at setup: `bind` makes the uniform buffer and the bind group once, and
 * the step loop only replays the resulting `Dispatch` records.
 */
import {
  BufferUsage,
  MapMode,
  ShaderStage,
  type GPUBindGroup,
  type GPUBindGroupLayout,
  type GPUBuffer,
  type GPUComputePassEncoder,
  type GPUComputePipeline,
  type GPUDevice,
  type GPUShaderModule,
} from './gpu-types.ts'

export type BindingKind = 'storage' | 'read-only-storage'

export interface BindingSpec {
  readonly binding: number
  readonly name: string
  readonly kind: BindingKind
}

export type UniformType = 'u32' | 'f32'
export type UniformField = readonly [name: string, type: UniformType]

export interface KernelDescriptor<B extends readonly BindingSpec[] = readonly BindingSpec[], U extends readonly UniformField[] = readonly UniformField[]> {
  readonly label: string
  readonly source: string
  readonly entryPoint: string
  readonly workgroupSize: number
  /** Storage bindings of group 0 (binding 0 is the params uniform). */
  readonly bindings: B
  /** Fields of `struct Params`, in declaration order; every field is 4 bytes. */
  readonly uniforms: U
  /** True when group 1 binding 0 is the per-step uniform slot (dynamic offset). */
  readonly perStep?: boolean
}

export function defineKernel<const B extends readonly BindingSpec[], const U extends readonly UniformField[]>(
  descriptor: KernelDescriptor<B, U>,
): KernelDescriptor<B, U> {
  return descriptor
}

export type KernelBuffers<D extends KernelDescriptor> = { readonly [K in D['bindings'][number]['name']]: GPUBuffer }
export type KernelParams<D extends KernelDescriptor> = { readonly [K in D['uniforms'][number][0]]: number }

/** One recorded dispatch: replayed every step. */
export interface Dispatch {
  readonly label: string
  readonly pipeline: GPUComputePipeline
  readonly bindGroup: GPUBindGroup
  readonly perStep: boolean
  readonly workgroups: readonly [number, number]
}

/** Bytes of one per-step uniform slot's payload (struct Step in source.wgsl / accumulate.wgsl). */
export const STEP_UNIFORM_BYTES = 16

/**
 * Owns the pipelines and every buffer created through it, so dispose() frees the lot. Pipelines
 * are cached by descriptor and override constants.
 */
export class KernelContext {
  readonly stepLayout: GPUBindGroupLayout
  private readonly pipelines = new Map<KernelDescriptor, Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>>()
  private readonly modules = new Map<string, GPUShaderModule>()
  private readonly owned: GPUBuffer[] = []

  constructor(readonly device: GPUDevice) {
    this.stepLayout = device.createBindGroupLayout({
      label: 'per-step uniforms',
      entries: [{ binding: 0, visibility: ShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: STEP_UNIFORM_BYTES } }],
    })
  }

  /** A storage buffer holding `data` (padded to 16 bytes; an empty array gives a 16-byte buffer). */
  storage(label: string, data: Float32Array | Uint32Array): GPUBuffer {
    const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16)
    const buffer = this.device.createBuffer({ label, size, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST, mappedAtCreation: true })
    const range = buffer.getMappedRange()
    if (data instanceof Float32Array) new Float32Array(range).set(data)
    else new Uint32Array(range).set(data)
    buffer.unmap()
    this.owned.push(buffer)
    return buffer
  }

  /** A zero-filled storage buffer of `words` 4-byte words (WebGPU zero-initialises buffers). */
  zeros(label: string, words: number): GPUBuffer {
    const buffer = this.device.createBuffer({
      label,
      size: Math.max(16, Math.ceil((4 * words) / 16) * 16),
      usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
    })
    this.owned.push(buffer)
    return buffer
  }

  buffer(label: string, size: number, usage: number): GPUBuffer {
    const buffer = this.device.createBuffer({ label, size, usage })
    this.owned.push(buffer)
    return buffer
  }

  pipeline(descriptor: KernelDescriptor, constants: Record<string, number> = {}): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
    let byConstants = this.pipelines.get(descriptor)
    if (!byConstants) {
      checkDescriptor(descriptor)
      byConstants = new Map()
      this.pipelines.set(descriptor, byConstants)
    }
    const key = JSON.stringify(constants)
    const hit = byConstants.get(key)
    if (hit) return hit
    const layout =
      byConstants.values().next().value?.layout ??
      this.device.createBindGroupLayout({
        label: descriptor.label,
        entries: [
          { binding: 0, visibility: ShaderStage.COMPUTE, buffer: { type: 'uniform' } },
          ...descriptor.bindings.map((b) => ({ binding: b.binding, visibility: ShaderStage.COMPUTE, buffer: { type: b.kind } })),
        ],
      })
    let module = this.modules.get(descriptor.source)
    if (!module) {
      module = this.device.createShaderModule({ label: descriptor.label, code: descriptor.source })
      this.modules.set(descriptor.source, module)
    }
    const pipeline = this.device.createComputePipeline({
      label: `${descriptor.label}:${descriptor.entryPoint}`,
      layout: this.device.createPipelineLayout({ label: descriptor.label, bindGroupLayouts: descriptor.perStep ? [layout, this.stepLayout] : [layout] }),
      compute: { module, entryPoint: descriptor.entryPoint, constants: { WORKGROUP_SIZE: descriptor.workgroupSize, ...constants } },
    })
    const entry = { pipeline, layout }
    byConstants.set(key, entry)
    return entry
  }

  /**
   * Records one dispatch of `descriptor` over `workgroups` workgroups (split over two dimensions
   * above the 65535 per-dimension limit; the shaders linearise with num_workgroups).
   */
  bind<D extends KernelDescriptor>(
    descriptor: D,
    buffers: KernelBuffers<D>,
    params: KernelParams<D>,
    workgroups: number,
    constants: Record<string, number> = {},
  ): Dispatch {
    const { pipeline, layout } = this.pipeline(descriptor, constants)
    const words = new ArrayBuffer(Math.max(16, Math.ceil((4 * descriptor.uniforms.length) / 16) * 16))
    const u32 = new Uint32Array(words)
    const f32 = new Float32Array(words)
    descriptor.uniforms.forEach(([name, type], i) => {
      const value = (params as Record<string, number>)[name]
      if (value === undefined || !Number.isFinite(value)) throw new Error(`${descriptor.label}: uniform ${name} = ${value}`)
      if (type === 'u32') {
        if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`${descriptor.label}: uniform ${name} = ${value} is not a u32`)
        u32[i] = value
      } else f32[i] = value
    })
    const uniform = this.buffer(`${descriptor.label} params`, words.byteLength, BufferUsage.UNIFORM | BufferUsage.COPY_DST)
    this.device.queue.writeBuffer(uniform, 0, words)
    const bindGroup = this.device.createBindGroup({
      label: descriptor.label,
      layout,
      entries: [
        { binding: 0, resource: { buffer: uniform } },
        ...descriptor.bindings.map((b) => {
          const buffer = (buffers as Record<string, GPUBuffer | undefined>)[b.name]
          if (!buffer) throw new Error(`${descriptor.label}: no buffer for binding ${b.name}`)
          return { binding: b.binding, resource: { buffer } }
        }),
      ],
    })
    return {
      label: descriptor.label,
      pipeline,
      bindGroup,
      perStep: descriptor.perStep === true,
      workgroups: splitWorkgroups(workgroups, this.device.limits.maxComputeWorkgroupsPerDimension),
    }
  }

  dispose(): void {
    for (const b of this.owned) b.destroy()
    this.owned.length = 0
    this.pipelines.clear()
    this.modules.clear()
  }
}

export function splitWorkgroups(count: number, maxPerDimension: number): readonly [number, number] {
  if (count <= maxPerDimension) return [Math.max(1, count), 1]
  const y = Math.ceil(count / maxPerDimension)
  return [Math.ceil(count / y), y]
}

export function encodeDispatch(pass: GPUComputePassEncoder, d: Dispatch, stepGroup?: { group: GPUBindGroup; offset: number }): void {
  pass.setPipeline(d.pipeline)
  pass.setBindGroup(0, d.bindGroup)
  if (d.perStep) {
    if (!stepGroup) throw new Error(`${d.label}: needs the per-step uniform slot`)
    pass.setBindGroup(1, stepGroup.group, [stepGroup.offset])
  }
  pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1])
}

/**
 * Checks the descriptor against the WGSL: `struct Params` fields (names and types, in order) and
 * the group-0 storage bindings (number, name, access mode).
 */
export function checkDescriptor(d: KernelDescriptor): void {
  const fail = (what: string) => {
    throw new Error(`kernel ${d.label}: descriptor and WGSL disagree: ${what}`)
  }
  const source = d.source.replace(/\/\/[^\n]*/g, '')
  const struct = /struct\s+Params\s*\{([^}]*)\}/.exec(source)
  if (!struct) fail('no struct Params')
  const fields = [...struct![1]!.matchAll(/(\w+)\s*:\s*(\w+)/g)].map((m) => [m[1]!, m[2]!] as const)
  if (fields.length !== d.uniforms.length || fields.some(([name, type], i) => d.uniforms[i]![0] !== name || d.uniforms[i]![1] !== type)) {
    fail(`Params is {${fields.map((f) => f.join(': ')).join(', ')}}, descriptor {${d.uniforms.map((f) => f.join(': ')).join(', ')}}`)
  }
  if (!/@group\(0\)\s*@binding\(0\)\s*var<uniform>\s*params\s*:\s*Params/.test(source)) fail('binding 0 is not `var<uniform> params: Params`')
  for (const b of d.bindings) {
    const access = b.kind === 'storage' ? 'read_write' : 'read'
    const re = new RegExp(`@group\\(0\\)\\s*@binding\\(${b.binding}\\)\\s*var<storage,\\s*${access}>\\s*${b.name}\\s*:`)
    if (!re.test(source)) fail(`binding ${b.binding} is not \`var<storage, ${access}> ${b.name}\``)
  }
  if (d.perStep && !/@group\(1\)\s*@binding\(0\)\s*var<uniform>\s*perStep\s*:\s*Step/.test(source))
    fail('per-step kernel without `@group(1) @binding(0) var<uniform> perStep: Step`')
  if (!new RegExp(`fn\\s+${d.entryPoint}\\s*\\(`).test(source)) fail(`no entry point ${d.entryPoint}`)
}

/** Number of workgroups covering `count` invocations. */
export function groupsFor(count: number, workgroupSize: number): number {
  return Math.max(1, Math.ceil(count / workgroupSize))
}

/** Copies a buffer back to the host (setup, tests and the window readback). */
export async function readBuffer(device: GPUDevice, buffer: GPUBuffer, bytes: number = buffer.size): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ label: 'readback', size: Math.ceil(bytes / 4) * 4, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST })
  try {
    const encoder = device.createCommandEncoder()
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, staging.size)
    device.queue.submit([encoder.finish()])
    await staging.mapAsync(MapMode.READ)
    return staging.getMappedRange().slice(0, bytes)
  } finally {
    staging.destroy()
  }
}
