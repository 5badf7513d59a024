/**
 * 3D real FFT on the GPU with the CPU's layout (core/fft/fft3d.ts): a real field nx*ny*nz and
 * its half spectrum nxh*ny*nz (nxh = nx/2 + 1, kx fastest, interleaved re/im), forward
 * unnormalised, inverse normalised by 1 / (nx ny nz). The x transform packs two real lines
 * into one complex line; y and z run on the half spectrum. Axis lengths with prime factors
 * 2, 3, 5, 7 only (what nextFftFriendly produces).
 *
 * Two designs (see fft.wgsl): 'workgroup', one dispatch per axis with whole lines in
 * workgroup memory (lines up to maxComputeWorkgroupStorageSize / 16 points: 1024 with the
 * WebGPU default 16 KiB); and 'global', one dispatch per Stockham stage (radix up to 8)
 * ping-ponging between the caller's buffer and a scratch buffer of the same size, for
 * software adapters, where barrier-synchronised workgroups are slow, and for lines too long
 * for workgroup memory. Measured on SwiftShader (2 cores), 48x40x40 forward + inverse:
 * workgroup 150-290 ms, global 17-25 ms.
 */
import fftSource from './fft.wgsl'
import type { GPUBuffer } from './gpu-types.ts'
import { defineKernel, groupsFor, KernelContext, type Dispatch } from './kernel.ts'

export type FftDesign = 'workgroup' | 'global'

/**
 * Tuning of the workgroup design, measured on hardware in docs/benchmarks.md
 * (scripts/gpu/checks.ts sweeps it). More lines per tile make the y and z passes read whole
 * memory sectors (neighbouring lines are neighbouring x); the tile must fit in workgroup memory.
 */
export interface FftTuning {
  /** Complex values a workgroup aims to hold (whole lines; at least one line). */
  readonly tileElements: number
  /** Invocations per workgroup of the workgroup design. */
  readonly workgroupSize: number
  /** Butterfly loops to a constant bound (see UNROLL_RADIX in fft.wgsl). */
  readonly unrollRadix: boolean
  /** One complex value of padding between a tile's lines (ROW_PAD in fft.wgsl); not yet measured on hardware. */
  readonly padRows?: boolean
}

/**
 * Measured on an NVIDIA H200 (docs/benchmarks.md, scripts/gpu/checks.ts fft): 512-point tiles,
 * 256 threads and loops to the radix were within 2 % of the fastest at 256^3 (1.32 against 1.29
 * ms per forward + inverse pair) and of the fastest workgroup tuning at 128^3 (0.218 against
 * 0.210 ms). The constant-bound loops were slower there (1.42 ms at 256^3), and the earlier
 * choice, 64 threads, took 1.65 ms (5.9 ms with constant-bound loops).
 */
export const DEFAULT_FFT_TUNING: FftTuning = { tileElements: 512, workgroupSize: 256, unrollRadix: false }

const STAGE_WORKGROUP = 128
const RADICES = [8, 4, 2, 3, 5, 7] as const

const uniforms = [
  ['n', 'u32'],
  ['stageCount', 'u32'],
  ['linesPerTile', 'u32'],
  ['lineCount', 'u32'],
  ['realLines', 'u32'],
  ['halfLength', 'u32'],
  ['packedLength', 'u32'],
  ['elementStride', 'u32'],
  ['lineModulus', 'u32'],
  ['lineStride1', 'u32'],
  ['lineStride2', 'u32'],
  ['span', 'u32'],
  ['twiddleOffset', 'u32'],
  ['lineFastest', 'u32'],
  ['direction', 'f32'],
  ['scale', 'f32'],
] as const

const stagesBinding = { binding: 1, name: 'stages', kind: 'read-only-storage' } as const
const twiddlesBinding = { binding: 2, name: 'twiddles', kind: 'read-only-storage' } as const
const realIn = { binding: 3, name: 'realIn', kind: 'read-only-storage' } as const
const realOut = { binding: 4, name: 'realOut', kind: 'storage' } as const
const spectrumBinding = { binding: 5, name: 'spectrum', kind: 'storage' } as const
const complexIn = { binding: 6, name: 'complexIn', kind: 'read-only-storage' } as const
const complexOut = { binding: 7, name: 'complexOut', kind: 'storage' } as const

const common = { source: fftSource, uniforms } as const

