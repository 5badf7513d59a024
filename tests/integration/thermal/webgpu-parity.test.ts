/**
 * The WebGPU thermal backend against the CPU reference on a small layered head (water, skin,
 * skull, brain; 20 x 20 x 30 at 1 mm) through a schedule of several batches (trains on and off,
 * two drive levels, cooling): maximum-rise and CEM43 maps, per-tissue maxima after every step and
 * probe time courses. Float32 on the device, float64 on the CPU: they agree to ~1e-6 relative; a
 * wrong index, sign or weight shows up as O(1).
 *
 * Without a GPU the kernels run on SwiftShader (Vulkan on the CPU); without any adapter the test
 * is skipped with the reason printed, and fails under CI (which installs SwiftShader).
 */
import { existsSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { createCpuThermalBackend } from '../../../core/thermal/cpu.ts'
import { runThermal } from '../../../core/thermal/run.ts'
import { syntheticLayeredHead } from '../../../core/thermal/synthetic.ts'
import { createWebGpuThermalBackend } from '../../../core/thermal/webgpu/backend.ts'
import { maxRelative, THERMAL_BOUND, THERMAL_PARITY_PROTOCOL, thermalParity } from '../../helpers/webgpu-parity.ts'
import { requestNodeGpuDevice } from '../../../electron/adapters/webgpu-device.ts'
import { requireOrSkip } from '../../helpers/requires.ts'

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD

const gpu = await requestNodeGpuDevice({ allowSoftware: true })
const skipReason = 'unavailable' in gpu ? gpu.unavailable : undefined
const device = 'unavailable' in gpu ? undefined : gpu.device
afterAll(() => device?.destroy())

describe.skipIf(requireOrSkip('WebGPU (Dawn, SwiftShader on the CPU)', skipReason))('WebGPU thermal backend against the CPU backend', () => {
  it('same maps, per-tissue maxima and probe courses through a multi-batch schedule', async () => {
    const r = await thermalParity(createWebGpuThermalBackend(device!, 'test adapter'))
    console.log(`thermal parity: ${r.steps} steps on ${r.voxels} voxels, webgpu ${r.gpuS.toFixed(2)} s`)
    expect(r.batches).toBeGreaterThan(5)
    expect(r.cpuPeakRise).toBeGreaterThan(6)
    for (const [name, error] of Object.entries(r.errors)) expect(error, name).toBeLessThan(THERMAL_BOUND)
    expect(r.probeSamples).toBe(r.expectedProbeSamples)
  })

  it('runThermal gives the same peaks and flags on either backend', async () => {
    const inputs = syntheticLayeredHead({ dims: [16, 16, 24], skinStartM: 0.004, skullStartM: 0.007, brainStartM: 0.012, focusM: 0.018 })
    const a = await runThermal(inputs, THERMAL_PARITY_PROTOCOL, createCpuThermalBackend())
    const b = await runThermal(inputs, THERMAL_PARITY_PROTOCOL, createWebGpuThermalBackend(device!, 'test adapter'))
    for (let i = 0; i < 3; i++) {
      expect(b.tissues[i]!.peakRiseC / a.tissues[i]!.peakRiseC - 1).toBeCloseTo(0, 4)
      expect(b.tissues[i]!.hottestVoxel).toEqual(a.tissues[i]!.hottestVoxel)
      expect(b.tissues[i]!.flag.criterion).toBe(a.tissues[i]!.flag.criterion)
    }
    expect(maxRelative(b.hottestVoxelRise!.skull, a.hottestVoxelRise!.skull)).toBeLessThan(1e-4)
    expect(b.backend).toBe('webgpu')
  })
})
