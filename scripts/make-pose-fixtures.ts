/**
 * Writes the machine-made files of tests/fixtures/poses/ (the others are written by hand; see
 * tests/fixtures/poses/README.md):
 *   localite/TriggerMarkers_Coil0_20260105103000456.xml  tracked pulses in full double precision, untracked ones
 *   slicer/Transform.h5                                  ITK HDF5 layout, written with h5wasm
 *   npx tsx scripts/make-pose-fixtures.ts
 * Deterministic: no clock, no randomness.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { writeItkHdf5Transform } from '../electron/adapters/itk-h5.ts'
import { mat3Multiply, type Mat3 } from '../core/math/index.ts'

const OUT = path.resolve(import.meta.dirname, '../tests/fixtures/poses')

/** A double as Java's Double.toString prints it (TMS Navigator is Java): "6.884268311263542E-4" below 1e-3. */
function javaDouble(x: number): string {
  if (x === 0) return '0.0'
  if (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e7) return Number.isInteger(x) ? `${x}.0` : String(x)
  const [mantissa, exp] = x.toExponential().split('e') as [string, string]
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exp)}`
}

/** Rotation about a unit axis by `angle` (Rodrigues), row-major 3x3. */
function axisAngle(axis: readonly [number, number, number], angle: number): Mat3 {
  const [x, y, z] = axis
  const c = Math.cos(angle)
  const s = Math.sin(angle)
  const C = 1 - c
  return [
    c + x * x * C,
    x * y * C - z * s,
    x * z * C + y * s,
    y * x * C + z * s,
    c + y * y * C,
    y * z * C - x * s,
    z * x * C - y * s,
    z * y * C + x * s,
    c + z * z * C,
  ]
}

/** The Localite matrix of the fixtures' ground-truth pose (README): columns x = beam, y, z; RAS mm. */
const LOCALITE_BASE: Mat3 = [0.8, 0, 0.6, -0.48, -0.6, 0.64, 0.36, -0.8, -0.48]
const APEX = [-70, 30, 40]

function matrix4D(rotation: readonly number[], t: readonly number[], indent: string): string {
  const v = (r: number, c: number) => (c === 3 ? (r === 3 ? 1 : t[r]!) : r === 3 ? 0 : rotation[3 * r + c]!)
  const attrs: string[] = []
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) attrs.push(`data${r}${c}="${javaDouble(v(r, c))}"`)
  // TMS Navigator wraps the attributes at about 70 columns.
  const lines: string[] = []
  let line = `${indent}<Matrix4D`
  for (const a of attrs) {
    if (line.length + a.length + 1 > 70 && line.trim() !== '<Matrix4D') {
      lines.push(line)
      line = `${indent}    ${a}`
    } else line += ` ${a}`
  }
  lines.push(`${line}/>`)
  return lines.join('\n')
}

function triggerMarker(time: number, tracked: boolean, rotation: readonly number[], t: readonly number[]): string {
  const di = tracked ? '84.0' : 'NaN'
  const amp = tracked ? '60.0' : '0.0'
  return [
    `    <TriggerMarker color="#ffafaf" description="" recordingTime="${time}"`,
    `        selected="false" set="${tracked}" visibility="true">`,
    '        <ResponseValues>',
    `            <Value key="valueA" response="${di}"/>`,
    '            <Value key="response" response="NaN"/>',
    `            <Value key="amplitudeA" response="${amp}"/>`,
    '        </ResponseValues>',
    matrix4D(rotation, t, '        '),
    '    </TriggerMarker>',
  ].join('\n')
}

async function triggerFile(): Promise<void> {
  const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1]
  const markers: string[] = []
  // Pulses 0-2 and 6-7 untracked (identity, set="false"); 3-5 tracked, the ground-truth pose
  // turned by 2, 5 and 9 degrees about an oblique axis and shifted by whole-ish millimetres.
  const axis = [0.267261241912424, 0.534522483824849, 0.801783725737273] as const
  const tracked: Record<number, { deg: number; shift: number[] }> = {
    3: { deg: 2, shift: [0.25, -0.5, 0.125] },
    4: { deg: 5, shift: [1.5, 0.75, -1] },
    5: { deg: 9, shift: [-2, 3.25, 0.5] },
  }
  for (let i = 0; i < 8; i++) {
    const time = 98768 + 5037 * i
    const p = tracked[i]
    if (!p) markers.push(triggerMarker(time, false, identity, [0, 0, 0]))
    else
      markers.push(
        triggerMarker(
          time,
          true,
          mat3Multiply(axisAngle(axis, (p.deg * Math.PI) / 180), LOCALITE_BASE),
          APEX.map((a, k) => a + p.shift[k]!),
        ),
      )
  }
  const text = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<TriggerMarkerList coordinateSpace="RAS" isOnlineReading="false" startTime="10:30:00.456">',
    '    <!--All positions are saved in the coordinate system of the corresponding medical data.',
    'NIfTI image data are recommended using RAS system.-->',
    '    <ResponseParameters selectedResponseChannel="0">',
    '        <responseDescription id="response" maxValue="51200.0"',
    '            minValue="-51200.0" name="Response" unit="uV"/>',
    '        <responseDescription id="valueA" maxValue="200.0" minValue="0.0"',
    '            name="Value A (di/dt)" unit="A/us"/>',
    '        <responseDescription id="amplitudeA" maxValue="100.0"',
    '            minValue="0.0" name="Amplitude A" unit="%"/>',
    '    </ResponseParameters>',
    ...markers,
    '</TriggerMarkerList>',
    '',
  ].join('\n')
  await fs.writeFile(path.join(OUT, 'localite/TriggerMarkers_Coil0_20260105103000456.xml'), text)
}

async function slicerH5(): Promise<void> {
  // The ground-truth pose as Slicer saves its transform node (README: ITK "from parent", LPS mm).
  const records = [
    { type: 'AffineTransform_double_3_3', parameters: [0.6, 0.64, 0.48, 0, 0.6, -0.8, -0.8, 0.48, 0.36, -42, 50, 56], fixedParameters: [0, 0, 0] },
  ]
  await writeItkHdf5Transform(path.join(OUT, 'slicer/Transform.h5'), records)
}

await triggerFile()
await slicerH5()
