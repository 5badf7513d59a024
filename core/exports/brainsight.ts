/**
 * Brainsight target/trajectory `.txt` (format versions 13 and 14). Layout, axes and sources:
 * brainsight.md beside this file.
 */
import { ImportError } from '../io/errors.ts'
import type { Vec3 } from '../volume/types.ts'
import { brainsightToPose, poseToBrainsight } from './conventions.ts'
import { formatExact, orthonormalize, parseNumber, ROUNDED_ROTATION_TOLERANCE, ROUNDING_DEFECT, rotationDefect } from './matrix.ts'
import type { ExportProvenance, ImportedNavigation, PoseEntry } from './types.ts'

export type BrainsightVersion = 13 | 14

/** The xform codes of the NIfTI image an export is relative to (nifti1.h NIFTI_XFORM_*; 0 = unknown). */
export interface NiftiXformCodes {
  readonly sformCode: number
  readonly qformCode: number
}

/**
 * Brainsight's names of the NIfTI xform codes (nifti1.h: 1 SCANNER_ANAT, 2 ALIGNED_ANAT,
 * 3 TALAIRACH, 4 MNI_152, 5 TEMPLATE_OTHER). BabelBrain's check maps "MNI-152" to 3 and
 * "Talairach" to 4, the reverse of nifti1.h; we follow nifti1.h (brainsight.md).
 */
const XFORM_NAMES: Readonly<Record<number, string>> = { 1: 'Scanner', 2: 'Aligned', 3: 'Talairach', 4: 'MNI-152', 5: 'Other-Template' }

/**
 * The coordinate-system line we write: the world (RAS mm) of the image the export is relative
 * to, named after that image's NIfTI xform codes. The sform is named when its code is set, else
 * the qform (nibabel's get_best_affine order); v14 (Brainsight 2.5.3+) says which with "S" or
 * "Q" (formats.md §3.2), and BabelBrain checks that code against its T1's header.
 */
export function brainsightCoordinateSystem(version: BrainsightVersion, codes?: NiftiXformCodes): string {
  let letter = 'S'
  // Unknown codes (no NIfTI header: a DICOM planning image, whose patient coordinates are the
  // scanner's; or both codes 0 / out of range): Scanner is kept, as before this was derived.
  let name = 'Scanner'
  if (codes && XFORM_NAMES[codes.sformCode] !== undefined) name = XFORM_NAMES[codes.sformCode]!
  else if (codes && XFORM_NAMES[codes.qformCode] !== undefined) {
    letter = 'Q'
    name = XFORM_NAMES[codes.qformCode]!
  }
  return version === 14 ? `NIfTI:${letter}:${name}` : `NIfTI:${name}`
}

const MATRIX_COLUMNS = ['m0n0', 'm0n1', 'm0n2', 'm1n0', 'm1n1', 'm1n2', 'm2n0', 'm2n1', 'm2n2'] as const
const TARGET_HEADER = ['Target Name', 'Loc. X', 'Loc. Y', 'Loc. Z', ...MATRIX_COLUMNS]
const APEX_KEY = 'TFUS apex to location (mm)'

/** Brainsight separates columns by tabs and values by semicolons; keep names free of both and of line breaks. */
function cleanName(name: string): string {
  const s = name.replace(/[\t\r\n;]+/g, ' ').trim()
  return s === '' ? 'target' : s
}

function cleanHeaderValue(text: string): string {
  return text.replace(/[\r\n]+/g, ' ')
}

/**
 * The file text: one target row per pose. Loc = the pose's geometric focus (apex + focal
 * distance along the beam) in NIfTI scanner RAS mm; m0..m2 = Brainsight's axes (z out of the
 * head). `imageCodes`: the xform codes of the image the pose is relative to (its NIfTI header),
 * which name the coordinate system. Header lines starting "# TFUS" record the apex offset (so our reader recovers the apex
 * exactly) and where the pose came from.
 */