/** The workgroup design's kernels for one workgroup size (pipelines are cached per descriptor). */
const tiledKernelsBySize = new Map<number, ReturnType<typeof tiledKernels>>()
function tiledKernels(workgroupSize: number) {
  return {
    forwardX: defineKernel({
      ...common,
      label: 'fft x real-to-complex (workgroup)',
      entryPoint: 'forward_x',
      workgroupSize,
      bindings: [stagesBinding, twiddlesBinding, realIn, complexOut],
    }),
    inverseX: defineKernel({
      ...common,
      label: 'fft x complex-to-real (workgroup)',
      entryPoint: 'inverse_x',
      workgroupSize,
      bindings: [stagesBinding, twiddlesBinding, complexIn, realOut],
    }),
    strided: defineKernel({
      ...common,
      label: 'fft y/z (workgroup)',
      entryPoint: 'strided',
      workgroupSize,
      bindings: [stagesBinding, twiddlesBinding, spectrumBinding],
    }),
  }
}
function tiledKernelsFor(workgroupSize: number) {
  let hit = tiledKernelsBySize.get(workgroupSize)
  if (!hit) tiledKernelsBySize.set(workgroupSize, (hit = tiledKernels(workgroupSize)))
  return hit
}

export const fftKernels = {
  ...tiledKernelsFor(DEFAULT_FFT_TUNING.workgroupSize),
  stage: defineKernel({
    ...common,
    label: 'fft stage',
    entryPoint: 'stage',
    workgroupSize: STAGE_WORKGROUP,
    bindings: [twiddlesBinding, realIn, realOut, complexIn, complexOut],
  }),
  unpackX: defineKernel({ ...common, label: 'fft unpack x', entryPoint: 'unpack_x', workgroupSize: STAGE_WORKGROUP, bindings: [complexIn, complexOut] }),
}

/** Radices of an n-point transform, eights and fours first (fewest stages). */
export function fftRadices(n: number): number[] {
  const out: number[] = []
  let rest = n
  for (const r of RADICES) {
    while (rest % r === 0) {
      out.push(r)
      rest /= r
    }
  }
  if (rest !== 1 || !Number.isInteger(n) || n < 1) throw new RangeError(`WebGPU FFT: ${n} points has a prime factor above 7`)
  return out
}

/**
 * Stage records (radix, span, twiddle offset, 0) and the twiddle table of an n-point Stockham
 * transform, evaluated in float64: stage s with span p (product of the earlier radices) uses
 * w = e^{i 2 pi j k / (p r)} for k < p, 1 <= j < r, stored at offset + k (r - 1) + j - 1.
 */
export function fftTables(n: number): { radices: number[]; stages: Uint32Array; twiddles: Float32Array } {
  const radices = fftRadices(n)
  const values: number[] = []
  const stages = new Uint32Array(4 * Math.max(1, radices.length))
  let span = 1
  radices.forEach((r, s) => {
    stages.set([r, span, values.length / 2, 0], 4 * s)
    for (let k = 0; k < span; k++)
      for (let j = 1; j < r; j++) {
        const angle = (2 * Math.PI * j * k) / (span * r)
        values.push(Math.cos(angle), Math.sin(angle))
      }
    span *= r
  })
  return { radices, stages, twiddles: Float32Array.from(values) }
}

export interface GpuFft3d {
  readonly design: FftDesign
  readonly nx: number
  readonly ny: number
  readonly nz: number
  readonly nxh: number
  readonly spectrumLength: number
  /**
   * Complex values every spectrum buffer passed in must hold: spectrumLength, or with the
   * global design the packed x lines when they are longer (nx * ceil(ny nz / 2)).
   */
  readonly workLength: number
  /** Dispatches of real (nx*ny*nz f32) -> spectrum (nxh*ny*nz vec2f). */
  forward(real: GPUBuffer, spectrum: GPUBuffer): Dispatch[]
  /** Dispatches of spectrum -> real, normalised; the spectrum is overwritten. */
  inverse(spectrum: GPUBuffer, real: GPUBuffer): Dispatch[]
}

/** Longest axis the workgroup design handles with `workgroupBytes` of workgroup memory (two halves of vec2<f32>). */
export function maxWorkgroupFftAxis(workgroupBytes: number): number {
  return Math.floor(workgroupBytes / 16)
}

interface Tables {
  readonly radices: readonly number[]
  readonly stages: GPUBuffer
  readonly twiddles: GPUBuffer
  readonly stageOffsets: readonly number[]
}

