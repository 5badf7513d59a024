/**
 * The native step kernels (fused FFT stages and updates, native/src) against the TypeScript
 * reference (core/solver/cpu/kernels.ts): 90 steps of the same engine data, lossless, absorbing at
 * y = 2 and y = 1.5, heterogeneous; every field after the run and the window sums must agree to
 * float32 round-off (the two sum in different orders, so not bit for bit: measured 1.0e-6 for p,
 * 5.7e-7 for the sums; the bound is 1e-5).
 */
import { describe, expect, it } from 'vitest'
import { smallBowlScene } from '../../helpers/small-bowl-scene.ts'
import { setupSimulation } from '../../../core/solver/setup.ts'
import { buildEngineData, createStepper, SOLO } from '../../../core/solver/cpu/engine.ts'
import { nativeKernels } from '../../../electron/adapters/native-kernels.ts'
import { requireOrSkip } from '../../helpers/requires.ts'
import { relErr } from '../fft/naive.ts'

const native = nativeKernels()

describe.skipIf(requireOrSkip('native CPU kernels', 'unavailable' in native ? native.unavailable : null))(
  'native step kernels versus the TypeScript reference',
  () => {
    for (const [name, y, alpha] of [
      ['lossless', 2, 0],
      ['absorbing, y = 2', 2, 4],
      ['absorbing, y = 1.5', 1.5, 4],
    ] as const) {
      it(`${name}: p, u, rho and the window sums agree after 90 steps`, () => {
        const s = smallBowlScene(y, alpha)
        const setup = setupSimulation(s.grid, s.medium, s.source, s.settings)
        const run = (useNative: boolean) => {
          const d = buildEngineData(setup)
          const stepper = createStepper(d, SOLO, useNative && !('unavailable' in native) ? native.kernelsFor : undefined)
          for (let step = 1; step <= 90; step++) {
            stepper.step(step)
            if (step > 60) stepper.accumulate(step)
          }
          return d
        }
        const ts = run(false)
        const nat = run(true)
        // The wave has crossed the grid (the focus is lit), so the comparison covers real field.
        let peak = 0
        for (const v of ts.p) peak = Math.max(peak, Math.abs(v))
        expect(peak).toBeGreaterThan(1000)
        expect(relErr(nat.p, ts.p)).toBeLessThan(1e-5)
        for (let a = 0; a < 3; a++) {
          expect(relErr(nat.u[a]!, ts.u[a]!)).toBeLessThan(1e-5)
          expect(relErr(nat.rho[a]!, ts.rho[a]!)).toBeLessThan(1e-5)
        }
        expect(relErr(nat.sumCos, ts.sumCos)).toBeLessThan(1e-5)
        expect(relErr(nat.sumSin, ts.sumSin)).toBeLessThan(1e-5)
      })
    }
  },
)
