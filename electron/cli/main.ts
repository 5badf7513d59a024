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
import { listDicomFolder, readVolume, writeVolume, type ReadOptions } from '../node/volume-io.ts'
import { promises as fs } from 'node:fs'
import { commandSimulate } from './simulate.ts'
import { commandExportKwave, commandImportKwave } from './kwave.ts'
import { commandRegister } from './register.ts'
import { commandTransducers } from './transducers.ts'
import { commandPlan } from './plan.ts'
import { commandThermal } from './thermal.ts'
import { commandExport, commandImportPose } from './export.ts'
import { commandDb, commandImport, commandPlanSave, commandPlans } from './db.ts'
import { SimulationInputError, SimulationNumericalError } from '../../core/solver/errors.ts'
import { SurrogateModelError } from '../../core/surrogate/manifest.ts'
import { existsSync } from 'node:fs'
import { prepareDataDir, resolveDataDir } from '../node/db/data-dir.ts'
import { restrictUmask } from '../node/private-dir.ts'

export const EXIT_OK = 0
export const EXIT_BAD_INPUT = 2
export const EXIT_NUMERICAL = 3
export const EXIT_CANCELLED = 130

const USAGE = `usage:
  tfus info <file-or-folder> [--json] [--series <SeriesInstanceUID>]
  tfus convert <in> <out.nii.gz|out.nii|out.nrrd|out.mha> [--series <SeriesInstanceUID>]
  tfus simulate <scene.json> --out <dir> [--backend auto|webgpu|cpu] [--progress]
  tfus export-kwave <scene.json> <input.h5> [--kwave-format 1.2|1.1] [--steps N]
  tfus import-kwave <output.h5> --scene <scene.json> <out.nii.gz>
  tfus register --ct <ct> --mri <t1> --out <transform.json> [--voxel-mm 2] [--init center-of-mass|none] [--accept-low-quality] [--json] [--progress]
  tfus plan --ct <ct> [--mri <t1> [--registration <transform.json>]] --target x,y,z [--space ras|lps] [--entry x,y,z]
            --transducer <id> [--mapping kplan] [--ppw 6] [--backend auto|webgpu|cpu]
            [--isppa-free-water W/cm2 | --isppa-target W/cm2 | --device-setting <value> | --source-amplitude-kpa 60]
            [--correct-focus [--correct-iterations 3] [--correct-tolerance-mm 1]] --out <dir> [--progress]
            [--protocol <protocol.json>]   (adds the thermal run: temperature_max, cem43, thermal.json)
            [--save [--note <text>] [--data-dir <dir>]]   (stores the plan in the plan database, prints its id)
            (with --mri, target and entry are points on the MRI; they are carried into CT space by registration)
  tfus predict <the same inputs as tfus plan> [--model resources/surrogate/model.json] [--provider auto|cpu|webgpu|cuda]
            (the neural surrogate's preview: same outputs, plan.json "source": "surrogate" with a confidence in [0, 1])
  tfus thermal <plan-dir> --protocol <protocol.json> [--backend auto|webgpu|cpu] [--absorbed-fraction prestus|babelbrain|full]
            [--coupling conducting|bath] [--drive-scale 1] [--out <dir>] [--progress]   (writes temperature_max, cem43, thermal.json)
  tfus transducers [--json]   (built-in + <user data>/transducers/*.json; TFUS_DATA_DIR overrides <user data>)
  tfus export <plan-dir | id[@version]> --format brainsight|localite|slicer|kplan|nifti|dicom|report --out <file-or-folder>
            [--space ct|mri] [--coords ras|lps] [--brainsight-version 13|14] [--deidentify]
  tfus import-pose <file> --format brainsight|localite|slicer [--focal-distance-mm F] [--json]
  tfus db init|check|backup <dest> [--data-dir <dir>]   (plan database; default folder: $TFUS_DATA_DIR, else the user-data folder)
  tfus plans list|show <id>[@version] [--json]|approve <id>[@version] --by <name> [--data-dir <dir>]
  tfus import <image-or-dicom-folder> [--series <SeriesInstanceUID>] [--data-dir <dir>]
  tfus plan-save <plan-dir> [--note <text>] [--patient-id <id>] [--patient-name <name>] [--data-dir <dir>]

Reads NIfTI (.nii, .nii.gz), NRRD, MHA and DICOM (a file or a folder of series).
Coordinates are printed in millimetres, LPS (as DICOM and ITK).`

class UsageError extends Error {}

interface ParsedArgs {
  readonly positional: string[]
  readonly flags: Map<string, string | true>
}

