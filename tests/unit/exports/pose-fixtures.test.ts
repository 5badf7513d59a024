/**
 * Conformance of `tfus import-pose` with files in the navigation tools' own formats
 * (tests/fixtures/poses/, described in its README): each is imported to the expected pose, or
 * skipped/refused with the stated reason. Expected values come from the README's ground truth
 * or from the file's own numbers by the format's documented rule, never from our writers.
 *
 * Ground truth G (README): transducer frame -> RAS, apex (−70, 30, 40) mm, x = (0.6, 0.64, −0.48),
 * y = (0, 0.6, 0.8), beam z = (0.8, −0.48, 0.36), focal distance 60 mm (focus (−22, 1.2, 61.6)).
 */
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { readLocalite } from '../../../core/exports/localite.ts'
import type { ImportedNavigation } from '../../../core/exports/types.ts'
import { isImportError } from '../../../core/io/errors.ts'
import { main } from '../../../electron/cli/main.ts'
import { importPoseFile } from '../../../electron/app/exports.ts'
import { writeItkHdf5Transform } from '../../../electron/adapters/itk-h5.ts'
import { expectPoseClose, rotation } from './helpers.ts'

const DIR = path.resolve(import.meta.dirname, '../../fixtures/poses')
const fixture = (p: string) => path.join(DIR, p)

/** G, row-major, translation in metres (our pose convention). */
const G = [0.6, 0, 0.8, -0.07, 0.64, 0.6, -0.48, 0.03, -0.48, 0.8, 0.36, 0.04, 0, 0, 0, 1]
/** Rotation to 1e-12, translation to 1e-9 mm: exact decimals in, double rounding only. */
const expectG = (pose: readonly number[]) => expectPoseClose(pose, G, 1e-12, 1e-9)

const beam = (p: readonly number[]) => [p[2]!, p[6]!, p[10]!]
const apexMm = (p: readonly number[]) => [p[3]! * 1000, p[7]! * 1000, p[11]! * 1000]
const expectVecClose = (a: readonly number[], b: readonly number[], tol: number) => b.forEach((v, i) => expect(Math.abs(a[i]! - v), `[${i}]`).toBeLessThan(tol))

async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run()
  } catch (e) {
    expect(isImportError(e)).toBe(true)
    return (e as Error).message
  }
  throw new Error('expected the file to be refused')
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

describe('Localite TMS Navigator XML', () => {
  it('InstrumentMarker RAS and LPS: the same pose G (column 0 = beam into the head, LPS rows 0 and 1 negated)', async () => {
    for (const file of ['localite/InstrumentMarker20260105101500123.xml', 'localite/LPS_InstrumentMarker20260105101502789.xml']) {
      const back = await importPoseFile(fixture(file), 'localite')
      expect(back.poses.map((p) => p.name)).toEqual(['FUS left'])
      expectG(back.poses[0]!.transducerToRas)
    }
  })

  it('TriggerMarkers: 5 untracked pulses (identity, set="false") skipped and counted, 3 tracked ones read by the column-0 rule', async () => {
    const file = fixture('localite/TriggerMarkers_Coil0_20260105103000456.xml')
    const back = await importPoseFile(file, 'localite')
    expect(back.warnings[0]).toBe('skipped 5 untracked markers (identity matrix)')
    expect(back.poses.map((p) => p.name)).toEqual(['trigger 113879', 'trigger 118916', 'trigger 123953'])
    // Independent of our reader: each tracked marker's Matrix4D from the text; beam = column 0, apex = column 3.
    const text = await fs.readFile(file, 'utf8')
    const tracked = [...text.matchAll(/set="true"[\s\S]*?<Matrix4D([\s\S]*?)\/>/g)].map((m) => {
      const d = (r: number, c: number) => Number(new RegExp(`data${r}${c}="([^"]+)"`).exec(m[1]!)![1])
      return { beam: [d(0, 0), d(1, 0), d(2, 0)], apex: [d(0, 3), d(1, 3), d(2, 3)] }
    })
    expect(tracked).toHaveLength(3)
    tracked.forEach((t, i) => {
      expectVecClose(beam(back.poses[i]!.transducerToRas), t.beam, 1e-12)
      expectVecClose(apexMm(back.poses[i]!.transducerToRas), t.apex, 1e-9)
    })
  })

  it('TriggerMarkers of an untracked coil only (LPS): refused with the count and reason, exit 2 in one line', async () => {
    const file = fixture('localite/TriggerMarkers_Coil1_20260105110241007.xml')
    expect(await refusal(() => importPoseFile(file, 'localite'))).toBe(
      `${file}: every marker is untracked: 3 untracked markers (identity matrix), no pose to import`,
    )
    const r = await cli(['import-pose', file, '--format', 'localite'])
    expect(r.code).toBe(2)
    expect(r.err.split('\n')).toHaveLength(1)
  })

  it('a TriggerMarker flagged set="false" is skipped even when its matrix is a rotation', () => {
    const m =
      'data00="0.8" data01="0.0" data02="0.6" data03="-70.0" data10="-0.48" data11="-0.6" data12="0.64" data13="30.0" data20="0.36" data21="-0.8" data22="-0.48" data23="40.0" data30="0.0" data31="0.0" data32="0.0" data33="1.0"'
    const xml = (set: string) =>
      `<TriggerMarkerList coordinateSpace="RAS"><TriggerMarker description="" recordingTime="7" set="${set}"><Matrix4D ${m}/></TriggerMarker><TriggerMarker description="" recordingTime="8" set="true"><Matrix4D ${m}/></TriggerMarker></TriggerMarkerList>`
    const notSet = readLocalite(xml('false'), 't.xml')
    expect(notSet.poses.map((p) => p.name)).toEqual(['trigger 8'])
    expect(notSet.warnings[0]).toBe('skipped 1 untracked marker (set="false": not tracked)')
    expect(readLocalite(xml('true'), 't.xml').poses).toHaveLength(2)
  })

  it('EntryTarget (LPS): the entry and target points in RAS, no pose', async () => {
    const back = await importPoseFile(fixture('localite/EntryTarget20260105101733042.xml'), 'localite')
    expect(back.poses).toHaveLength(0)
    expect(back.targetsRasM.map((t) => t.name)).toEqual(['marker entry', 'FUS left target'])
    expectVecClose(
      back.targetsRasM[0]!.rasM.map((v) => v * 1000),
      [-62, 25.2, 43.6],
      1e-9,
    )
    expectVecClose(
      back.targetsRasM[1]!.rasM.map((v) => v * 1000),
      [-22, 1.2, 61.6],
      1e-9,
    )
  })
})

