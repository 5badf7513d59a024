/**
 * The WebGPU backend: the CPU reference step (core/solver/cpu/engine.ts, k-Wave
 * kspaceFirstOrder3D) as a fixed list of compute dispatches recorded once at setup and replayed
 * for every step, float32 storage throughout. Per step (lossless): FFT of p; for each axis the
 * shifted derivative with kappa, an inverse FFT and the velocity update; for each axis an FFT of
 * u_a, the derivative, an inverse FFT and the density update (summing div u when absorbing);
 * the source; the pressure. For y != 2 two more FFT round trips apply the fractional
 * Laplacians.
 *
 * Nothing is allocated per step. Per-step values (source ramp and phase, the window DFT's
 * cos/sin) live in one uniform slot per step of a batch, computed in float64 on the host and
 * selected with a dynamic offset; a batch of up to MAX_BATCH steps is one command buffer. After
 * every advance() a reduction counts non-finite pressure values and the call throws
 * SimulationNumericalError if there are any, so NaN never reaches a window.
 */
import type { SolverBackend } from '../run.ts'
import type { SimulationSetup } from '../setup.ts'
import { SimulationInputError, SimulationNumericalError } from '../errors.ts'
import { BufferUsage, MapMode, type GPUBuffer, type GPUDevice } from './gpu-types.ts'
import { createGpuFft3d, DEFAULT_FFT_TUNING, maxWorkgroupFftAxis, type FftDesign, type FftTuning, type GpuFft3d } from './fft.ts'
import { encodeDispatch, groupsFor, KernelContext, readBuffer, STEP_UNIFORM_BYTES, type Dispatch } from './kernel.ts'
import {
  accumulateKernel,
  densityKernel,
  derivativeKernel,
  ELEMENTWISE_WORKGROUP,
  fractionalCombineKernel,
  fractionalPrepareKernel,
  nonfiniteKernel,
  pressureKernel,
  radialFilterKernel,
  sourceKernel,
  velocityKernel,
} from './kernels.ts'
import { prepareHostArrays, sparseWeights, type HostArrays } from './prepare.ts'
import { sparseSource } from '../cpu/engine.ts'

/** Steps per command buffer: enough to amortise submission, few enough to keep the step-uniform buffer small. */
const MAX_BATCH = 64
/** Elements each invocation of the non-finite reduction scans. */
const NONFINITE_PER_THREAD = 16

export interface WebGpuBackendOptions {
  /**
   * FFT design (fft.ts): 'workgroup' (default; one pass per axis through workgroup memory) for
   * hardware GPUs, 'global' (one pass per radix stage, no workgroup memory) for software
   * adapters such as SwiftShader, which run barrier-synchronised workgroups very slowly.
   */
  readonly fft?: FftDesign
  /** The workgroup design's tuning (fft.ts DEFAULT_FFT_TUNING unless given). */
  readonly fftTuning?: FftTuning
  /**
   * Where the CW source is filtered at setup: 'device' (default; two FFT round trips on the GPU,
   * one readback) or 'host' (core/fft, as the CPU backend; seconds at 256^3).
   */
  readonly sourceFilter?: 'host' | 'device'
}

/** The backend with a diagnostic: the time of each dispatch of a step (scripts/gpu/checks.ts profile). */
export interface WebGpuSolverBackend extends SolverBackend {
  profile(reps: number): Promise<Array<{ label: string; ms: number }>>
}

export function createWebGpuBackend(
  device: GPUDevice,
  description: string,
  options: WebGpuBackendOptions = {},
): (plan: SimulationSetup) => Promise<WebGpuSolverBackend> {
  return async (plan) => {
    const ctx = new KernelContext(device)
    device.pushErrorScope('out-of-memory')
    device.pushErrorScope('validation')
    let built: WebGpuSolverBackend | undefined
    let setupError: unknown
    try {
      built = await buildBackend(ctx, plan, description, options.fft ?? 'workgroup', options.fftTuning ?? DEFAULT_FFT_TUNING, options.sourceFilter ?? 'device')
    } catch (e) {
      setupError = e
    }
    const validation = await device.popErrorScope()
    const memory = await device.popErrorScope()
    if (setupError || validation || memory || !built) {
      ctx.dispose()
      if (setupError) throw setupError
      if (memory)
        throw new SimulationInputError(
          'grid',
          `the GPU (${description}) ran out of memory for the ${plan.axes.map((a) => a.total).join(' x ')} computational grid: use a coarser grid or --backend cpu`,
        )
      throw new Error(`WebGPU backend setup failed: ${validation?.message ?? 'unknown error'}`)
    }
    return built
  }
}

