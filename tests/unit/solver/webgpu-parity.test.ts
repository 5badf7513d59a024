/**
 * The WebGPU backend against the CPU reference: the FFT kernels against core/fft on random
 * fields, and whole runs (same plan, same steps, same window) compared on the complex
 * steady-state amplitude. Float32 on both sides, so they agree to rounding (~1e-7 per step),
 * far inside the 1e-4 bound; a wrong operator, index or sign shows up as O(1).
 *
 * Without a GPU the kernels run on SwiftShader (Vulkan on the CPU), about 10x slower than the
 * CPU backend, so the scenes are small (~40^3 computational points, PML 6) and the runs use
 * the FFT design the hosts pick for the adapter ('global', one pass per stage, on software
 * adapters); the other design is checked by the FFT tests and on a plane-wave run.
 */
import { existsSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { createFft3d } from '../../../core/fft/fft3d.ts'
import { cpuBackend } from '../../../core/solver/cpu/backend.ts'
import { SimulationNumericalError } from '../../../core/solver/errors.ts'
import { DEFAULT_SETTINGS } from '../../../core/solver/model.ts'
import { runSimulation, type BackendFactory } from '../../../core/solver/run.ts'
import { parseScene } from '../../../core/solver/scene.ts'
import { planSimulation, type SimulationPlan } from '../../../core/solver/setup.ts'
import { createWebGpuBackend } from '../../../core/solver/webgpu/backend.ts'
import { createGpuFft3d, type FftDesign } from '../../../core/solver/webgpu/fft.ts'
import { encodeDispatch, KernelContext, readBuffer } from '../../../core/solver/webgpu/kernel.ts'
import { isSoftwareAdapter, requestNodeGpuDevice } from '../../../electron/node/webgpu-device.ts'
import { planeWaveScene } from '../../helpers/solver.ts'

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD

const gpu = await requestNodeGpuDevice({ allowSoftware: true })
const skipReason = 'unavailable' in gpu ? gpu.unavailable : undefined
if (skipReason) console.warn(`webgpu-parity skipped: ${skipReason}`)
const device = 'unavailable' in gpu ? undefined : gpu.device
const description = 'unavailable' in gpu ? '' : gpu.description
/** The FFT design the hosts pick for this adapter. */
const runDesign: FftDesign = 'unavailable' in gpu || gpu.software ? 'global' : 'workgroup'

afterAll(() => device?.destroy())

function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0
  let den = 0
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2
    den += a[i]! ** 2
  }
  return Math.sqrt(num / den)
}

function complexRelativeL2(a: { re: Float32Array; im: Float32Array }, b: { re: Float32Array; im: Float32Array }): number {
  let num = 0
  let den = 0
  for (let i = 0; i < a.re.length; i++) {
    num += (a.re[i]! - b.re[i]!) ** 2 + (a.im[i]! - b.im[i]!) ** 2
    den += a.re[i]! ** 2 + a.im[i]! ** 2
  }
  return Math.sqrt(num / den)
}

/** Deterministic uniform(-0.5, 0.5) values (mulberry32). */
function random(length: number, seed: number): Float32Array {
  let s = seed >>> 0
  const out = new Float32Array(length)
  for (let i = 0; i < length; i++) {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5
  }
  return out
}

