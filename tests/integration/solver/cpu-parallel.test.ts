/**
 * The multi-threaded CPU backend splits every pass of the same engine across worker threads:
 * its result must equal the single-threaded reference exactly (same operations, same order
 * per value), for the lossless, y = 2 absorbing and fractional (y != 2) paths.
 */
import { describe, it, expect } from 'vitest'
import { parseScene } from '../../../core/solver/scene.ts'
import { runSimulation } from '../../../core/solver/run.ts'
import { cpuBackend } from '../../../core/solver/cpu/backend.ts'
import { cpuParallelBackend } from '../../../electron/adapters/cpu-parallel.ts'

function scene(alphaPower: number, alphaDbCm: number) {
  return parseScene({
    frequency_hz: 500000,
    grid: { spacing_m: 0.001, min_m: [0, -0.01, -0.01], max_m: [0.026, 0.01, 0.01] },
    background: { sound_speed: 1500, density: 1000, alpha_db_cm: alphaDbCm / 8, alpha_power: alphaPower },
    objects: [{ shape: 'sphere', center_m: [0.016, 0.002, 0], radius_m: 0.004, material: { sound_speed: 2200, density: 1500, alpha_db_cm: alphaDbCm } }],
    source: { type: 'bowl', apex_m: [0, 0, 0], focus_m: [0.018, 0, 0], roc_m: 0.018, aperture_m: 0.018, amplitude_pa: 60000 },
    solver: { max_traversals: 1.5 },
  })
}

describe('CPU backend: threads versus the single-threaded reference', () => {
  for (const [name, y, alpha] of [
    ['lossless', 2, 0],
    ['absorbing, y = 2', 2, 4],
    ['absorbing, y = 1.5', 1.5, 4],
  ] as const) {
    it(`${name}: identical results with 2 and 3 threads`, async () => {
      const s = scene(y, alpha)
      const run = (backend: typeof cpuBackend) => runSimulation({ grid: s.grid, medium: s.medium, source: s.source, settings: s.settings, backend })
      const reference = await run(cpuBackend)
      for (const threads of [2, 3]) {
        const parallel = await run(cpuParallelBackend(threads))
        expect(parallel.steps).toBe(reference.steps)
        expect(parallel.device).toContain(`${threads} threads`)
        expect(Buffer.compare(Buffer.from(parallel.amplitudePa.buffer), Buffer.from(reference.amplitudePa.buffer))).toBe(0)
      }
    })
  }
})
