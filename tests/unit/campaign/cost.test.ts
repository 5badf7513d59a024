/** The campaign cost probe (core/campaign/cost.ts): steps from the solver's time axis, seconds from the measured rates. */
import { describe, it, expect } from 'vitest'
import { CELL_STEP_RATES, costBackends, formatEstimate, planSolveSteps, solverSeconds } from '../../../core/campaign/cost.ts'
import { planGrid } from '../../../core/planning/domain.ts'

const grid = (ppw: number) => planGrid({ frequencyHz: 500e3, pointsPerWavelength: ppw, apertureM: 0.064, depthFromApexM: 0.064 })

describe('campaign cost', () => {
  it('estimates steps between the earliest steady state and the cap; bone slows the head solve, finer grids take more steps', () => {
    const g = grid(3)
    const s = planSolveSteps(g.size, g.spacingM, 500e3)
    for (const run of [s.head, s.water]) {
      expect(run.expected).toBeGreaterThan(0)
      expect(run.expected).toBeLessThan(run.cap)
    }
    // A faster medium (bone) forces a shorter time step over the same crossing: about 3100/1500 as many steps.
    expect(s.head.expected / s.water.expected).toBeGreaterThan(1.6)
    expect(s.head.expected / s.water.expected).toBeLessThan(2.5)
    const fine = grid(6)
    const f = planSolveSteps(fine.size, fine.spacingM, 500e3)
    // Steps grow as points per wavelength (the step shrinks with dx; the crossing does not).
    expect(f.head.expected / s.head.expected).toBeGreaterThan(1.8)
    expect(f.head.expected / s.head.expected).toBeLessThan(2.2)
  })

  it('turns cell-steps into seconds at each backend rate, both for auto', () => {
    expect(solverSeconds(10e6, 'cpu')).toBeCloseTo(10e6 / CELL_STEP_RATES.cpu.cellStepsPerS)
    expect(solverSeconds(1e9, 'webgpu')).toBeLessThan(solverSeconds(1e9, 'cpu'))
    expect(costBackends('auto')).toEqual(['webgpu', 'cpu'])
    expect(costBackends('cpu')).toEqual(['cpu'])
    for (const r of Object.values(CELL_STEP_RATES)) expect(r.measured).toMatch(/docs\/benchmarks\.md/)
  })

  it('formats estimates in s, min or h', () => {
    expect(formatEstimate(0.2)).toBe('1 s')
    expect(formatEstimate(45)).toBe('45 s')
    expect(formatEstimate(600)).toBe('10 min')
    expect(formatEstimate(3 * 3600)).toBe('3.0 h')
  })
})
