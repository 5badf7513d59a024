/**
 * Campaigns (issue 18): a campaign file expanded into numbered tasks in a campaign folder, each
 * task one deterministic, idempotent plan run, executed by a local pool (campaign-local.ts) or a
 * Slurm job array (campaign-slurm.ts), and collected into the plan database by one writer.
 *
 * The campaign folder (on a shared filesystem when a cluster runs it):
 *   manifest.json            the task list (expand.ts), written once by `tfus campaign plan`
 *   campaign-file.json|yaml  the campaign file as given (its extension kept)
 *   heads/                   procedural head CTs of a scene sweep (written once, atomically)
 *   tasks/NNNN/plan/         the task's plan folder (renamed into place only when complete)
 *   tasks/NNNN/done.json     the done-marker (written after the plan folder is in place)
 *   tasks/NNNN/error.json    the last failure of an unfinished task
 *   slurm/                   the sbatch script, submitted jobs and array-task logs
 *   summary.csv              `tfus campaign collect`'s table
 * A task only ever writes inside its own tasks/NNNN/ (and a head file, atomically), so a failure
 * never touches another task's results.
 */
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseCampaignFile, type CampaignFile, type DriveSpec } from '../../core/campaign/campaign-file.ts'
import { DuplicateTaskError, expandCampaign, fnv1a64, type CampaignTask } from '../../core/campaign/expand.ts'
import { canonicalJson } from '../../core/db/canonical.ts'
import { SimulationInputError, SimulationNumericalError } from '../../core/solver/errors.ts'
import { isImportError } from '../../core/io/errors.ts'
import { SurrogateModelError } from '../../core/surrogate/manifest.ts'
import { isPlanStoreError } from '../../core/db/errors.ts'
import { DEFAULT_PULSE_TIMING } from '../../core/planning/metrics.ts'
import { planGrid, checkPlanGrid } from '../../core/planning/domain.ts'
import { planDevice } from '../../core/planning/device.ts'
import { nextFftFriendly } from '../../core/fft/plan.ts'
import { DEFAULT_SETTINGS } from '../../core/solver/model.ts'
import { estimateSolverMemory } from '../../core/solver/limits.ts'
import { costBackends, planSolveSteps, solverSeconds, type CostBackend, type SolveSteps } from '../../core/campaign/cost.ts'
import { segmentHead } from '../../core/planning/masks.ts'
import { drawHeadParameters, proceduralHeadCt } from '../../core/surrogate/procedural-head.ts'
import { seededRandom } from '../../core/math/random.ts'
import { DEFAULT_PLACEMENT_RANGES, drawPlacement, skullCentroidRas } from '../../core/surrogate/placements.ts'
import type { Vec3 } from '../../core/volume/types.ts'
import { isYamlFile, readJsonOrYamlInput, readTextInput } from '../adapters/input-file.ts'
import { replaceFileAtomically, writeFileAtomic } from '../adapters/atomic-file.ts'
import { loadTransducerLibrary } from '../adapters/transducers.ts'
import { writeVolume } from '../adapters/volume-io.ts'
import { hostMemoryBudget } from '../adapters/host-memory.ts'
// A task is one `tfus plan`: the same pipeline, called the same way (the output folder written as a whole).
import { resolvePlanSetup, runPlanPipeline, type DriveInput, type PlanInput, type PlanRunHooks } from './pipeline/index.ts'

export const CAMPAIGN_FORMAT = 'tfus-campaign 1'
export const MANIFEST_FILE = 'manifest.json'

export interface CampaignManifest {
  readonly format: typeof CAMPAIGN_FORMAT
  readonly name: string
  readonly kind: CampaignFile['kind']
  /** Hash of the task list: a campaign folder holds one campaign. */
  readonly campaign_id: string
  readonly campaign_file: string
  readonly created_at: string
  readonly tasks: readonly CampaignTask[]
}

export interface DoneMarker {
  readonly index: number
  readonly id: string
  readonly label: string
  readonly finished_at: string
  readonly wall_s: number
  readonly host: string
  /** Procedural heads: placements drawn until the planner accepted one. */
  readonly placement_draws?: number
}

export interface ErrorMarker {
  readonly index: number
  readonly id: string
  readonly label: string
  readonly failed_at: string
  readonly host: string
  readonly error: string
  readonly kind: 'bad-input' | 'numerical' | 'internal'
}

