/**
 * WebGPU backend of the thermal model: the update of ../model.ts in WGSL (step.wgsl), the
 * per-tissue maxima and probe samples after every step (record.wgsl) and the step counter
 * (advance.wgsl). The whole schedule is recorded up front: each step reads its batch (dt, level,
 * per-label weights) through the counter, so steps are replayed without per-step uniforms, in
 * submissions of STEPS_PER_SUBMIT steps between which progress and cancel are checked. One
 * readback at the end. Float32 on the device; the CPU backend (float64) is the reference
 * (tests/integration/thermal/webgpu-parity.test.ts).
 */
import type { GPUDevice } from '../../solver/webgpu/gpu-types.ts'
import { encodeDispatch, groupsFor, KernelContext, readBuffer, type Dispatch } from '../../solver/webgpu/kernel.ts'
import { abortError, totalSteps, type ThermalBackend, type ThermalRunOutput, type ThermalRunRequest } from '../backend.ts'
import { HELD, MAX_LABELS, TRACKED_LABELS, stepWeights } from '../model.ts'
import { BATCH_FLOATS, THERMAL_WORKGROUP, thermalAdvanceKernel, thermalRecordKernel, thermalStepKernel } from './kernels.ts'

const STEPS_PER_SUBMIT = 64
/** Threads of the record kernel (each scans count / threads voxels). */
const RECORD_THREADS = 8192

export function createWebGpuThermalBackend(device: GPUDevice, description: string): ThermalBackend {
  return { name: 'webgpu', device: description, run: (req) => runWebGpu(device, req), dispose: () => {} }
}

