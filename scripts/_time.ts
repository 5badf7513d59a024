import { readFileSync } from 'node:fs'
import { parseScene } from '../core/solver/scene.ts'
import { setupSimulation } from '../core/solver/setup.ts'
for (const f of process.argv.slice(2)) {
  const s = parseScene(JSON.parse(readFileSync(f, 'utf8')))
  const p = setupSimulation(s.grid, s.medium, s.source, s.settings)
  console.log(f, p.axes.map((a) => a.total), p.time, 'cMin', s.settings)
}
