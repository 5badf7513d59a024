/**
 * `tfus`: the command-line host. Millimetres at this edge, metres inside core.
 * Exit codes: 0 done, 2 bad input (one line on stderr naming the file or field), 3 numerical
 * failure, 130 cancelled.
 */
import * as path from 'node:path'
import { ImportError, isImportError } from '../../core/io/errors.ts'
import { intensityStats } from '../../core/volume/stats.ts'
import { orientationCode } from '../../core/volume/geometry.ts'
import type { Volume } from '../../core/volume/types.ts'
import { listDicomFolder, readVolume, writeVolume, type ReadOptions } from '../adapters/volume-io.ts'
import { promises as fs } from 'node:fs'
import { commandSimulate } from './simulate.ts'
import { commandExportKwave, commandImportKwave } from './kwave.ts'
import { commandRegister } from './register.ts'
import { commandTransducers } from './transducers.ts'
import { commandPlan } from './plan.ts'
import { commandThermal } from './thermal.ts'
import { commandExport, commandImportPose } from './export.ts'
import { commandDb, commandImport, commandPlanSave, commandPlans } from './db.ts'
import { commandCampaign } from './campaign.ts'
import { SimulationInputError, SimulationNumericalError } from '../../core/solver/errors.ts'
import { SurrogateModelError } from '../../core/surrogate/manifest.ts'
import { isPlanStoreError } from '../../core/db/errors.ts'
import { existsSync, statSync } from 'node:fs'
import { prepareDataDir, resolveDataDir } from '../adapters/db/data-dir.ts'
import { restrictUmask } from '../adapters/private-dir.ts'
import { checkOutputFolder } from '../adapters/output-folder.ts'

export const EXIT_OK = 0
export const EXIT_BAD_INPUT = 2
export const EXIT_NUMERICAL = 3
export const EXIT_CANCELLED = 130

/**
 * Every command with the options it takes (valued: `--name value` or `--name=value`; boolean:
 * `--name`) and its usage lines. An option not listed for the command is refused, naming it: a
 * typo such as `--deidentfy` must never be ignored (it would export patient data).
 */
interface CommandSpec {
  readonly valued: readonly string[]
  readonly boolean: readonly string[]
  readonly usage: string
}

const PLAN_VALUED = [
  'ct',
  'mri',
  'registration',
  'target',
  'space',
  'entry',
  'transducer',
  'mapping',
  'ppw',
  'backend',
  'out',
  'isppa-free-water',
  'isppa-target',
  'device-setting',
  'source-amplitude-kpa',
  'pulse-duration-ms',
  'prf-hz',
  'max-standoff-mm',
  'correct-iterations',
  'correct-tolerance-mm',
  'data-dir',
  'note',
  'protocol',
]
const PLAN_BOOLEAN = ['correct-focus', 'progress', 'save']

