/**
 * The WebGPU-vs-CPU parity cases, shared by the test suite (on SwiftShader,
 * tests/integration/solver/webgpu-parity.test.ts and tests/integration/thermal/webgpu-parity.test.ts) and the
 * device run on a real GPU (scripts/gpu/checks.ts), so both check the same scenes against the
 * same bounds.
 */
import { thermalProtocolRecord } from '../../core/contracts/thermal-protocol.ts'
import { createFft3d } from '../../core/fft/fft3d.ts'
import type { BackendFactory } from '../../core/solver/run.ts'
import type { SimulationSetup } from '../../core/solver/setup.ts'
import { createCpuThermalBackend } from '../../core/thermal/cpu.ts'
import type { ThermalBackend } from '../../core/thermal/backend.ts'
import { buildThermalProblem } from '../../core/thermal/model.ts'
import { ABSORBED_FRACTIONS, PLAN_THERMAL_MATERIALS } from '../../core/thermal/properties.ts'
import { buildSchedule } from '../../core/thermal/schedule.ts'
import { syntheticLayeredHead } from '../../core/thermal/synthetic.ts'
import { createGpuFft3d, type FftDesign, type FftTuning } from '../../core/solver/webgpu/fft.ts'
import type { GPUDevice } from '../../core/solver/webgpu/gpu-types.ts'
import { encodeDispatch, KernelContext, readBuffer } from '../../core/solver/webgpu/kernel.ts'
import { planeWaveScene } from './solver.ts'
import { randomArray } from '../unit/fft/naive.ts'

/** Bounds: float32 on both sides agrees to rounding; a wrong operator, index or sign is O(1). */
export const FFT_BOUND = 1e-6
export const RUN_BOUND = 1e-4
export const THERMAL_BOUND = 1e-4

export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0
  let den = 0
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2
    den += a[i]! ** 2
  }
  return Math.sqrt(num / den)
}

export function complexRelativeL2(a: { re: ArrayLike<number>; im: ArrayLike<number> }, b: { re: ArrayLike<number>; im: ArrayLike<number> }): number {
  let num = 0
  let den = 0
  for (let i = 0; i < a.re.length; i++) {
    num += (a.re[i]! - b.re[i]!) ** 2 + (a.im[i]! - b.im[i]!) ** 2
    den += a.re[i]! ** 2 + a.im[i]! ** 2
  }
  return Math.sqrt(num / den)
}

/** Largest absolute difference relative to the reference's largest magnitude. */
export function maxRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(b[i]!))
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale)
  return worst
}

/** Deterministic uniform(-0.5, 0.5) float32 values (the FFT tests' mulberry32 sequence). */
export function random(length: number, seed: number): Float32Array {
  return Float32Array.from(randomArray(length, seed))
}

/** Runs `steps` steps, then one window; returns the window and the time per step. */
export async function runSteps(factory: BackendFactory, plan: SimulationSetup, steps: number, windowSteps: number) {
  const backend = await factory(plan)
  try {
    const started = performance.now()
    await backend.advance(steps, false)
    await backend.advance(windowSteps, true)
    const window = await backend.takeWindow(windowSteps)
    return { window, msPerStep: (performance.now() - started) / (steps + windowSteps) }
  } finally {
    backend.dispose()
  }
}

/** FFT sizes of the parity check: even, odd and all radices 2, 3, 5, 7. */
export const FFT_PARITY_SIZES: ReadonlyArray<readonly [number, number, number]> = [
  [12, 10, 14],
  [16, 16, 16],
  [15, 9, 7],
]

/**
 * Forward and inverse 3D FFT of random data on the GPU against core/fft (float64): the relative
 * L2 errors. The inverse's input is a half spectrum that is not Hermitian in the kx = 0 and
 * Nyquist planes: the GPU must drop those imaginary parts exactly as the CPU's irfft does.
 */
export async function fftParity(
  device: GPUDevice,
  nx: number,
  ny: number,
  nz: number,
  design: FftDesign,
  tuning?: FftTuning,
): Promise<{ forward: number; inverse: number }> {
  const ctx = new KernelContext(device)
  try {
    const fft = createGpuFft3d(ctx, nx, ny, nz, design, tuning)
    const n = nx * ny * nz
    const h = fft.spectrumLength
    const field = random(n, 1 + nx)
    const spectrumIn = random(2 * h, 2 + nx)
    const real = ctx.storage('field', field)
    const spectrum = ctx.zeros('spectrum', 2 * fft.workLength)
    const padded = new Float32Array(2 * fft.workLength)
    padded.set(spectrumIn)
    const spectrum2 = ctx.storage('spectrum in', padded)
    const back = ctx.zeros('inverse', n)
    const encoder = device.createCommandEncoder()
    const pass = encoder.beginComputePass()
    for (const d of [...fft.forward(real, spectrum), ...fft.inverse(spectrum2, back)]) encodeDispatch(pass, d)
    pass.end()
    device.queue.submit([encoder.finish()])
    const gpuSpectrum = new Float32Array(await readBuffer(device, spectrum, 8 * h))
    const gpuInverse = new Float32Array(await readBuffer(device, back, 4 * n))

    const cpu = createFft3d(nx, ny, nz)
    const re = new Float64Array(h)
    const im = new Float64Array(h)
    cpu.forward(Float64Array.from(field), re, im)
    const expected = new Float64Array(2 * h)
    for (let i = 0; i < h; i++) {
      expected[2 * i] = re[i]!
      expected[2 * i + 1] = im[i]!
    }
    for (let i = 0; i < h; i++) {
      re[i] = spectrumIn[2 * i]!
      im[i] = spectrumIn[2 * i + 1]!
    }
    const expectedInverse = new Float64Array(n)
    cpu.inverse(re, im, expectedInverse)
    return { forward: relativeL2(expected, gpuSpectrum), inverse: relativeL2(expectedInverse, gpuInverse) }
  } finally {
    ctx.dispose()
  }
}

