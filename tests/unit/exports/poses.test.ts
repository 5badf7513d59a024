/**
 * Navigation pose formats: hand-computed files for Brainsight and Localite, and round trips of
 * oblique poses through every text format (rotation to 1e-9, translation to 1e-6 mm).
 */
import { describe, expect, it } from 'vitest'
import { readBrainsight, writeBrainsight } from '../../../core/exports/brainsight.ts'
import { kplanToPose, poseToItk, poseToKplan } from '../../../core/exports/conventions.ts'
import { readLocalite, writeLocalite } from '../../../core/exports/localite.ts'
import { multiplyAffine } from '../../../core/math/index.ts'
import { formatExact } from '../../../core/exports/matrix.ts'
import { readItkTransform, readSlicerMarkups, writeItkTransform, writeSlicerMarkups } from '../../../core/exports/slicer.ts'
import { isImportError } from '../../../core/io/errors.ts'
import { expectPoseClose, obliquePose, PROVENANCE } from './helpers.ts'

/*
 * The known pose. Rotation from the unit quaternion (w, x, y, z) = (4, 2, 2, 1) / 5, so every
 * entry is a multiple of 1/25 (R = 1/25 [[w²+x²−y²−z², 2(xy−wz), 2(xz+wy)], [2(xy+wz), w²−x²+y²−z²,
 * 2(yz−wx)], [2(xz−wy), 2(yz+wx), w²−x²−y²+z²]] with w² = 16, x² = y² = 4, z² = 1):
 *   R = [[15, 0, 20], [16, 15, -12], [-12, 20, 9]] / 25
 *     = [[0.6, 0, 0.8], [0.64, 0.6, -0.48], [-0.48, 0.8, 0.36]]
 * so the transducer axes in RAS are ex = (0.6, 0.64, -0.48), ey = (0, 0.6, 0.8) and the beam
 * ez = (0.8, -0.48, 0.36). Apex t = (31.25, -15.625, 46.875) mm (dyadic, exact in binary);
 * focal distance f = 62.5 mm.
 */
const KNOWN_POSE = [0.6, 0, 0.8, 0.03125, 0.64, 0.6, -0.48, -0.015625, -0.48, 0.8, 0.36, 0.046875, 0, 0, 0, 1]
const KNOWN = { name: 'bowl transducer', transducerToRas: KNOWN_POSE, focalDistanceM: 0.0625 }

/*
 * Brainsight (formats.md §3.1-3.2: B = S·diag(−1, 1, −1), z out of the head; mXnY = component Y
 * of axis X). Axes: m0 = −ex = (−0.6, −0.64, 0.48), m1 = ey = (0, 0.6, 0.8),
 * m2 = −ez = (−0.8, 0.48, −0.36). Loc = the focus = t + f·ez
 *   = (31.25 + 62.5·0.8, −15.625 − 62.5·0.48, 46.875 + 62.5·0.36) = (81.25, −45.625, 69.375) mm.
 */
const BRAINSIGHT_ROW = 'bowl transducer\t81.25\t-45.625\t69.375\t-0.6\t-0.64\t0.48\t0\t0.6\t0.8\t-0.8\t0.48\t-0.36'
const brainsightExpected = (version: 13 | 14, system: string) =>
  [
    `# Version: ${version}`,
    `# Coordinate system: ${system}`,
    '# Created by: TFUS Planner test',
    '# Units: millimetres, degrees, milliseconds, and microvolts',
    '# Encoding: UTF-8',
    '# Notes: Each column is delimited by a tab. Each value within a column is delimited by a semicolon.',
    '# TFUS location: the geometric focus of the transducer (bowl apex + focal distance along the beam); z axis points out of the head',
    '# TFUS pose: Pose as planned (no focus correction).',
    '# TFUS apex to location (mm): bowl transducer=62.5',
    '# Target Name\tLoc. X\tLoc. Y\tLoc. Z\tm0n0\tm0n1\tm0n2\tm1n0\tm1n1\tm1n2\tm2n0\tm2n1\tm2n2',
    BRAINSIGHT_ROW,
    '',
  ].join('\n')