async function runWebGpu(device: GPUDevice, req: ThermalRunRequest): Promise<ThermalRunOutput> {
  const p = req.problem
  const n = p.count
  const [nx, ny] = p.dims
  const steps = totalSteps(req.batches)
  const ctx = new KernelContext(device)
  try {
    const conduct = new Float32Array(4 * n)
    const heat = new Uint32Array(2 * n)
    const heatF = new Float32Array(heat.buffer)
    const theta0 = new Float32Array(n)
    for (let v = 0; v < n; v++) {
      conduct[4 * v] = p.cx[v]!
      conduct[4 * v + 1] = p.cy[v]!
      conduct[4 * v + 2] = p.cz[v]!
      conduct[4 * v + 3] = p.invCapacity[v]!
      heatF[2 * v] = p.heatingRate[v]!
      heat[2 * v + 1] = p.labels[v]!
      if (req.initialRise && !(p.labels[v]! & HELD)) theta0[v] = req.initialRise[v]!
    }
    const batches = new Float32Array(Math.max(1, req.batches.length) * BATCH_FLOATS)
    const control = new Uint32Array(1 + steps)
    let s = 0
    req.batches.forEach((b, i) => {
      const { decay, gain } = stepWeights(p.perfusionByLabel, b.dtS)
      for (let l = 0; l < MAX_LABELS; l++) {
        batches[BATCH_FLOATS * i + l] = decay[l]!
        batches[BATCH_FLOATS * i + 4 + l] = gain[l]!
      }
      batches[BATCH_FLOATS * i + 8] = b.level
      batches[BATCH_FLOATS * i + 9] = b.dtS / 60
      for (let k = 0; k < b.steps; k++) control[1 + s++] = i
    })
    const dose0 = new Float32Array(2 * n)
    for (let v = 0; v < n; v++) dose0[2 * v] = Math.max(0, theta0[v]!)
    const tracked = TRACKED_LABELS.length
    const probeCount = req.probes.length
    const buffers = {
      thetaA: ctx.storage('theta A', theta0),
      thetaB: ctx.zeros('theta B', n),
      conduct: ctx.storage('conductances', conduct),
      heat: ctx.storage('heating rate and label', heat),
      batches: ctx.storage('batches', batches),
      control: ctx.storage('step control', control),
      dose: ctx.storage('max rise and dose', dose0),
      trackedMax: ctx.zeros('tracked maxima', (steps + 1) * tracked),
      probeIndex: ctx.storage('probe voxels', Uint32Array.from(probeCount > 0 ? req.probes : [0])),
      probeRise: ctx.zeros('probe rise', Math.max(1, (steps + 1) * probeCount)),
    }
    const stepParams = { count: n, nx, nxy: nx * ny, recordMaps: req.recordMaps ? 1 : 0 }
    const stepGroups = groupsFor(n, THERMAL_WORKGROUP)
    const recordThreads = Math.max(THERMAL_WORKGROUP, Math.max(probeCount, Math.min(RECORD_THREADS, n)))
    const recordGroups = groupsFor(recordThreads, THERMAL_WORKGROUP)
    const recordParams = { count: n, perThread: Math.ceil(n / (recordGroups * THERMAL_WORKGROUP)), probeCount }
    const common = { conduct: buffers.conduct, heat: buffers.heat, batches: buffers.batches, control: buffers.control, dose: buffers.dose }
    const recordCommon = {
      heat: buffers.heat,
      control: buffers.control,
      trackedMax: buffers.trackedMax,
      probeIndex: buffers.probeIndex,
      probeRise: buffers.probeRise,
    }
    // Even steps read A and write B; odd steps the reverse.
    const plan: Dispatch[][] = [
      [
        ctx.bind(thermalStepKernel, { ...common, thetaOld: buffers.thetaA, thetaNew: buffers.thetaB }, stepParams, stepGroups),
        ctx.bind(thermalRecordKernel, { ...recordCommon, theta: buffers.thetaB }, recordParams, recordGroups),
        ctx.bind(thermalAdvanceKernel, { control: buffers.control }, { steps }, 1),
      ],
      [
        ctx.bind(thermalStepKernel, { ...common, thetaOld: buffers.thetaB, thetaNew: buffers.thetaA }, stepParams, stepGroups),
        ctx.bind(thermalRecordKernel, { ...recordCommon, theta: buffers.thetaA }, recordParams, recordGroups),
        ctx.bind(thermalAdvanceKernel, { control: buffers.control }, { steps }, 1),
      ],
    ]
    let done = 0
    while (done < steps) {
      if (req.signal?.aborted) throw abortError()
      const chunk = Math.min(STEPS_PER_SUBMIT, steps - done)
      const encoder = device.createCommandEncoder({ label: 'thermal steps' })
      const pass = encoder.beginComputePass({ label: 'thermal steps' })
      for (let k = 0; k < chunk; k++) for (const d of plan[(done + k) % 2]!) encodeDispatch(pass, d)
      pass.end()
      device.queue.submit([encoder.finish()])
      await device.queue.onSubmittedWorkDone()
      done += chunk
      req.onProgress?.(done, steps)
    }
    const final = steps % 2 === 0 ? buffers.thetaA : buffers.thetaB
    const finalRise = new Float32Array(await readBuffer(device, final, 4 * n))
    const doseData = req.recordMaps ? new Float32Array(await readBuffer(device, buffers.dose, 8 * n)) : null
    const trackedBits = new Uint32Array(await readBuffer(device, buffers.trackedMax, 4 * (steps + 1) * tracked))
    const trackedMax = new Float32Array(trackedBits.buffer)
    const probeRise = probeCount > 0 ? new Float32Array(await readBuffer(device, buffers.probeRise, 4 * (steps + 1) * probeCount)) : new Float32Array(0)
    // Row 0, the initial state, comes from the host.
    for (let v = 0; v < n; v++) {
      const slot = (TRACKED_LABELS as readonly number[]).indexOf(p.labels[v]!)
      if (slot >= 0 && theta0[v]! > trackedMax[slot]!) trackedMax[slot] = theta0[v]!
    }
    req.probes.forEach((v, q) => (probeRise[q] = theta0[v]!))
    let maxRise: Float32Array | null = null
    let cem43: Float32Array | null = null
    if (doseData) {
      maxRise = new Float32Array(n)
      cem43 = new Float32Array(n)
      for (let v = 0; v < n; v++) {
        maxRise[v] = doseData[2 * v]!
        cem43[v] = doseData[2 * v + 1]!
      }
    }
    return { maxRise, cem43, finalRise, trackedMax, probeRise }
  } finally {
    ctx.dispose()
  }
}
