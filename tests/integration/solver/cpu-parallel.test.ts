/**
 * The multi-threaded CPU backend splits every pass of the same engine across worker threads.
 * With the TypeScript kernels (TFUS_CPU_KERNELS=ts) its result must equal the single-threaded
 * reference exactly (same operations, same order per value); with the native kernels (the
 * default where they are built) 2 and 3 threads must agree exactly with each other and with the
 * reference to float32 round-off. Lossless, y = 2 absorbing and fractional (y != 2) paths.
 */
import { describe, it, expect } from 'vitest'
import { smallBowlScene } from '../../helpers/small-bowl-scene.ts'
import { runSimulation } from '../../../core/solver/run.ts'
import { cpuBackend } from '../../../core/solver/cpu/backend.ts'
import { cpuParallelBackend } from '../../../electron/adapters/cpu-parallel.ts'
import { nativeKernels } from '../../../electron/adapters/native-kernels.ts'
import { requireOrSkip } from '../../helpers/requires.ts'

describe('CPU backend: threads versus the single-threaded reference', () => {
  for (const [name, y, alpha] of [
    ['lossless', 2, 0],
    ['absorbing, y = 2', 2, 4],
    ['absorbing, y = 1.5', 1.5, 4],
  ] as const) {
    it(`${name}: TypeScript kernels, identical results with 2 and 3 threads`, async () => {
      const s = smallBowlScene(y, alpha, { max_traversals: 1.5 })
      const run = (backend: typeof cpuBackend) => runSimulation({ grid: s.grid, medium: s.medium, source: s.source, settings: s.settings, backend })
      const reference = await run(cpuBackend)
      // The workers read the choice from their environment, which they copy from this process.
      process.env.TFUS_CPU_KERNELS = 'ts'
      try {
        for (const threads of [2, 3]) {
          const parallel = await run(cpuParallelBackend(threads))
          expect(parallel.steps).toBe(reference.steps)
          expect(parallel.device).toContain(`TypeScript, ${threads} threads`)
          expect(Buffer.compare(Buffer.from(parallel.amplitudePa.buffer), Buffer.from(reference.amplitudePa.buffer))).toBe(0)
        }
      } finally {
        delete process.env.TFUS_CPU_KERNELS
      }
    })
    const native = nativeKernels()
    it.skipIf(requireOrSkip('native CPU kernels', 'unavailable' in native ? native.unavailable : null))(
      `${name}: native kernels, 2 and 3 threads identical, the reference to round-off`,
      async () => {
        const s = smallBowlScene(y, alpha, { max_traversals: 1.5 })
        const run = (backend: typeof cpuBackend) => runSimulation({ grid: s.grid, medium: s.medium, source: s.source, settings: s.settings, backend })
        const reference = await run(cpuBackend)
        const two = await run(cpuParallelBackend(2))
        const three = await run(cpuParallelBackend(3))
        expect(two.device).toMatch(/^CPU \(native \w+, 2 threads/)
        expect(Buffer.compare(Buffer.from(two.amplitudePa.buffer), Buffer.from(three.amplitudePa.buffer))).toBe(0)
        // The steady-state stop may land a window earlier or later; the amplitude must not move.
        let e = 0
        let n = 0
        for (let i = 0; i < reference.amplitudePa.length; i++) {
          e += (two.amplitudePa[i]! - reference.amplitudePa[i]!) ** 2
          n += reference.amplitudePa[i]! ** 2
        }
        expect(Math.sqrt(e / n)).toBeLessThan(1e-4)
      },
    )
  }
})
