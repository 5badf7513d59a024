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
import { cpuBackend } from '../../../core/solver/cpu/backend.ts'
import { SimulationNumericalError } from '../../../core/solver/errors.ts'
import { DEFAULT_SETTINGS } from '../../../core/solver/model.ts'
import { runSimulation } from '../../../core/solver/run.ts'
import { parseScene } from '../../../core/solver/scene.ts'
import { setupSimulation, type SimulationSetup } from '../../../core/solver/setup.ts'
import { createWebGpuBackend } from '../../../core/solver/webgpu/backend.ts'
import type { FftDesign } from '../../../core/solver/webgpu/fft.ts'
import { isSoftwareAdapter, requestNodeGpuDevice } from '../../../electron/adapters/webgpu-device.ts'
import { planeWaveScene } from '../../helpers/solver.ts'
import { requireOrSkip } from '../../helpers/requires.ts'
import {
  complexRelativeL2,
  FFT_BOUND,
  FFT_PARITY_SIZES,
  fftParity,
  planeWaveParityScene,
  RUN_BOUND,
  RUN_PARITY_SCENES,
  runSteps,
} from '../../helpers/webgpu-parity.ts'

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD

const gpu = await requestNodeGpuDevice({ allowSoftware: true })
const skipReason = 'unavailable' in gpu ? gpu.unavailable : undefined
const device = 'unavailable' in gpu ? undefined : gpu.device
const description = 'unavailable' in gpu ? '' : gpu.description
/** The FFT design the hosts pick for this adapter. */
const runDesign: FftDesign = 'unavailable' in gpu || gpu.software ? 'global' : 'workgroup'

afterAll(() => device?.destroy())

describe('WebGPU adapter classification', () => {
  const info = (vendor: string, architecture: string, device: string, description: string, isFallbackAdapter?: boolean) => ({
    info: { vendor, architecture, device, description, ...(isFallbackAdapter === undefined ? {} : { isFallbackAdapter }) },
  })
  it("software adapters are recognised from Dawn's adapter info", () => {
    expect(isSoftwareAdapter(info('google', 'swiftshader', 'swiftshader-device-subzero-', 'SwiftShader driver 5.0.0'))).toBe(true)
    expect(isSoftwareAdapter(info('mesa', '', 'llvmpipe (LLVM 17.0.6, 256 bits)', ''))).toBe(true)
    expect(isSoftwareAdapter(info('', '', '', 'anything', true))).toBe(true)
    expect(isSoftwareAdapter(info('nvidia', 'lovelace', 'NVIDIA GeForce RTX 4090', 'NVIDIA: 550.54'))).toBe(false)
    expect(isSoftwareAdapter(info('apple', 'metal-3', '', 'Apple M2'))).toBe(false)
  })
})

