/**
 * Interoperability of `tfus import-pose` and our own pose files: untracked Localite trigger
 * markers, 3-decimal Brainsight axes, rigid ITK transform types and header variants, the plain
 * five-line .tfm, and the Brainsight coordinate-system line from the image's NIfTI codes.
 */
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { brainsightCoordinateSystem, readBrainsight, writeBrainsight } from '../../../core/exports/brainsight.ts'
import { poseToItk } from '../../../core/exports/conventions.ts'
import { readLocalite } from '../../../core/exports/localite.ts'
import { parseItkTransform, readItkTransform, writeItkTransform } from '../../../core/exports/slicer.ts'
import { isImportError } from '../../../core/io/errors.ts'
import { main } from '../../../electron/cli/main.ts'
import { niftiXformCodes } from '../../../electron/adapters/nifti-codes.ts'
import { obliquePose, PROVENANCE, rotation } from './helpers.ts'

const matrix4D = (d: readonly number[]) => `<Matrix4D ${d.map((v, i) => `data${Math.floor(i / 4)}${i % 4}="${v.toFixed(1)}"`).join(' ')}/>`
const IDENTITY = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
const trigger = (time: number, d: readonly number[]) =>
  `<TriggerMarker recordingTime="${time}"><ResponseValues><Value key="valueA" response="NaN"/></ResponseValues>${matrix4D(d)}</TriggerMarker>`

/** 3 untracked pulses (identity, as TMS Navigator writes them) around 2 tracked ones. */
const TRIGGER_FILE = `<?xml version="1.0" encoding="UTF-8"?>
<TriggerMarkerList coordinateSpace="RAS" isOnlineReading="false" startTime="0">
${trigger(100, IDENTITY)}
${trigger(200, [0, 0, 1, 10, 0, -1, 0, 20, 1, 0, 0, 30, 0, 0, 0, 1])}
${trigger(300, IDENTITY)}
${trigger(400, [0, 1, 0, -5, 0, 0, -1, 6, -1, 0, 0, 70, 0, 0, 0, 1])}
${trigger(500, IDENTITY)}
</TriggerMarkerList>
`

const ONLY_UNTRACKED = `<?xml version="1.0"?><TriggerMarkerList coordinateSpace="LPS">${trigger(1, IDENTITY)}${trigger(2, IDENTITY)}</TriggerMarkerList>`

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

async function withTemp<T>(files: Record<string, string | Uint8Array>, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-import-pose-'))
  try {
    for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(dir, name), content)
    return await body(dir)
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

/** Largest |RᵀR − I| over the 3x3 part of a row-major 4x4. */
function orthonormalityError(m: readonly number[]): number {
  let worst = 0
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const dot = m[i]! * m[j]! + m[4 + i]! * m[4 + j]! + m[8 + i]! * m[8 + j]!
      worst = Math.max(worst, Math.abs(dot - (i === j ? 1 : 0)))
    }
  }
  return worst
}

describe('Localite: untracked trigger markers', () => {
  it('3 identity markers skipped and counted in one line, 2 tracked imported', () => {
    const back = readLocalite(TRIGGER_FILE, 'TriggerMarkers_Coil0_20260101.xml')
    expect(back.poses.map((p) => p.name)).toEqual(['trigger 200', 'trigger 400'])
    expect(back.warnings.filter((w) => /untracked/.test(w))).toEqual(['skipped 3 untracked markers (identity matrix)'])
    // Marker 200: Localite x (beam) = (0, 0, 1) is our z; origin (10, 20, 30) mm RAS.
    const p = back.poses[0]!.transducerToRas
    expect([p[2], p[6], p[10]]).toEqual([0, 0, 1])
    expect([p[3]! * 1000, p[7]! * 1000, p[11]! * 1000]).toEqual([10, 20, 30])
  })

  it('tfus import-pose reports the skipped count; a file of untracked markers only is exit 2 with one line', async () => {
    await withTemp({ 'TriggerMarkers_Coil0_1.xml': TRIGGER_FILE, 'TriggerMarkers_Coil1_1.xml': ONLY_UNTRACKED }, async (dir) => {
      const ok = await cli(['import-pose', path.join(dir, 'TriggerMarkers_Coil0_1.xml'), '--format', 'localite'])
      expect(ok.code).toBe(0)
      expect(ok.out).toContain('2 target(s), 2 pose(s)')
      expect(ok.out.split('\n').filter((l) => /skipped/.test(l))).toEqual(['warning: skipped 3 untracked markers (identity matrix)'])
      const bad = await cli(['import-pose', path.join(dir, 'TriggerMarkers_Coil1_1.xml'), '--format', 'localite'])
      expect(bad.code).toBe(2)
      expect(bad.err.split('\n')).toHaveLength(1)
      expect(bad.err).toMatch(/TriggerMarkers_Coil1_1\.xml: every marker is untracked: 2 untracked markers \(identity matrix\), no pose to import/)
    })
  })
})