const pad = (i: number) => String(i).padStart(4, '0')
export const taskDir = (dir: string, index: number) => path.join(dir, 'tasks', pad(index))
export const taskPlanDir = (dir: string, index: number) => path.join(taskDir(dir, index), 'plan')
const doneFile = (dir: string, index: number) => path.join(taskDir(dir, index), 'done.json')
const errorFile = (dir: string, index: number) => path.join(taskDir(dir, index), 'error.json')

const writeJson = (file: string, value: unknown) => writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n')
async function readJsonIfAny<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T
  } catch {
    return undefined
  }
}

/** Reads, validates and expands a campaign file, JSON or YAML by extension (relative paths against its folder). */
export async function loadCampaignFile(file: string): Promise<{ campaign: CampaignFile; tasks: CampaignTask[]; text: string }> {
  const text = await readTextInput(file, 'campaign file')
  const json = await readJsonOrYamlInput(file, 'campaign file')
  const campaign = parseCampaignFile(json, file)
  const base = path.dirname(path.resolve(file))
  try {
    return { campaign, tasks: expandCampaign(campaign, (p) => path.resolve(base, p)), text }
  } catch (e) {
    if (e instanceof DuplicateTaskError) throw new SimulationInputError(`${file}: tasks`, `${e.message}: a target, entry or setting is listed twice`)
    throw e
  }
}

/** The plan's drive as `tfus plan` builds it from its flags. */
function driveInput(d: DriveSpec): DriveInput {
  if ('isppa_free_water_w_cm2' in d) return { kind: 'isppa-free-water', wPerM2: d.isppa_free_water_w_cm2 * 1e4 }
  if ('isppa_target_w_cm2' in d) return { kind: 'isppa-target', wPerM2: d.isppa_target_w_cm2 * 1e4 }
  if ('device_setting' in d) return { kind: 'device-setting', setting: d.device_setting }
  return { kind: 'source', amplitudePa: d.source_amplitude_kpa * 1000 }
}

const mmToM = (p: readonly number[]) => p.map((v) => v / 1000) as unknown as Vec3

/** A task's plan input, for a subject's CT (procedural heads add their CT and placement at run time). */
function planInputOf(task: CampaignTask, outDir: string, override?: { ctPath: string; targetRasM: Vec3; entryRasM: Vec3 }): PlanInput {
  const s = task.source
  const base = {
    transducerId: task.transducer,
    mappingId: task.mapping,
    pointsPerWavelength: task.ppw,
    backend: task.backend,
    drive: driveInput(task.drive),
    pulseTiming: {
      pulseDurationS: task.pulse_duration_ms !== undefined ? task.pulse_duration_ms / 1000 : DEFAULT_PULSE_TIMING.pulseDurationS,
      prfHz: task.prf_hz ?? DEFAULT_PULSE_TIMING.prfHz,
      trainDutyCycle: DEFAULT_PULSE_TIMING.trainDutyCycle,
    },
    ...(task.thermal_protocol ? { thermalProtocolFile: task.thermal_protocol } : {}),
    outDir,
  }
  if (s.kind === 'subject') {
    const onMri = s.space === 'mri' && s.mri !== undefined
    return {
      ...base,
      ctPath: s.ct,
      ...(onMri ? { mriPath: s.mri!, ...(s.registration ? { registrationPath: s.registration } : {}) } : {}),
      targetRasM: mmToM(s.target_ras_mm),
      ...(s.entry_ras_mm ? { entryRasM: mmToM(s.entry_ras_mm) } : {}),
    }
  }
  if (!override) throw new Error('a procedural-head task needs its head and placement')
  return { ...base, ctPath: override.ctPath, targetRasM: override.targetRasM, entryRasM: override.entryRasM }
}

/** Which campaign-file field a planner flag comes from (for plan-time refusals). */
const FIELD_OF_FLAG: Record<string, string> = {
  '--transducer': 'transducers',
  '--mapping': 'mappings',
  '--ppw': 'ppw',
  '--protocol': 'thermal_protocol',
  '--isppa-target': 'drives',
  '--device-setting': 'drives',
}

/**
 * Everything a task will need that can be checked without running it, for every task, before
 * any task runs: the images exist, and the planner's own input checks (transducer, mapping,
 * resolution and its grid against this machine's memory, drive, registration file, thermal
 * protocol) pass for every distinct combination. A missing CT is reported here, not in task 37.
 */
