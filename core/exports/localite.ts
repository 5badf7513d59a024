/**
 * Localite TMS Navigator InstrumentMarker XML. Layout, axes and sources: localite.md beside
 * this file. The reader also takes TriggerMarker lists, GUM marker files with embedded
 * InstrumentMarkers, and EntryTarget point pairs (points only).
 */
import { ImportError } from '../io/errors.ts'
import type { Vec3 } from '../volume/types.ts'
import { localiteToPose, pointFromFile, poseToLocalite, type CoordinateSpace } from './conventions.ts'
import { formatExact, orthonormalize, parseNumber, ROTATION_TOLERANCE, ROUNDING_DEFECT, rotationDefect } from './matrix.ts'
import type { ExportProvenance, ImportedNavigation, PoseEntry } from './types.ts'

function escapeAttribute(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\r\n\t]+/g, ' ')
}

/** XML comments may not contain "--" (XML 1.0 §2.5). */
function commentText(s: string): string {
  return s
    .replace(/-{2,}/g, '-')
    .replace(/[\r\n]+/g, ' ')
    .replace(/-$/, '- ')
}

/**
 * One InstrumentMarker per pose. Matrix4D: mm in `space`; column 0 = beam direction into the
 * head, column 1 = -y, column 2 = x of our transducer frame; origin = the bowl apex. The
 * description says the origin and whether the pose is the focus-corrected one.
 */