describe('Brainsight 2.3.5: axes printed with 3 decimals', () => {
  const header = [
    '# Version: 13',
    '# Coordinate system: NIfTI:Scanner',
    '# Created by: Brainsight 2.3.5',
    '# Units: millimetres, degrees, milliseconds, and microvolts',
    '# Encoding: UTF-8',
    '# Target Name\tLoc. X\tLoc. Y\tLoc. Z\tm0n0\tm0n1\tm0n2\tm1n0\tm1n1\tm1n2\tm2n0\tm2n1\tm2n2',
  ].join('\n')
  // A rotation (helpers `rotation(0.2, −0.571, 0.182)`, axes = its columns) printed with 3
  // decimals as Brainsight 2.3.5 does: each entry within 5e-4, yet the axes are orthonormal only
  // to 1.37e-3, beyond the 1e-3 that used to refuse the whole file.
  const exact = rotation(0.2, -0.571, 0.182)
  const printed = [0, 1, 2].map((k) => [exact[k]!, exact[3 + k]!, exact[6 + k]!].map((v) => Number(v.toFixed(3))))
  const row3 = ['T1', '12.500', '-3.250', '40.000', ...printed.flat().map((v) => v.toFixed(3))].join('\t')

  it('accepted with a warning giving the deviation; the rotation is orthonormal to 1e-12', () => {
    // mXnY = component Y of axis X = pose column X.
    const raw = [0, 1, 2].flatMap((r) => [printed[0]![r]!, printed[1]![r]!, printed[2]![r]!, 0]).concat([0, 0, 0, 1])
    const rawError = orthonormalityError(raw)
    // Beyond the 1e-3 that 4-decimal files stay within, far below a shear.
    expect(rawError).toBeGreaterThan(1e-3)
    expect(rawError).toBeLessThan(2e-3)
    const back = readBrainsight(`${header}\n${row3}\n`, 'bs235.txt', { focalDistanceM: 0.05 })
    const p = back.poses[0]!.transducerToRas
    expect(orthonormalityError(p)).toBeLessThan(1e-12)
    const w = back.warnings.find((x) => /re-orthonormalised/.test(x))
    expect(w).toBe(
      `T1: axes printed with few decimals (deviation from orthonormal max|RᵀR − I| = ${rawError.toExponential(2)}), re-orthonormalised to the nearest rotation (polar decomposition)`,
    )
    // Nearest rotation: within the printing error of the exact axes. Our beam = −m2 (B = S·diag(−1, 1, −1)).
    ;[0, 1, 2].forEach((r) => expect(Math.abs(p[4 * r + 2]! + exact[3 * r + 2]!)).toBeLessThan(1e-3))
  })

  it('a deviation just under the 5e-3 limit is accepted, one just over it refused', () => {
    // m0 = (1, d, 0), m1 = (0, 1, 0): m0·m1 = d, |m0|² − 1 = d²; max|RᵀR − I| = d.
    const row = (d: number) => `T2\t0\t0\t0\t1\t${d}\t0\t0\t1\t0\t0\t0\t1`
    const back = readBrainsight(`${header}\n${row(0.0049)}\n`, 'bs.txt')
    expect(orthonormalityError(back.poses[0]!.transducerToRas)).toBeLessThan(1e-12)
    expect(back.warnings.join(' ')).toMatch(/max\|RᵀR − I\| = 4\.90e-3/)
    expect(() => readBrainsight(`${header}\n${row(0.0051)}\n`, 'bs.txt')).toThrow(/max\|RᵀR − I\| = 5\.10e-3, limit 0\.005/)
  })

  it('a clearly sheared matrix is refused with one line naming the row', () => {
    const sheared = 'Sheared\t0\t0\t0\t1\t0\t0\t0.2\t1\t0\t0\t0\t1'
    let error: unknown
    try {
      readBrainsight(`${header}\n${row3}\n${sheared}\n`, 'shear.txt')
    } catch (e) {
      error = e
    }
    expect(isImportError(error)).toBe(true)
    const message = (error as Error).message
    expect(message.split('\n')).toHaveLength(1)
    expect(message).toMatch(
      /^shear\.txt: line 8 \(Sheared\): the axes m0\.\.m2 are not a rotation \(deviation from orthonormal max\|RᵀR − I\| = 2\.00e-1, limit 0\.005;/,
    )
  })
})

describe('Slicer / ITK transform files', () => {
  /** Row-major 4x4 of T(x) = R (x − c) + c + t, written out by hand per entry. */
  const centred = (r: readonly number[], c: readonly number[], t: readonly number[]) => {
    const rc = [0, 1, 2].map((i) => r[3 * i]! * c[0]! + r[3 * i + 1]! * c[1]! + r[3 * i + 2]! * c[2]!)
    return [r[0]!, r[1]!, r[2]!, t[0]! + c[0]! - rc[0]!, r[3]!, r[4]!, r[5]!, t[1]! + c[1]! - rc[1]!, r[6]!, r[7]!, r[8]!, t[2]! + c[2]! - rc[2]!, 0, 0, 0, 1]
  }
  const expectClose = (actual: readonly number[], expected: readonly number[], tol = 1e-12) =>
    expected.forEach((v, i) => expect(Math.abs(actual[i]! - v), `entry ${i}`).toBeLessThan(tol))

  it('"# Transform 0" (with a space) and Euler3DTransform: R = Rz·Rx·Ry, centre folded in', () => {
    // Angles x = 90°, y = 90°, z = 0: Rx(90°) = [[1,0,0],[0,0,−1],[0,1,0]], Ry(90°) = [[0,0,1],[0,1,0],[−1,0,0]],
    // Rx·Ry = [[0,0,1],[1,0,0],[0,1,0]] (ZYX order would give Ry·Rx = [[0,1,0],[0,0,−1],[−1,0,0]]).
    // c = (10, 20, 30), t = (1, 2, 3): R c = (30, 10, 20); offset = t + c − R c = (−19, 12, 13).
    const text = `#Insight Transform File V1.0\n# Transform 0\nTransform: Euler3DTransform_double_3_3\nParameters: ${Math.PI / 2} ${Math.PI / 2} 0 1 2 3\nFixedParameters: 10 20 30 0\n`
    const { matrix } = parseItkTransform(text, 'euler.tfm')
    expectClose(matrix, [0, 0, 1, -19, 1, 0, 0, 12, 0, 1, 0, 13, 0, 0, 0, 1])
    // ComputeZYX set (4th fixed parameter): R = Rz·Ry·Rx; R c = (20, −30, −10), offset = (−9, 52, 43).
    const zyx = parseItkTransform(text.replace('10 20 30 0', '10 20 30 1'), 'euler-zyx.tfm').matrix
    expectClose(zyx, [0, 1, 0, -9, 0, 0, -1, 52, -1, 0, 0, 43, 0, 0, 0, 1])
    // The pose read from it is the inverse in RAS: mapping back gives the file's matrix.
    const pose = readItkTransform(text, 'euler.tfm').poses[0]!.transducerToRas
    expectClose(poseToItk(pose), [0, 0, 1, -19, 1, 0, 0, 12, 0, 1, 0, 13, 0, 0, 0, 1], 1e-9)
  })

  it('VersorRigid3DTransform with a centre, against the axis-angle (Rodrigues) matrix', () => {
    const v = [0.1, -0.2, 0.3]
    const c = [5, -7, 11]
    const t = [2, 3, -4]
    const s = Math.hypot(v[0]!, v[1]!, v[2]!)
    // Versor = sin(θ/2)·n: θ = 2 asin|v|, n = v/|v|; R = I + sinθ K + (1 − cosθ) K², K = [n]×.
    const theta = 2 * Math.asin(s)
    const [nx, ny, nz] = v.map((x) => x / s) as [number, number, number]
    const k = [0, -nz, ny, nz, 0, -nx, -ny, nx, 0]
    const k2 = [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => k[3 * i]! * k[j]! + k[3 * i + 1]! * k[3 + j]! + k[3 * i + 2]! * k[6 + j]!))
    const r = k.map((kv, i) => (i % 4 === 0 ? 1 : 0) + Math.sin(theta) * kv + (1 - Math.cos(theta)) * k2[i]!)
    const text = `#Insight Transform File V1.0\n#Transform 0\nTransform: VersorRigid3DTransform_double_3_3\nParameters: ${v.join(' ')} ${t.join(' ')}\nFixedParameters: ${c.join(' ')}\n`
    expectClose(parseItkTransform(text, 'versor.tfm').matrix, centred(r, c, t))
    const back = readItkTransform(text, 'versor.tfm')
    expect(back.poses).toHaveLength(1)
    expectClose(poseToItk(back.poses[0]!.transducerToRas), centred(r, c, t), 1e-9)
  })

  it('Rigid3DTransform reads like an affine one; other types, and .h5 bytes given to the text reader, refused in one line', () => {
    const text =
      '#Insight Transform File V1.0\n#Transform 0\nTransform: Rigid3DTransform_double_3_3\nParameters: 0 -1 0 1 0 0 0 0 1 4 5 6\nFixedParameters: 0 0 0\n'
    expectClose(parseItkTransform(text, 'rigid.tfm').matrix, [0, -1, 0, 4, 1, 0, 0, 5, 0, 0, 1, 6, 0, 0, 0, 1])
    expect(() => parseItkTransform(text.replace('Rigid3DTransform', 'BSplineTransform'), 'b.tfm')).toThrow(
      /transform type "BSplineTransform_double_3_3" is not supported/,
    )
    const h5 = '\uFFFDHDF\r\n\u001a\n\u0000\u0000binary'
    expect(() => readItkTransform(h5, 'transducer.h5')).toThrow(/^transducer\.h5: is an HDF5 \(\.h5\) ITK transform: read it with the HDF5 reader/)
  })

  it('our .tfm export is exactly the five lines of the ITK text format', () => {
    const pose = obliquePose(0.3, -0.7, 1.1, [0.071, -0.0123, 0.0545])
    const text = writeItkTransform({ name: 'transducer', transducerToRas: pose, focalDistanceM: 0.06 }, PROVENANCE)
    expect(text.endsWith('\n')).toBe(true)
    const lines = text.slice(0, -1).split('\n')
    expect(lines).toHaveLength(5)
    expect(lines.slice(0, 3)).toEqual(['#Insight Transform File V1.0', '#Transform 0', 'Transform: AffineTransform_double_3_3'])
    expect(lines[3]).toMatch(/^Parameters:( -?\d+(\.\d+)?){12}$/)
    expect(lines[4]).toBe('FixedParameters: 0 0 0')
  })
})