export async function checkCampaignInputs(file: string, campaign: CampaignFile, tasks: readonly CampaignTask[]): Promise<void> {
  if (campaign.kind === 'plans') {
    for (const [i, s] of campaign.subjects.entries()) {
      for (const key of ['ct', 'mri', 'registration'] as const) {
        const p = s[key]
        if (p === undefined) continue
        const abs = path.resolve(path.dirname(path.resolve(file)), p)
        const st = await fs.stat(abs).catch(() => undefined)
        if (!st) throw new SimulationInputError(`${file}: subjects.${i}.${key}`, `${abs}: no such file or folder (subject ${s.id})`)
      }
    }
  }
  const scratch = path.join(os.tmpdir(), `tfus-campaign-check-${process.pid}`, 'plan')
  const seen = new Set<string>()
  for (const t of tasks) {
    const s = t.source
    const key = canonicalJson({
      t: t.transducer,
      d: t.drive,
      m: t.mapping,
      p: t.ppw,
      th: t.thermal_protocol,
      mri: s.kind === 'subject' && s.space === 'mri' ? [s.mri, s.registration] : undefined,
    })
    if (seen.has(key)) continue
    seen.add(key)
    const input = planInputOf(t, scratch, { ctPath: '', targetRasM: [0, 0, 0], entryRasM: [0, 0, 0] })
    try {
      await resolvePlanSetup(input)
    } catch (e) {
      if (e instanceof SimulationInputError) {
        const field = FIELD_OF_FLAG[e.field] ?? e.field
        throw new SimulationInputError(`${file}: ${field}`, `${e.problem} (task ${t.index}, ${t.label})`)
      }
      throw e
    }
  }
}

export interface TaskCostEstimate {
  readonly transducer: string
  readonly ppw: number
  readonly backend: CampaignTask['backend']
  readonly gridSize: readonly [number, number, number]
  readonly paddedCells: number
  readonly memoryBytes: number
  /** Steps of the head and free-water solves (core/campaign/cost.ts). */
  readonly steps: { readonly head: SolveSteps; readonly water: SolveSteps }
  /** Solver seconds per task for the expected steps at each backend's measured rate (`auto`: GPU and CPU). */
  readonly seconds: Partial<Record<CostBackend, number>>
  readonly tasks: number
}

/**
 * The cost of a task from a quick probe of its grid, as `tfus plan` sizes it before reading the
 * CT (planGrid at the device's shallowest focus: a lower bound; a deep target adds rows): the
 * cells the solver steps, the memory it needs, the steps of its two solves and the seconds at
 * the backend's measured rate (core/campaign/cost.ts). The local runner and `tfus campaign
 * status` give measured times once tasks finish.
 */
export async function estimateCampaignCost(tasks: readonly CampaignTask[]): Promise<TaskCostEstimate[]> {
  const library = await loadTransducerLibrary()
  const byKey = new Map<string, TaskCostEstimate>()
  for (const t of tasks) {
    const key = `${t.transducer}@${t.ppw}@${t.backend}`
    const before = byKey.get(key)
    if (before) {
      byKey.set(key, { ...before, tasks: before.tasks + 1 })
      continue
    }
    const def = library.transducers.find((d) => d.definition.id === t.transducer)!.definition
    const device = planDevice(def)
    const depth = device.focalRangeM ? device.exitPlaneOffsetM + device.focalRangeM[0] : device.rocM
    const grid = planGrid({ frequencyHz: device.frequencyHz, pointsPerWavelength: t.ppw, apertureM: device.apertureM, depthFromApexM: depth })
    checkPlanGrid(grid, t.ppw, hostMemoryBudget())
    const padded = grid.size.map((s, d) => nextFftFriendly(s + 2 * DEFAULT_SETTINGS.pmlPoints[d]!)) as unknown as [number, number, number]
    const memory = estimateSolverMemory({
      paddedSize: padded,
      userSize: grid.size,
      heterogeneousSoundSpeed: true,
      heterogeneousDensity: true,
      absorbing: true,
      fractional: false,
    })
    const steps = planSolveSteps(grid.size, grid.spacingM, device.frequencyHz)
    const seconds = Object.fromEntries(costBackends(t.backend).map((b) => [b, solverSeconds(memory.cells * (steps.head.expected + steps.water.expected), b)]))
    byKey.set(key, {
      transducer: t.transducer,
      ppw: t.ppw,
      backend: t.backend,
      gridSize: grid.size,
      paddedCells: memory.cells,
      memoryBytes: memory.bytes,
      steps,
      seconds,
      tasks: 1,
    })
  }
  return [...byKey.values()]
}

