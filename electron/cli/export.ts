/**
 * `tfus export <plan-dir> --format brainsight|localite|slicer|kplan|nifti|dicom|report --out <path>
 *   [--space ct|mri] [--coords ras|lps] [--brainsight-version 13|14] [--deidentify [--retain-uids]]`
 * `tfus import-pose <file> --format brainsight|localite|slicer [--focal-distance-mm F] [--json]`
 *   (slicer: `.mrk.json` points, or the transform as ITK text `.tfm`/`.txt` or ITK HDF5 `.h5`)
 *
 * The command bodies (`runExport`, `runImportPose`) take a resolved plan folder / file, so the
 * database front end can resolve `<id>[@version]` to a folder and call them unchanged.
 * Millimetres at this edge (RAS unless the file says otherwise); metres inside core.
 * Exit codes as `tfus`: 0 done, 2 bad input (plan folder, option or file named on stderr).
 *
 * `--deidentify`: no patient name/ID/birth date, file path or plan folder name in any file
 * (the plan is "Plan <id> (de-identified)", <id> the database id@version or a plan.json hash),
 * new Study/Series/SOP Instance/Frame of Reference UIDs; DICOM declares the PS3.15 Basic
 * Profile and its Options (core/exports/dicom.md). `--retain-uids` (with --deidentify) keeps the
 * planning image's Study and Frame of Reference UIDs, so a navigation system still overlays the
 * export on the planning scan, and declares the Retain UIDs Option.
 */
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { SimulationInputError } from '../../core/solver/errors.ts'
import { openPlanStore } from '../adapters/db/client.ts'
import { resolveDataDir } from '../adapters/db/data-dir.ts'
import type { NavigationFormat } from '../../core/exports/types.ts'
import { EXPORT_FORMATS, exportPlanFolder, IMPORT_FORMATS, importPoseFile, type ExportFormat, type ExportOptions, type PlanRef } from '../app/exports.ts'

interface Args {
  readonly positional: string[]
  readonly flags: Map<string, string | true>
}

const EXIT_OK = 0

function choice<T extends string>(args: Args, flag: string, allowed: readonly T[], fallback?: T): T | undefined {
  const v = args.flags.get(flag)
  if (v === undefined) return fallback
  if (v === true || !allowed.includes(v as T))
    throw new SimulationInputError(`--${flag}`, `must be one of ${allowed.join(', ')}${v === true ? '' : `, got "${v}"`}`)
  return v as T
}

/** The export itself, on a resolved plan folder. */
export async function runExport(
  planDir: string,
  args: Args,
  out: (line: string) => void,
  approval?: { by: string; at: string; overrideReason?: string | null; acknowledged?: readonly string[] },
  patient?: { patientId: string | null; name: string | null; birthDate: string | null },
  planRef?: PlanRef,
): Promise<number> {
  const format = choice(args, 'format', EXPORT_FORMATS)
  if (!format) throw new SimulationInputError('--format', `is required: one of ${EXPORT_FORMATS.join(', ')}`)
  const outPath = args.flags.get('out')
  if (typeof outPath !== 'string')
    throw new SimulationInputError('--out', 'is required (a file for brainsight, localite, kplan and report; a folder for slicer, nifti and dicom)')
  const version = choice(args, 'brainsight-version', ['13', '14'] as const)
  const options: ExportOptions = {
    space: choice(args, 'space', ['ct', 'mri'] as const, 'ct')!,
    ...(args.flags.has('coords') ? { coords: choice(args, 'coords', ['ras', 'lps'] as const)! } : {}),
    ...(version ? { brainsightVersion: Number(version) as 13 | 14 } : {}),
    deidentify: args.flags.has('deidentify'),
    ...(args.flags.has('retain-uids') ? { retainUids: true } : {}),
    ...(planRef ? { planRef } : {}),
    ...(approval ? { approval } : {}),
    ...(patient && (patient.name || patient.patientId)
      ? { patient: { name: patient.name ?? '', id: patient.patientId ?? '', birthDate: patient.birthDate ?? '' } }
      : {}),
  }
  const result = await exportPlanFolder(planDir, format as ExportFormat, outPath, options)
  for (const note of result.notes) out(note)
  out(`wrote ${result.files.length === 1 ? result.files[0]! : `${result.files.length} files under ${outPath}`}`)
  return EXIT_OK
}

