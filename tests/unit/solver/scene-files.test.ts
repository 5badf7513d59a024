import { describe, it, expect } from 'vitest'
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { parseScene } from '../../../core/solver/scene.ts'
import { setupSimulation } from '../../../core/solver/setup.ts'

const DIR = path.resolve(import.meta.dirname, '../../../resources/scenes')

describe('bundled scene files', () => {
  it('every scene in resources/scenes parses and plans', async () => {
    const files = (await fs.readdir(DIR)).filter((f) => f.endsWith('.json'))
    expect(files.length).toBeGreaterThan(3)
    for (const f of files) {
      const s = parseScene(JSON.parse(await fs.readFile(path.join(DIR, f), 'utf8')))
      const plan = setupSimulation(s.grid, s.medium, s.source, s.settings)
      expect(plan.time.maxSteps, f).toBeGreaterThan(plan.time.firstWindowStartStep)
    }
  })

  it('ITRUSST BM1 at 0.5 mm: 241 x 141 x 141 user grid, FFT-friendly padded grid', async () => {
    const s = parseScene(JSON.parse(await fs.readFile(path.join(DIR, 'itrusst-bm1.json'), 'utf8')))
    expect(s.grid.size).toEqual([241, 141, 141])
    const plan = setupSimulation(s.grid, s.medium, s.source, s.settings)
    for (const a of plan.axes) expect(a.total).toBeGreaterThanOrEqual(a.userSize + 2 * a.pml)
    expect(plan.pointsPerWavelength).toBeCloseTo(6, 6)
  })
})
