/**
 * `tfus simulate <scene.json> --out <dir> [--backend auto|webgpu|cpu]`: runs a scene file and
 * writes p_amp.nii.gz, p_phase.nii.gz (scene coordinates in mm as the NIfTI world
 * coordinates) and metrics.json.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { parseScene, sceneVoxelFiles, type VoxelMap } from '../../core/solver/scene.ts'
import { isImportError } from '../../core/io/errors.ts'
import { runSimulation, type Progress, type SimulationResult } from '../../core/solver/run.ts'
import { focalMetrics } from '../../core/solver/metrics.ts'
import { setupSimulation } from '../../core/solver/setup.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'
import type { Mat3, Vec3, Volume } from '../../core/volume/types.ts'
import { readVolume, writeVolume } from '../adapters/volume-io.ts'
import { readTextInput } from '../adapters/input-file.ts'
import { selectBackend, type BackendChoice } from '../adapters/solver-backends.ts'
import { hostMemoryBudget } from '../adapters/host-memory.ts'
import { checkOutputFolder } from '../adapters/output-folder.ts'

/**
 * Parses the scene file, reading the NIfTI (or any image) files of its voxel objects relative to
 * the scene's folder; a bad file is a SimulationInputError naming the scene file and the field
 * (and the voxel file where it is at fault). `edit` changes the parsed JSON before it is checked
 * (export-kwave --free-water drops a plan's voxel media).
 */
export async function loadSceneFile(file: string, edit?: (json: Record<string, unknown>) => void) {
  const text = await readTextInput(file, 'scene file')
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new SimulationInputError(file, `is not valid JSON (${e instanceof Error ? e.message : String(e)})`)
  }
  if (edit && json && typeof json === 'object' && !Array.isArray(json)) edit(json as Record<string, unknown>)
  const voxels = new Map<string, VoxelMap>()
  for (const { field, file: name } of sceneVoxelFiles(json)) {
    if (voxels.has(name)) continue
    try {
      const volume = await readVolume(path.resolve(path.dirname(file), name))
      voxels.set(name, { dims: volume.dims, spacingM: volume.spacingM, data: volume.data })
    } catch (e) {
      if (isImportError(e)) throw new SimulationInputError(`${file}: ${field}`, `${name}: ${e.problem}`)
      throw e
    }
  }
  try {
    return parseScene(json, voxels)
  } catch (e) {
    // The field alone does not say which file: name it too ("scene.json: solver.pml_point: ...").
    if (e instanceof SimulationInputError) throw new SimulationInputError(`${file}: ${e.field}`, e.problem)
    throw e
  }
}

/**
 * A field on the scene grid as a volume whose NIfTI sform equals the scene frame: ITK stores
 * LPS and writes RAS = diag(-1, -1, 1) LPS, so the LPS direction diag(-1, -1, 1) and a negated
 * x, y origin make the file's world coordinates the scene's own numbers.
 */
export function sceneVolume(data: Float32Array, result: Pick<SimulationResult, 'plan'>, description: string): Volume {
  const g = result.plan.grid
  return {
    data,
    dims: [...g.size] as unknown as Vec3,
    spacingM: [g.spacingM, g.spacingM, g.spacingM],
    originM: [-g.originM[0], -g.originM[1], g.originM[2]],
    direction: [-1, 0, 0, 0, -1, 0, 0, 0, 1] as Mat3,
    meta: { modality: 'OT', seriesDescription: description },
    warnings: [],
  }
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?'
  const m = Math.floor(seconds / 60)
  return m > 0 ? `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s` : `${Math.round(seconds)}s`
}