export function writeLocalite(poses: readonly PoseEntry[], space: CoordinateSpace, provenance: ExportProvenance): string {
  if (poses.length === 0) throw new Error('writeLocalite: no pose to write')
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<InstrumentMarkerList coordinateSpace="${space.toUpperCase()}">`,
    `    <!--Written by ${commentText(provenance.software)}. Origin: transducer bowl apex; column 0 (x): beam direction into the head; mm, ${space.toUpperCase()}. ${commentText(provenance.poseNote)}-->`,
  ]
  poses.forEach((p, index) => {
    const m = poseToLocalite(p.transducerToRas, space)
    const f = (r: number, c: number) => formatExact(m[4 * r + c]!)
    out.push(`    <InstrumentMarker alwaysVisible="false" index="${index}" selected="false">`)
    out.push(
      `        <Marker additionalInformation="${escapeAttribute(`origin: bowl apex; focus ${formatExact(p.focalDistanceM * 1000)} mm along x. ${provenance.poseNote}`)}" color="#ff0000" description="${escapeAttribute(p.name)}" set="true">`,
    )
    out.push('            <Matrix4D')
    for (let r = 0; r < 3; r++) out.push(`                data${r}0="${f(r, 0)}" data${r}1="${f(r, 1)}" data${r}2="${f(r, 2)}" data${r}3="${f(r, 3)}"`)
    out.push('                data30="0.0" data31="0.0" data32="0.0" data33="1.0"/>')
    out.push('        </Marker>')
    out.push('    </InstrumentMarker>')
  })
  out.push('</InstrumentMarkerList>')
  return out.join('\n') + '\n'
}

function decodeEntities(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&amp;/g, '&')
}

function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const m of tag.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*("([^"]*)"|'([^']*)')/g)) out.set(m[1]!, decodeEntities(m[3] ?? m[4] ?? ''))
  return out
}

/** What an untracked coil/transducer leaves in a Matrix4D, or undefined for a tracked one. */
function untrackedKind(values: readonly number[]): 'identity matrix' | 'all-zero matrix' | undefined {
  // SimNIBS (nnav.py `localite.read`) skips a marker whose matrix is exactly the identity:
  // TMS Navigator writes it for every pulse given while the coil was not tracked. All-zero
  // matrices (formats.md §3.3) mean the same. Exact comparison, as SimNIBS: a tracked pose at
  // the world origin with unrotated axes is not a position anyone records.
  if (values.slice(0, 12).every((v) => v === 0)) return 'all-zero matrix'
  if (values.every((v, i) => v === (i % 5 === 0 ? 1 : 0))) return 'identity matrix'
  // SimNIBS compares after its LPS -> RAS flip, so it misses the identity in LPS files; the raw
  // matrix is compared here, so an LPS file's untracked pulses are skipped too. A TriggerMarker
  // with set="false" is also skipped (readLocalite): in the TMS Navigator files SimNIBS tests
  // with, every untracked pulse carries set="false" and every tracked one set="true".
  return undefined
}

/**
 * Reads every Matrix4D (InstrumentMarker, TriggerMarker, GUM InstrumentMarker elements) as a
 * pose and every EntryTarget ColVec3D as a point. Markers of an untracked coil (identity or
 * all-zero matrix, or a TriggerMarker with set="false") are skipped and counted in one warning
 * ("skipped 3 untracked markers (identity matrix)"); a file holding nothing else is refused.
 */
export function readLocalite(text: string, file: string): ImportedNavigation {
  const fail = (problem: string) => new ImportError('corrupt-header', file, problem)
  const xml = text.replace(/^\uFEFF/, '').replace(/<!--[\s\S]*?-->/g, '')
  const root = /<([A-Za-z]\w*)\b[^>]*\bcoordinateSpace\s*=\s*"([^"]*)"/.exec(xml)
  if (!/<\s*(InstrumentMarkerList|TriggerMarkerList|EntryTargetList|GUMMarkers|Matrix4D)\b/.test(xml)) {
    throw fail('no InstrumentMarkerList, TriggerMarkerList, EntryTargetList or Matrix4D element: not a Localite marker file')
  }
  const spaceText = (root?.[2] ?? '').toUpperCase()
  if (spaceText !== 'RAS' && spaceText !== 'LPS') {
    throw fail(root ? `coordinateSpace "${root[2]}" is not supported (RAS or LPS)` : 'no coordinateSpace attribute: cannot tell RAS from LPS')
  }
  const space = spaceText.toLowerCase() as CoordinateSpace
  const warnings: string[] = []
  const targets: ImportedNavigation['targetsRasM'] = []
  const poses: Array<{ name: string; transducerToRas: number[] }> = []
  // Tags in document order: the latest description-bearing tag names the next matrix.
  let name: string | undefined
  let markerIndex = 0
  let pointRole: string | undefined
  // The pending TriggerMarker's set="false" (see untrackedKind).
  let notSet = false
  const skipped = new Map<string, number>()
  for (const m of xml.matchAll(/<\s*([A-Za-z]\w*)\b([^>]*?)\/?>/g)) {
    const tag = m[1]!
    const attrs = attributes(m[2] ?? '')
    if (tag === 'Marker' || tag === 'InstrumentMarker' || tag === 'TriggerMarker' || tag === 'Element') {
      const d = attrs.get('description')
      if (d !== undefined && d !== '') name = d
      // TMS Navigator writes description="" on trigger markers: name them by their time.
      if (tag === 'TriggerMarker' && (d === undefined || d === '')) name = `trigger ${attrs.get('recordingTime') ?? markerIndex + 1}`
      if (tag === 'TriggerMarker') notSet = attrs.get('set') === 'false'
    } else if (tag === 'Entry' || tag === 'Target') {
      pointRole = tag.toLowerCase()
    } else if (tag === 'Matrix4D') {
      markerIndex++
      const label = name ?? `marker ${markerIndex}`
      const values: number[] = []
      for (let r = 0; r < 4; r++) {
        for (let c = 0; c < 4; c++) values.push(parseNumber(attrs.get(`data${r}${c}`), file, `${label} data${r}${c}`))
      }
      const untracked = untrackedKind(values) ?? (notSet ? 'set="false": not tracked' : undefined)
      notSet = false
      if (untracked) {
        skipped.set(untracked, (skipped.get(untracked) ?? 0) + 1)
        name = undefined
        continue
      }
      const defect = rotationDefect(values)
      if (defect.orthogonality > ROTATION_TOLERANCE || defect.determinant < 0) {
        throw fail(
          `${label}: the 3x3 part of Matrix4D is not a rotation (orthogonality error ${defect.orthogonality.toExponential(1)}, determinant ${defect.determinant.toFixed(3)})`,
        )
      }
      let matrix = values
      if (defect.orthogonality > ROUNDING_DEFECT) {
        matrix = orthonormalize(values)
        warnings.push(
          `${label}: axes printed with few decimals (orthogonality error ${defect.orthogonality.toExponential(1)}), replaced by the nearest rotation`,
        )
      }
      const pose = localiteToPose(matrix, space)
      poses.push({ name: label, transducerToRas: pose })
      targets.push({ name: label, rasM: [pose[3]!, pose[7]!, pose[11]!] })
      name = undefined
    } else if (tag === 'ColVec3D' && pointRole !== undefined) {
      const p: Vec3 = [
        parseNumber(attrs.get('data0'), file, 'ColVec3D data0'),
        parseNumber(attrs.get('data1'), file, 'ColVec3D data1'),
        parseNumber(attrs.get('data2'), file, 'ColVec3D data2'),
      ]
      targets.push({ name: `${name ?? 'marker'} ${pointRole}`, rasM: pointFromFile(p, space) })
      pointRole = undefined
    }
  }
  const skippedTotal = [...skipped.values()].reduce((a, b) => a + b, 0)
  const skippedLine = `${skippedTotal} untracked marker${skippedTotal === 1 ? '' : 's'} (${[...skipped].map(([kind, n]) => (skipped.size === 1 ? kind : `${n} ${kind}`)).join(', ')})`
  if (targets.length === 0 && skippedTotal > 0) throw fail(`every marker is untracked: ${skippedLine}, no pose to import`)
  if (targets.length === 0) throw fail('no marker with a position found')
  if (skippedTotal > 0) warnings.unshift(`skipped ${skippedLine}`)
  if (poses.length > 0)
    warnings.push(
      'Localite marker origins are read as the transducer bowl apex (our convention); a tool calibrated to the exit plane or the tracker needs that offset along x',
    )
  return { format: 'localite', targetsRasM: targets, poses, warnings }
}
