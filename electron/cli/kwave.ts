/**
 * `tfus export-kwave` and `tfus import-kwave`: run a scene, or a plan folder's own head (or
 * free-water) run, in k-Wave's C++ solver for a cross-check. Export writes the k-Wave input file
 * and `<input>.cmd`; import turns the output's /p_rms/1 into the steady-state amplitude
 * (sqrt(2) p_rms): for a scene a NIfTI in the scene frame, like `p_amp.nii.gz` from
 * `tfus simulate`; for a plan on the plan's simulation grid (like pressure_sim.nii.gz) and on its
 * CT grid (like pressure.nii.gz), compared with the plan's own field inside the brain.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { setupSimulation } from '../../core/solver/setup.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'
import { amplitudeFromKwaveRms, buildKwaveExport, KWAVE_FORMATS, type KwaveFormat } from '../../core/solver/kwave-export.ts'
import { gridPosition } from '../../core/solver/model.ts'
import { readKwaveOutputFile, writeKwaveCommandFile, writeKwaveInputFile } from '../adapters/kwave-hdf5.ts'
import { readVolume, writeVolume } from '../adapters/volume-io.ts'
import { loadSceneFile, sceneVolume } from './simulate.ts'
import { PLAN_FILES, TISSUE_LABELS } from '../../core/contracts/plan.ts'
import { resampleTrilinear, type Volume } from '../../core/volume/index.ts'
import { compareFields, masked } from '../../core/surrogate/metrics.ts'

interface Args {
  readonly positional: string[]
  readonly flags: Map<string, string | true>
}

function parseSteps(value: string | true | undefined): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new SimulationInputError('--steps', `must be a whole number of time steps, got ${String(value)}`)
  return Number(value)
}

/** A scene file, or a plan folder's `medium/scene.json` (its head run, or with `freeWater` its free-water run). */
interface KwaveTarget {
  readonly scene: Awaited<ReturnType<typeof loadSceneFile>>
  readonly sceneFile: string
  readonly planDir: string | undefined
  readonly label: string
}

async function loadKwaveTarget(target: string, freeWater: boolean): Promise<KwaveTarget> {
  const st = await fs.stat(target).catch(() => undefined)
  if (!st?.isDirectory()) {
    if (freeWater) throw new SimulationInputError('--free-water', `applies to a plan folder (its free-water run); ${target} is exported as the scene it is`)
    return { scene: await loadSceneFile(target), sceneFile: target, planDir: undefined, label: `tfus scene ${path.basename(target)}` }
  }
  if (!(await fs.stat(path.join(target, PLAN_FILES.plan)).catch(() => undefined)))
    throw new SimulationInputError(target, `is a folder but not a plan folder (no ${PLAN_FILES.plan}): give a plan folder or a scene file`)
  const sceneFile = path.join(target, PLAN_FILES.scene)
  if (!(await fs.stat(sceneFile).catch(() => undefined))) {
    throw new SimulationInputError(
      target,
      `has no ${PLAN_FILES.scene} (plans written before it was added do not hold their simulation's source and settings): run tfus plan again to export this plan`,
    )
  }
  // The plan scene's background is the coupling water: without the voxel media it is the plan's free-water run.
  const scene = await loadSceneFile(sceneFile, freeWater ? (json) => void (json.objects = []) : undefined)
  return { scene, sceneFile, planDir: target, label: `tfus plan ${path.basename(path.resolve(target))} (${freeWater ? 'free-water' : 'head'} run)` }
}