const water = { sound_speed: 1500, density: 1000, alpha_db_cm: 0 }
// 20 x 21 x 21 user points at 0.6 mm; with the source stencil's margin and a 6-point PML the
// computational grid is 40 x 42 x 42 (radices 4, 2, 5 and 2, 3, 7).
const grid = { spacing_m: 0.0006, min_m: [0, -0.006, -0.006], max_m: [0.0114, 0.006, 0.006] }
const bowl = { type: 'bowl', apex_m: [0, 0, 0], focus_m: [0.009, 0, 0], roc_m: 0.009, aperture_m: 0.007, amplitude_pa: 60000 }
const solver = { pml_points: 6, cfl: 0.5, ramp_periods: 1 }

/** Whole-run scenes: the steady-state complex amplitude must agree within RUN_BOUND. */
export const RUN_PARITY_SCENES: ReadonlyArray<{ readonly name: string; readonly scene: unknown }> = [
  { name: 'focused bowl in water (lossless)', scene: { frequency_hz: 500000, grid, background: water, source: bowl, solver } },
  {
    name: 'bowl into an absorbing sphere (heterogeneous, y = 2)',
    scene: {
      frequency_hz: 500000,
      grid,
      background: { ...water, alpha_db_cm: 0.5 },
      objects: [{ shape: 'sphere', center_m: [0.0085, 0.0008, 0], radius_m: 0.003, material: { sound_speed: 1900, density: 1500, alpha_db_cm: 2 } }],
      source: bowl,
      solver,
    },
  },
  {
    name: 'bowl through an absorbing slab, y = 1.5 (fractional Laplacians)',
    scene: {
      frequency_hz: 500000,
      grid,
      background: { ...water, alpha_db_cm: 1, alpha_power: 1.5 },
      objects: [{ shape: 'slab', axis: 0, from_m: 0.006, to_m: 0.0084, material: { sound_speed: 1900, density: 1500, alpha_db_cm: 4, alpha_power: 1.5 } }],
      source: bowl,
      solver,
    },
  },
]

/**
 * A plane wave through a y = 1.5 slab on a periodic 4 x 4 cross-section: a few thousand points,
 * cheap even on SwiftShader, so the runner's whole schedule (windows until converged) fits.
 */
export function planeWaveParityScene(): unknown {
  const scene = planeWaveScene({
    dx: 0.0005,
    lengthM: 0.02,
    sourceAtM: 0.006,
    background: { sound_speed: 1500, density: 1000, alpha_db_cm: 0.5, alpha_power: 1.5 },
    objects: [{ shape: 'slab', axis: 0, from_m: 0.01, to_m: 0.014, material: { sound_speed: 1900, density: 1500, alpha_db_cm: 3, alpha_power: 1.5 } }],
  })
  return { ...scene, solver: { ...scene.solver, cfl: 0.5, ramp_periods: 1 } }
}

/** The thermal parity case: a layered head through a multi-batch schedule (trains, two drive levels, cooling). */
export const THERMAL_PARITY_PROTOCOL = thermalProtocolRecord.parse({
  sonications: [
    { pulse_duration_s: 0.05, prf_hz: 10, train_duration_s: 4, train_interval_s: 6, trains: 3, gap_after_s: 5 },
    { pulse_duration_s: 0.02, prf_hz: 10, train_duration_s: 10, train_interval_s: 10, trains: 1, drive_scale: 1.5 },
  ],
  cooling_s: 10,
})

/**
 * Runs the thermal parity case on the CPU (float64) and on `gpu`: the largest relative
 * differences of each output, the CPU's peak rise and the schedule's length.
 */
export async function thermalParity(gpu: ThermalBackend) {
  // 2 MPa focal pressure: the skull passes 43 °C, so the dose's R = 0.5 branch and the crossing are exercised.
  const inputs = syntheticLayeredHead({ dims: [20, 20, 30], skinStartM: 0.005, skullStartM: 0.008, brainStartM: 0.014, focusM: 0.022, focalPressurePa: 2e6 })
  const problem = buildThermalProblem({
    ...inputs,
    materials: PLAN_THERMAL_MATERIALS,
    absorbedFraction: ABSORBED_FRACTIONS.prestus.byLabel,
    coupling: 'conducting',
  })
  const schedule = buildSchedule(THERMAL_PARITY_PROTOCOL, 0.95 * problem.dtStableS)
  const probes = [10 + 20 * (10 + 20 * 10), 10 + 20 * (10 + 20 * 22), 3 + 20 * (4 + 20 * 6)]
  const req = { problem, batches: schedule.batches, recordMaps: true, probes }
  const cpu = await createCpuThermalBackend().run(req)
  const started = performance.now()
  const web = await gpu.run(req)
  const gpuS = (performance.now() - started) / 1000
  return {
    steps: schedule.steps,
    batches: schedule.batches.length,
    voxels: inputs.labels.length,
    gpuS,
    cpuPeakRise: Math.max(...cpu.maxRise!),
    probeSamples: web.probeRise.length,
    expectedProbeSamples: (schedule.steps + 1) * probes.length,
    errors: {
      maxRise: maxRelative(web.maxRise!, cpu.maxRise!),
      cem43: maxRelative(web.cem43!, cpu.cem43!),
      finalRise: maxRelative(web.finalRise, cpu.finalRise),
      trackedMax: maxRelative(web.trackedMax, cpu.trackedMax),
      probeRise: maxRelative(web.probeRise, cpu.probeRise),
    },
  }
}