const COMMANDS: Record<string, CommandSpec> = {
  info: { valued: ['series'], boolean: ['json'], usage: '  tfus info <file-or-folder> [--json] [--series <SeriesInstanceUID>]' },
  convert: { valued: ['series'], boolean: [], usage: '  tfus convert <in> <out.nii.gz|out.nii|out.nrrd|out.mha> [--series <SeriesInstanceUID>]' },
  simulate: { valued: ['out', 'backend'], boolean: ['progress'], usage: '  tfus simulate <scene.json> --out <dir> [--backend auto|webgpu|cpu] [--progress]' },
  'export-kwave': {
    valued: ['kwave-format', 'steps'],
    boolean: ['free-water'],
    usage: '  tfus export-kwave <scene.json | plan-dir> <input.h5> [--free-water] [--kwave-format 1.2|1.1] [--steps N]',
  },
  'import-kwave': {
    valued: ['scene', 'plan', 'ct-out'],
    boolean: ['free-water'],
    usage: '  tfus import-kwave <output.h5> (--scene <scene.json> | --plan <plan-dir> [--free-water] [--ct-out <ct.nii.gz>]) <out.nii.gz>',
  },
  register: {
    valued: ['ct', 'mri', 'out', 'voxel-mm', 'init'],
    boolean: ['accept-low-quality', 'json', 'progress'],
    usage:
      '  tfus register --ct <ct> --mri <t1> --out <transform.json> [--voxel-mm 2] [--init center-of-mass|none] [--accept-low-quality] [--json] [--progress]',
  },
  plan: {
    valued: PLAN_VALUED,
    boolean: PLAN_BOOLEAN,
    usage: `  tfus plan --ct <ct> [--mri <t1> [--registration <transform.json>]] --target x,y,z [--space ras|lps] [--entry x,y,z]
            --transducer <id> [--mapping kplan] [--ppw 6] [--backend auto|webgpu|cpu]
            [--isppa-free-water W/cm2 | --isppa-target W/cm2 | --device-setting <value> | --source-amplitude-kpa 60]
            [--correct-focus [--correct-iterations 3] [--correct-tolerance-mm 1]] --out <dir> [--progress]
            [--protocol <thermal-protocol.json>]   (adds the thermal run: temperature_max, cem43, thermal.json)
            [--save [--note <text>] [--data-dir <dir>]]   (stores the plan in the plan database, prints its id)
            (with --mri, target and entry are points on the MRI; they are carried into CT space by registration)`,
  },
  predict: {
    valued: [...PLAN_VALUED, 'model', 'provider'],
    boolean: PLAN_BOOLEAN,
    usage: `  tfus predict <the same inputs as tfus plan> [--model resources/surrogate/model.json] [--provider auto|cpu|webgpu|cuda]
            (the neural surrogate's preview: same outputs, plan.json "source": "surrogate" with a confidence in [0, 1])`,
  },
  thermal: {
    valued: ['protocol', 'backend', 'absorbed-fraction', 'coupling', 'drive-scale', 'out'],
    boolean: ['progress'],
    usage: `  tfus thermal <plan-dir> --protocol <thermal-protocol.json> [--backend auto|webgpu|cpu] [--absorbed-fraction prestus|babelbrain|full]
            [--coupling conducting|bath] [--drive-scale 1] [--out <dir>] [--progress]   (writes temperature_max, cem43, thermal.json)`,
  },
  transducers: {
    valued: [],
    boolean: ['json'],
    usage: '  tfus transducers [--json]   (built-in + <user data>/transducers/*.json; TFUS_DATA_DIR overrides <user data>)',
  },
  export: {
    valued: ['format', 'out', 'space', 'coords', 'brainsight-version', 'data-dir'],
    boolean: ['deidentify', 'retain-uids'],
    usage: `  tfus export <plan-dir | id[@version]> --format brainsight|localite|slicer|kplan|nifti|dicom|report --out <file-or-folder>
            [--space ct|mri] [--coords ras|lps] [--brainsight-version 13|14] [--deidentify [--retain-uids]]`,
  },
  'import-pose': {
    valued: ['format', 'focal-distance-mm'],
    boolean: ['json'],
    usage: '  tfus import-pose <file> --format brainsight|localite|slicer [--focal-distance-mm F] [--json]',
  },
  db: {
    valued: ['data-dir'],
    boolean: [],
    usage: '  tfus db init|check|backup <dest> [--data-dir <dir>]   (plan database; default folder: $TFUS_DATA_DIR, else the user-data folder)',
  },
  plans: {
    valued: ['data-dir', 'by', 'override-reason', 'acknowledge'],
    boolean: ['json'],
    usage: `  tfus plans list|show <id>[@version] [--json]|approve <id>[@version] --by <name> [--data-dir <dir>]
            [--override-reason <text>]   (needed below 6 points per wavelength)   [--acknowledge mechanical,thermal]   (flags over the ITRUSST limits)`,
  },
  import: { valued: ['data-dir', 'series'], boolean: [], usage: '  tfus import <image-or-dicom-folder> [--series <SeriesInstanceUID>] [--data-dir <dir>]' },
  campaign: {
    valued: ['dir', 'index', 'jobs', 'executor', 'partition', 'gres', 'time', 'mem', 'array-limit', 'data-dir'],
    boolean: [],
    usage: `  tfus campaign plan <campaign.json> --dir <campaign-dir>   (checks every input, writes the task list, prints count and cost)
  tfus campaign run-task <campaign-dir> --index N   (one task; a done task is skipped)
  tfus campaign run <campaign-dir> [--jobs N]   (local executor: resumable, Ctrl-C safe)
  tfus campaign submit <campaign-dir> --executor slurm [--partition P] [--gres gpu:1] [--time T] [--mem M] [--array-limit N]
  tfus campaign status|resubmit <campaign-dir>   (Slurm: squeue/sacct and the done-markers; resubmit failed or missing tasks)
  tfus campaign collect <campaign-dir> [--data-dir <dir>]   (finished plans into the plan database, once each; summary.csv)`,
  },
  'plan-save': {
    valued: ['data-dir', 'note', 'patient-id', 'patient-name'],
    boolean: [],
    usage: '  tfus plan-save <plan-dir> [--note <text>] [--patient-id <id>] [--patient-name <name>] [--data-dir <dir>]',
  },
}

