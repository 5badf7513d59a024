/**
 * The focus-correction loop against synthetic "skulls" whose shift is a known function of the
 * aim point, so the right answer is known: a constant shift is removed in one iteration, a
 * shift that varies slowly with the aim converges geometrically, and refusals or runs that do
 * not improve stop the loop with the best pose kept.
 */
import { describe, it, expect } from 'vitest'
import { correctFocus, type AimedRun } from '../../../core/planning/focus-correction.ts'
import type { Vec3 } from '../../../core/volume/types.ts'

const target: Vec3 = [0.03, -0.018, 0.0135]
const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
const dist = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])

interface Run extends AimedRun {
  readonly aim: Vec3
}

function skull(shiftAt: (aim: Vec3) => Vec3) {
  const aims: Vec3[] = []
  const simulate = async (aim: Vec3): Promise<Run> => {
    aims.push(aim)
    return { aim, peakRasM: add(aim, shiftAt(aim)) }
  }
  return { simulate, aims }
}

describe('focus correction', () => {
  it('removes a constant skull shift in one iteration and aims at target - shift', async () => {
    const shift: Vec3 = [0.002, -0.001, 0.004]
    const s = skull(() => shift)
    const initial = await s.simulate(target)
    const r = await correctFocus(target, initial, s.simulate, { maxIterations: 5, toleranceM: 1e-4 })
    expect(r.iterations).toBe(1)
    expect(r.initialShiftM).toBeCloseTo(Math.hypot(...shift), 12)
    expect(r.residualM).toBeLessThan(1e-12)
    expect(dist(r.bestAimRasM, [target[0] - shift[0], target[1] - shift[1], target[2] - shift[2]])).toBeLessThan(1e-12)
    expect(r.stoppedBecause).toBeNull()
  })

  it('converges geometrically when the shift depends on the aim (contraction 0.3)', async () => {
    // shift(aim) = s0 + 0.3 (aim - target): each iteration multiplies the residual by 0.3.
    const s0: Vec3 = [0.003, 0.002, -0.004]
    const s = skull((aim) => add(s0, [0.3 * (aim[0] - target[0]), 0.3 * (aim[1] - target[1]), 0.3 * (aim[2] - target[2])]))
    const initial = await s.simulate(target)
    const r = await correctFocus(target, initial, s.simulate, { maxIterations: 10, toleranceM: 1e-5 })
    const e0 = Math.hypot(...s0)
    // residual_k = 0.3^k e0: the first k with 0.3^k e0 <= 1e-5.
    const expected = Math.ceil(Math.log(1e-5 / e0) / Math.log(0.3))
    expect(r.iterations).toBe(expected)
    expect(r.residualM).toBeCloseTo(e0 * 0.3 ** expected, 12)
  })

  it('stops at the iteration limit and reports it', async () => {
    const s0: Vec3 = [0.003, 0.002, -0.004]
    const s = skull((aim) => add(s0, [0.5 * (aim[0] - target[0]), 0.5 * (aim[1] - target[1]), 0.5 * (aim[2] - target[2])]))
    const r = await correctFocus(target, await s.simulate(target), s.simulate, { maxIterations: 2, toleranceM: 1e-6 })
    expect(r.iterations).toBe(2)
    expect(r.residualM).toBeCloseTo(Math.hypot(...s0) * 0.25, 12)
    expect(r.stoppedBecause).toMatch(/2 iteration/)
  })

  it('keeps the best run when an iteration makes things worse', async () => {
    // A shift that over-reacts to the aim (gain -1.5) diverges: the first correction is worse.
    const s0: Vec3 = [0.002, 0, 0]
    const s = skull((aim) => add(s0, [-1.5 * (aim[0] - target[0]), 0, 0]))
    const initial = await s.simulate(target)
    const r = await correctFocus(target, initial, s.simulate, { maxIterations: 5, toleranceM: 1e-4 })
    expect(r.best).toBe(initial)
    expect(r.residualM).toBeCloseTo(0.002, 12)
    expect(r.stoppedBecause).toMatch(/did not reduce/)
  })

  it('stops on a refusal, keeps the best run, and lets other errors through', async () => {
    class Refusal extends Error {}
    const shift: Vec3 = [0.004, 0, 0]
    const initial: Run = { aim: target, peakRasM: add(target, shift) }
    const refused = await correctFocus(
      target,
      initial,
      async () => {
        throw new Refusal('standoff out of range')
      },
      { maxIterations: 3, toleranceM: 1e-4, isRefusal: (e) => e instanceof Refusal },
    )
    expect(refused.best).toBe(initial)
    expect(refused.stoppedBecause).toMatch(/could not be placed: standoff out of range/)
    await expect(
      correctFocus(
        target,
        initial,
        async () => {
          throw new RangeError('numerical failure')
        },
        { maxIterations: 3, toleranceM: 1e-4, isRefusal: (e) => e instanceof Refusal },
      ),
    ).rejects.toThrow('numerical failure')
  })

  it('does nothing when the peak is already within tolerance', async () => {
    const s = skull(() => [0.0001, 0, 0])
    const initial = await s.simulate(target)
    const r = await correctFocus(target, initial, s.simulate, { maxIterations: 3, toleranceM: 5e-4 })
    expect(r.iterations).toBe(0)
    expect(s.aims).toHaveLength(1)
  })
})