export function writeBrainsight(poses: readonly PoseEntry[], version: BrainsightVersion, provenance: ExportProvenance, imageCodes?: NiftiXformCodes): string {
  if (poses.length === 0) throw new Error('writeBrainsight: no pose to write')
  const lines = [
    `# Version: ${version}`,
    `# Coordinate system: ${brainsightCoordinateSystem(version, imageCodes)}`,
    `# Created by: ${cleanHeaderValue(provenance.software)}`,
    '# Units: millimetres, degrees, milliseconds, and microvolts',
    '# Encoding: UTF-8',
    '# Notes: Each column is delimited by a tab. Each value within a column is delimited by a semicolon.',
    '# TFUS location: the geometric focus of the transducer (bowl apex + focal distance along the beam); z axis points out of the head',
    `# TFUS pose: ${cleanHeaderValue(provenance.poseNote)}`,
    ...poses.map((p) => `# ${APEX_KEY}: ${cleanName(p.name)}=${formatExact(p.focalDistanceM * 1000)}`),
    `# ${TARGET_HEADER.join('\t')}`,
  ]
  for (const p of poses) {
    const b = poseToBrainsight(p.transducerToRas, p.focalDistanceM)
    // mXnY is component Y of axis X: axis X is column X of the pose.
    const axes = [0, 1, 2].flatMap((axis) => [0, 1, 2].map((comp) => b[4 * comp + axis]!))
    lines.push([cleanName(p.name), b[3]!, b[7]!, b[11]!, ...axes].map((v) => (typeof v === 'number' ? formatExact(v) : v)).join('\t'))
  }
  return lines.join('\n') + '\n'
}

/**
 * Coordinate systems that are a NIfTI's own world (RAS mm, through its sform or qform): the
 * intent name after "NIfTI:" ("S:"/"Q:" in v14), lower case; undefined for anything else
 * (Brainsight's internal space, World), which needs the image.
 */
function nativeNiftiRas(system: string): string | undefined {
  const m = /^nifti:(?:[sq]:)?(scanner|aligned|talairach|mni-152|other-template)$/.exec(system.trim().toLowerCase())
  return m?.[1]
}

export interface BrainsightReadOptions {
  /**
   * Apex -> location distance [m] for rows whose file does not record it (files from Brainsight
   * itself or BabelBrain put the trajectory tip at the target). Without it such rows give a pose
   * whose origin is the file's location, with a warning.
   */
  readonly focalDistanceM?: number
}

