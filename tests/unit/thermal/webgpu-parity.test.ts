/**
 * The WebGPU thermal backend against the CPU reference on a small layered head (water, skin,
 * skull, brain; 20 x 20 x 30 at 1 mm) through a schedule of several batches (trains on and off,
 * two drive levels, cooling): maximum-rise and CEM43 maps, per-tissue maxima after every step and
 * probe time courses. Float32 on the device, float64 on the CPU: they agree to ~1e-6 relative; a
 * wrong index, sign or weight shows up as O(1).
 *
 * Without a GPU the kernels run on SwiftShader (Vulkan on the CPU); without any adapter the test
 * is skipped with the reason printed.
 */
import { existsSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { thermalProtocolRecord } from '../../../core/contracts/protocol.ts'
import { createCpuThermalBackend } from '../../../core/thermal/cpu.ts'
import { buildThermalProblem } from '../../../core/thermal/model.ts'
import { ABSORBED_FRACTIONS, PLAN_THERMAL_MATERIALS } from '../../../core/thermal/properties.ts'
import { runThermal } from '../../../core/thermal/run.ts'
import { buildSchedule } from '../../../core/thermal/schedule.ts'
import { syntheticLayeredHead } from '../../../core/thermal/synthetic.ts'
import { createWebGpuThermalBackend } from '../../../core/thermal/webgpu/backend.ts'
import { requestNodeGpuDevice } from '../../../electron/node/webgpu-device.ts'

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD

const gpu = await requestNodeGpuDevice({ allowSoftware: true })
const skipReason = 'unavailable' in gpu ? gpu.unavailable : undefined
if (skipReason) console.warn(`thermal webgpu-parity skipped: ${skipReason}`)
const device = 'unavailable' in gpu ? undefined : gpu.device
afterAll(() => device?.destroy())

function maxRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(b[i]!))
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale)
  return worst
}

const protocol = thermalProtocolRecord.parse({
  sonications: [
    { pulse_duration_s: 0.05, prf_hz: 10, train_duration_s: 4, train_interval_s: 6, trains: 3, gap_after_s: 5 },
    { pulse_duration_s: 0.02, prf_hz: 10, train_duration_s: 10, train_interval_s: 10, trains: 1, drive_scale: 1.5 },
  ],
  cooling_s: 10,
})

describe.skipIf(skipReason !== undefined)('WebGPU thermal backend against the CPU backend', () => {
  it('same maps, per-tissue maxima and probe courses through a multi-batch schedule', async () => {
    // 2 MPa focal pressure: the skull passes 43 °C, so the dose's R = 0.5 branch and the crossing are exercised.
    const inputs = syntheticLayeredHead({ dims: [20, 20, 30], skinStartM: 0.005, skullStartM: 0.008, brainStartM: 0.014, focusM: 0.022, focalPressurePa: 2e6 })
    const problem = buildThermalProblem({ ...inputs, materials: PLAN_THERMAL_MATERIALS, absorbedFraction: ABSORBED_FRACTIONS.prestus.byLabel, coupling: 'conducting' })
    const schedule = buildSchedule(protocol, 0.95 * problem.dtStableS)
    expect(schedule.batches.length).toBeGreaterThan(5)
    const probes = [10 + 20 * (10 + 20 * 10), 10 + 20 * (10 + 20 * 22), 3 + 20 * (4 + 20 * 6)]
    const req = { problem, batches: schedule.batches, recordMaps: true, probes }
    const cpu = await createCpuThermalBackend().run(req)
    const gpuBackend = createWebGpuThermalBackend(device!, 'test adapter')
    const started = performance.now()
    const web = await gpuBackend.run(req)
    console.log(`thermal parity: ${schedule.steps} steps on ${inputs.labels.length} voxels, webgpu ${((performance.now() - started) / 1000).toFixed(2)} s`)
    expect(Math.max(...cpu.maxRise!)).toBeGreaterThan(6)
    expect(maxRelative(web.maxRise!, cpu.maxRise!)).toBeLessThan(1e-4)
    expect(maxRelative(web.cem43!, cpu.cem43!)).toBeLessThan(1e-4)
    expect(maxRelative(web.finalRise, cpu.finalRise)).toBeLessThan(1e-4)
    expect(maxRelative(web.trackedMax, cpu.trackedMax)).toBeLessThan(1e-4)
    expect(maxRelative(web.probeRise, cpu.probeRise)).toBeLessThan(1e-4)
    expect(web.probeRise.length).toBe((schedule.steps + 1) * probes.length)
  })

  it('runThermal gives the same peaks and flags on either backend', async () => {
    const inputs = syntheticLayeredHead({ dims: [16, 16, 24], skinStartM: 0.004, skullStartM: 0.007, brainStartM: 0.012, focusM: 0.018 })
    const a = await runThermal(inputs, protocol, createCpuThermalBackend())
    const b = await runThermal(inputs, protocol, createWebGpuThermalBackend(device!, 'test adapter'))
    for (let i = 0; i < 3; i++) {
      expect(b.tissues[i]!.peakRiseC / a.tissues[i]!.peakRiseC - 1).toBeCloseTo(0, 4)
      expect(b.tissues[i]!.hottestVoxel).toEqual(a.tissues[i]!.hottestVoxel)
      expect(b.tissues[i]!.flag.criterion).toBe(a.tissues[i]!.flag.criterion)
    }
    expect(maxRelative(b.hottestVoxelRise!.skull, a.hottestVoxelRise!.skull)).toBeLessThan(1e-4)
    expect(b.backend).toBe('webgpu')
  })
})