export function createGpuFft3d(
  ctx: KernelContext,
  nx: number,
  ny: number,
  nz: number,
  design: FftDesign = 'workgroup',
  tuning: FftTuning = DEFAULT_FFT_TUNING,
): GpuFft3d {
  const limit = maxWorkgroupFftAxis(ctx.device.limits.maxComputeWorkgroupStorageSize)
  if (!(tuning.workgroupSize > 0 && tuning.workgroupSize <= ctx.device.limits.maxComputeInvocationsPerWorkgroup)) {
    throw new RangeError(`WebGPU FFT: workgroup size ${tuning.workgroupSize} is outside 1..${ctx.device.limits.maxComputeInvocationsPerWorkgroup}`)
  }
  const kernels = tiledKernelsFor(tuning.workgroupSize)
  for (const [name, n] of [
    ['nx', nx],
    ['ny', ny],
    ['nz', nz],
  ] as const) {
    fftRadices(n)
    if (design === 'workgroup' && n > limit) {
      throw new RangeError(
        `WebGPU FFT: ${name} = ${n} exceeds ${limit} points, the longest line ${ctx.device.limits.maxComputeWorkgroupStorageSize} bytes of workgroup memory hold`,
      )
    }
  }
  if (nx < 2) throw new RangeError('WebGPU FFT: nx must be at least 2')
  const nxh = Math.floor(nx / 2) + 1
  const spectrumLength = nxh * ny * nz
  const xLines = ny * nz
  const xPairs = Math.ceil(xLines / 2)
  const workLength = design === 'global' ? Math.max(spectrumLength, nx * xPairs) : spectrumLength

  const tableCache = new Map<number, Tables>()
  const tablesFor = (n: number): Tables => {
    let hit = tableCache.get(n)
    if (!hit) {
      const t = fftTables(n)
      hit = {
        radices: t.radices,
        stages: ctx.storage(`fft ${n} stages`, t.stages),
        twiddles: ctx.storage(`fft ${n} twiddles`, t.twiddles),
        stageOffsets: t.radices.map((_, s) => t.stages[4 * s + 2]!),
      }
      tableCache.set(n, hit)
    }
    return hit
  }

  /** Line geometry of each axis: x over packed line pairs, y and z over the half spectrum. */
  const geometry = {
    x: { n: nx, lineCount: xPairs, lineModulus: xPairs, lineStride1: nx, lineStride2: 0, elementStride: 1, lineFastest: 0 },
    y: { n: ny, lineCount: nxh * nz, lineModulus: nxh, lineStride1: 1, lineStride2: nxh * ny, elementStride: nxh, lineFastest: 1 },
    z: { n: nz, lineCount: nxh * ny, lineModulus: nxh * ny, lineStride1: 1, lineStride2: 0, elementStride: nxh * ny, lineFastest: 1 },
  }
  type Axis = keyof typeof geometry
  const baseParams = (axis: Axis, direction: number, scale: number) => ({
    ...geometry[axis],
    stageCount: tablesFor(geometry[axis].n).radices.length,
    linesPerTile: 1,
    realLines: xLines,
    halfLength: nxh,
    packedLength: nx,
    span: 1,
    twiddleOffset: 0,
    direction,
    scale,
  })

  // Workgroup design: one dispatch per axis; the tile holds `per` lines, sized to what the
  // dispatch needs (workgroup memory is zero-filled at every workgroup start).
  const tiled = (
    axis: Axis,
    direction: number,
    scale: number,
    buffers: { realIn?: GPUBuffer; realOut?: GPUBuffer; spectrum?: GPUBuffer; complexIn?: GPUBuffer; complexOut?: GPUBuffer },
  ): Dispatch => {
    const g = geometry[axis]
    const pad = tuning.padRows === true && g.n + 1 <= limit ? 1 : 0
    const per = Math.max(1, Math.min(g.lineCount, Math.floor(limit / (g.n + pad)), Math.max(1, Math.floor(tuning.tileElements / g.n))))
    const t = tablesFor(g.n)
    const params = { ...baseParams(axis, direction, scale), linesPerTile: per }
    const constants = { TILE_ELEMENTS: 2 * per * (g.n + pad), UNROLL_RADIX: tuning.unrollRadix ? 1 : 0, ROW_PAD: pad }
    const groups = Math.ceil(g.lineCount / per)
    const tables = { stages: t.stages, twiddles: t.twiddles }
    // Labelled by axis: y and z share a kernel but not an access pattern (profiles tell them apart).
    if (axis !== 'x')
      return { ...ctx.bind(kernels.strided, { ...tables, spectrum: buffers.spectrum! }, params, groups, constants), label: `fft ${axis} (workgroup)` }
    if (buffers.realIn) return ctx.bind(kernels.forwardX, { ...tables, realIn: buffers.realIn, complexOut: buffers.complexOut! }, params, groups, constants)
    return ctx.bind(kernels.inverseX, { ...tables, complexIn: buffers.complexIn!, realOut: buffers.realOut! }, params, groups, constants)
  }

  // Global design: one dispatch per stage. The stage kernel reads and writes either real line
  // pairs or complex lines (override constants); the side it does not use is bound to a
  // placeholder.
  let scratch: GPUBuffer | undefined
  let unused: { read: GPUBuffer; write: GPUBuffer } | undefined
  const scratchBuffer = () => (scratch ??= ctx.zeros('fft scratch', 2 * workLength))
  const placeholders = () => (unused ??= { read: ctx.zeros('fft unused input', 4), write: ctx.zeros('fft unused output', 4) })
  /** What a stage loads (fft.wgsl INPUT_MODE): complex lines, real line pairs, or the x (un)packing folded into the load. */
  type StageInput = 'complex' | 'real' | 'unpack' | 'pack'
  const inputMode = { complex: 0, real: 1, unpack: 2, pack: 3 } as const
  const stageDispatch = (
    axis: Axis,
    s: number,
    kind: StageInput,
    outputReal: boolean,
    direction: number,
    scale: number,
    input: GPUBuffer,
    output: GPUBuffer,
  ): Dispatch => {
    const g = geometry[axis]
    const t = tablesFor(g.n)
    const radix = t.radices[s]!
    const span = t.radices.slice(0, s).reduce((a, b) => a * b, 1)
    const params = { ...baseParams(axis, direction, scale), span, twiddleOffset: t.stageOffsets[s]! }
    const groups = groupsFor(g.lineCount * (g.n / radix), STAGE_WORKGROUP)
    const constants = { RADIX: radix, INPUT_MODE: inputMode[kind], OUTPUT_REAL: outputReal ? 1 : 0 }
    const p = placeholders()
    const buffers = {
      twiddles: t.twiddles,
      realIn: kind === 'real' ? input : p.read,
      complexIn: kind === 'real' ? p.read : input,
      realOut: outputReal ? output : p.write,
      complexOut: outputReal ? p.write : output,
    }
    return ctx.bind(fftKernels.stage, buffers, params, groups, constants)
  }
  const stageCount = (axis: Axis) => tablesFor(geometry[axis].n).radices.length

  return {
    design,
    nx,
    ny,
    nz,
    nxh,
    spectrumLength,
    workLength,
    forward(real, spectrum) {
      if (design === 'workgroup') {
        return [tiled('x', -1, 1, { realIn: real, complexOut: spectrum }), tiled('y', -1, 1, { spectrum }), tiled('z', -1, 1, { spectrum })]
      }
      // Writes alternate between the two buffers; the first is placed so the last lands in
      // `spectrum`. The unpacking of the x spectra is folded into the first y (or z) stage.
      const separateUnpack = stageCount('y') + stageCount('z') === 0
      const writes = stageCount('x') + (separateUnpack ? 1 : 0) + stageCount('y') + stageCount('z')
      const other = scratchBuffer()
      let written = 0
      let current: GPUBuffer = real
      const next = () => ((writes - 1 - written++) % 2 === 0 ? spectrum : other)
      const out: Dispatch[] = []
      for (let s = 0; s < stageCount('x'); s++) {
        const target = next()
        out.push(stageDispatch('x', s, s === 0 ? 'real' : 'complex', false, -1, 1, current, target))
        current = target
      }
      if (separateUnpack) {
        const target = next()
        out.push(ctx.bind(fftKernels.unpackX, { complexIn: current, complexOut: target }, baseParams('x', -1, 1), groupsFor(spectrumLength, STAGE_WORKGROUP)))
        current = target
      }
      let unpacked = separateUnpack
      for (const axis of ['y', 'z'] as const)
        for (let s = 0; s < stageCount(axis); s++) {
          const target = next()
          out.push(stageDispatch(axis, s, unpacked ? 'complex' : 'unpack', false, -1, 1, current, target))
          unpacked = true
          current = target
        }
      return out
    },
    inverse(spectrum, real) {
      const scale = 1 / (nx * ny * nz)
      if (design === 'workgroup') {
        return [tiled('z', 1, 1, { spectrum }), tiled('y', 1, 1, { spectrum }), tiled('x', 1, scale, { complexIn: spectrum, realOut: real })]
      }
      const other = scratchBuffer()
      let current = spectrum
      const swap = () => (current === spectrum ? other : spectrum)
      const out: Dispatch[] = []
      for (const axis of ['z', 'y'] as const)
        for (let s = 0; s < stageCount(axis); s++) {
          const target = swap()
          out.push(stageDispatch(axis, s, 'complex', false, 1, 1, current, target))
          current = target
        }
      const last = stageCount('x') - 1
      // The Hermitian extension and packing of the x lines is folded into the first x stage.
      for (let s = 0; s <= last; s++) {
        const kind = s === 0 ? 'pack' : 'complex'
        if (s === last) {
          out.push(stageDispatch('x', s, kind, true, 1, scale, current, real))
        } else {
          const target = swap()
          out.push(stageDispatch('x', s, kind, false, 1, 1, current, target))
          current = target
        }
      }
      return out
    },
  }
}
