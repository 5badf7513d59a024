/**
 * `tfus thermal <plan-dir> --protocol <protocol.json> [--backend auto|webgpu|cpu]
 *  [--absorbed-fraction prestus|babelbrain|full] [--coupling conducting|bath] [--drive-scale s]
 *  [--progress]`: the Pennes bioheat model of a sonication protocol on a plan folder; writes
 * temperature_max.nii.gz, temperature_rise_max.nii.gz, cem43.nii.gz and thermal.json into it.
 */
import * as path from 'node:path'
import { SimulationInputError } from '../../core/solver/errors.ts'
import type { CouplingModel } from '../../core/thermal/model.ts'
import { ABSORBED_FRACTION_NAMES, isAbsorbedFractionName } from '../../core/thermal/properties.ts'
import { THERMAL_BACKEND_CHOICES, type ThermalBackendChoice } from '../adapters/thermal-backends.ts'
import { namingProtocolFile, runThermalOnPlanFolder } from '../app/thermal-plan.ts'
import { loadThermalProtocolFile } from '../adapters/thermal-protocols.ts'
import { MAX_DRIVE_SCALE } from '../../core/thermal/limits.ts'

export { runThermalOnPlanFolder } from '../app/thermal-plan.ts'
export { loadThermalProtocolFile } from '../adapters/thermal-protocols.ts'

export async function commandThermal(
  args: { positional: string[]; flags: Map<string, string | true> },
  signal: AbortSignal,
  out: (l: string) => void,
  err: (l: string) => void,
): Promise<number> {
  const f = args.flags
  const [planDir] = args.positional
  if (!planDir || args.positional.length > 1) throw new SimulationInputError('usage', 'thermal takes one plan folder (written by tfus plan)')
  const protocolFile = f.get('protocol')
  if (typeof protocolFile !== 'string') throw new SimulationInputError('--protocol', 'is missing: give a protocol file (see resources/protocols/)')
  const backend = (f.get('backend') ?? 'auto') as ThermalBackendChoice
  if (!THERMAL_BACKEND_CHOICES.includes(backend)) throw new SimulationInputError('--backend', `must be auto, webgpu or cpu, got ${String(backend)}`)
  const absorbed = (f.get('absorbed-fraction') ?? 'prestus') as string
  if (!isAbsorbedFractionName(absorbed))
    throw new SimulationInputError('--absorbed-fraction', `unknown choice "${absorbed}"; choose one of ${ABSORBED_FRACTION_NAMES.join(', ')}`)
  const coupling = (f.get('coupling') ?? 'conducting') as CouplingModel
  if (coupling !== 'conducting' && coupling !== 'bath') throw new SimulationInputError('--coupling', `must be conducting or bath, got ${String(coupling)}`)
  const scaleText = f.get('drive-scale')
  const driveScale = scaleText === undefined ? 1 : Number(scaleText)
  if (!(Number.isFinite(driveScale) && driveScale > 0)) throw new SimulationInputError('--drive-scale', `must be a positive number, got ${String(scaleText)}`)
  if (driveScale > MAX_DRIVE_SCALE)
    throw new SimulationInputError(
      '--drive-scale',
      `${driveScale} is more than ${MAX_DRIVE_SCALE}: it multiplies the plan's pressure (heating by its square); plan at the intended drive level instead`,
    )
  const protocol = await loadThermalProtocolFile(protocolFile)
  const showProgress = process.stderr.isTTY || f.has('progress')
  let lastPrint = 0
  const outcome = await namingProtocolFile(protocolFile, () =>
    runThermalOnPlanFolder(planDir, protocol, {
      backend,
      absorbedFraction: absorbed,
      coupling,
      driveScale,
      signal,
      ...(typeof f.get('out') === 'string' ? { outDir: f.get('out') as string } : {}),
      onNote: (line) => err(`tfus: ${line}`),
      onProgress: (message, fraction) => {
        if (!showProgress) return
        const now = performance.now()
        if (now - lastPrint < 500 && fraction < 1) return
        lastPrint = now
        process.stderr.write(`\r${message} (${Math.round(fraction * 100)}%)   `)
      },
    }),
  )
  if (showProgress) process.stderr.write('\n')
  const r = outcome.result
  out(
    `${protocol.name ?? path.basename(protocolFile)}: ${r.schedule.totalS.toFixed(0)} s simulated (last sonication ends at ${r.schedule.lastSonicationEndS.toFixed(0)} s), ${r.schedule.steps} steps of <= ${r.dtMaxUsedS.toFixed(3)} s, ${r.wallS.toFixed(1)} s on ${r.device}`,
  )
  for (const t of r.tissues) {
    if (t.voxels === 0) continue
    out(
      `${t.tissue}: peak rise ${t.peakRiseC.toFixed(3)} °C (${t.peakTemperatureC.toFixed(2)} °C) at ${t.timeOfPeakS.toFixed(0)} s, CEM43 ${t.cem43MaxMin.toPrecision(3)} min, ${t.riseAtEndC.toFixed(3)} °C at the end`,
    )
  }
  for (const flag of r.flags) out(`  ${flag.text}`)
  out(`thermal: ${r.flagSummary}`)
  out(`wrote ${outcome.files.join(', ')}`)
  return 0
}
