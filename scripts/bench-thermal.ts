/**
 * `npm run bench:thermal [-- --plan <plan-dir>] [--protocol <file>] [--backend cpu|webgpu|both]`
 *
 * The thermal model's speed: a 10-minute protocol (resources/protocols/repetitive-10min.json,
 * two 5-minute sonications, a 60 s pause and 120 s of cooling: 13 min simulated) on a 1 mm grid
 * the size of the sample plan's at 3 points per wavelength (77 x 77 x 87, a synthetic layered
 * head), or on a plan folder. Prints grid, steps, dt, wall time, ms/step and backend. Target: under
 * 2 minutes on the 2-core CI machine.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { thermalProtocolRecord, type ThermalProtocolRecord } from '../core/contracts/thermal-protocol.ts'
import type { ThermalBackend } from '../core/thermal/backend.ts'
import { createCpuThermalBackend } from '../core/thermal/cpu.ts'
import { runThermal, type ThermalFieldInputs } from '../core/thermal/run.ts'
import { syntheticLayeredHead } from '../core/thermal/synthetic.ts'
import { loadPlanThermalInputs } from '../electron/app/thermal-plan.ts'
import { requestThermalGpuBackend } from '../electron/adapters/thermal-backends.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const args = process.argv.slice(2)
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}

async function main() {
  const protocolFile = flag('protocol') ?? path.join(ROOT, 'resources/protocols/repetitive-10min.json')
  const protocol: ThermalProtocolRecord = thermalProtocolRecord.parse(JSON.parse(await fs.readFile(protocolFile, 'utf8')))
  const planDir = flag('plan')
  const inputs: ThermalFieldInputs = planDir ? (await loadPlanThermalInputs(planDir)).inputs : syntheticLayeredHead()
  const which = flag('backend') ?? 'cpu'
  const backends: ThermalBackend[] = []
  if (which === 'cpu' || which === 'both') backends.push(createCpuThermalBackend())
  if (which === 'webgpu' || which === 'both') {
    const gpu = await requestThermalGpuBackend(true)
    if ('unavailable' in gpu) console.log(`webgpu: skipped (${gpu.unavailable})`)
    else backends.push(gpu.backend)
  }
  console.log(`protocol: ${protocol.name ?? path.basename(protocolFile)}; grid: ${planDir ?? 'synthetic layered head'}`)
  console.log('| grid | voxels | spacing | steps (x2 passes) | dt max | simulated | wall | ms/step | backend |')
  console.log('|---|---|---|---|---|---|---|---|---|')
  for (const backend of backends) {
    const r = await runThermal(inputs, protocol, backend)
    const steps = r.schedule.steps
    console.log(
      `| ${inputs.dims.join('x')} | ${inputs.labels.length} | ${(inputs.spacingM * 1000).toFixed(2)} mm | ${steps} | ${r.dtMaxUsedS.toFixed(3)} s | ${r.schedule.totalS.toFixed(0)} s | ${r.wallS.toFixed(1)} s | ${((1000 * r.wallS) / (2 * steps)).toFixed(2)} | ${r.backend} (${r.device}) |`,
    )
    for (const t of r.tissues)
      console.log(
        `    ${t.tissue}: peak rise ${t.peakRiseC.toFixed(3)} °C at ${t.timeOfPeakS.toFixed(0)} s, CEM43 ${t.cem43MaxMin.toExponential(2)} min; ${t.flag.text}`,
      )
    backend.dispose()
  }
}

await main()