/**
 * Filters the source maps with the solver's own FFT (engine.ts filteredSourceList on the device):
 * for each map, upload, forward FFT, times the filter, inverse FFT, readback; then the sparse list
 * on the host. `real` and `spectrum` are scratch (the caller clears `real` afterwards).
 */
async function filterSourceOnDevice(
  ctx: KernelContext,
  fft: GpuFft3d,
  maps: { re: Float32Array; im: Float32Array; filter: Float32Array },
  real: GPUBuffer,
  spectrum: GPUBuffer,
) {
  const device = ctx.device
  const filter = ctx.storage('source filter', maps.filter)
  const filterOp = ctx.bind(
    radialFilterKernel,
    { spectrum, weight: filter },
    { count: fft.spectrumLength },
    groupsFor(fft.spectrumLength, ELEMENTWISE_WORKGROUP),
  )
  const ops = [...fft.forward(real, spectrum), filterOp, ...fft.inverse(spectrum, real)]
  const filtered: Float32Array[] = []
  for (const map of [maps.re, maps.im]) {
    device.queue.writeBuffer(real, 0, map)
    const encoder = device.createCommandEncoder({ label: 'source filter' })
    const pass = encoder.beginComputePass({ label: 'source filter' })
    for (const op of ops) encodeDispatch(pass, op)
    pass.end()
    device.queue.submit([encoder.finish()])
    filtered.push(new Float32Array(await readBuffer(device, real, map.byteLength)))
  }
  return sparseSource(filtered[0]!, filtered[1]!)
}

function checkLimits(device: GPUDevice, host: HostArrays, description: string): void {
  // The global FFT's packed x lines can exceed the half spectrum by a few lines; 8 n bytes bounds both.
  const largest = Math.max(4 * host.n, 8 * host.spectrumLength, 8 * host.size[0] * Math.ceil((host.size[1] * host.size[2]) / 2))
  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize)
  if (largest > limit) {
    const mib = (b: number) => (b / 2 ** 20).toFixed(0)
    throw new SimulationInputError(
      'grid',
      `the ${host.size.join(' x ')} computational grid needs ${mib(largest)} MiB buffers; ${description} allows at most ${mib(limit)} MiB per buffer: use a coarser grid or --backend cpu`,
    )
  }
}