/*
 * Localite (formats.md §3.1, SimNIBS nnav.py: L = S·F with F = [[0,0,1],[0,−1,0],[1,0,0]]):
 * columns (x, y, z) = (ez, −ey, ex); translation = apex in mm.
 *   RAS rows: [0.8, −0, 0.6, 31.25], [−0.48, −0.6, 0.64, −15.625], [0.36, −0.8, −0.48, 46.875]
 *   LPS = diag(−1, −1, 1)·RAS (rows 0 and 1 negated):
 *         [−0.8, 0, −0.6, −31.25], [0.48, 0.6, −0.64, 15.625], [0.36, −0.8, −0.48, 46.875]
 */
const localiteExpected = (space: 'RAS' | 'LPS', rows: string[]) =>
  [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<InstrumentMarkerList coordinateSpace="${space}">`,
    `    <!--Written by TFUS Planner test. Origin: transducer bowl apex; column 0 (x): beam direction into the head; mm, ${space}. Pose as planned (no focus correction).-->`,
    '    <InstrumentMarker alwaysVisible="false" index="0" selected="false">',
    '        <Marker additionalInformation="origin: bowl apex; focus 62.5 mm along x. Pose as planned (no focus correction)." color="#ff0000" description="bowl transducer" set="true">',
    '            <Matrix4D',
    ...rows.map((r) => `                ${r}`),
    '                data30="0.0" data31="0.0" data32="0.0" data33="1.0"/>',
    '        </Marker>',
    '    </InstrumentMarker>',
    '</InstrumentMarkerList>',
    '',
  ].join('\n')

describe('hand-computed files', () => {
  it('Brainsight v13 (NIfTI:Scanner) and v14 (NIfTI:S:Scanner)', () => {
    expect(writeBrainsight([KNOWN], 13, PROVENANCE)).toBe(brainsightExpected(13, 'NIfTI:Scanner'))
    expect(writeBrainsight([KNOWN], 14, PROVENANCE)).toBe(brainsightExpected(14, 'NIfTI:S:Scanner'))
  })

  it('Localite RAS and LPS', () => {
    expect(writeLocalite([KNOWN], 'ras', PROVENANCE)).toBe(
      localiteExpected('RAS', [
        'data00="0.8" data01="0" data02="0.6" data03="31.25"',
        'data10="-0.48" data11="-0.6" data12="0.64" data13="-15.625"',
        'data20="0.36" data21="-0.8" data22="-0.48" data23="46.875"',
      ]),
    )
    expect(writeLocalite([KNOWN], 'lps', PROVENANCE)).toBe(
      localiteExpected('LPS', [
        'data00="-0.8" data01="0" data02="-0.6" data03="-31.25"',
        'data10="0.48" data11="0.6" data12="-0.64" data13="15.625"',
        'data20="0.36" data21="-0.8" data22="-0.48" data23="46.875"',
      ]),
    )
  })

  it('k-Plan mapping of the known pose (PlanTUS: K.x = −L.y, K.y = L.z, K.z = −L.x)', () => {
    // L = (ez, −ey, ex) so K = (ey, ex, −ez); translation stays in metres.
    expect(poseToKplan(KNOWN_POSE)).toEqual([0, 0.6, -0.8, 0.03125, 0.6, 0.64, 0.48, -0.015625, 0.8, -0.48, -0.36, 0.046875, 0, 0, 0, 1].map((v) => v + 0))
  })

  it('ITK transform of a pure translation is its negation in LPS (from parent)', () => {
    // T_ras = translate(10, 20, 30) mm -> inverse = translate(−10, −20, −30) RAS = (10, 20, −30) LPS.
    const itk = poseToItk([1, 0, 0, 0.01, 0, 1, 0, 0.02, 0, 0, 1, 0.03, 0, 0, 0, 1])
    expect([itk[3], itk[7], itk[11]].map((v) => Number(v!.toFixed(12)))).toEqual([10, 20, -30])
  })
})

describe('round trips of oblique poses', () => {
  const poses = [
    obliquePose(0.3, -0.7, 1.1, [0.071, -0.0123, 0.0545]),
    obliquePose(2.2, 0.4, -2.9, [-0.0634, 0.0411, -0.0127]),
    obliquePose(-1.3, 1.9, 0.05, [0.0011, 0.0987, 0.0655]),
  ]

  it.each([13, 14] as const)('Brainsight v%i (apex recovered from the recorded focal distance)', (version) => {
    const entries = poses.map((p, i) => ({ name: `pose ${i}`, transducerToRas: p, focalDistanceM: 0.05 + 0.01 * i }))
    const back = readBrainsight(writeBrainsight(entries, version, PROVENANCE), 'test.txt')
    expect(back.poses).toHaveLength(3)
    back.poses.forEach((p, i) => expectPoseClose(p.transducerToRas, poses[i]!))
    // The targets are the locations: the foci.
    back.targetsRasM.forEach((t, i) =>
      expect(
        Math.hypot(t.rasM[0] - (poses[i]![3]! + (0.05 + 0.01 * i) * poses[i]![2]!), t.rasM[1] - (poses[i]![7]! + (0.05 + 0.01 * i) * poses[i]![6]!)),
      ).toBeLessThan(1e-12),
    )
  })

  it.each(['ras', 'lps'] as const)('Localite %s', (space) => {
    const entries = poses.map((p, i) => ({ name: `pose ${i}`, transducerToRas: p, focalDistanceM: 0.06 }))
    const back = readLocalite(writeLocalite(entries, space, PROVENANCE), 'InstrumentMarker.xml')
    expect(back.poses.map((p) => p.name)).toEqual(['pose 0', 'pose 1', 'pose 2'])
    back.poses.forEach((p, i) => expectPoseClose(p.transducerToRas, poses[i]!))
  })

  it('Slicer ITK .tfm', () => {
    for (const p of poses) {
      const back = readItkTransform(writeItkTransform({ name: 'transducer', transducerToRas: p, focalDistanceM: 0.06 }, PROVENANCE), 'transducer.tfm')
      expectPoseClose(back.poses[0]!.transducerToRas, p)
    }
  })

  it('Slicer markups, LPS and RAS', () => {
    const points = [
      { name: 'target', rasM: [0.0123456789, -0.0456, 0.0789] as const },
      { name: 'entry', rasM: [0.061, -0.02, 0.0999] as const },
    ]
    for (const space of ['lps', 'ras'] as const) {
      const text = writeSlicerMarkups(points, space, 'plan', PROVENANCE)
      expect(JSON.parse(text).markups[0].coordinateSystem).toBe(space.toUpperCase())
      const back = readSlicerMarkups(text, 'plan.mrk.json')
      back.targetsRasM.forEach((t, i) => t.rasM.forEach((v, k) => expect(Math.abs(v - points[i]!.rasM[k]!) * 1000).toBeLessThan(1e-9)))
    }
    // LPS stores (−x, −y, z) in mm.
    const lps = JSON.parse(writeSlicerMarkups(points, 'lps', 'plan', PROVENANCE)).markups[0].controlPoints[0].position
    expect(lps[0]).toBeCloseTo(-12.3456789, 9)
    expect(lps[1]).toBeCloseTo(45.6, 9)
  })

  it('k-Plan mapping (double precision)', () => {
    for (const p of poses) expectPoseClose(kplanToPose(poseToKplan(p)), p)
  })
})

describe('readers', () => {
  it('a Brainsight file from Brainsight (several targets, a (null) orientation, no apex line)', () => {
    const text = [
      '# Version: 14',
      '# Coordinate system: NIfTI:Q:Scanner',
      '# Created by: Brainsight 2.5.3',
      '# Units: millimetres, degrees, milliseconds, and microvolts',
      '# Encoding: UTF-8',
      '# Notes: Each column is delimited by a tab. Each value within a column is delimited by a semicolon.',
      '# Target Name\tLoc. X\tLoc. Y\tLoc. Z\tm0n0\tm0n1\tm0n2\tm1n0\tm1n1\tm1n2\tm2n0\tm2n1\tm2n2',
      'LVIM\t-12.1\t-20.3\t0.5\t-1\t0\t0\t0\t1\t0\t0\t0\t-1',
      'RVIM\t12.1\t-20.3\t0.5\t(null)\t(null)\t(null)\t(null)\t(null)\t(null)\t(null)\t(null)\t(null)',
      'M1\t-35\t-20\t60\t-1\t0\t0\t0\t1\t0\t0\t0\t-1',
      '',
    ].join('\n')
    const back = readBrainsight(text, 'targets.txt', { focalDistanceM: 0.04 })
    expect(back.targetsRasM.map((t) => t.name)).toEqual(['LVIM', 'RVIM', 'M1'])
    expect(back.poses.map((p) => p.name)).toEqual(['LVIM', 'M1'])
    // Brainsight z = (0, 0, −1) points out of the head, so the beam (our +z) is (0, 0, 1) and the
    // apex is 40 mm from the location along Brainsight +z: (−12.1, −20.3, 0.5 − 40).
    const lvim = back.poses[0]!.transducerToRas
    expect([lvim[2], lvim[6], lvim[10]]).toEqual([0, 0, 1])
    expect([lvim[3], lvim[7], lvim[11]].map((v) => Number((v! * 1000).toFixed(9)))).toEqual([-12.1, -20.3, -39.5])
    const noFocal = readBrainsight(text, 'targets.txt')
    expect(noFocal.warnings.join(' ')).toMatch(/does not say how far the transducer apex is/)
  })

  it('refuses coordinate systems that need the image and non-rotations, naming the file', () => {
    const header = (system: string) =>
      `# Version: 13\n# Coordinate system: ${system}\n# Target Name\tLoc. X\tLoc. Y\tLoc. Z\tm0n0\tm0n1\tm0n2\tm1n0\tm1n1\tm1n2\tm2n0\tm2n1\tm2n2\n`
    const call = (text: string) => {
      try {
        readBrainsight(text, 'bad.txt')
      } catch (e) {
        return e
      }
      return undefined
    }
    const e1 = call(header('Brainsight') + 'T\t1\t2\t3\t1\t0\t0\t0\t1\t0\t0\t0\t1\n')
    expect(isImportError(e1) && e1.message).toMatch(/^bad\.txt: coordinate system "Brainsight" is not supported/)
    const e2 = call(header('NIfTI:Scanner') + 'T\t1\t2\t3\t2\t0\t0\t0\t1\t0\t0\t0\t1\n')
    expect(isImportError(e2) && e2.message).toMatch(/not a rotation/)
    const e3 = call(header('NIfTI:Scanner') + 'T\t1\tx\t3\t1\t0\t0\t0\t1\t0\t0\t0\t1\n')
    expect(isImportError(e3) && e3.message).toMatch(/Loc\. Y: "x" is not a number/)
  })

  it('Localite TriggerMarkers: all-zero (untracked) matrices are skipped, LPS converted', () => {
    const m = (d: number[]) => `<Matrix4D ${d.map((v, i) => `data${Math.floor(i / 4)}${i % 4}="${v}"`).join(' ')}/>`
    const text = `<?xml version="1.0"?><TriggerMarkerList coordinateSpace="LPS">
<TriggerMarker description="a" recordingTime="10">${m([1, 0, 0, -10, 0, -1, 0, -20, 0, 0, -1, 30, 0, 0, 0, 1])}</TriggerMarker>
<TriggerMarker description="b" recordingTime="20">${m(new Array(16).fill(0))}</TriggerMarker>
<TriggerMarker description="c" recordingTime="30">${m([0, 0, 1, 1, 0, 1, 0, 2, -1, 0, 0, 3, 0, 0, 0, 1])}</TriggerMarker></TriggerMarkerList>`
    const back = readLocalite(text, 'TriggerMarkers_Coil0_1.xml')
    expect(back.poses.map((p) => p.name)).toEqual(['a', 'c'])
    expect(back.warnings[0]).toBe('skipped 1 untracked marker (all-zero matrix)')
    // Marker a: Localite x (beam) = (1, 0, 0) LPS = (−1, 0, 0) RAS; origin (−10, −20, 30) LPS = (10, 20, 30) RAS.
    const a = back.poses[0]!.transducerToRas
    expect([a[2], a[6], a[10]].map((v) => v! + 0)).toEqual([-1, 0, 0])
    expect([a[3], a[7], a[11]].map((v) => Number((v! * 1000).toFixed(9)))).toEqual([10, 20, 30])
  })

  it('ITK transform with a centre of rotation (FixedParameters) folds the centre in', () => {
    // Rotation by 90° about LPS z with centre c = (10, 0, 0): x' = A (x − c) + c.
    const text =
      '#Insight Transform File V1.0\n#Transform 0\nTransform: AffineTransform_double_3_3\nParameters: 0 -1 0 1 0 0 0 0 1 0 0 0\nFixedParameters: 10 0 0\n'
    const back = readItkTransform(text, 'c.tfm')
    // ITK offset = c − A c = (10, 0, 0) − (0, 10, 0) = (10, −10, 0) LPS; our pose is the inverse in RAS.
    const pose = back.poses[0]!.transducerToRas
    const itkRas = [0, -1, 0, -10, 1, 0, 0, 10, 0, 0, 1, 0, 0, 0, 0, 1] // diag(−1,−1,1)·ITK·diag(−1,−1,1)
    const identity = multiplyAffine(
      pose.map((v, i) => (i % 4 === 3 && i < 12 ? v * 1000 : v)),
      itkRas,
    )
    identity.forEach((v, i) => expect(v).toBeCloseTo([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1][i]!, 12))
  })

  it('formatExact prints plain decimals that parse back exactly', () => {
    for (const x of [1e-7, -3.3e-12, 0.1 + 0.2, 123456.789, -0, 5e-324, 1.7976931348623157e308]) {
      const s = formatExact(x)
      expect(s).not.toMatch(/e/i)
      expect(Number(s)).toBe(x === 0 ? 0 : x)
    }
  })
})