export async function commandExportKwave(args: Args, out: (line: string) => void): Promise<number> {
  const [target, inputFile] = args.positional
  if (!target || !inputFile || args.positional.length > 2)
    throw new SimulationInputError('usage', 'export-kwave takes a scene file or a plan folder and the k-Wave input file to write')
  const format = args.flags.get('kwave-format') ?? '1.2'
  if (typeof format !== 'string' || !(KWAVE_FORMATS as readonly string[]).includes(format))
    throw new SimulationInputError('--kwave-format', `must be 1.2 or 1.1, got ${String(format)}`)
  const steps = parseSteps(args.flags.get('steps'))
  const freeWater = args.flags.has('free-water')
  const { scene, planDir, label } = await loadKwaveTarget(target, freeWater)
  const plan = setupSimulation(scene.grid, scene.medium, scene.source, scene.settings)
  const exported = buildKwaveExport(plan, { format: format as KwaveFormat, ...(steps === undefined ? {} : { steps }) })
  const [nx, ny, nz] = exported.gridSize
  await writeKwaveInputFile(inputFile, exported, {
    description: `${label}: ${plan.source.frequencyHz} Hz, user grid ${plan.grid.size.join('x')} at ${plan.grid.spacingM * 1e3} mm inside ${nx}x${ny}x${nz} (PML ${plan.axes.map((a) => a.pml).join('/')} inside)`,
  })
  const cmd = await writeKwaveCommandFile(inputFile, exported)
  out(
    `wrote ${inputFile} (k-Wave format ${exported.format}): ${nx}x${ny}x${nz} grid, Nt = ${exported.nt} steps of ${(plan.time.dtS * 1e9).toFixed(3)} ns, ${exported.sourcePoints} source points (${(exported.sourceInputBytes / 2 ** 20).toFixed(1)} MiB of source signals)`,
  )
  out(`run (in ${path.dirname(inputFile)}): ${cmd.command}   [also in ${cmd.file}]`)
  out(`then: tfus import-kwave ${cmd.outputFile} ${planDir ? `--plan ${planDir}${freeWater ? ' --free-water' : ''}` : `--scene ${target}`} <out.nii.gz>`)
  for (const w of [...plan.warnings, ...exported.warnings]) out(`warning: ${w}`)
  return 0
}