describe('Brainsight coordinate system from the image NIfTI codes', () => {
  it('names the sform code, else the qform code, else keeps Scanner', () => {
    expect(brainsightCoordinateSystem(14, { sformCode: 2, qformCode: 1 })).toBe('NIfTI:S:Aligned')
    expect(brainsightCoordinateSystem(14, { sformCode: 0, qformCode: 1 })).toBe('NIfTI:Q:Scanner')
    expect(brainsightCoordinateSystem(14, { sformCode: 3, qformCode: 0 })).toBe('NIfTI:S:Talairach')
    expect(brainsightCoordinateSystem(14, { sformCode: 4, qformCode: 0 })).toBe('NIfTI:S:MNI-152')
    expect(brainsightCoordinateSystem(13, { sformCode: 2, qformCode: 0 })).toBe('NIfTI:Aligned')
    expect(brainsightCoordinateSystem(14, { sformCode: 0, qformCode: 0 })).toBe('NIfTI:S:Scanner')
    expect(brainsightCoordinateSystem(14)).toBe('NIfTI:S:Scanner')
  })

  it('written from the header of a .nii.gz, and read back', async () => {
    const header = new Uint8Array(352)
    const view = new DataView(header.buffer)
    view.setInt32(0, 348, true)
    ;[3, 1, 1, 1, 1, 1, 1, 1].forEach((d, i) => view.setInt16(40 + 2 * i, d, true))
    view.setInt16(70, 2, true) // uint8
    view.setInt16(72, 8, true)
    ;[1, 1, 1, 1].forEach((p, i) => view.setFloat32(76 + 4 * i, p, true))
    view.setFloat32(108, 352, true)
    view.setInt16(252, 1, true) // qform_code: scanner
    view.setInt16(254, 2, true) // sform_code: aligned
    header.set([0x6e, 0x2b, 0x31, 0], 344) // "n+1\0"
    const image = new Uint8Array(353)
    image.set(header)
    await withTemp({ 't1.nii.gz': gzipSync(image), 'ct.nrrd': 'NRRD0004\n' }, async (dir) => {
      const codes = await niftiXformCodes(path.join(dir, 't1.nii.gz'))
      expect(codes).toEqual({ sformCode: 2, qformCode: 1 })
      expect(await niftiXformCodes(path.join(dir, 'ct.nrrd'))).toBeUndefined()
      const pose = { name: 'T', transducerToRas: obliquePose(0.2, 0.1, -0.4, [0.01, 0.02, 0.03]), focalDistanceM: 0.05 }
      const text = writeBrainsight([pose], 14, PROVENANCE, codes)
      expect(text.split('\n')[1]).toBe('# Coordinate system: NIfTI:S:Aligned')
      const back = readBrainsight(text, 'aligned.txt')
      expect(back.poses).toHaveLength(1)
      expect(back.warnings.join(' ')).toMatch(/aligned space \("NIfTI:S:Aligned"\)/)
    })
  })
})