/** Reads targets and samples; every row is a point, rows with a full orientation are also poses. */
export function readBrainsight(text: string, file: string, options: BrainsightReadOptions = {}): ImportedNavigation {
  const fail = (problem: string) => new ImportError('corrupt-header', file, problem)
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  const header = new Map<string, string>()
  const apexOffsetsMm = new Map<string, number>()
  let columns: string[] | undefined
  const rows: Array<{ cells: string[]; columns: string[]; line: number }> = []
  const warnings: string[] = []
  lines.forEach((raw, index) => {
    const line = raw.replace(/\s+$/, '')
    if (line === '') return
    if (line.startsWith('#')) {
      const body = line.replace(/^#\s?/, '')
      // A section starts with its column line: "Target Name\t…", "Sample Name\t…", "Session Name\t…".
      if (/^[A-Za-z. ]+ Name\t/.test(body)) {
        columns = body.startsWith('Target Name\t') || body.startsWith('Sample Name\t') ? body.split('\t') : []
        return
      }
      const colon = body.indexOf(':')
      if (colon > 0) {
        const key = body.slice(0, colon).trim()
        const value = body.slice(colon + 1).trim()
        if (key === APEX_KEY) {
          const eq = value.lastIndexOf('=')
          if (eq > 0) apexOffsetsMm.set(value.slice(0, eq), parseNumber(value.slice(eq + 1), file, `line ${index + 1}`))
        } else header.set(key, value)
      }
      return
    }
    if (!columns) throw fail(`line ${index + 1}: data before a "# Target Name" or "# Sample Name" header line`)
    // Rows of other sections (sessions) carry no target.
    if (columns.length > 0) rows.push({ cells: line.split('\t'), columns, line: index + 1 })
  })
  if (!header.has('Version')) throw fail('no "# Version:" line: not a Brainsight export')
  const system = header.get('Coordinate system') ?? ''
  const kind = nativeNiftiRas(system)
  if (!kind) {
    throw fail(
      `coordinate system "${system}" is not supported: export from Brainsight with "NIfTI:Scanner" (v13) or "NIfTI:S:Scanner"/"NIfTI:Q:Scanner" (v14) so the coordinates are the image's own RAS`,
    )
  }
  const encoding = header.get('Encoding')
  if (encoding !== undefined && encoding.toUpperCase() !== 'UTF-8') throw fail(`encoding "${encoding}" is not supported: export as UTF-8`)
  if (rows.length === 0) throw fail('no target or sample rows')
  if (kind !== 'scanner')
    warnings.push(
      `coordinates are in the NIfTI's ${kind} space ("${system}"): they match the plan only if Brainsight loaded the plan's image with the same transform`,
    )
  const targets: ImportedNavigation['targetsRasM'] = []
  const poses: Array<{ name: string; transducerToRas: number[] }> = []
  for (const row of rows) {
    const get = (name: string) => {
      const i = row.columns.indexOf(name)
      return i < 0 ? undefined : row.cells[i]
    }
    const name = get('Target Name') ?? get('Sample Name') ?? `row ${row.line}`
    const where = (what: string) => `line ${row.line} (${name}) ${what}`
    if (['Loc. X', 'Loc. Y', 'Loc. Z'].some((c) => get(c)?.trim() === '(null)')) {
      warnings.push(`${name}: no location, skipped`)
      continue
    }
    const loc: Vec3 = [
      parseNumber(get('Loc. X'), file, where('Loc. X')),
      parseNumber(get('Loc. Y'), file, where('Loc. Y')),
      parseNumber(get('Loc. Z'), file, where('Loc. Z')),
    ]
    targets.push({ name, rasM: [loc[0] / 1000, loc[1] / 1000, loc[2] / 1000] })
    const values = MATRIX_COLUMNS.map((c) => get(c))
    if (values.some((v) => v === undefined || v.trim() === '' || v.trim() === '(null)')) continue
    const m = MATRIX_COLUMNS.map((c, i) => parseNumber(values[i], file, where(c)))
    // mXnY: component Y of axis X -> pose column X, row Y.
    let b = [m[0]!, m[3]!, m[6]!, loc[0], m[1]!, m[4]!, m[7]!, loc[1], m[2]!, m[5]!, m[8]!, loc[2], 0, 0, 0, 1]
    // Brainsight 2.3.5 prints 3 decimals (orthonormal to ~1.7e-3 at worst), later versions 4:
    // rows up to ROUNDED_ROTATION_TOLERANCE (5e-3, derivation in matrix.ts) are rounded
    // rotations, anything beyond is not rigid.
    const defect = rotationDefect(b)
    if (defect.orthogonality > ROUNDED_ROTATION_TOLERANCE || defect.determinant < 0) {
      throw fail(
        `line ${row.line} (${name}): the axes m0..m2 are not a rotation (deviation from orthonormal max|RᵀR − I| = ${defect.orthogonality.toExponential(2)}, limit ${ROUNDED_ROTATION_TOLERANCE}; determinant ${defect.determinant.toFixed(3)}): not a rigid pose`,
      )
    }
    if (defect.orthogonality > ROUNDING_DEFECT) {
      b = orthonormalize(b)
      warnings.push(
        `${name}: axes printed with few decimals (deviation from orthonormal max|RᵀR − I| = ${defect.orthogonality.toExponential(2)}), re-orthonormalised to the nearest rotation (polar decomposition)`,
      )
    }
    const recordedMm = apexOffsetsMm.get(name)
    const focalM = recordedMm !== undefined ? recordedMm / 1000 : options.focalDistanceM
    if (focalM === undefined)
      warnings.push(
        `${name}: the file does not say how far the transducer apex is from the location; the pose's origin is the location itself (pass the transducer's focal distance to place the apex)`,
      )
    poses.push({ name, transducerToRas: brainsightToPose(b, focalM) })
  }
  if (targets.length === 0) throw fail('no target or sample with a location')
  return { format: 'brainsight', targetsRasM: targets, poses, warnings }
}