const USAGE = `usage:
${Object.values(COMMANDS)
  .map((c) => c.usage)
  .join('\n')}

Reads NIfTI (.nii, .nii.gz), NRRD, MHA and DICOM (a file or a folder of series).
Coordinates are printed in millimetres, LPS (as DICOM and ITK).
tfus <command> --help prints that command's usage. Exit codes: 0 done, 2 bad input, 3 numerical failure, 130 cancelled.`

/** A command line that cannot be run: one line, plus where to find the usage. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message)
  }
}

/** Commands whose inputs are all options. */
const NO_POSITIONALS = new Set(['register', 'plan', 'predict'])

interface ParsedArgs {
  readonly positional: string[]
  readonly flags: Map<string, string | true>
}

/**
 * Strict parsing against the command's declared options. Not node:util parseArgs: it refuses a
 * value that starts with "-", and coordinates such as `--target -30,12,40` must stay typable.
 */
function parseArgs(command: string, argv: readonly string[]): ParsedArgs {
  const spec = COMMANDS[command]!
  const positional: string[] = []
  const flags = new Map<string, string | true>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      positional.push(...argv.slice(i + 1))
      break
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=')
      const key = eq < 0 ? arg.slice(2) : arg.slice(2, eq)
      const inline = eq < 0 ? undefined : arg.slice(eq + 1)
      if (spec.valued.includes(key)) {
        const value = inline ?? argv[++i]
        if (value === undefined) throw new UsageError(`--${key} needs a value`, command)
        if (flags.has(key)) throw new UsageError(`--${key} is given twice`, command)
        flags.set(key, value)
      } else if (spec.boolean.includes(key)) {
        if (inline !== undefined) throw new UsageError(`--${key} takes no value`, command)
        flags.set(key, true)
      } else {
        throw new UsageError(`unknown option --${key} for ${command}`, command)
      }
    } else positional.push(arg)
  }
  if (NO_POSITIONALS.has(command) && positional.length > 0)
    throw new UsageError(`${command} takes no argument "${positional[0]}" (every input is an option)`, command)
  return { positional, flags }
}

const round = (v: number, digits = 6) => Number(v.toFixed(digits))

export function volumeInfo(volume: Volume) {
  const stats = intensityStats(volume)
  return {
    source: volume.meta.source,
    modality: volume.meta.modality,
    dims: [...volume.dims],
    spacing_mm: volume.spacingM.map((v) => round(v * 1000)),
    origin_mm: volume.originM.map((v) => round(v * 1000)),
    direction: [0, 1, 2].map((r) => [0, 1, 2].map((c) => round(volume.direction[3 * r + c]!, 9))),
    orientation: orientationCode(volume.direction),
    min: stats.min,
    max: stats.max,
    value_unit: volume.meta.valueUnit ?? null,
    data_type: volume.data.constructor.name.replace('Array', '').toLowerCase(),
    patient_name: volume.meta.patientName ?? null,
    patient_id: volume.meta.patientId ?? null,
    study_instance_uid: volume.meta.studyInstanceUid ?? null,
    series_instance_uid: volume.meta.seriesInstanceUid ?? null,
    frame_of_reference_uid: volume.meta.frameOfReferenceUid ?? null,
    uids_minted: volume.meta.uidsMinted ?? false,
    warnings: [...volume.warnings],
  }
}

function printHuman(info: Record<string, unknown>, out: (line: string) => void): void {
  for (const [key, value] of Object.entries(info)) {
    if (key === 'series' && Array.isArray(value)) {
      out(`series (${value.length}):`)
      for (const s of value as Array<Record<string, unknown>>) {
        out(
          `  ${String(s.series_instance_uid)}  ${String(s.modality)}  ${String(s.slices)} slices  ${String(s.rows)}x${String(s.columns)}  "${String(s.description ?? '')}"`,
        )
      }
    } else if (key === 'warnings' && Array.isArray(value)) {
      out(`warnings: ${value.length === 0 ? 'none' : ''}`)
      for (const w of value) out(`  - ${String(w)}`)
    } else if (key === 'direction' && Array.isArray(value)) {
      out(`direction: ${(value as number[][]).map((row) => `[${row.join(', ')}]`).join(' ')}`)
    } else {
      out(`${key}: ${Array.isArray(value) ? value.join(' x ') : String(value)}`)
    }
  }
}

