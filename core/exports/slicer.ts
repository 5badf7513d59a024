/**
 * 3D Slicer: `.mrk.json` point markups (target, entry, transducer apex) and the transducer pose
 * as an ITK transform file (`.tfm`). Layout, axes and sources: slicer.md beside this file.
 */
import { ImportError } from '../io/errors.ts'
import { eulerRotation } from '../math/index.ts'
import type { Vec3 } from '../volume/types.ts'
import { itkToPose, pointFromFile, pointToFile, poseToItk, type CoordinateSpace } from './conventions.ts'
import { formatExact, parseNumber, ROTATION_TOLERANCE, rotationDefect } from './matrix.ts'
import type { ExportProvenance, ImportedNavigation, PointEntry, PoseEntry } from './types.ts'

/** Schema 1.0.3 is read by Slicer 5.0 onwards (markups-schema-v1.0.3.json in Slicer's source). */
export const MARKUPS_SCHEMA = 'https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/Schema/markups-schema-v1.0.3.json#'

/** A Fiducial markup of named points, positions in mm in `space` (declared in the file). */
export function writeSlicerMarkups(points: readonly PointEntry[], space: CoordinateSpace, markupName: string, provenance: ExportProvenance): string {
  const controlPoints = points.map((p, i) => ({
    id: String(i + 1),
    label: p.name,
    description: p.description ?? provenance.poseNote,
    associatedNodeID: '',
    position: pointToFile(p.rasM, space),
    orientation: [-1, 0, 0, 0, -1, 0, 0, 0, 1],
    selected: true,
    locked: true,
    visibility: true,
    positionStatus: 'defined',
  }))
  const doc = {
    '@schema': MARKUPS_SCHEMA,
    markups: [
      {
        type: 'Fiducial',
        coordinateSystem: space.toUpperCase(),
        coordinateUnits: 'mm',
        locked: true,
        fixedNumberOfControlPoints: false,
        labelFormat: '%N-%d',
        lastUsedControlPointNumber: points.length,
        name: markupName,
        description: `${provenance.software}. ${provenance.poseNote}`,
        controlPoints,
        measurements: [],
      },
    ],
  }
  return JSON.stringify(doc, null, 4) + '\n'
}

/**
 * ITK transform file of a Slicer linear transform whose "to parent" is the pose: put the
 * transducer model under it in Slicer (model coordinates: mm, origin at the bowl apex, +z along
 * the beam). The file holds the inverse, in LPS, as ITK stores every transform ("from parent").
 * Exactly the five lines of ITK's text format (itk::TransformFileWriter), no comment lines:
 * strict readers (BabelBrain) refuse anything else. What the matrix means is said in the
 * export's export.json instead (slicer.md).
 */
export function writeItkTransform(pose: PoseEntry, _provenance?: ExportProvenance): string {
  const m = poseToItk(pose.transducerToRas)
  const params = [m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10], m[3], m[7], m[11]].map((v) => formatExact(v!))
  return [
    '#Insight Transform File V1.0',
    '#Transform 0',
    'Transform: AffineTransform_double_3_3',
    `Parameters: ${params.join(' ')}`,
    'FixedParameters: 0 0 0',
    '',
  ].join('\n')
}

/**
 * ITK VersorRigid3DTransform rotation: the versor (vx, vy, vz) is the vector part of a unit
 * quaternion, w = sqrt(1 − |v|²) >= 0 (itk::Versor::Set(axis)); a norm reaching 1 is scaled just
 * below it as ITK's SetParameters does. Matrix as itk::Versor::GetMatrix.
 */
export function itkVersorMatrix(vx: number, vy: number, vz: number): number[] {
  let [x, y, z] = [vx, vy, vz]
  const norm = Math.hypot(x, y, z)
  const epsilon = 1e-10
  if (norm >= 1 - epsilon) [x, y, z] = [x, y, z].map((v) => v / (norm + epsilon * norm)) as [number, number, number]
  const w = Math.sqrt(Math.max(0, 1 - (x * x + y * y + z * z)))
  return [
    1 - 2 * (y * y + z * z),
    2 * (x * y - z * w),
    2 * (x * z + y * w),
    2 * (x * y + z * w),
    1 - 2 * (x * x + z * z),
    2 * (y * z - x * w),
    2 * (x * z - y * w),
    2 * (y * z + x * w),
    1 - 2 * (x * x + y * y),
  ]
}

/** The ITK transform types we read: the linear ones whose map is a 3x3 matrix, a translation and a centre. */
const ITK_TYPE = /^(AffineTransform|MatrixOffsetTransformBase|Rigid3DTransform|Euler3DTransform|VersorRigid3DTransform)_(double|float)_3_3$/
const ITK_COMPOSITE = /^CompositeTransform_(double|float)_3_3$/

