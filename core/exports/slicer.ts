/**
 * 3D Slicer: `.mrk.json` point markups (target, entry, transducer apex) and the transducer pose
 * as an ITK transform file (`.tfm`). Layout, axes and sources: slicer.md beside this file.
 */
import { ImportError } from '../io/errors.ts'
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
    description: provenance.poseNote,
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
 */
export function writeItkTransform(pose: PoseEntry, provenance: ExportProvenance): string {
  const m = poseToItk(pose.transducerToRas)
  const params = [m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10], m[3], m[7], m[11]].map((v) => formatExact(v!))
  return [
    '#Insight Transform File V1.0',
    `# ${pose.name}: transducer (bowl apex origin, +z along the beam, mm) -> patient; stored as ITK "from parent" in LPS mm (Slicer shows its inverse in RAS).`,
    `# ${provenance.software}. ${provenance.poseNote}`.replace(/[\r\n]+/g, ' '),
    '#Transform 0',
    'Transform: AffineTransform_double_3_3',
    `Parameters: ${params.join(' ')}`,
    'FixedParameters: 0 0 0',
    '',
  ].join('\n')
}

/** Reads an ITK text transform (AffineTransform / MatrixOffsetTransformBase, 3D), folding the centre in. */
export function readItkTransform(text: string, file: string): ImportedNavigation {
  const fail = (problem: string) => new ImportError('corrupt-header', file, problem)
  if (!/^#Insight Transform File V1\.0/m.test(text)) throw fail('not an ITK text transform file (no "#Insight Transform File V1.0" line)')
  const blocks = text.split(/^#Transform \d+\s*$/m).slice(1)
  if (blocks.length === 0) throw fail('no "#Transform 0" block')
  if (blocks.length > 1) throw fail(`holds ${blocks.length} transforms (a composite); save the single linear transform of the transducer`)
  const block = blocks[0]!
  const type = /^Transform:\s*(\S+)/m.exec(block)?.[1] ?? ''
  if (!/^(AffineTransform|MatrixOffsetTransformBase)_(double|float)_3_3$/.test(type)) {
    throw fail(`transform type "${type}" is not supported: save the transducer transform as a linear (affine) transform`)
  }
  const numbers = (key: string) => (new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(block)?.[1] ?? '').trim().split(/\s+/).filter((s) => s !== '').map((s, i) => parseNumber(s, file, `${key}[${i}]`))
  const p = numbers('Parameters')
  const fixed = numbers('FixedParameters')
  if (p.length !== 12) throw fail(`Parameters has ${p.length} values, a 3D affine has 12`)
  const c: Vec3 = fixed.length >= 3 ? [fixed[0]!, fixed[1]!, fixed[2]!] : [0, 0, 0]
  const a = p.slice(0, 9)
  // ITK: x' = A (x - c) + c + t, so the offset is t + c - A c (BabelBrain read_itk_affine_transform).
  const offset = [0, 1, 2].map((r) => p[9 + r]! + c[r]! - (a[3 * r]! * c[0] + a[3 * r + 1]! * c[1] + a[3 * r + 2]! * c[2]))
  const itk = [a[0]!, a[1]!, a[2]!, offset[0]!, a[3]!, a[4]!, a[5]!, offset[1]!, a[6]!, a[7]!, a[8]!, offset[2]!, 0, 0, 0, 1]
  const defect = rotationDefect(itk)
  if (defect.orthogonality > ROTATION_TOLERANCE || defect.determinant < 0) {
    throw fail(`the transform is not rigid (orthogonality error ${defect.orthogonality.toExponential(1)}, determinant ${defect.determinant.toFixed(3)}): a transducer pose is a rotation and a translation`)
  }
  const pose = itkToPose(itk)
  const name = /^#\s*([^:\n]+):\s*transducer/m.exec(text)?.[1]?.trim() ?? 'transform'
  return {
    format: 'slicer',
    targetsRasM: [{ name, rasM: [pose[3]!, pose[7]!, pose[11]!] }],
    poses: [{ name, transducerToRas: pose }],
    warnings: ['the transform is read as Slicer stores it (ITK "from parent", LPS): the pose is its inverse in RAS, origin at the model origin (our bowl apex)'],
  }
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
    const units = markup.coordinateUnits === undefined ? 'mm' : Array.isArray(markup.coordinateUnits) ? String(markup.coordinateUnits[0]) : String(markup.coordinateUnits)
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