/**
 * `tfus campaign plan`: checks and expands the file, and writes the campaign folder. Planning
 * the same file into its folder again changes nothing (the same tasks); a folder holding another
 * campaign is refused, so finished tasks are never re-labelled.
 */
export async function planCampaign(file: string, dir: string): Promise<{ manifest: CampaignManifest; estimates: TaskCostEstimate[]; existed: boolean }> {
  const { campaign, tasks, text } = await loadCampaignFile(file)
  await checkCampaignInputs(file, campaign, tasks)
  const estimates = await estimateCampaignCost(tasks)
  const campaignId = fnv1a64(canonicalJson({ name: campaign.name, tasks: tasks.map((t) => t.id) }))
  const existing = await readJsonIfAny<CampaignManifest>(path.join(dir, MANIFEST_FILE))
  if (existing) {
    if (existing.campaign_id !== campaignId)
      throw new SimulationInputError('--dir', `${dir} holds another campaign (${existing.name}, ${existing.tasks.length} tasks): give a new folder`)
    return { manifest: existing, estimates, existed: true }
  }
  const st = await fs.stat(dir).catch(() => undefined)
  if (st && !st.isDirectory()) throw new SimulationInputError('--dir', `${dir} is a file, not a folder`)
  if (st && (await fs.readdir(dir)).length > 0) throw new SimulationInputError('--dir', `${dir} is not empty and holds no campaign: give a new or empty folder`)
  const manifest: CampaignManifest = {
    format: CAMPAIGN_FORMAT,
    name: campaign.name,
    kind: campaign.kind,
    campaign_id: campaignId,
    campaign_file: path.resolve(file),
    created_at: new Date().toISOString(),
    tasks,
  }
  await fs.mkdir(path.join(dir, 'tasks'), { recursive: true })
  await writeFileAtomic(path.join(dir, isYamlFile(file) ? 'campaign-file.yaml' : 'campaign-file.json'), text)
  // The manifest last: a folder with a manifest is a complete campaign.
  await writeJson(path.join(dir, MANIFEST_FILE), manifest)
  return { manifest, estimates, existed: false }
}

export async function readManifest(dir: string): Promise<CampaignManifest> {
  const text = await readTextInput(path.join(dir, MANIFEST_FILE), 'campaign manifest').catch(() => {
    throw new SimulationInputError(dir, `is not a campaign folder (no ${MANIFEST_FILE}: run tfus campaign plan <file> --dir ${dir})`)
  })
  const m = JSON.parse(text) as CampaignManifest
  if (m.format !== CAMPAIGN_FORMAT || !Array.isArray(m.tasks))
    throw new SimulationInputError(path.join(dir, MANIFEST_FILE), `not a ${CAMPAIGN_FORMAT} manifest`)
  return m
}

export type TaskState = 'done' | 'failed' | 'missing'

export interface TaskStatus {
  readonly task: CampaignTask
  readonly state: TaskState
  readonly done?: DoneMarker
  readonly error?: ErrorMarker
}

/** The done-markers and error records: done wins (a later success clears the error). */
export async function readTaskStatus(dir: string, task: CampaignTask): Promise<TaskStatus> {
  const done = await readJsonIfAny<DoneMarker>(doneFile(dir, task.index))
  if (done && done.id === task.id) {
    const plan = await fs.stat(path.join(taskPlanDir(dir, task.index), 'plan.json')).catch(() => undefined)
    if (plan) return { task, state: 'done', done }
  }
  const error = await readJsonIfAny<ErrorMarker>(errorFile(dir, task.index))
  if (error && error.id === task.id) return { task, state: 'failed', error }
  return { task, state: 'missing' }
}

export async function readCampaignStatus(dir: string, manifest: CampaignManifest): Promise<TaskStatus[]> {
  return Promise.all(manifest.tasks.map((t) => readTaskStatus(dir, t)))
}

/**
 * A procedural head's CT, shared by the tasks of one head: generated from its seed (the same
 * bytes every time), written once atomically (tasks racing for it write the same file).
 */
async function headCtFile(dir: string, seed: number, spacingMm: number) {
  const file = path.join(dir, 'heads', `head-${seed}-${spacingMm}mm.nii.gz`)
  const head = proceduralHeadCt(drawHeadParameters(seed), spacingMm / 1000)
  if (!(await fs.stat(file).catch(() => undefined))) await replaceFileAtomically(file, (tmp) => writeVolume(head.ct, tmp), '.nii.gz')
  return { file, head }
}

