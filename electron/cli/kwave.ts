/**
 * `tfus export-kwave` and `tfus import-kwave`: run a scene in k-Wave's C++ solver for a
 * cross-check. Export writes the k-Wave input file of the scene's plan and `<input>.cmd`; import
 * turns the output's /p_rms/1 into the steady-state amplitude (sqrt(2) p_rms) as a NIfTI in the
 * scene frame, like `p_amp.nii.gz` from `tfus simulate`.
 */
import * as path from 'node:path'
import { planSimulation } from '../../core/solver/setup.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'
import { amplitudeFromKwaveRms, buildKwaveExport, KWAVE_FORMATS, type KwaveFormat } from '../../core/solver/kwave-export.ts'
import { gridPosition } from '../../core/solver/model.ts'
import { readKwaveOutputFile, writeKwaveCommandFile, writeKwaveInputFile } from '../adapters/kwave-hdf5.ts'
import { writeVolume } from '../adapters/volume-io.ts'
import { loadSceneFile, sceneVolume } from './simulate.ts'

interface Args {
  readonly positional: string[]
  readonly flags: Map<string, string | true>
}

function parseSteps(value: string | true | undefined): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new SimulationInputError('--steps', `must be a whole number of time steps, got ${String(value)}`)
  return Number(value)
}

export async function commandExportKwave(args: Args, out: (line: string) => void): Promise<number> {
  const [sceneFile, inputFile] = args.positional
  if (!sceneFile || !inputFile || args.positional.length > 2) throw new SimulationInputError('usage', 'export-kwave takes a scene file and the k-Wave input file to write')
  const format = args.flags.get('kwave-format') ?? '1.2'
  if (typeof format !== 'string' || !(KWAVE_FORMATS as readonly string[]).includes(format)) throw new SimulationInputError('--kwave-format', `must be 1.2 or 1.1, got ${String(format)}`)
  const steps = parseSteps(args.flags.get('steps'))
  const scene = await loadSceneFile(sceneFile)
  const plan = planSimulation(scene.grid, scene.medium, scene.source, scene.settings)
  const exported = buildKwaveExport(plan, { format: format as KwaveFormat, ...(steps === undefined ? {} : { steps }) })
  const [nx, ny, nz] = exported.gridSize
  await writeKwaveInputFile(inputFile, exported, {
    description: `tfus scene ${path.basename(sceneFile)}: ${plan.source.frequencyHz} Hz, user grid ${plan.grid.size.join('x')} at ${plan.grid.spacingM * 1e3} mm inside ${nx}x${ny}x${nz} (PML ${plan.axes.map((a) => a.pml).join('/')} inside)`,
  })
  const cmd = await writeKwaveCommandFile(inputFile, exported)
  out(
    `wrote ${inputFile} (k-Wave format ${exported.format}): ${nx}x${ny}x${nz} grid, Nt = ${exported.nt} steps of ${(plan.time.dtS * 1e9).toFixed(3)} ns, ${exported.sourcePoints} source points (${(exported.sourceInputBytes / 2 ** 20).toFixed(1)} MiB of source signals)`,
  )
  out(`run (in ${path.dirname(inputFile)}): ${cmd.command}   [also in ${cmd.file}]`)
  out(`then: tfus import-kwave ${cmd.outputFile} --scene ${sceneFile} <out.nii.gz>`)
  for (const w of [...plan.warnings, ...exported.warnings]) out(`warning: ${w}`)
  return 0
}

export async function commandImportKwave(args: Args, out: (line: string) => void): Promise<number> {
  const [outputFile, niftiFile] = args.positional
  if (!outputFile || !niftiFile || args.positional.length > 2) throw new SimulationInputError('usage', 'import-kwave takes the k-Wave output file and the NIfTI file to write')
  const sceneFile = args.flags.get('scene')
  if (typeof sceneFile !== 'string') throw new SimulationInputError('--scene', 'is missing: give the scene file the k-Wave input was exported from')
  const scene = await loadSceneFile(sceneFile)
  const plan = planSimulation(scene.grid, scene.medium, scene.source, scene.settings)
  const output = await readKwaveOutputFile(outputFile)
  const expected = plan.axes.map((a) => a.total)
  if (output.gridSize && output.gridSize.some((s, d) => s !== expected[d])) {
    throw new SimulationInputError(outputFile, `holds a ${output.gridSize.join('x')} grid but ${sceneFile} plans ${expected.join('x')}: import with the scene that was exported`)
  }
  const [ux, uy, uz] = plan.grid.size
  const shape = output.pRms.shape
  if (shape.length === 3 && (shape[0] !== uz || shape[1] !== uy || shape[2] !== ux)) {
    throw new SimulationInputError(`${outputFile}:/p_rms/1`, `has shape ${shape.join('x')} (z, y, x) but the scene's grid is ${uz}x${uy}x${ux}: the sensor must be the exported cuboid`)
  }
  const amplitude = amplitudeFromKwaveRms(output.pRms.data, plan)
  await writeVolume(sceneVolume(amplitude, { plan }, 'k-Wave steady-state pressure amplitude sqrt(2) p_rms [Pa]'), niftiFile)
  let peak = 0
  let at = 0
  for (let i = 0; i < amplitude.length; i++) {
    if (amplitude[i]! > peak) {
      peak = amplitude[i]!
      at = i
    }
  }
  const position = gridPosition(plan.grid, at % ux, Math.floor(at / ux) % uy, Math.floor(at / (ux * uy)))
  out(`peak ${(peak / 1000).toFixed(1)} kPa at ${position.map((v) => (v * 1000).toFixed(2)).join(', ')} mm (k-Wave, sqrt(2) p_rms)`)
  out(`wrote ${niftiFile}`)
  return 0
}