function progressReporter(enabled: boolean): ReadOptions['onProgress'] {
  if (!enabled) return undefined
  return (fraction, message) => process.stderr.write(`\r${Math.round(fraction * 100)}% ${message}`.padEnd(60) + (fraction >= 1 ? '\n' : ''))
}

async function commandInfo(args: ParsedArgs, signal: AbortSignal, out: (line: string) => void): Promise<number> {
  const target = args.positional[0]
  if (!target || args.positional.length > 1) throw new UsageError('info takes one file or folder', 'info')
  const seriesUid = args.flags.get('series')
  const options: ReadOptions = {
    signal,
    onProgress: progressReporter(process.stderr.isTTY && !args.flags.has('json')),
    ...(typeof seriesUid === 'string' ? { seriesUid } : {}),
  }
  let info: Record<string, unknown>
  const st = await fs.stat(target).catch(() => null)
  if (st?.isDirectory()) {
    const listing = await listDicomFolder(target, options)
    const series = listing.series.map((s) => ({
      series_instance_uid: s.seriesInstanceUid,
      modality: s.modality,
      description: s.description ?? null,
      series_number: s.seriesNumber ?? null,
      slices: s.sliceCount,
      rows: s.rows,
      columns: s.columns,
    }))
    if (listing.series.length === 0) {
      const why = listing.skipped
        .slice(0, 3)
        .map((s) => `${path.basename(s.name)}: ${s.reason}`)
        .join('; ')
      throw new ImportError('not-an-image', target, `no DICOM image series found (${why})`)
    }
    if (listing.series.length > 1 && typeof seriesUid !== 'string') {
      info = { source: target, series, warnings: [`the folder holds ${listing.series.length} series: pass --series <SeriesInstanceUID> to inspect one`] }
    } else {
      const volume = await readVolume(target, options)
      info = { ...volumeInfo(volume), series }
    }
    if (listing.skipped.length > 0) {
      const warnings = info.warnings as string[]
      warnings.push(
        `${listing.skipped.length} file(s) skipped (not DICOM images), e.g. ${path.basename(listing.skipped[0]!.name)}: ${listing.skipped[0]!.reason}`,
      )
    }
  } else {
    info = volumeInfo(await readVolume(target, options))
  }
  if (args.flags.has('json')) out(JSON.stringify(info, null, 2))
  else printHuman(info, out)
  return EXIT_OK
}

async function commandConvert(args: ParsedArgs, signal: AbortSignal, out: (line: string) => void): Promise<number> {
  const [input, output] = args.positional
  if (!input || !output || args.positional.length > 2) throw new UsageError('convert takes an input and an output path', 'convert')
  // The output's folder is checked before the (possibly long) read, not after it.
  await checkOutputFolder(path.dirname(path.resolve(output)), output)
  const seriesUid = args.flags.get('series')
  const volume = await readVolume(input, {
    signal,
    onProgress: progressReporter(process.stderr.isTTY),
    ...(typeof seriesUid === 'string' ? { seriesUid } : {}),
  })
  await writeVolume(volume, output)
  out(`wrote ${output} (${volume.dims.join('x')}, ${volume.meta.modality})`)
  for (const w of volume.warnings) out(`warning: ${w}`)
  return EXIT_OK
}

/** Commands that may open the plan database (`--data-dir`, else $TFUS_DATA_DIR, else the user-data folder). */
const DATABASE_COMMANDS = new Set(['db', 'plans', 'import', 'plan-save', 'plan', 'predict', 'export', 'campaign'])

/** The `--data-dir` value in raw arguments (`--data-dir X` or `--data-dir=X`), or undefined. */
export function dataDirFlag(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--data-dir') return args[i + 1]
    if (a.startsWith('--data-dir=')) return a.slice('--data-dir='.length)
  }
  return undefined
}

/**
 * Before a command that may use the database: an existing data folder is made private (0700)
 * and the app's database from older versions (`<data>/app/db/plans.db`) is moved to
 * `<data>/plans.db`, the one the app and the CLI share; one line on stderr for each. A folder
 * that does not exist yet is left to the database, which creates it under the umask (0700).
 */
function prepareDatabaseFolder(args: readonly string[], err: (line: string) => void): void {
  const dir = resolveDataDir(dataDirFlag(args))
  // A missing folder is the database's to create; a path that is not a folder, its to refuse.
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return
  try {
    for (const line of prepareDataDir(dir)) err(`tfus: ${line}`)
  } catch (e) {
    err(`tfus: warning: ${dir}: ${e instanceof Error ? e.message : String(e)}`)
  }
}

export interface MainOptions {
  /** Cancels the command as Ctrl-C does (a caller's time limit; tests). */
  readonly signal?: AbortSignal
}