describe('Brainsight text exports', () => {
  const read = (file: string, focalDistanceM?: number): Promise<ImportedNavigation> =>
    importPoseFile(fixture(`brainsight/${file}`), 'brainsight', focalDistanceM === undefined ? {} : { focalDistanceM })

  it('v14 (Brainsight 2.5.3, NIfTI:S:Scanner, 4 decimals): the target at the focus gives G with the 60 mm focal distance; samples read, sessions ignored', async () => {
    const back = await read('v14_brainsight-2.5.3_nifti-s-scanner.txt', 0.06)
    expect(back.poses.map((p) => p.name)).toEqual(['FUS left', 'Sample 1', 'Sample 2'])
    expectG(back.poses[0]!.transducerToRas)
    // Brainsight z (m2) points out of the head: our beam = −m2; Sample 2's m2 = (0, 0, 1).
    expectVecClose(beam(back.poses[2]!.transducerToRas), [0, 0, -1], 1e-15)
    expect(back.warnings.filter((w) => /re-orthonormalised/.test(w))).toEqual([])
  })

  it('v12 (written by SimNIBS 4.1, NIfTI:Aligned): accepted with a warning; without a focal distance the origin is the location (here the apex)', async () => {
    const back = await read('v12_simnibs-4.1_nifti-aligned.txt')
    expect(back.poses.map((p) => p.name)).toEqual(['000'])
    expectG(back.poses[0]!.transducerToRas)
    expect(back.warnings.join('\n')).toMatch(/aligned space \("NIfTI:Aligned"\)/)
    expect(back.warnings.join('\n')).toMatch(/000: the file does not say how far the transducer apex is/)
  })

  it('v7 (Brainsight 2.3.5, 3 decimals): accepted, re-orthonormalised with the measured deviation; within the printing error of the exact axes', async () => {
    const back = await read('v7_brainsight-2.3.5_3-decimals.txt', 0.06)
    expect(back.poses.map((p) => p.name)).toEqual(['FUS left', 'Trajectory 2', 'Sample 1'])
    expectG(back.poses[0]!.transducerToRas)
    const warning = back.warnings.find((w) => w.startsWith('Trajectory 2:'))
    expect(warning).toMatch(/deviation from orthonormal max\|RᵀR − I\| = 1\.37e-3\), re-orthonormalised/)
    // README: Trajectory 2's axes m0, m1, m2 are the columns of rotation(0.2, −0.571, 0.182) printed
    // with 3 decimals (each entry within 5e-4); beam = −m2, apex = location + 60 mm · m2.
    const exact = rotation(0.2, -0.571, 0.182)
    const m2 = [exact[2]!, exact[5]!, exact[8]!]
    const p = back.poses[1]!.transducerToRas
    expectVecClose(
      beam(p),
      m2.map((v) => -v),
      1e-3,
    )
    expectVecClose(apexMm(p), [-35.125 + 60 * m2[0]!, 12.5 + 60 * m2[1]!, 55.75 + 60 * m2[2]!], 0.1)
  })
})