function parseArgs(argv: readonly string[], valued: readonly string[]): ParsedArgs {
  const positional: string[] = []
  const flags = new Map<string, string | true>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg.startsWith('--')) {
      const [key, inline] = arg.slice(2).split('=', 2) as [string, string | undefined]
      if (valued.includes(key)) {
        const value = inline ?? argv[++i]
        if (value === undefined) throw new UsageError(`--${key} needs a value`)
        flags.set(key, value)
      } else flags.set(key, true)
    } else positional.push(arg)
  }
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
        out(`  ${String(s.series_instance_uid)}  ${String(s.modality)}  ${String(s.slices)} slices  ${String(s.rows)}x${String(s.columns)}  "${String(s.description ?? '')}"`)
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
  if (!target || args.positional.length > 1) throw new UsageError('info takes one file or folder')
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
      const why = listing.skipped.slice(0, 3).map((s) => `${path.basename(s.name)}: ${s.reason}`).join('; ')
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
      warnings.push(`${listing.skipped.length} file(s) skipped (not DICOM images), e.g. ${path.basename(listing.skipped[0]!.name)}: ${listing.skipped[0]!.reason}`)
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
  if (!input || !output || args.positional.length > 2) throw new UsageError('convert takes an input and an output path')
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
const DATABASE_COMMANDS = new Set(['db', 'plans', 'import', 'plan-save', 'plan', 'predict', 'export'])

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
  if (!existsSync(dir)) return
  try {
    for (const line of prepareDataDir(dir)) err(`tfus: ${line}`)
  } catch (e) {
    err(`tfus: warning: ${dir}: ${e instanceof Error ? e.message : String(e)}`)
  }
}

export async function main(argv: readonly string[], io = { out: (l: string) => console.log(l), err: (l: string) => console.error(l) }): Promise<number> {
  // Plans, exports and the database hold patient data: what this run creates is the user's only.
  restrictUmask()
  const controller = new AbortController()
  const onSigint = () => controller.abort()
  process.once('SIGINT', onSigint)
  try {
    const [command, ...rest] = argv
    if (command !== undefined && DATABASE_COMMANDS.has(command)) prepareDatabaseFolder(rest, io.err)
    switch (command) {
      case 'info':
        return await commandInfo(parseArgs(rest, ['series']), controller.signal, io.out)
      case 'convert':
        return await commandConvert(parseArgs(rest, ['series']), controller.signal, io.out)
      case 'simulate':
        return await commandSimulate(parseArgs(rest, ['out', 'backend']), controller.signal, io.out, io.err)
      case 'export-kwave':
        return await commandExportKwave(parseArgs(rest, ['kwave-format', 'steps']), io.out)
      case 'import-kwave':
        return await commandImportKwave(parseArgs(rest, ['scene']), io.out)
      case 'register':
        return await commandRegister(parseArgs(rest, ['ct', 'mri', 'out', 'voxel-mm', 'init']), controller.signal, io.out, io.err)
      case 'plan':
        return await commandPlan(parseArgs(rest, ['ct', 'mri', 'registration', 'target', 'space', 'entry', 'transducer', 'mapping', 'ppw', 'backend', 'out', 'isppa-free-water', 'isppa-target', 'device-setting', 'source-amplitude-kpa', 'pulse-duration-ms', 'prf-hz', 'max-standoff-mm', 'correct-iterations', 'correct-tolerance-mm', 'data-dir', 'note', 'protocol']), controller.signal, io.out, io.err)
      case 'predict':
        return await commandPlan(parseArgs(rest, ['ct', 'mri', 'registration', 'target', 'space', 'entry', 'transducer', 'mapping', 'ppw', 'backend', 'out', 'isppa-free-water', 'isppa-target', 'device-setting', 'source-amplitude-kpa', 'pulse-duration-ms', 'prf-hz', 'max-standoff-mm', 'correct-iterations', 'correct-tolerance-mm', 'data-dir', 'note', 'protocol', 'model', 'provider']), controller.signal, io.out, io.err, 'surrogate')
      case 'thermal':
        return await commandThermal(parseArgs(rest, ['protocol', 'backend', 'absorbed-fraction', 'coupling', 'drive-scale', 'out']), controller.signal, io.out, io.err)
      case 'transducers':
        return await commandTransducers(parseArgs(rest, []), io.out)
      case 'export':
        return await commandExport(parseArgs(rest, ['format', 'out', 'space', 'coords', 'brainsight-version', 'data-dir']), io.out)
      case 'import-pose':
        return await commandImportPose(parseArgs(rest, ['format', 'focal-distance-mm']), io.out)
      case 'db':
        return await commandDb(parseArgs(rest, ['data-dir']), io.out, io.err)
      case 'plans':
        return await commandPlans(parseArgs(rest, ['data-dir', 'by']), io.out, io.err)
      case 'import':
        return await commandImport(parseArgs(rest, ['data-dir', 'series']), io.out, io.err)
      case 'plan-save':
        return await commandPlanSave(parseArgs(rest, ['data-dir', 'note', 'patient-id', 'patient-name']), io.out, io.err)
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
      io.err(`tfus: ${e.message}\n${USAGE}`)
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
    throw e
  } finally {
    process.removeListener('SIGINT', onSigint)
  }
}