async function runSteps(factory: BackendFactory, plan: SimulationPlan, steps: number, windowSteps: number) {
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

describe('WebGPU adapter classification', () => {
  const info = (vendor: string, architecture: string, device: string, description: string, isFallbackAdapter?: boolean) => ({ info: { vendor, architecture, device, description, ...(isFallbackAdapter === undefined ? {} : { isFallbackAdapter }) } })
  it('software adapters are recognised from Dawn\'s adapter info', () => {
    expect(isSoftwareAdapter(info('google', 'swiftshader', 'swiftshader-device-subzero-', 'SwiftShader driver 5.0.0'))).toBe(true)
    expect(isSoftwareAdapter(info('mesa', '', 'llvmpipe (LLVM 17.0.6, 256 bits)', ''))).toBe(true)
    expect(isSoftwareAdapter(info('', '', '', 'anything', true))).toBe(true)
    expect(isSoftwareAdapter(info('nvidia', 'lovelace', 'NVIDIA GeForce RTX 4090', 'NVIDIA: 550.54'))).toBe(false)
    expect(isSoftwareAdapter(info('apple', 'metal-3', '', 'Apple M2'))).toBe(false)
  })
})

describe.skipIf(skipReason !== undefined)(`WebGPU backend parity with the CPU reference${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  describe('3D FFT kernels against core/fft', () => {
    for (const design of ['workgroup', 'global'] as const)
      for (const [nx, ny, nz] of [
        [12, 10, 14],
        [16, 16, 16],
        [15, 9, 7],
      ] as const) {
        it(`${design} design, ${nx}x${ny}x${nz}: forward and inverse within 1e-6`, async () => {
          const ctx = new KernelContext(device!)
          try {
            const fft = createGpuFft3d(ctx, nx, ny, nz, design)
            const n = nx * ny * nz
            const h = fft.spectrumLength
            const field = random(n, 1 + nx)
            // A half spectrum that is not Hermitian in the kx = 0 and Nyquist planes: the
            // inverse must drop those imaginary parts exactly as the CPU's irfft does.
            const spectrumIn = random(2 * h, 2 + nx)
            const real = ctx.storage('field', field)
            const spectrum = ctx.zeros('spectrum', 2 * fft.workLength)
            const spectrum2 = ctx.storage('spectrum in', Float32Array.from({ length: 2 * fft.workLength }, (_, i) => spectrumIn[i] ?? 0))
            const back = ctx.zeros('inverse', n)
            const encoder = device!.createCommandEncoder()
            const pass = encoder.beginComputePass()
            for (const d of [...fft.forward(real, spectrum), ...fft.inverse(spectrum2, back)]) encodeDispatch(pass, d)
            pass.end()
            device!.queue.submit([encoder.finish()])
            const gpuSpectrum = new Float32Array(await readBuffer(device!, spectrum, 8 * h))
            const gpuInverse = new Float32Array(await readBuffer(device!, back, 4 * n))

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
            const forwardError = relativeL2(expected, gpuSpectrum)
            const inverseError = relativeL2(expectedInverse, gpuInverse)
            console.log(`webgpu-parity FFT ${design} ${nx}x${ny}x${nz}: forward ${forwardError.toExponential(2)}, inverse ${inverseError.toExponential(2)}`)
            expect(forwardError).toBeLessThan(1e-6)
            expect(inverseError).toBeLessThan(1e-6)
          } finally {
            ctx.dispose()
          }
        })
      }
  })

  describe('whole runs: steady-state complex amplitude within 1e-4 of the CPU backend', () => {
    const water = { sound_speed: 1500, density: 1000, alpha_db_cm: 0 }
    // 20 x 21 x 21 user points at 0.6 mm; with the source stencil's margin and a 6-point PML
    // the computational grid is 40 x 42 x 42 (radices 4, 2, 5 and 2, 3, 7).
    const grid = { spacing_m: 0.0006, min_m: [0, -0.006, -0.006], max_m: [0.0114, 0.006, 0.006] }
    const source = { type: 'bowl', apex_m: [0, 0, 0], focus_m: [0.009, 0, 0], roc_m: 0.009, aperture_m: 0.007, amplitude_pa: 60000 }
    const solver = { pml_points: 6, cfl: 0.5, ramp_periods: 1 }
    const cases = [
      { name: 'focused bowl in water (lossless)', scene: { frequency_hz: 500000, grid, background: water, source, solver } },
      {
        name: 'bowl into an absorbing sphere (heterogeneous, y = 2)',
        scene: {
          frequency_hz: 500000,
          grid,
          background: { ...water, alpha_db_cm: 0.5 },
          objects: [{ shape: 'sphere', center_m: [0.0085, 0.0008, 0], radius_m: 0.003, material: { sound_speed: 1900, density: 1500, alpha_db_cm: 2 } }],
          source,
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
          source,
          solver,
        },
      },
    ]
    for (const c of cases) {
      it(c.name, async () => {
        const s = parseScene(c.scene)
        const plan = planSimulation(s.grid, s.medium, s.source, { ...DEFAULT_SETTINGS, ...s.settings })
        // The runner's first window: ramp plus one domain traversal, then one window.
        const steps = plan.time.firstWindowStartStep
        const windowSteps = plan.time.windowSteps
        const reference = await runSteps(cpuBackend, plan, steps, windowSteps)
        const webgpu = await runSteps(createWebGpuBackend(device!, description, { fft: runDesign }), plan, steps, windowSteps)
        const difference = complexRelativeL2(reference.window, webgpu.window)
        console.log(
          `webgpu-parity ${c.name}: grid ${plan.axes.map((a) => a.total).join('x')}, ${steps + windowSteps} steps, relative L2 ${difference.toExponential(2)}; ` +
            `${webgpu.msPerStep.toFixed(0)} ms/step on ${description} (${runDesign} FFT), CPU ${reference.msPerStep.toFixed(0)} ms/step`,
        )
        expect(difference).toBeLessThan(1e-4)
      })
    }
  })

  // A plane wave on a periodic 4 x 4 cross-section: a few thousand points, cheap even on
  // SwiftShader, so the runner's whole schedule (windows until converged) fits.
  const planeWave = () => {
    const scene = planeWaveScene({
      dx: 0.0005,
      lengthM: 0.02,
      sourceAtM: 0.006,
      background: { sound_speed: 1500, density: 1000, alpha_db_cm: 0.5, alpha_power: 1.5 },
      objects: [{ shape: 'slab', axis: 0, from_m: 0.01, to_m: 0.014, material: { sound_speed: 1900, density: 1500, alpha_db_cm: 3, alpha_power: 1.5 } }],
    })
    return parseScene({ ...scene, solver: { ...scene.solver, cfl: 0.5, ramp_periods: 1 } })
  }

  it('runSimulation end to end (plane wave through a y = 1.5 slab): same steps, same field', async () => {
    const s = planeWave()
    const inputs = { grid: s.grid, medium: s.medium, source: s.source, settings: s.settings }
    const reference = await runSimulation({ ...inputs, backend: cpuBackend })
    const result = await runSimulation({ ...inputs, backend: createWebGpuBackend(device!, description, { fft: runDesign }) })
    expect(result.backend).toBe('webgpu')
    expect(result.device).toBe(description)
    expect(result.converged).toBe(true)
    expect(result.steps).toBe(reference.steps)
    const toComplex = (r: typeof result) => ({ re: r.amplitudePa.map((a, i) => a * Math.cos(r.phaseRad[i]!)), im: r.amplitudePa.map((a, i) => a * Math.sin(r.phaseRad[i]!)) })
    const difference = complexRelativeL2(toComplex(reference), toComplex(result))
    console.log(`webgpu-parity runSimulation plane wave (${runDesign} FFT): ${result.steps} steps, relative L2 ${difference.toExponential(2)}`)
    expect(difference).toBeLessThan(1e-4)
  })

  it('the other FFT design in a whole run (plane wave through a y = 1.5 slab)', async () => {
    const other: FftDesign = runDesign === 'global' ? 'workgroup' : 'global'
    const s = planeWave()
    const plan = planSimulation(s.grid, s.medium, s.source, { ...DEFAULT_SETTINGS, ...s.settings })
    const steps = plan.time.firstWindowStartStep
    const reference = await runSteps(cpuBackend, plan, steps, plan.time.windowSteps)
    const webgpu = await runSteps(createWebGpuBackend(device!, description, { fft: other }), plan, steps, plan.time.windowSteps)
    const difference = complexRelativeL2(reference.window, webgpu.window)
    console.log(`webgpu-parity plane wave (${other} FFT): ${steps + plan.time.windowSteps} steps, relative L2 ${difference.toExponential(2)}, ${webgpu.msPerStep.toFixed(0)} ms/step`)
    expect(difference).toBeLessThan(1e-4)
  })

  it('an unstable run throws SimulationNumericalError instead of returning NaN', async () => {
    const s = parseScene(
      planeWaveScene({ dx: 0.0005, lengthM: 0.02, sourceAtM: 0.01, background: { sound_speed: 1500, density: 1000, alpha_db_cm: 50, alpha_power: 2 } }),
    )
    const plan = planSimulation(s.grid, s.medium, s.source, { ...DEFAULT_SETTINGS, ...s.settings })
    // Eight times the absorbing-medium stability limit: the field overflows within ~60 steps.
    const unstable: SimulationPlan = { ...plan, time: { ...plan.time, dtS: 8 * plan.time.dtS } }
    const backend = await createWebGpuBackend(device!, description, { fft: runDesign })(unstable)
    try {
      await expect(backend.advance(120, true)).rejects.toBeInstanceOf(SimulationNumericalError)
    } finally {
      backend.dispose()
    }
  })
})