/** One transform of an ITK transform file, as both the text and the HDF5 format store it. */
export interface ItkTransformRecord {
  /** e.g. "AffineTransform_double_3_3" (text `Transform:`, HDF5 `TransformType`). */
  readonly type: string
  /** Text `Parameters:`, HDF5 `TransformParameters`. */
  readonly parameters: readonly number[]
  /** Text `FixedParameters:`, HDF5 `TransformFixedParameters` (the centre of rotation, LPS mm). */
  readonly fixedParameters: readonly number[]
}

/**
 * The 4x4 (row-major, LPS mm, ITK "from parent" direction) of a file's transforms, centre folded
 * in: T(x) = A (x − c) + c + t, so the offset is t + c − A c
 * (itk::MatrixOffsetTransformBase::ComputeOffset; BabelBrain read_itk_affine_transform).
 * Types: AffineTransform / MatrixOffsetTransformBase / Rigid3DTransform (Parameters = 9 matrix
 * entries row by row, then t), Euler3DTransform (angles x, y, z in radians, then t; fixed
 * parameters c and optionally ComputeZYX), VersorRigid3DTransform (versor, then t; fixed c).
 * A CompositeTransform first (it stores no parameters of its own; itkHDF5TransformIO writes its
 * components after it) holding exactly one linear transform is that transform.
 */
export function itkTransformMatrix(records: readonly ItkTransformRecord[], file: string): { type: string; matrix: number[] } {
  const fail = (problem: string) => new ImportError('corrupt-header', file, problem)
  if (records.length === 0) throw fail('holds no transform')
  const list = ITK_COMPOSITE.test(records[0]!.type) ? records.slice(1) : records
  if (list.length !== 1) throw fail(`holds ${list.length} transforms (a composite); save the single linear transform of the transducer`)
  const { type, parameters: p, fixedParameters: fixed } = list[0]!
  const kind = ITK_TYPE.exec(type)?.[1]
  if (!kind) {
    throw fail(
      `transform type "${type}" is not supported: save the transducer transform as a linear transform (AffineTransform, Rigid3DTransform, Euler3DTransform or VersorRigid3DTransform)`,
    )
  }
  if (fixed.length !== 0 && fixed.length < 3) throw fail(`FixedParameters has ${fixed.length} values, a 3D centre has 3`)
  const c: Vec3 = fixed.length >= 3 ? [fixed[0]!, fixed[1]!, fixed[2]!] : [0, 0, 0]
  let a: number[]
  let t: number[]
  if (kind === 'Euler3DTransform' || kind === 'VersorRigid3DTransform') {
    if (p.length !== 6)
      throw fail(`Parameters has ${p.length} values, a 3D ${kind} has 6 (${kind === 'Euler3DTransform' ? 'angles x, y, z' : 'versor'}, then the translation)`)
    a = kind === 'Euler3DTransform' ? [...eulerRotation(p[0]!, p[1]!, p[2]!, fixed.length > 3 && fixed[3] !== 0)] : itkVersorMatrix(p[0]!, p[1]!, p[2]!)
    t = p.slice(3, 6)
  } else {
    if (p.length !== 12) throw fail(`Parameters has ${p.length} values, a 3D ${kind} has 12`)
    a = p.slice(0, 9)
    t = p.slice(9, 12)
  }
  const offset = [0, 1, 2].map((r) => t[r]! + c[r]! - (a[3 * r]! * c[0] + a[3 * r + 1]! * c[1] + a[3 * r + 2]! * c[2]))
  return { type, matrix: [a[0]!, a[1]!, a[2]!, offset[0]!, a[3]!, a[4]!, a[5]!, offset[1]!, a[6]!, a[7]!, a[8]!, offset[2]!, 0, 0, 0, 1] }
}

/** HDF5 file signature (HDF5 spec §II.A), as it reads when the file is decoded as UTF-8 text. */
const HDF5_SIGNATURE = /^\uFFFD?HDF\r\n\u001a\n/

/**
 * The records of an ITK text transform file (itk::TransformFileReader's text format). Block
 * headers "#Transform 0" and "# Transform 0" are both accepted.
 */