export async function main(
  argv: readonly string[],
  io = { out: (l: string) => console.log(l), err: (l: string) => console.error(l) },
  options: MainOptions = {},
): Promise<number> {
  // Plans, exports and the database hold patient data: what this run creates is the user's only.
  restrictUmask()
  const controller = new AbortController()
  const onSigint = () => controller.abort()
  process.once('SIGINT', onSigint)
  if (options.signal?.aborted) controller.abort()
  options.signal?.addEventListener('abort', onSigint, { once: true })
  // --debug (anywhere) adds the stack to an unexpected failure's one line; no command sees it.
  const debug = argv.includes('--debug')
  try {
    const [command, ...rest] = argv.filter((a) => a !== '--debug')
    if (command !== undefined && Object.hasOwn(COMMANDS, command) && (rest.includes('--help') || rest.includes('-h'))) {
      io.out(`usage:\n${COMMANDS[command]!.usage}`)
      return EXIT_OK
    }
    if (command !== undefined && DATABASE_COMMANDS.has(command)) prepareDatabaseFolder(rest, io.err)
    switch (command) {
      case 'info':
        return await commandInfo(parseArgs(command, rest), controller.signal, io.out)
      case 'convert':
        return await commandConvert(parseArgs(command, rest), controller.signal, io.out)
      case 'simulate':
        return await commandSimulate(parseArgs(command, rest), controller.signal, io.out, io.err)
      case 'export-kwave':
        return await commandExportKwave(parseArgs(command, rest), io.out)
      case 'import-kwave':
        return await commandImportKwave(parseArgs(command, rest), io.out)
      case 'register':
        return await commandRegister(parseArgs(command, rest), controller.signal, io.out, io.err)
      case 'plan':
        return await commandPlan(parseArgs(command, rest), controller.signal, io.out, io.err)
      case 'predict':
        return await commandPlan(parseArgs(command, rest), controller.signal, io.out, io.err, 'surrogate')
      case 'thermal':
        return await commandThermal(parseArgs(command, rest), controller.signal, io.out, io.err)
      case 'transducers':
        return await commandTransducers(parseArgs(command, rest), io.out)
      case 'export':
        return await commandExport(parseArgs(command, rest), io.out)
      case 'import-pose':
        return await commandImportPose(parseArgs(command, rest), io.out)
      case 'db':
        return await commandDb(parseArgs(command, rest), io.out, io.err)
      case 'plans':
        return await commandPlans(parseArgs(command, rest), io.out, io.err)
      case 'import':
        return await commandImport(parseArgs(command, rest), io.out, io.err)
      case 'plan-save':
        return await commandPlanSave(parseArgs(command, rest), io.out, io.err)
      case 'campaign':
        return await commandCampaign(parseArgs(command, rest), controller.signal, io.out, io.err)
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE)
        return command === undefined ? EXIT_BAD_INPUT : EXIT_OK
      default:
        throw new UsageError(`unknown command "${command}"`)
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`tfus: ${e.message} (tfus ${e.command ? `${e.command} ` : ''}--help for usage)`)
      return EXIT_BAD_INPUT
    }
    if (isImportError(e)) {
      io.err(`tfus: error: ${e.message}`)
      return EXIT_BAD_INPUT
    }
    if (e instanceof SimulationInputError) {
      io.err(`tfus: error: ${e.message}`)
      return EXIT_BAD_INPUT
    }
    if (isPlanStoreError(e)) {
      io.err(`tfus: error: ${e.message}`)
      return EXIT_BAD_INPUT
    }
    if (e instanceof SurrogateModelError) {
      io.err(`tfus: error: ${e.message}`)
      return EXIT_BAD_INPUT
    }
    if (e instanceof SimulationNumericalError) {
      io.err(`tfus: numerical failure: ${e.message}`)
      return EXIT_NUMERICAL
    }
    if (e instanceof Error && e.name === 'AbortError') {
      io.err('tfus: cancelled')
      return EXIT_CANCELLED
    }
    // Anything else is our failure, not the user's input: one line (the stack only with --debug),
    // exit 3, never a raw stack trace.
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
    io.err(`tfus: internal error: ${message.split('\n')[0]}${debug ? '' : ' (run with --debug for details)'}`)
    if (debug && e instanceof Error && e.stack) io.err(e.stack)
    return EXIT_NUMERICAL
  } finally {
    process.removeListener('SIGINT', onSigint)
    options.signal?.removeEventListener('abort', onSigint)
  }
}
