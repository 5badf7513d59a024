/**
 * checkPlanGrid refuses, before any image is read, a plan grid the solver would refuse at solve
 * time: here a grid thinner than the absorbing layer (PML) around it, which a small low-frequency
 * device at coarse resolution makes (found by a campaign whose tasks failed only when they ran).
 */
import { describe, it, expect } from 'vitest'
import { checkPlanGrid } from '../../../core/planning/domain.ts'
import { DEFAULT_SETTINGS, type Grid } from '../../../core/solver/model.ts'
import { SimulationInputError } from '../../../core/solver/errors.ts'

const grid = (size: readonly [number, number, number]): Grid => ({ spacingM: 1e-3, size, originM: [0, 0, 0] })

describe('checkPlanGrid', () => {
  it('refuses a grid thinner than the PML on any axis, naming the field, the axis and the sizes', () => {
    const pml = DEFAULT_SETTINGS.pmlPoints[1]!
    let error: unknown
    try {
      checkPlanGrid(grid([40, pml - 1, 40]), 2, undefined, '--ppw')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(SimulationInputError)
    expect(String((error as Error).message)).toMatch(
      new RegExp(`40x${pml - 1}x40 points, and axis 1 \\(${pml - 1}\\) is thinner than the solver's absorbing layer \\(${pml} points per side\\)`),
    )
    expect((error as SimulationInputError).field).toBe('--ppw')
  })

  it('accepts a grid as thick as the PML', () => {
    const pml = DEFAULT_SETTINGS.pmlPoints[0]!
    expect(() => checkPlanGrid(grid([pml, pml, pml]), 2, undefined)).not.toThrow()
  })
})
