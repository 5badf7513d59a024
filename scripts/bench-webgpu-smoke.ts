/**
 * WebGPU backend smoke benchmark: a focused bowl in water on a cubic grid, timed per step on
 * the CPU backend and on WebGPU with each FFT design, with the relative L2 difference of the
 * window amplitude against the CPU.
 *
 *   npx tsx --import ./electron/adapters/wgsl-register.mjs scripts/bench-webgpu-smoke.ts [points] [steps]
 *
 * `points` is the user grid per axis (default 48); the computational grid adds the PML and the
 * source margin. Without a GPU, set VK_ICD_FILENAMES to SwiftShader's ICD to run in software.
 */
import { cpuBackend } from '../core/solver/cpu/backend.ts'
import { DEFAULT_SETTINGS } from '../core/solver/model.ts'
import type { BackendFactory } from '../core/solver/run.ts'
import { parseScene } from '../core/solver/scene.ts'
import { setupSimulation, type SimulationSetup } from '../core/solver/setup.ts'
import { createWebGpuBackend } from '../core/solver/webgpu/backend.ts'
import { requestNodeGpuDevice } from '../electron/adapters/webgpu-device.ts'
import { complexRelativeL2 } from '../tests/helpers/webgpu-parity.ts'

const points = Number(process.argv[2] ?? 48)
const steps = Number(process.argv[3] ?? 40)
const dx = 0.0005
const half = Math.floor(points / 2) * dx
const roc = (points - 1) * dx * 0.8
const scene = parseScene({
  frequency_hz: 500000,
  grid: { spacing_m: dx, min_m: [0, -half, -half], max_m: [(points - 1) * dx, half, half] },
  background: { sound_speed: 1500, density: 1000, alpha_db_cm: 0 },
  source: { type: 'bowl', apex_m: [0, 0, 0], focus_m: [roc, 0, 0], roc_m: roc, aperture_m: roc, amplitude_pa: 60000 },
})
const plan = setupSimulation(scene.grid, scene.medium, scene.source, { ...DEFAULT_SETTINGS, ...scene.settings })
const windowSteps = plan.time.windowSteps

async function measure(factory: BackendFactory, p: SimulationSetup) {
  const backend = await factory(p)
  try {
    await backend.advance(2, false) // pipeline compilation and first submission
    const started = performance.now()
    await backend.advance(steps, false)
    await backend.advance(windowSteps, true)
    const msPerStep = (performance.now() - started) / (steps + windowSteps)
    return { msPerStep, window: await backend.takeWindow(windowSteps) }
  } finally {
    backend.dispose()
  }
}

const grid = plan.axes.map((a) => a.total).join('x')
console.log(`grid ${grid} (${plan.axes.reduce((n, a) => n * a.total, 1)} points), ${steps + windowSteps} timed steps`)
const gpu = await requestNodeGpuDevice({ allowSoftware: true })
if ('unavailable' in gpu) {
  console.log(`no WebGPU: ${gpu.unavailable}`)
  process.exit(0)
}
const cpu = await measure(cpuBackend, plan)
console.log(`cpu: ${cpu.msPerStep.toFixed(1)} ms/step`)
for (const fft of ['workgroup', 'global'] as const) {
  const result = await measure(createWebGpuBackend(gpu.device, gpu.description, { fft }), plan)
  console.log(
    `webgpu ${fft} FFT on ${gpu.description}: ${result.msPerStep.toFixed(2)} ms/step, relative L2 vs cpu ${complexRelativeL2(cpu.window, result.window).toExponential(2)}`,
  )
}
gpu.device.destroy()