export async function commandImportKwave(args: Args, out: (line: string) => void): Promise<number> {
  const [outputFile, niftiFile] = args.positional
  if (!outputFile || !niftiFile || args.positional.length > 2)
    throw new SimulationInputError('usage', 'import-kwave takes the k-Wave output file and the NIfTI file to write')
  const sceneFlag = args.flags.get('scene')
  const planFlag = args.flags.get('plan')
  if ((sceneFlag === undefined) === (planFlag === undefined))
    throw new SimulationInputError('--scene', 'give either --scene <scene.json> or --plan <plan-dir>: what the k-Wave input was exported from')
  if (planFlag !== undefined && typeof planFlag !== 'string')
    throw new SimulationInputError('--plan', 'needs the plan folder the k-Wave input was exported from')
  if (sceneFlag !== undefined && typeof sceneFlag !== 'string')
    throw new SimulationInputError('--scene', 'needs the scene file the k-Wave input was exported from')
  const freeWater = args.flags.has('free-water')
  if (typeof planFlag === 'string' && !(await fs.stat(planFlag).catch(() => undefined))?.isDirectory())
    throw new SimulationInputError('--plan', `${planFlag} is not a folder: give the plan folder`)
  const { scene, sceneFile, planDir } = await loadKwaveTarget((planFlag ?? sceneFlag) as string, freeWater)
  const plan = setupSimulation(scene.grid, scene.medium, scene.source, scene.settings)
  const output = await readKwaveOutputFile(outputFile)
  const expected = plan.axes.map((a) => a.total)
  if (output.gridSize && output.gridSize.some((s, d) => s !== expected[d])) {
    throw new SimulationInputError(
      outputFile,
      `holds a ${output.gridSize.join('x')} grid but ${sceneFile} plans ${expected.join('x')}: import with the scene that was exported`,
    )
  }
  const [ux, uy, uz] = plan.grid.size
  const shape = output.pRms.shape
  if (shape.length === 3 && (shape[0] !== uz || shape[1] !== uy || shape[2] !== ux)) {
    throw new SimulationInputError(
      `${outputFile}:/p_rms/1`,
      `has shape ${shape.join('x')} (z, y, x) but the scene's grid is ${uz}x${uy}x${ux}: the sensor must be the exported cuboid`,
    )
  }
  const amplitude = amplitudeFromKwaveRms(output.pRms.data, plan)
  if (planDir) {
    await importOntoPlan(amplitude, planDir, niftiFile, args.flags.get('ct-out'), freeWater, out)
    return 0
  }
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

/** `<name>.nii.gz` -> `<name>_ct.nii.gz` (any other name gets `_ct.nii.gz` appended to its stem). */
function ctOutputName(file: string): string {
  const m = /^(.*?)(\.nii\.gz|\.nii|\.nrrd|\.mha|\.mhd)$/i.exec(file)
  return m ? `${m[1]}_ct${m[2]}` : `${file}_ct.nii.gz`
}

/**
 * A plan's k-Wave field onto the plan's simulation grid (the geometry of its medium maps, as
 * pressure_sim.nii.gz) and onto its CT grid (trilinear, as the plan resamples pressure.nii.gz);
 * for the head run, compared with the plan's pressure_sim.nii.gz inside the brain (tissue label
 * 3: intracranial soft tissue past the skull along the beam).
 */
async function importOntoPlan(
  amplitude: Float32Array,
  planDir: string,
  niftiFile: string,
  ctFlag: string | true | undefined,
  freeWater: boolean,
  out: (line: string) => void,
): Promise<void> {
  if (ctFlag === true) throw new SimulationInputError('--ct-out', 'needs the file to write the field on the CT grid to')
  const ctFile = ctFlag ?? ctOutputName(niftiFile)
  const tissue = await readVolume(path.join(planDir, PLAN_FILES.tissue))
  if (tissue.data.length !== amplitude.length)
    throw new SimulationInputError(
      path.join(planDir, PLAN_FILES.tissue),
      `has ${tissue.dims.join('x')} voxels, not the plan scene's ${amplitude.length} points`,
    )
  const run = freeWater ? 'free-water run' : 'head run'
  const onSim: Volume = {
    ...tissue,
    data: amplitude,
    meta: { modality: 'OT', seriesDescription: `k-Wave pressure amplitude sqrt(2) p_rms [Pa], ${run}, simulation grid` },
    warnings: [],
  }
  await writeVolume(onSim, niftiFile)
  const ct = await readVolume(path.join(planDir, PLAN_FILES.ct), { modality: 'CT' })
  const onCt = resampleTrilinear(onSim, ct, { fill: 0, outputType: 'float32' }).data as Float32Array
  await writeVolume(
    {
      ...ct,
      data: onCt,
      meta: { ...ct.meta, modality: 'OT', seriesDescription: `k-Wave pressure amplitude [Pa], ${run}, on the CT grid`, valueUnit: '' },
      warnings: [],
    },
    ctFile,
  )
  let peak = 0
  for (const v of amplitude) peak = Math.max(peak, v)
  out(`k-Wave ${run}: peak ${(peak / 1000).toFixed(1)} kPa (sqrt(2) p_rms)`)
  if (!freeWater) {
    const reference = await readVolume(path.join(planDir, PLAN_FILES.pressureSim))
    const brain = Uint8Array.from(tissue.data, (label) => (label === TISSUE_LABELS.brain ? 1 : 0))
    const size = tissue.dims as unknown as [number, number, number]
    const ours = Float32Array.from(reference.data)
    const inBrain = compareFields(masked(amplitude, brain), masked(ours, brain), size, tissue.spacingM[0])
    const everywhere = compareFields(amplitude, ours, size, tissue.spacingM[0])
    out(
      `against the plan's ${PLAN_FILES.pressureSim}: relative L2 ${(inBrain.relL2Pa * 100).toFixed(2)} % inside the brain (${brain.reduce((a, b) => a + b, 0)} voxels), ${(everywhere.relL2Pa * 100).toFixed(2)} % over the grid; brain peak ${(inBrain.peakError * 100).toFixed(2)} % apart, ${(inBrain.focalErrorM * 1000).toFixed(1)} mm apart`,
    )
  }
  out(`wrote ${niftiFile} (simulation grid) and ${ctFile} (CT grid)`)
}