describe('3D Slicer', () => {
  it('every ITK text variant (affine, "# Transform 0" + centre, versor, Euler, composite) gives G', async () => {
    for (const file of ['Transform.tfm', 'Transform-space-header-centred.txt', 'Transform-versor.tfm', 'Transform-euler.tfm', 'Transform-composite.tfm']) {
      const back = await importPoseFile(fixture(`slicer/${file}`), 'slicer')
      expect(back.poses, file).toHaveLength(1)
      expectG(back.poses[0]!.transducerToRas)
    }
  })

  it('the ITK HDF5 file (.h5, Slicer default) gives G, through the CLI too', async () => {
    const file = fixture('slicer/Transform.h5')
    expectG((await importPoseFile(file, 'slicer')).poses[0]!.transducerToRas)
    const r = await cli(['import-pose', file, '--format', 'slicer', '--json'])
    expect(r.code).toBe(0)
    const json = JSON.parse(r.out) as { poses: Array<{ apex_ras_mm: number[]; beam_axis_ras: number[] }> }
    expectVecClose(json.poses[0]!.apex_ras_mm, [-70, 30, 40], 1e-6)
    expectVecClose(json.poses[0]!.beam_axis_ras, [0.8, -0.48, 0.36], 1e-12)
  })

  it('HDF5 variants: pre-4.8 dataset names, a composite holding a centred versor; a composite of two and a damaged file refused', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-itk-h5-'))
    try {
      const versor = { type: 'VersorRigid3DTransform_double_3_3', parameters: [0.4, 0.4, -0.2, -44.4, 34, 19.2], fixedParameters: [10, -20, 30] }
      const composite = { type: 'CompositeTransform_double_3_3', parameters: [], fixedParameters: [] }
      await writeItkHdf5Transform(path.join(dir, 'old.h5'), [versor], { misspelled: true, itkVersion: '4.7.2' })
      await writeItkHdf5Transform(path.join(dir, 'composite.h5'), [composite, versor])
      await writeItkHdf5Transform(path.join(dir, 'two.h5'), [composite, versor, versor])
      for (const f of ['old.h5', 'composite.h5']) expectG((await importPoseFile(path.join(dir, f), 'slicer')).poses[0]!.transducerToRas)
      expect(await refusal(() => importPoseFile(path.join(dir, 'two.h5'), 'slicer'))).toMatch(/two\.h5: holds 2 transforms \(a composite\)/)
      // A damaged file is refused before h5wasm opens it (the HDF5 library would print its
      // diagnostics to the process's stderr): exit 2, one line.
      await fs.writeFile(path.join(dir, 'damaged.h5'), Buffer.concat([Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'), Buffer.from('garbage after the signature')]))
      const r = await cli(['import-pose', path.join(dir, 'damaged.h5'), '--format', 'slicer'])
      expect(r.code).toBe(2)
      expect(r.err).toBe(`tfus: error: ${path.join(dir, 'damaged.h5')}: not a readable HDF5 file (superblock version 103)`)
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })

  it('a scaled affine is refused as not rigid, in one line', async () => {
    const file = fixture('slicer/Transform-scaled.tfm')
    expect(await refusal(() => importPoseFile(file, 'slicer'))).toMatch(
      /Transform-scaled\.tfm: the transform is not rigid \(orthogonality error 2\.1e-1, determinant 1\.331\)/,
    )
  })

  it('.mrk.json (Slicer 5, LPS): the defined control points in RAS, the preview point skipped', async () => {
    const back = await importPoseFile(fixture('slicer/F.mrk.json'), 'slicer')
    expect(back.targetsRasM.map((t) => t.name)).toEqual(['target', 'entry'])
    expectVecClose(
      back.targetsRasM[0]!.rasM.map((v) => v * 1000),
      [-22, 1.2, 61.6],
      1e-9,
    )
    expectVecClose(
      back.targetsRasM[1]!.rasM.map((v) => v * 1000),
      [-62, 25.2, 43.6],
      1e-9,
    )
  })
})