export function parseItkTextRecords(text: string, file: string): ItkTransformRecord[] {
  const fail = (problem: string) => new ImportError('corrupt-header', file, problem)
  if (HDF5_SIGNATURE.test(text))
    throw new ImportError('unsupported-format', file, 'is an HDF5 (.h5) ITK transform: read it with the HDF5 reader (tfus import-pose --format slicer does)')
  if (!/^#\s*Insight Transform File V1\.0/m.test(text)) throw fail('not an ITK text transform file (no "#Insight Transform File V1.0" line)')
  const blocks = text.split(/^#\s*Transform \d+\s*$/m).slice(1)
  if (blocks.length === 0) throw fail('no "#Transform 0" block')
  return blocks.map((block, i) => {
    const numbers = (key: string) =>
      (new RegExp(`^${key}:[ \\t]*(.*)$`, 'm').exec(block)?.[1] ?? '')
        .trim()
        .split(/\s+/)
        .filter((s) => s !== '')
        .map((s, k) => parseNumber(s, file, `transform ${i} ${key}[${k}]`))
    return { type: /^Transform:\s*(\S+)/m.exec(block)?.[1] ?? '', parameters: numbers('Parameters'), fixedParameters: numbers('FixedParameters') }
  })
}

/** The single linear transform of an ITK text transform file (see itkTransformMatrix). */
export function parseItkTransform(text: string, file: string): { type: string; matrix: number[] } {
  return itkTransformMatrix(parseItkTextRecords(text, file), file)
}

/**
 * Our pose from the records of an ITK transform file (text or HDF5): the transform is what
 * Slicer stores for a linear transform node, "from parent" in LPS mm (ITK maps points of the
 * fixed space into the moving one, the resampling direction), so the pose, the node's "to
 * parent" in RAS, is its inverse: T_ras = inv(D · T_itk · D), D = diag(−1, −1, 1, 1)
 * (conventions.ts itkToPose; BabelBrain ConvMatTransform.py).
 */
export function readItkRecords(records: readonly ItkTransformRecord[], file: string, name = 'transform'): ImportedNavigation {
  const fail = (problem: string) => new ImportError('corrupt-header', file, problem)
  const { matrix: itk } = itkTransformMatrix(records, file)
  const defect = rotationDefect(itk)
  if (defect.orthogonality > ROTATION_TOLERANCE || defect.determinant < 0) {
    throw fail(
      `the transform is not rigid (orthogonality error ${defect.orthogonality.toExponential(1)}, determinant ${defect.determinant.toFixed(3)}): a transducer pose is a rotation and a translation`,
    )
  }
  const pose = itkToPose(itk)
  return {
    format: 'slicer',
    targetsRasM: [{ name, rasM: [pose[3]!, pose[7]!, pose[11]!] }],
    poses: [{ name, transducerToRas: pose }],
    warnings: [
      'the transform is read as Slicer stores it (ITK "from parent", LPS): the pose is its inverse in RAS, origin at the model origin (our bowl apex)',
    ],
  }
}

/** Reads an ITK text transform (see parseItkTransform) as the transducer pose. */
export function readItkTransform(text: string, file: string): ImportedNavigation {
  // Files we wrote before the five-line format named the pose in a comment.
  const name = /^#\s*([^:\n]+):\s*transducer/m.exec(text)?.[1]?.trim() ?? 'transform'
  return readItkRecords(parseItkTextRecords(text, file), file, name)
}

interface ControlPointJson {
  label?: unknown
  position?: unknown
  positionStatus?: unknown
}

/** Reads the control points of every markup in a `.mrk.json` (any type) as targets. */
export function readSlicerMarkups(text: string, file: string): ImportedNavigation {
  const fail = (problem: string) => new ImportError('corrupt-header', file, problem)
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    throw fail(`not JSON (${e instanceof Error ? e.message : String(e)})`)
  }
  const markups = (doc as { markups?: unknown }).markups
  if (!Array.isArray(markups)) throw fail('no "markups" array: not a Slicer markups file')
  const targets: PointEntry[] = []
  const warnings: string[] = []
  markups.forEach((markup: { coordinateSystem?: unknown; coordinateUnits?: unknown; controlPoints?: unknown; name?: unknown }, mi) => {
    const systemText = markup.coordinateSystem === undefined ? 'LPS' : String(markup.coordinateSystem).toUpperCase()
    if (markup.coordinateSystem === undefined) warnings.push(`markup ${mi + 1}: no coordinateSystem, LPS assumed (the schema's default)`)
    if (systemText !== 'LPS' && systemText !== 'RAS') throw fail(`markup ${mi + 1}: coordinateSystem "${systemText}" is not LPS or RAS`)
    const units =
      markup.coordinateUnits === undefined ? 'mm' : Array.isArray(markup.coordinateUnits) ? String(markup.coordinateUnits[0]) : String(markup.coordinateUnits)
    const perMm = units === 'mm' ? 1 : units === 'um' ? 1000 : Number.NaN
    if (!Number.isFinite(perMm)) throw fail(`markup ${mi + 1}: coordinateUnits "${units}" is not mm or um`)
    const points = Array.isArray(markup.controlPoints) ? (markup.controlPoints as ControlPointJson[]) : []
    points.forEach((cp, pi) => {
      if (cp.positionStatus !== undefined && cp.positionStatus !== 'defined') return
      const pos = cp.position
      if (!Array.isArray(pos) || pos.length !== 3) throw fail(`markup ${mi + 1} point ${pi + 1}: position is not [x, y, z]`)
      const mm = pos.map((v, k) => parseNumber(String(v), file, `markup ${mi + 1} point ${pi + 1} position[${k}]`) / perMm) as unknown as Vec3
      const label = typeof cp.label === 'string' && cp.label !== '' ? cp.label : `${typeof markup.name === 'string' ? markup.name : 'point'}-${pi + 1}`
      targets.push({ name: label, rasM: pointFromFile(mm, systemText.toLowerCase() as CoordinateSpace) })
    })
  })
  if (targets.length === 0) throw fail('no defined control points')
  return { format: 'slicer', targetsRasM: targets, poses: [], warnings }
}