describe('files laid out as Brainsight and Localite write them', () => {
  it('Brainsight v14 with target, sample and session sections, 4-decimal axes', () => {
    // Layout of Brainsight 2.5.3's export (as in SimNIBS' nnav test files); numbers are ours.
    const text = [
      '# Version: 14',
      '# Coordinate system: NIfTI:S:Scanner',
      '# Created by: Brainsight 2.5.3',
      '# Units: millimetres, degrees, milliseconds, and microvolts',
      '# Encoding: UTF-8',
      '# Notes: Each column is delimited by a tab. Each value within a column is delimited by a semicolon.',
      '# Target Name\tLoc. X\tLoc. Y\tLoc. Z\tm0n0\tm0n1\tm0n2\tm1n0\tm1n1\tm1n2\tm2n0\tm2n1\tm2n2',
      // 20° about y: m0 = (−cos, 0, sin), m1 = (0, −1, 0), m2 = (sin, 0, cos), printed to 4 decimals.
      'Trajectory 1\t30.5000\t-12.2500\t55.0000\t-0.9397\t0.0000\t0.3420\t0.0000\t-1.0000\t0.0000\t0.3420\t0.0000\t0.9397',
      '# Sample Name\tSession Name\tIndex\tAssoc. Target\tLoc. X\tLoc. Y\tLoc. Z\tm0n0\tm0n1\tm0n2\tm1n0\tm1n1\tm1n2\tm2n0\tm2n1\tm2n2\tDist. to Target\tDate\tTime',
      'Sample 1\tSession 1\t1\t(null)\t1.0000\t2.0000\t3.0000\t-1.0000\t0.0000\t0.0000\t0.0000\t-1.0000\t0.0000\t0.0000\t0.0000\t1.0000\t(null)\t2026-01-02\t10:00:00.000',
      '# Session Name\tLoc. X\tLoc. Y\tLoc. Z\tm0n0\tm0n1\tm0n2\tm1n0\tm1n1\tm1n2\tm2n0\tm2n1\tm2n2',
      'Session 1\t(null)\t(null)\t(null)\t(null)\t(null)\t(null)\t(null)\t(null)\t(null)\t(null)\t(null)\t(null)',
      '',
    ].join('\n')
    const back = readBrainsight(text, 'v14.txt', { focalDistanceM: 0.05 })
    expect(back.targetsRasM.map((t) => t.name)).toEqual(['Trajectory 1', 'Sample 1'])
    expect(back.poses.map((p) => p.name)).toEqual(['Trajectory 1', 'Sample 1'])
    const p = back.poses[0]!.transducerToRas
    // Orthonormalised: a proper rotation to machine precision, within the printed 1e-4 of the file.
    const cols = [0, 1, 2].map((c) => [p[c]!, p[4 + c]!, p[8 + c]!])
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++)
        expect(Math.abs(cols[i]![0]! * cols[j]![0]! + cols[i]![1]! * cols[j]![1]! + cols[i]![2]! * cols[j]![2]! - (i === j ? 1 : 0))).toBeLessThan(1e-14)
    // Beam = −m2 = (−sin 20°, 0, −cos 20°); apex = Loc + 50 mm · m2.
    expect(p[2]).toBeCloseTo(-Math.sin((20 * Math.PI) / 180), 4)
    expect(p[10]).toBeCloseTo(-Math.cos((20 * Math.PI) / 180), 4)
    expect(p[3]! * 1000).toBeCloseTo(30.5 + 50 * Math.sin((20 * Math.PI) / 180), 2)
    expect(back.warnings.join(' ')).toMatch(/few decimals/)
  })

  it('Localite InstrumentMarker with attributes over several lines and a multi-line comment', () => {
    const text = `<?xml version="1.0" encoding="UTF-8"?>
<InstrumentMarkerList coordinateSpace="RAS">
    <!--All positions are saved in the coordinate system of the corresponding medical data.
NIfTI image data are recommended using RAS system.-->
    <InstrumentMarker alwaysVisible="false" index="0" selected="false">
        <Marker additionalInformation="" color="#ff0000"
            description="M0" set="true">
            <Matrix4D data00="0.6"
                data01="0.0" data02="0.8"
                data03="-41.5" data10="0.64"
                data11="0.6" data12="-0.48" data13="-34.25"
                data20="-0.48" data21="0.8"
                data22="0.36" data23="88.125" data30="0.0" data31="0.0"
                data32="0.0" data33="1.0"/>
        </Marker>
    </InstrumentMarker>
</InstrumentMarkerList>
`
    const back = readLocalite(text, 'InstrumentMarker20260101.xml')
    expect(back.poses).toHaveLength(1)
    const p = back.poses[0]!.transducerToRas
    // Localite x = (0.6, 0.64, −0.48) is the beam (our z); our x = Localite z = (0.8, −0.48, 0.36).
    expect([p[2], p[6], p[10]]).toEqual([0.6, 0.64, -0.48])
    expect([p[0], p[4], p[8]]).toEqual([0.8, -0.48, 0.36])
    expect([p[3]! * 1000, p[7]! * 1000, p[11]! * 1000]).toEqual([-41.5, -34.25, 88.125])
  })
})