/**
 * `<plan>` is a plan folder (the --out of `tfus plan`) or a stored plan `<id>[@version]` of the
 * plan database (`--data-dir`); a stored plan is written back to a temporary folder, its hashes
 * checked, and exported with its approval.
 */
export async function commandExport(args: Args, out: (line: string) => void): Promise<number> {
  const plan = args.positional[0]
  if (!plan || args.positional.length > 1)
    throw new SimulationInputError('export', 'takes one plan: a plan folder (the --out folder of `tfus plan`) or a stored plan id[@version]')
  const stored = /^(\d+)(?:@(\d+))?$/.exec(plan)
  if (!stored || (await fs.stat(plan).catch(() => null))?.isDirectory()) return runExport(plan, args, out)
  const dataDir = args.flags.get('data-dir')
  const store = await openPlanStore(resolveDataDir(typeof dataDir === 'string' ? dataDir : undefined))
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-export-'))
  try {
    const planId = Number(stored[1])
    const version = stored[2] === undefined ? undefined : Number(stored[2])
    const record = await store.getPlan(planId, version)
    await store.materializePlanFolder(planId, record.version, tmp)
    out(`plan ${planId}@${record.version}${record.approval ? `, approved by ${record.approval.approver} at ${record.approval.approvedAt}` : ', not approved'}`)
    return await runExport(
      tmp,
      args,
      out,
      record.approval
        ? {
            by: record.approval.approver,
            at: record.approval.approvedAt,
            overrideReason: record.approval.overrideReason,
            acknowledged: record.approval.acknowledged,
          }
        : undefined,
      record.patient ?? undefined,
      { id: planId, version: record.version },
    )
  } finally {
    await store.close()
    await fs.rm(tmp, { recursive: true, force: true })
  }
}

const mm = (v: readonly number[]) => v.map((x) => Number((x * 1000).toFixed(6)))

export async function commandImportPose(args: Args, out: (line: string) => void): Promise<number> {
  const file = args.positional[0]
  if (!file || args.positional.length > 1) throw new SimulationInputError('import-pose', 'takes one file')
  const format = choice(args, 'format', IMPORT_FORMATS)
  if (!format) throw new SimulationInputError('--format', `is required: one of ${IMPORT_FORMATS.join(', ')}`)
  const focal = args.flags.get('focal-distance-mm')
  let focalDistanceM: number | undefined
  if (focal !== undefined) {
    focalDistanceM = typeof focal === 'string' ? Number(focal) / 1000 : Number.NaN
    if (!Number.isFinite(focalDistanceM) || focalDistanceM <= 0)
      throw new SimulationInputError('--focal-distance-mm', `must be a positive number of millimetres, got "${String(focal)}"`)
  }
  const result = await importPoseFile(file, format as NavigationFormat, focalDistanceM === undefined ? {} : { focalDistanceM })
  const json = {
    format: result.format,
    targets: result.targetsRasM.map((t) => ({ name: t.name, ras_mm: mm(t.rasM) })),
    poses: result.poses.map((p) => ({
      name: p.name,
      convention: 'row-major 4x4: transducer (origin at the apex, +z along the beam into the head) to patient RAS; translation in mm',
      transducer_to_ras_mm: p.transducerToRas.map((v, i) => (i % 4 === 3 && i < 12 ? Number((v * 1000).toFixed(9)) : v)),
      apex_ras_mm: mm([p.transducerToRas[3]!, p.transducerToRas[7]!, p.transducerToRas[11]!]),
      beam_axis_ras: [p.transducerToRas[2]!, p.transducerToRas[6]!, p.transducerToRas[10]!],
    })),
    warnings: result.warnings,
  }
  if (args.flags.has('json')) {
    out(JSON.stringify(json, null, 2))
    return EXIT_OK
  }
  out(`${result.targetsRasM.length} target(s), ${result.poses.length} pose(s) from ${file} (${result.format})`)
  for (const t of json.targets) out(`target ${t.name}: (${t.ras_mm.join(', ')}) mm RAS`)
  for (const p of json.poses) out(`pose ${p.name}: apex (${p.apex_ras_mm.join(', ')}) mm RAS, beam (${p.beam_axis_ras.map((v) => v.toFixed(6)).join(', ')})`)
  for (const w of result.warnings) out(`warning: ${w}`)
  return EXIT_OK
}