async function buildBackend(
  ctx: KernelContext,
  plan: SimulationSetup,
  description: string,
  requested: FftDesign,
  tuning: FftTuning,
  sourceFilter: 'host' | 'device',
): Promise<WebGpuSolverBackend> {
  const device = ctx.device
  const host = prepareHostArrays(plan, { sourceFilter })
  checkLimits(device, host, description)
  const [nx, ny, nz] = host.size
  // Lines longer than the workgroup memory holds go through the global design instead.
  const longest = maxWorkgroupFftAxis(device.limits.maxComputeWorkgroupStorageSize)
  const design: FftDesign = requested === 'workgroup' && Math.max(nx, ny, nz) > longest ? 'global' : requested
  const n = host.n
  const nh = host.spectrumLength
  const [ax, ay, az] = plan.axes
  const userN = ax.userSize * ay.userSize * az.userSize
  const dt = plan.time.dtS
  const omega = 2 * Math.PI * plan.source.frequencyHz
  const rampSteps = plan.time.rampSteps
  const fft = createGpuFft3d(ctx, nx, ny, nz, design, tuning)

  // Fields.
  const p = ctx.zeros('p', n)
  const u = [ctx.zeros('ux', n), ctx.zeros('uy', n), ctx.zeros('uz', n)] as const
  const rho = [ctx.zeros('rhox', n), ctx.zeros('rhoy', n), ctx.zeros('rhoz', n)] as const
  const grad = ctx.zeros('gradient', n)
  const div = plan.absorbing ? ctx.zeros('divergence', n) : ctx.zeros('divergence (unused)', 4)
  const spec = ctx.zeros('spectrum', 2 * fft.workLength)
  const tmp = ctx.zeros('spectrum product', 2 * fft.workLength)
  const windowSums = ctx.zeros('window sums', 2 * userN)
  const flags = ctx.zeros('non-finite flags', 4)

  // Operators and medium.
  const kappa = ctx.storage('kappa', host.kappa)
  const shift = ctx.storage('shift operators', host.shift)
  const pml = ctx.storage('pml', host.pml)
  const soundSpeedSq = ctx.storage('c0^2', host.soundSpeedSq)
  const density = ctx.storage('rho0', host.density)
  const dtOverDensity = host.dtOverDensity.map((a, i) => ctx.storage(`dt/rho0 staggered ${'xyz'[i]}`, a))
  const tau = ctx.storage('tau', host.tau)
  const eta = ctx.storage('eta', host.eta)
  let sparse: { index: Uint32Array; weight: Float32Array }
  if (host.source.kind === 'maps') {
    const list = await filterSourceOnDevice(ctx, fft, host.source, grad, spec)
    sparse = { index: list.index, weight: sparseWeights(list.re, list.im) }
    const encoder = device.createCommandEncoder({ label: 'clear scratch' })
    encoder.clearBuffer(grad)
    device.queue.submit([encoder.finish()])
  } else {
    sparse = host.source
  }
  const sourceIndex = ctx.storage('source index', sparse.index)
  const sourceWeight = ctx.storage('source weight', sparse.weight)
  const stride = (a: Float32Array) => (a.length === 1 ? 0 : 1)

  const groups = (count: number) => groupsFor(count, ELEMENTWISE_WORKGROUP)
  const axes = [0, 1, 2] as const
  const ops: Dispatch[] = [...fft.forward(p, spec)]
  for (const axis of axes) {
    ops.push(
      ctx.bind(
        derivativeKernel,
        { spectrum: spec, product: tmp, kappa, shift },
        { count: nh, nxh: host.nxh, ny, axis, shiftOffset: host.shiftOffsets.positive[axis] },
        groups(nh),
      ),
    )
    ops.push(...fft.inverse(tmp, grad))
    ops.push(
      ctx.bind(
        velocityKernel,
        { velocity: u[axis], gradient: grad, dtOverDensity: dtOverDensity[axis]!, pml },
        { count: n, nx, ny, axis, pmlOffset: host.pmlOffsets.staggered[axis], dtOverDensityStride: stride(host.dtOverDensity[axis]) },
        groups(n),
      ),
    )
  }
  for (const axis of axes) {
    ops.push(...fft.forward(u[axis], spec))
    ops.push(
      ctx.bind(
        derivativeKernel,
        { spectrum: spec, product: tmp, kappa, shift },
        { count: nh, nxh: host.nxh, ny, axis, shiftOffset: host.shiftOffsets.negative[axis] },
        groups(nh),
      ),
    )
    ops.push(...fft.inverse(tmp, grad))
    ops.push(
      ctx.bind(
        densityKernel,
        { splitDensity: rho[axis], gradient: grad, density, pml, divergence: div },
        {
          count: n,
          nx,
          ny,
          axis,
          pmlOffset: host.pmlOffsets.regular[axis],
          densityStride: stride(host.density),
          dt,
          divergenceMode: plan.absorbing ? (axis === 0 ? 1 : 2) : 0,
        },
        groups(n),
      ),
    )
  }
  const sourceCount = sparse.index.length
  if (sourceCount > 0) {
    ops.push(
      ctx.bind(sourceKernel, { sourceIndex, sourceWeight, densityX: rho[0], densityY: rho[1], densityZ: rho[2] }, { count: sourceCount }, groups(sourceCount)),
    )
  }
  if (host.fractional) {
    const absorption = ctx.storage('|k|^(y-2)', host.fractional.absorption)
    const dispersion = ctx.storage('|k|^(y-1)', host.fractional.dispersion)
    ops.push(
      ctx.bind(
        fractionalPrepareKernel,
        { divergence: div, density, densityX: rho[0], densityY: rho[1], densityZ: rho[2], pressure: p },
        { count: n, densityStride: stride(host.density) },
        groups(n),
      ),
    )
    ops.push(
      ...fft.forward(div, spec),
      ctx.bind(radialFilterKernel, { spectrum: spec, weight: absorption }, { count: nh }, groups(nh)),
      ...fft.inverse(spec, div),
    )
    ops.push(
      ...fft.forward(p, spec),
      ctx.bind(radialFilterKernel, { spectrum: spec, weight: dispersion }, { count: nh }, groups(nh)),
      ...fft.inverse(spec, grad),
    )
    ops.push(
      ctx.bind(
        fractionalCombineKernel,
        { pressure: p, soundSpeedSq, tau, eta, absorptionTerm: div, dispersionTerm: grad },
        { count: n, soundSpeedSqStride: stride(host.soundSpeedSq), tauStride: stride(host.tau), etaStride: stride(host.eta) },
        groups(n),
      ),
    )
  } else {
    ops.push(
      ctx.bind(
        pressureKernel,
        { pressure: p, densityX: rho[0], densityY: rho[1], densityZ: rho[2], soundSpeedSq, tau, density, divergence: div },
        {
          count: n,
          soundSpeedSqStride: stride(host.soundSpeedSq),
          tauStride: stride(host.tau),
          densityStride: stride(host.density),
          absorbing: plan.absorbing ? 1 : 0,
        },
        groups(n),
      ),
    )
  }
  const accumulateOp = ctx.bind(
    accumulateKernel,
    { pressure: p, window: windowSums },
    { userCount: userN, userNx: ax.userSize, userNy: ay.userSize, startX: ax.userStart, startY: ay.userStart, startZ: az.userStart, nx, ny },
    groups(userN),
  )
  const nonfiniteOp = ctx.bind(
    nonfiniteKernel,
    { values: p, flags },
    { count: n, perThread: NONFINITE_PER_THREAD },
    groups(Math.ceil(n / NONFINITE_PER_THREAD)),
  )

  // Per-step uniform slots, one per step of a batch.
  const slotBytes = Math.max(STEP_UNIFORM_BYTES, device.limits.minUniformBufferOffsetAlignment)
  const stepBuffer = ctx.buffer('per-step uniforms', slotBytes * MAX_BATCH, BufferUsage.UNIFORM | BufferUsage.COPY_DST)
  const stepGroup = device.createBindGroup({
    label: 'per-step uniforms',
    layout: ctx.stepLayout,
    entries: [{ binding: 0, resource: { buffer: stepBuffer, size: STEP_UNIFORM_BYTES } }],
  })
  const stepData = new Float32Array((slotBytes / 4) * MAX_BATCH)
  const flagsReadback = ctx.buffer('non-finite readback', 16, BufferUsage.MAP_READ | BufferUsage.COPY_DST)
  const windowReadback = ctx.buffer('window readback', Math.max(16, 8 * userN), BufferUsage.MAP_READ | BufferUsage.COPY_DST)

  let step = 0
  let disposed = false
  const alive = () => {
    if (disposed) throw new Error('WebGPU backend used after dispose()')
  }

  /**
   * Submits `steps` time steps in batches of MAX_BATCH (one command buffer each), then the
   * non-finite count of p into flagsReadback.
   */
  function encodeSteps(steps: number, accumulate: boolean) {
    const slotFloats = slotBytes / 4
    let left = steps
    while (left > 0) {
      const batch = Math.min(MAX_BATCH, left)
      for (let s = 0; s < batch; s++) {
        // Same schedule as the CPU engine: step `next` adds the source at t = next dt with the
        // (1 - cos)/2 ramp, and its pressure enters the window at that same t.
        const next = step + s + 1
        const t = next * dt
        const ramp = next >= rampSteps ? 1 : 0.5 * (1 - Math.cos((Math.PI * next) / rampSteps))
        const c = Math.cos(omega * t)
        const sn = Math.sin(omega * t)
        stepData.set([ramp * c, -ramp * sn, c, sn], s * slotFloats)
      }
      // Queue order makes this write land after the previous batch has read the slots.
      device.queue.writeBuffer(stepBuffer, 0, stepData, 0, batch * slotFloats)
      const last = batch === left
      const encoder = device.createCommandEncoder({ label: 'time steps' })
      if (last) encoder.clearBuffer(flags)
      const pass = encoder.beginComputePass({ label: 'time steps' })
      for (let s = 0; s < batch; s++) {
        const slot = { group: stepGroup, offset: s * slotBytes }
        for (const op of ops) encodeDispatch(pass, op, slot)
        if (accumulate) encodeDispatch(pass, accumulateOp, slot)
      }
      if (last) encodeDispatch(pass, nonfiniteOp)
      pass.end()
      if (last) encoder.copyBufferToBuffer(flags, 0, flagsReadback, 0, 16)
      device.queue.submit([encoder.finish()])
      step += batch
      left -= batch
    }
  }

  async function readFlags(buffer: GPUBuffer): Promise<number> {
    await buffer.mapAsync(MapMode.READ)
    const count = new Uint32Array(buffer.getMappedRange(0, 16))[0]!
    buffer.unmap()
    return count
  }

  const backend: WebGpuSolverBackend = {
    name: 'webgpu',
    device: description,
    async profile(reps) {
      alive()
      // Each dispatch of one step (with the window accumulation) replayed `reps` times on its own,
      // timed to completion; the fields' values do not matter to the timing.
      const slot = { group: stepGroup, offset: 0 }
      const out: Array<{ label: string; ms: number }> = []
      for (const op of [...ops, accumulateOp]) {
        const encoder = device.createCommandEncoder({ label: 'profile' })
        const pass = encoder.beginComputePass({ label: 'profile' })
        for (let r = 0; r < reps; r++) encodeDispatch(pass, op, slot)
        pass.end()
        const t0 = performance.now()
        device.queue.submit([encoder.finish()])
        await device.queue.onSubmittedWorkDone()
        out.push({ label: op.label, ms: (performance.now() - t0) / reps })
      }
      return out
    },
    async advance(steps, accumulate) {
      alive()
      if (steps <= 0) return
      device.pushErrorScope('validation')
      let bad = 0
      let failure: unknown
      try {
        encodeSteps(steps, accumulate)
        bad = await readFlags(flagsReadback)
      } catch (e) {
        failure = e
      }
      // A validation error explains a failed readback better than the readback's own error.
      const error = await device.popErrorScope()
      if (error) throw new Error(`WebGPU backend: ${error.message}`)
      if (failure) throw failure
      if (bad > 0) {
        throw new SimulationNumericalError(
          `the field became non-finite by step ${step} (${bad} of ${n} points; instability: check the time step, the medium contrast and the PML)`,
        )
      }
    },
    async takeWindow(windowSteps) {
      alive()
      const encoder = device.createCommandEncoder({ label: 'window readback' })
      encoder.copyBufferToBuffer(windowSums, 0, windowReadback, 0, 8 * userN)
      encoder.clearBuffer(windowSums)
      device.queue.submit([encoder.finish()])
      await windowReadback.mapAsync(MapMode.READ)
      const sums = new Float32Array(windowReadback.getMappedRange(0, 8 * userN).slice(0))
      windowReadback.unmap()
      // p = A cos(omega t + phi): sum p cos = (W/2) A cos phi, sum p sin = -(W/2) A sin phi.
      const re = new Float32Array(userN)
      const im = new Float32Array(userN)
      for (let i = 0; i < userN; i++) {
        re[i] = (2 / windowSteps) * sums[2 * i]!
        im[i] = (-2 / windowSteps) * sums[2 * i + 1]!
        if (!Number.isFinite(re[i]!) || !Number.isFinite(im[i]!)) {
          throw new SimulationNumericalError(
            `the steady-state amplitude became non-finite by step ${step} (instability: check the time step, the medium contrast and the PML)`,
          )
        }
      }
      return { re, im }
    },
    dispose() {
      if (disposed) return
      disposed = true
      ctx.dispose()
    },
  }
  return backend
}
