/**
 * Solver speed, per backend and grid size: milliseconds per step, million cell-steps per
 * second, an effective memory bandwidth, memory, and (unless --quick) steps and wall time to
 * steady state for ITRUSST BM1 at 0.5 mm. Prints a table; runs unchanged on a GPU machine.
 *   npm run bench:solver [-- --backend cpu|webgpu|all] [-- --sizes 96,128,192] [-- --quick] [-- --steps N]
 *
 * Effective bandwidth counts the float32 array passes of one lossless heterogeneous step in
 * the CPU engine: 10 real FFTs (4N accesses each: xy and z stages, read and write), 6
 * derivative products (2.5N), 3 velocity and 3 density updates (4N each), the pressure update
 * (5N): about 84 accesses of 4 bytes per cell, 336 B per cell per step. A GPU implementation
 * with other passes moves a different amount; the figure is a common yardstick, not a trace.
 */
import * as os from 'node:os'
import { readFileSync } from 'node:fs'
import { parseScene } from '../core/solver/scene.ts'
import { benchSceneOfSize } from './bench-scenes.ts'
import { setupSimulation } from '../core/solver/setup.ts'
import { runSimulation, type BackendFactory } from '../core/solver/run.ts'
import { focalMetrics } from '../core/solver/metrics.ts'
import { selectBackend } from '../electron/adapters/solver-backends.ts'

const BYTES_PER_CELL_STEP = 336
const args = process.argv.slice(2)
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}
const quick = args.includes('--quick')
const sizes = (flag('sizes') ?? '96,128,192').split(',').map(Number)
const which = flag('backend') ?? 'all'

/** ITRUSST BM1 at 0.5 mm, as the bundled scene file defines it. */
function bm1Scene() {
  return parseScene(JSON.parse(readFileSync(new URL('../resources/scenes/itrusst-bm1.json', import.meta.url), 'utf8')))
}

interface Row {
  backend: string
  device: string
  grid: string
  msPerStep: number
  mcellsPerS: number
  gbPerS: number
  rssMb: number
}

async function timeSteps(factory: BackendFactory, n: number, label: string): Promise<Row> {
  const scene = benchSceneOfSize(n)
  const plan = setupSimulation(scene.grid, scene.medium, scene.source, scene.settings)
  const total = plan.axes.map((a) => a.total)
  const backend = await factory(plan)
  try {
    // Warm-up: pipeline compilation, first touches and (on a GPU) the clocks' ramp from idle.
    const warm = performance.now()
    do await backend.advance(3, false)
    while (label === 'webgpu' && performance.now() - warm < 1000)
    const steps = Number(flag('steps') ?? (n >= 192 ? 10 : 20))
    const t0 = performance.now()
    await backend.advance(steps, false)
    const ms = (performance.now() - t0) / steps
    const cells = total[0]! * total[1]! * total[2]!
    return {
      backend: label,
      device: backend.device,
      grid: total.join('x'),
      msPerStep: ms,
      mcellsPerS: cells / ms / 1e3,
      gbPerS: (cells * BYTES_PER_CELL_STEP) / (ms * 1e6),
      rssMb: process.resourceUsage().maxRSS / 1024,
    }
  } finally {
    backend.dispose()
  }
}

async function main() {
  const backends: Array<{ label: string; factory: BackendFactory }> = []
  for (const choice of ['cpu', 'webgpu'] as const) {
    if (which !== 'all' && which !== choice) continue
    try {
      const selected = await selectBackend(choice)
      for (const note of selected.notes) console.error(`${choice}: ${note}`)
      backends.push({ label: choice, factory: selected.factory })
    } catch (e) {
      console.error(`${choice}: not available (${e instanceof Error ? e.message : String(e)})`)
    }
  }
  console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`)
  console.log('| backend | device | grid | ms/step | Mcell-steps/s | effective GB/s | peak RSS MB |')
  console.log('|---|---|---|---|---|---|---|')
  for (const { label, factory } of backends) {
    for (const n of sizes) {
      const r = await timeSteps(factory, n, label)
      console.log(
        `| ${r.backend} | ${r.device} | ${r.grid} | ${r.msPerStep.toFixed(1)} | ${r.mcellsPerS.toFixed(1)} | ${r.gbPerS.toFixed(1)} | ${r.rssMb.toFixed(0)} |`,
      )
    }
  }
  if (quick) return
  console.log('')
  console.log('| backend | BM1 0.5 mm grid | steps to steady state | residual | wall time to solution [s] | ms/step | peak [kPa] | peak RSS MB |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const { label, factory } of backends) {
    const scene = bm1Scene()
    const result = await runSimulation({ grid: scene.grid, medium: scene.medium, source: scene.source, settings: scene.settings, backend: factory })
    const m = focalMetrics(result.amplitudePa, scene.grid, scene.source.elements)
    console.log(
      `| ${label} | ${result.plan.axes.map((a) => a.total).join('x')} | ${result.steps} | ${result.steadyStateResidual.toExponential(2)} | ${result.wallS.toFixed(0)} | ${((result.wallS * 1000) / result.steps).toFixed(0)} | ${(m.peakPa / 1e3).toFixed(1)} | ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} |`,
    )
  }
}

await main()