export async function commandSimulate(
  args: { positional: string[]; flags: Map<string, string | true> },
  signal: AbortSignal,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const [sceneFile] = args.positional
  const outDir = args.flags.get('out')
  if (!sceneFile || args.positional.length > 1) throw new SimulationInputError('usage', 'simulate takes one scene file')
  if (typeof outDir !== 'string') throw new SimulationInputError('--out', 'is missing: give the output folder')
  const choice = (args.flags.get('backend') ?? 'auto') as BackendChoice
  if (!['auto', 'webgpu', 'cpu'].includes(choice)) throw new SimulationInputError('--backend', `must be auto, webgpu or cpu, got ${String(choice)}`)
  const scene = await loadSceneFile(sceneFile)
  // The scene file names every refusal of the solver too ("scene.json: grid.size: ...").
  const naming = async <T>(run: () => Promise<T> | T): Promise<T> => {
    try {
      return await run()
    } catch (e) {
      if (e instanceof SimulationInputError && !e.field.startsWith(sceneFile)) throw new SimulationInputError(`${sceneFile}: ${e.field}`, e.problem)
      throw e
    }
  }
  // Validate before anything is printed, started or written, the machine's memory included: a
  // bad scene is one line on stderr (the run checks again with the backend's own budget).
  await naming(() => setupSimulation(scene.grid, scene.medium, scene.source, scene.settings, { memory: hostMemoryBudget() }))
  await checkOutputFolder(outDir)
  const selected = await selectBackend(choice)
  for (const note of selected.notes) err(`tfus: ${note}`)
  const started = performance.now()
  const showProgress = process.stderr.isTTY || args.flags.has('progress')
  let lastPrint = 0
  const onProgress = (p: Progress) => {
    if (!showProgress) return
    const now = performance.now()
    if (now - lastPrint < 500 && p.fraction < 1) return
    lastPrint = now
    const elapsed = (now - started) / 1000
    const eta = p.step > 0 ? (elapsed / p.step) * (p.maxSteps - p.step) : Number.NaN
    const residual = p.residual === undefined ? '' : ` residual ${p.residual.toExponential(2)}`
    process.stderr.write(`\r${p.phase} step ${p.step}/${p.maxSteps} (${Math.round(p.fraction * 100)}%)${residual} ETA <= ${formatEta(eta)}   `)
  }
  const result = await naming(() =>
    runSimulation({ grid: scene.grid, medium: scene.medium, source: scene.source, settings: scene.settings, backend: selected.factory, signal, onProgress }),
  )
  if (showProgress) process.stderr.write('\n')
  const metrics = focalMetrics(result.amplitudePa, scene.grid, scene.source.elements)
  await fs.mkdir(outDir, { recursive: true })
  await writeVolume(sceneVolume(result.amplitudePa, result, 'steady-state pressure amplitude [Pa]'), path.join(outDir, 'p_amp.nii.gz'))
  await writeVolume(sceneVolume(result.phaseRad, result, 'phase [rad] relative to a cos(wt) drive'), path.join(outDir, 'p_phase.nii.gz'))
  const plan = result.plan
  const json = {
    peak_pa: metrics.peakPa,
    peak_position_m: metrics.peakPositionM,
    peak_distance_from_source_m: metrics.peakDistanceFromSourceM,
    fwhm_6db_axial_m: metrics.fwhm6dbAxialM,
    fwhm_6db_lateral_m: metrics.fwhm6dbLateralM,
    fwhm_6db_lateral2_m: metrics.fwhm6dbLateral2M,
    steps: result.steps,
    dt_s: plan.time.dtS,
    points_per_period: plan.time.pointsPerPeriod,
    points_per_wavelength: plan.pointsPerWavelength,
    grid_size: [...plan.grid.size],
    padded_grid_size: plan.axes.map((a) => a.total),
    pml_points: plan.settings.pmlPoints,
    backend: result.backend,
    device: result.device,
    wall_s: result.wallS,
    steady_state_residual: result.steadyStateResidual,
    converged: result.converged,
    absorption_compensated: plan.absorptionCompensated,
    warnings: [...result.warnings, ...metrics.warnings, ...selected.notes],
  }
  const tmp = path.join(outDir, `.metrics.json.${process.pid}.tmp`)
  await fs.writeFile(tmp, JSON.stringify(json, null, 2) + '\n')
  await fs.rename(tmp, path.join(outDir, 'metrics.json'))
  out(
    `peak ${(metrics.peakPa / 1000).toFixed(1)} kPa at ${metrics.peakPositionM.map((v) => (v * 1000).toFixed(2)).join(', ')} mm; ${result.steps} steps in ${result.wallS.toFixed(1)} s on ${result.device}`,
  )
  for (const w of json.warnings) out(`warning: ${w}`)
  out(`wrote ${path.join(outDir, 'p_amp.nii.gz')}, p_phase.nii.gz, metrics.json`)
  return 0
}