/** Placement draws per procedural-head task before it gives up (each refusal costs a placement, no solve). */
const PLACEMENT_ATTEMPTS = 40

export interface RunTaskResult {
  readonly state: 'done' | 'skipped'
  readonly marker: DoneMarker
}

/**
 * `tfus campaign run-task`: one task, idempotent. A task already done does nothing. Otherwise
 * the plan runs into tasks/NNNN/plan (replaced as a whole when complete), then the done-marker
 * is written; a failure writes error.json (the error as one line, and its kind) and is rethrown.
 */
export async function runCampaignTask(dir: string, index: number, hooks: PlanRunHooks = {}): Promise<RunTaskResult> {
  const manifest = await readManifest(dir)
  const task = manifest.tasks[index]
  if (!Number.isInteger(index) || !task) throw new SimulationInputError('--index', `must be a task number from 0 to ${manifest.tasks.length - 1}, got ${index}`)
  const status = await readTaskStatus(dir, task)
  if (status.state === 'done') return { state: 'skipped', marker: status.done! }
  const started = performance.now()
  const outDir = taskPlanDir(dir, index)
  await fs.mkdir(taskDir(dir, index), { recursive: true })
  let placementDraws: number | undefined
  try {
    const s = task.source
    if (s.kind === 'subject') {
      await runPlanPipeline(planInputOf(task, outDir), hooks)
    } else {
      const { file, head } = await headCtFile(dir, s.head_seed, s.spacing_mm)
      const seg = segmentHead(head.ct)
      const centre = skullCentroidRas(head.ct, seg)
      // The task's own stream of draws: it depends on the head, the placement number and the
      // sweep's seed only, so every rerun (and every machine) draws the same placement.
      const random = seededRandom(Number.parseInt(fnv1a64(`${s.head_seed}/${s.placement}/${s.placement_seed}`).slice(0, 8), 16))
      let lastRefusal: SimulationInputError | undefined
      let planned = false
      for (let attempt = 0; attempt < PLACEMENT_ATTEMPTS && !planned; attempt++) {
        placementDraws = attempt + 1
        const drawn = drawPlacement(head.ct, seg, centre, random, DEFAULT_PLACEMENT_RANGES)
        if (!drawn) continue
        try {
          await runPlanPipeline(planInputOf(task, outDir, { ctPath: file, targetRasM: drawn.targetRasM, entryRasM: drawn.entryRasM }), hooks)
          planned = true
        } catch (e) {
          // A placement the planner refuses (beam through the face, standoff) is drawn again.
          if (e instanceof SimulationInputError && e.field.startsWith('placement')) lastRefusal = e
          else throw e
        }
      }
      if (!planned) throw lastRefusal ?? new SimulationInputError('placement', `no valid placement in ${PLACEMENT_ATTEMPTS} draws on head ${s.head_seed}`)
    }
  } catch (e) {
    // As `tfus` sorts its exit codes (electron/cli/main.ts): the user's input, the numerics, a cancel, or ours.
    const badInput = e instanceof SimulationInputError || isImportError(e) || e instanceof SurrogateModelError || isPlanStoreError(e)
    const kind: ErrorMarker['kind'] | 'cancelled' = badInput
      ? 'bad-input'
      : e instanceof SimulationNumericalError
        ? 'numerical'
        : e instanceof Error && e.name === 'AbortError'
          ? 'cancelled'
          : 'internal'
    const error = e instanceof Error ? e.message.split('\n')[0]! : String(e)
    // A cancel (Ctrl-C, scancel's SIGINT, the runner gone) is no failure: the task stays missing.
    if (kind !== 'cancelled')
      await writeJson(errorFile(dir, index), {
        index,
        id: task.id,
        label: task.label,
        failed_at: new Date().toISOString(),
        host: os.hostname(),
        error,
        kind,
      } satisfies ErrorMarker)
    throw e
  }
  const marker: DoneMarker = {
    index,
    id: task.id,
    label: task.label,
    finished_at: new Date().toISOString(),
    wall_s: (performance.now() - started) / 1000,
    host: os.hostname(),
    ...(placementDraws ? { placement_draws: placementDraws } : {}),
  }
  await writeJson(doneFile(dir, index), marker)
  await fs.rm(errorFile(dir, index), { force: true })
  return { state: 'done', marker }
}