describe.skipIf(requireOrSkip('WebGPU (Dawn, SwiftShader on the CPU)', skipReason))(
  `WebGPU backend parity with the CPU reference${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    describe('3D FFT kernels against core/fft', () => {
      for (const design of ['workgroup', 'global'] as const)
        for (const [nx, ny, nz] of FFT_PARITY_SIZES) {
          it(`${design} design, ${nx}x${ny}x${nz}: forward and inverse within 1e-6`, async () => {
            const e = await fftParity(device!, nx, ny, nz, design)
            console.log(`webgpu-parity FFT ${design} ${nx}x${ny}x${nz}: forward ${e.forward.toExponential(2)}, inverse ${e.inverse.toExponential(2)}`)
            expect(e.forward).toBeLessThan(FFT_BOUND)
            expect(e.inverse).toBeLessThan(FFT_BOUND)
          })
        }
      it('workgroup design with other tuning (8 lines a tile, 64 threads, loops to a constant bound): within 1e-6', async () => {
        const e = await fftParity(device!, 16, 12, 10, 'workgroup', { tileElements: 128, workgroupSize: 64, unrollRadix: true })
        expect(e.forward).toBeLessThan(FFT_BOUND)
        expect(e.inverse).toBeLessThan(FFT_BOUND)
      })
      for (const [nx, ny, nz] of [
        [16, 12, 10],
        [15, 9, 7],
      ] as const) {
        it(`workgroup design with padded tile rows, ${nx}x${ny}x${nz} (4 lines a tile): within 1e-6`, async () => {
          const e = await fftParity(device!, nx, ny, nz, 'workgroup', { tileElements: 64, workgroupSize: 64, unrollRadix: false, padRows: true })
          expect(e.forward).toBeLessThan(FFT_BOUND)
          expect(e.inverse).toBeLessThan(FFT_BOUND)
        })
      }
    })

    describe('whole runs: steady-state complex amplitude within 1e-4 of the CPU backend', () => {
      for (const c of RUN_PARITY_SCENES) {
        it(c.name, async () => {
          const s = parseScene(c.scene)
          const plan = setupSimulation(s.grid, s.medium, s.source, { ...DEFAULT_SETTINGS, ...s.settings })
          // The runner's first window: ramp plus one domain traversal, then one window.
          const steps = plan.time.traversalEndStep
          const windowSteps = plan.time.windowSteps
          const reference = await runSteps(cpuBackend, plan, steps, windowSteps)
          const webgpu = await runSteps(createWebGpuBackend(device!, description, { fft: runDesign }), plan, steps, windowSteps)
          const difference = complexRelativeL2(reference.window, webgpu.window)
          console.log(
            `webgpu-parity ${c.name}: grid ${plan.axes.map((a) => a.total).join('x')}, ${steps + windowSteps} steps, relative L2 ${difference.toExponential(2)}; ` +
              `${webgpu.msPerStep.toFixed(0)} ms/step on ${description} (${runDesign} FFT), CPU ${reference.msPerStep.toFixed(0)} ms/step`,
          )
          expect(difference).toBeLessThan(RUN_BOUND)
        })
      }
    })

    const planeWave = () => parseScene(planeWaveParityScene())

    it('runSimulation end to end (plane wave through a y = 1.5 slab): same steps, same field', async () => {
      const s = planeWave()
      const inputs = { grid: s.grid, medium: s.medium, source: s.source, settings: s.settings }
      const reference = await runSimulation({ ...inputs, backend: cpuBackend })
      const result = await runSimulation({ ...inputs, backend: createWebGpuBackend(device!, description, { fft: runDesign }) })
      expect(result.backend).toBe('webgpu')
      expect(result.device).toBe(description)
      expect(result.converged).toBe(true)
      expect(result.steps).toBe(reference.steps)
      const toComplex = (r: typeof result) => ({
        re: r.amplitudePa.map((a, i) => a * Math.cos(r.phaseRad[i]!)),
        im: r.amplitudePa.map((a, i) => a * Math.sin(r.phaseRad[i]!)),
      })
      const difference = complexRelativeL2(toComplex(reference), toComplex(result))
      console.log(`webgpu-parity runSimulation plane wave (${runDesign} FFT): ${result.steps} steps, relative L2 ${difference.toExponential(2)}`)
      expect(difference).toBeLessThan(RUN_BOUND)
    })

    it('the other FFT design in a whole run (plane wave through a y = 1.5 slab)', async () => {
      const other: FftDesign = runDesign === 'global' ? 'workgroup' : 'global'
      const s = planeWave()
      const plan = setupSimulation(s.grid, s.medium, s.source, { ...DEFAULT_SETTINGS, ...s.settings })
      const steps = plan.time.traversalEndStep
      const reference = await runSteps(cpuBackend, plan, steps, plan.time.windowSteps)
      const webgpu = await runSteps(createWebGpuBackend(device!, description, { fft: other }), plan, steps, plan.time.windowSteps)
      const difference = complexRelativeL2(reference.window, webgpu.window)
      console.log(
        `webgpu-parity plane wave (${other} FFT): ${steps + plan.time.windowSteps} steps, relative L2 ${difference.toExponential(2)}, ${webgpu.msPerStep.toFixed(0)} ms/step`,
      )
      expect(difference).toBeLessThan(RUN_BOUND)
    })

    it('an unstable run throws SimulationNumericalError instead of returning NaN', async () => {
      const s = parseScene(
        planeWaveScene({ dx: 0.0005, lengthM: 0.02, sourceAtM: 0.01, background: { sound_speed: 1500, density: 1000, alpha_db_cm: 50, alpha_power: 2 } }),
      )
      const plan = setupSimulation(s.grid, s.medium, s.source, { ...DEFAULT_SETTINGS, ...s.settings })
      // Eight times the absorbing-medium stability limit: the field overflows within ~60 steps.
      const unstable: SimulationSetup = { ...plan, time: { ...plan.time, dtS: 8 * plan.time.dtS } }
      const backend = await createWebGpuBackend(device!, description, { fft: runDesign })(unstable)
      try {
        await expect(backend.advance(120, true)).rejects.toBeInstanceOf(SimulationNumericalError)
      } finally {
        backend.dispose()
      }
    })
  },
)
