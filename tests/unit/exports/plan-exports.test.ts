/**
 * exportPlanFolder / importPoseFile on a synthetic plan folder: every format round-trips the
 * plan's pose, the DICOM series reads back with the NIfTI's geometry and the plan's
 * FrameOfReferenceUID, the SEG parses with dcmjs, the report carries the stored values, and
 * --deidentify removes the patient's name, ID and birth date.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import h5wasm from 'h5wasm/node'
import { data as dcmjsData } from 'dcmjs'
import { readImageDicomFileSeriesNode } from '@itk-wasm/dicom'
import { applyAffine, invertAffine, multiplyAffine } from '../../../core/math/index.ts'
import { voxelToWorld, worldToVoxel } from '../../../core/volume/geometry.ts'
import { flipAxis, isRightHanded } from '../../../core/volume/reorient.ts'
import { exportPlanFolder, importPoseFile, readKps } from '../../../electron/app/exports.ts'
import { readVolume } from '../../../electron/adapters/volume-io.ts'
import { cli } from '../../helpers/cli.ts'
import { decodePng } from '../../e2e/support/png.ts'
import { expectPoseClose, obliquePose, syntheticPlan, type SyntheticPlan } from './helpers.ts'

const PATIENT = { name: 'DOE^JANE', id: 'PID-4711', birthDate: '19700321' }
let base: SyntheticPlan
let corrected: SyntheticPlan

beforeAll(async () => {
  base = await syntheticPlan()
  corrected = await syntheticPlan({ focusCorrected: true, thermal: { max_temperature_rise_c: 0.42, cem43_brain_min: 0.0012 } })
}, 60_000)

afterAll(async () => {
  for (const p of [base, corrected]) if (p) await fs.rm(p.root, { recursive: true, force: true })
})

describe('pose round trips through the plan folder exports', () => {
  it.each([
    ['brainsight', 'plan.txt', {}],
    ['brainsight', 'plan13.txt', { brainsightVersion: 13 }],
    ['localite', 'im-ras.xml', { coords: 'ras' }],
    ['localite', 'im-lps.xml', { coords: 'lps' }],
  ] as const)('%s (%s)', async (format, name, options) => {
    const out = path.join(base.root, 'out', name)
    const result = await exportPlanFolder(base.planDir, format, out, options)
    expect(result.files).toEqual([out])
    const back = await importPoseFile(out, format)
    expect(back.poses).toHaveLength(1)
    expectPoseClose(back.poses[0]!.transducerToRas, base.plan.pose.transducer_to_ras)
  })

  it('slicer: the .tfm gives the pose back, the markups the target/entry/apex', async () => {
    const out = path.join(base.root, 'out', 'slicer')
    await exportPlanFolder(base.planDir, 'slicer', out)
    const fromTfm = await importPoseFile(path.join(out, 'transducer.tfm'), 'slicer')
    expectPoseClose(fromTfm.poses[0]!.transducerToRas, base.plan.pose.transducer_to_ras)
    const fromMarkups = await importPoseFile(path.join(out, 'plan.mrk.json'), 'slicer')
    // The synthetic plan's entry is the one the planner proposed (entry_proposed: true).
    expect(fromMarkups.targetsRasM.map((t) => t.name)).toEqual(['target', 'entry (proposed)', 'transducer apex'])
    fromMarkups.targetsRasM[0]!.rasM.forEach((v, k) => expect(Math.abs(v - base.plan.target_ras_m[k]!) * 1000).toBeLessThan(1e-9))
    fromMarkups.targetsRasM[1]!.rasM.forEach((v, k) => expect(Math.abs(v - base.plan.entry_ras_m![k]!) * 1000).toBeLessThan(1e-9))
    const markups = JSON.parse(await fs.readFile(path.join(out, 'plan.mrk.json'), 'utf8')).markups[0]
    expect(markups.coordinateSystem).toBe('LPS')
    expect(markups.controlPoints[1].description).toMatch(/^scalp entry proposed by the planner/)
    await fs.access(path.join(out, 'pressure.nii.gz'))
  })

  it('kplan: float32 metres, 1e-5 mm, dataset transposed as PlanTUS writes it', async () => {
    const out = path.join(base.root, 'out', 'transducer.kps')
    await exportPlanFolder(base.planDir, 'kplan', out)
    const [t] = await readKps(out)
    expectPoseClose(t!.transducerToRas, base.plan.pose.transducer_to_ras, 1e-6, 1e-5)
    await h5wasm.ready
    const f = new h5wasm.File(out, 'r')
    try {
      expect(f.attrs['file_type']?.value).toBe('k-Plan Transducer Position')
      expect(f.attrs['application_name']?.value).toBe('k-Plan')
      expect(Number((f.attrs['number_transforms']?.value as BigUint64Array)[0])).toBe(1)
      const ds = f.get('1/position_transform') as InstanceType<typeof h5wasm.Dataset>
      expect(ds.shape).toEqual([1, 4, 4])
      expect(ds.dtype).toBe('<f')
      const v = ds.value as Float32Array
      // Transposed: the translation (metres) is the last stored row, the bottom row [0 0 0 1] the last column.
      const apex = base.plan.pose.apex_ras_m
      expect([v[12], v[13], v[14]].map((x, k) => Math.abs(x! - apex[k]!) < 1e-8)).toEqual([true, true, true])
      expect([v[3], v[7], v[11], v[15]]).toEqual([0, 0, 0, 1])
      // K.z = −beam (PlanTUS: K.z = −L.x, Localite x = into the head): stored row 2 = K column 2.
      const beam = base.plan.pose.axis_ras
      expect([v[8], v[9], v[10]].map((x, k) => Math.abs(x! + beam[k]!) < 1e-7)).toEqual([true, true, true])
    } finally {
      f.close()
    }
  })
})

describe('DICOM export', () => {
  it('pressure series reads back with the NIfTI geometry and the plan FoR; SEG parses with dcmjs', async () => {
    const out = path.join(base.root, 'out', 'dicom')
    await exportPlanFolder(base.planDir, 'dicom', out, { patient: PATIENT })
    const nifti = await readVolume(path.join(base.planDir, 'pressure.nii.gz'))
    const dicom = await readVolume(path.join(out, 'pressure'))
    expect(dicom.dims).toEqual(nifti.dims)
    dicom.spacingM.forEach((s, k) => expect(Math.abs(s - nifti.spacingM[k]!)).toBeLessThan(1e-12))
    dicom.originM.forEach((o, k) => expect(Math.abs(o - nifti.originM[k]!)).toBeLessThan(1e-12))
    // ImageOrientationPatient holds unit vectors; the NIfTI's float32 sform columns are unit only to
    // about 1e-7, so the direction cosines agree to that (an angle of 1e-7 rad: 1e-5 mm at 10 cm).
    dicom.direction.forEach((d, k) => expect(Math.abs(d - nifti.direction[k]!)).toBeLessThan(1e-7))
    expect(dicom.meta.frameOfReferenceUid).toBe(base.plan.ct.frame_of_reference_uid)
    expect(dicom.meta.patientName).toBe('DOE^JANE')
    // Stored values are the pressure in a fixed kPa unit (no RescaleSlope; export.json stored_unit_pa,
    // 10 Pa here): every voxel within half that unit of the NIfTI (5 Pa, 1e-5 of the peak).
    const unitPa = (JSON.parse(await fs.readFile(path.join(out, 'export.json'), 'utf8')) as { stored_unit_pa: number }).stored_unit_pa
    expect(unitPa).toBe(10)
    let worst = 0
    for (let i = 0; i < nifti.data.length; i++) worst = Math.max(worst, Math.abs(dicom.data[i]! * unitPa - nifti.data[i]!))
    expect(worst).toBeLessThanOrEqual(unitPa * 0.5 + 1e-6)

    // itk-wasm (GDCM) reads the same series with the same geometry.
    const files = (await fs.readdir(path.join(out, 'pressure'))).map((f) => path.join(out, 'pressure', f))
    const { outputImage } = await readImageDicomFileSeriesNode({ inputImages: files, singleSortedSeries: false })
    expect([...outputImage.size]).toEqual([...nifti.dims])
    outputImage.spacing.forEach((s, k) => expect(Math.abs(s / 1000 - nifti.spacingM[k]!)).toBeLessThan(1e-9))
    outputImage.origin.forEach((o, k) => expect(Math.abs(o / 1000 - nifti.originM[k]!)).toBeLessThan(1e-9))
    const itkDirection = Array.from(outputImage.direction as ArrayLike<number>)
    // itk-wasm's direction is row-major like ours (core/io/itk-image.ts).
    itkDirection.forEach((d, k) => expect(Math.abs(d - nifti.direction[k]!)).toBeLessThan(1e-7))

    const segBytes = await fs.readFile(path.join(out, 'seg', 'focal_6db_seg.dcm'))
    const seg = dcmjsData.DicomMetaDictionary.naturalizeDataset(dcmjsData.DicomMessage.readFile(new Uint8Array(segBytes).buffer).dict)
    expect(seg.SOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.66.4')
    expect(seg.FrameOfReferenceUID).toBe(base.plan.ct.frame_of_reference_uid)
    expect(seg.SegmentationType).toBe('BINARY')
    expect(Number(seg.NumberOfFrames)).toBe(nifti.dims[2])
    expect((seg.SegmentSequence as Array<Record<string, unknown>>)[0]!.SegmentLabel).toBe('-6 dB focal region')
    expect((seg.ReferencedSeriesSequence as Array<Record<string, unknown>>)[0]!.SeriesInstanceUID).toBe(dicom.meta.seriesInstanceUid)
    // The packed bits hold the mask: count set bits against the NIfTI mask.
    const mask = await readVolume(path.join(base.planDir, 'focal_6db.nii.gz'))
    const frames = seg.PixelData as ArrayBuffer[]
    let bits = 0
    for (const frame of frames) for (const byte of new Uint8Array(frame)) for (let b = 0; b < 8; b++) bits += (byte >> b) & 1
    const inside = Array.from(mask.data as ArrayLike<number>).filter((v) => v !== 0).length
    expect(inside).toBeGreaterThan(0)
    expect(bits).toBe(inside)
    const firstFramePosition = (seg.PerFrameFunctionalGroupsSequence as Array<{ PlanePositionSequence: Array<{ ImagePositionPatient: number[] }> }>)[0]!
      .PlanePositionSequence[0]!.ImagePositionPatient
    firstFramePosition.forEach((v, k) => expect(Math.abs(v / 1000 - nifti.originM[k]!)).toBeLessThan(1e-9))
  }, 60_000)

  it('a left-handed (bottom-up) grid is written slice-reversed: same voxel centres and values', async () => {
    const plan = await syntheticPlan({ leftHanded: true })
    try {
      const out = path.join(plan.root, 'dicom')
      const result = await exportPlanFolder(plan.planDir, 'dicom', out)
      expect(result.notes.join(' ')).toMatch(/left-handed/)
      const nifti = await readVolume(path.join(plan.planDir, 'pressure.nii.gz'))
      expect(isRightHanded(nifti.direction)).toBe(false)
      const expected = flipAxis(nifti, 2)
      const dicom = await readVolume(path.join(out, 'pressure'))
      expect(dicom.dims).toEqual(nifti.dims)
      dicom.originM.forEach((o, k) => expect(Math.abs(o - expected.originM[k]!)).toBeLessThan(1e-12))
      dicom.direction.forEach((d, k) => expect(Math.abs(d - expected.direction[k]!)).toBeLessThan(1e-7))
      // Voxel (i, j, k) of the DICOM volume is voxel (i, j, nz-1-k) of the NIfTI, at the same place.
      const [nx, ny, nz] = nifti.dims
      for (const [i, j, k] of [
        [0, 0, 0],
        [7, 6, 5],
        [13, 11, 9],
      ] as const) {
        const a = voxelToWorld(dicom, [i, j, k])
        const b = voxelToWorld(nifti, [i, j, nz - 1 - k])
        a.forEach((v, r) => expect(Math.abs(v - b[r]!)).toBeLessThan(1e-9))
        // Stored in units of 0.01 kPa (10 Pa): within half a unit.
        expect(Math.abs(dicom.data[i + nx * (j + ny * k)]! * 10 - nifti.data[i + nx * (j + ny * (nz - 1 - k))]!)).toBeLessThanOrEqual(10 / 2 + 1e-6)
      }
    } finally {
      await fs.rm(plan.root, { recursive: true, force: true })
    }
  }, 60_000)

  it('--deidentify strips name, ID and birth date from DICOM and the report', async () => {
    const identified = path.join(base.root, 'out', 'dicom-id')
    await exportPlanFolder(base.planDir, 'dicom', identified, { patient: PATIENT })
    const first = (dir: string) => fs.readdir(path.join(dir, 'pressure')).then((f) => fs.readFile(path.join(dir, 'pressure', f[0]!)))
    const headerOf = (bytes: Buffer) => dcmjsData.DicomMetaDictionary.naturalizeDataset(dcmjsData.DicomMessage.readFile(new Uint8Array(bytes).buffer).dict)
    const before = headerOf(await first(identified))
    expect(before.PatientID).toBe('PID-4711')
    expect(before.PatientBirthDate).toBe('19700321')

    const anon = path.join(base.root, 'out', 'dicom-anon')
    await exportPlanFolder(base.planDir, 'dicom', anon, { patient: PATIENT, deidentify: true })
    const after = headerOf(await first(anon))
    expect(JSON.stringify(after.PatientName ?? '')).not.toMatch(/DOE|JANE/)
    expect(after.PatientID ?? '').toBe('')
    expect(after.PatientBirthDate ?? '').toBe('')
    expect(after.PatientIdentityRemoved).toBe('YES')
    // A new FoR (the original identifies the planning scan); deidentify.test.ts checks the rest.
    expect(after.FrameOfReferenceUID).not.toBe(base.plan.ct.frame_of_reference_uid)
    for (const dir of [path.join(anon, 'pressure'), path.join(anon, 'seg')]) {
      for (const f of await fs.readdir(dir)) {
        const bytes = (await fs.readFile(path.join(dir, f))).toString('latin1')
        expect(bytes).not.toMatch(/DOE\^JANE|PID-4711|19700321/)
      }
    }

    const report = path.join(base.root, 'out', 'anon.html')
    await exportPlanFolder(base.planDir, 'report', report, { patient: PATIENT, deidentify: true })
    const html = await fs.readFile(report, 'utf8')
    expect(html).not.toMatch(/DOE\^JANE|PID-4711|19700321/)
    expect(html).toContain('De-identified')
    const identifiedReport = path.join(base.root, 'out', 'id.html')
    await exportPlanFolder(base.planDir, 'report', identifiedReport, { patient: PATIENT })
    expect(await fs.readFile(identifiedReport, 'utf8')).toMatch(/DOE\^JANE[\s\S]*PID-4711[\s\S]*19700321/)
  }, 60_000)
})

describe('report', () => {
  it('carries the stored values, thermal "not assessed", unsigned approval lines and three slices', async () => {
    const out = path.join(base.root, 'out', 'report.html')
    await exportPlanFolder(base.planDir, 'report', out)
    const html = await fs.readFile(out, 'utf8')
    const si = (v: number | readonly number[]) => `data-si="${Array.isArray(v) ? v.map(String).join(' ') : String(v)}"`
    const m = base.metrics
    for (const v of [
      m.peak_pressure_pa,
      m.isppa_w_m2,
      m.ispta_w_m2,
      m.mi,
      m.mi_tc,
      m.tic,
      m.insertion_loss_db,
      m.volume_6db_m3,
      m.peak_position_ras_m,
      base.plan.target_ras_m,
      base.plan.pose.apex_ras_m,
      base.plan.simulation.spacing_m,
    ])
      expect(html).toContain(si(v))
    expect(html).toContain('87654.321')
    expect(html).toContain('8.77 W/cm²') // 87654.321 W/m2 shown in W/cm2
    expect(html).toContain(m.flags.mechanical.replace('<', '&lt;'))
    expect(html).toMatch(/Thermal: not assessed/)
    expect(html).toContain('synthetic warning: skull near the grid edge')
    expect(html).toContain('k-Plan (Brainbox) linear HU mapping')
    expect(html).toContain('cpu on test CPU')
    expect(html).toContain('Pose as planned (no focus correction).')
    expect(html).toContain('Not approved in the planning software')
    expect(html.match(/<img alt="(axial|coronal|sagittal) slice" src="data:image\/png;base64,/g)).toHaveLength(3)
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3)/)
    // The images are real PNGs, at least 600 pixels wide (IHDR), and the page says how they were sampled.
    const pngs = [...html.matchAll(/base64,([A-Za-z0-9+/=]+)"/g)].map((x) => new Uint8Array(Buffer.from(x[1]!, 'base64')))
    expect(pngs).toHaveLength(3)
    for (const png of pngs) {
      expect(Buffer.from(png.subarray(0, 8))).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
      const { width, height } = decodePng(png)
      expect(width).toBeGreaterThanOrEqual(600)
      expect(height).toBe(width)
    }
    expect(html).toMatch(/trilinear interpolation at 0\.20 mm per pixel/)
    // A plan folder (not from the database) is called by its folder's name, never its path.
    expect(html).toContain('<title>TFUS plan report: plan</title>')
    expect(html).toContain('<tr><th>Plan ID and version</th><td>none: exported from a plan folder, not from the plan database</td></tr>')
    expect(html).not.toContain(base.planDir)
    // Every number shown is labelled with its quantity and unit: a cell with a digit in it has
    // a unit (or "dimensionless") in its own text or in its row's label.
    const unit = /mm³|mm|ms|kPa|Pa|W\/cm²|%|°|dB|kHz|Hz|\bs\b|voxels|dimensionless|points per wavelength|HU/
    const rows = [...html.matchAll(/<tr><th>([^<]*)<\/th>(?:<td[^>]*>([^<]*(?:<br>[^<]*)*)<\/td>)/g)].map((x) => [x[1] ?? '', x[2] ?? ''] as const)
    expect(rows.length).toBeGreaterThan(30)
    const unlabelled = rows.filter(
      ([label, value]) => /\d/.test(value) && !unit.test(value) && !unit.test(label) && !/^(Plan ID|Plan version|Solver version)$/.test(label),
    )
    expect(unlabelled).toEqual([])
    // Sane size: three 600-px slices of a synthetic plan, and a bound for a real CT (a few hundred KiB).
    expect(html.length).toBeLessThan(1.5e6)
  }, 60_000)

  it('names the plan by its database id and version (tfus export <id>@<version>), never by the temporary folder', async () => {
    const dataDir = path.join(base.root, 'db')
    const saved = await cli(['plan-save', base.planDir, '--data-dir', dataDir])
    expect(saved.code, saved.err).toBe(0)
    const out = path.join(base.root, 'out', 'db-report.html')
    const r = await cli(['export', '1@1', '--format', 'report', '--out', out, '--data-dir', dataDir])
    expect(r.code, r.err).toBe(0)
    const html = await fs.readFile(out, 'utf8')
    expect(html).toContain('<title>TFUS plan report: 1@1</title>')
    expect(html).toContain('<tr><th>Plan ID</th><td>1</td></tr><tr><th>Plan version</th><td>1</td></tr>')
    expect(html).not.toMatch(/tfus-export-/)
    const folder = path.join(base.root, 'out', 'db-nifti')
    expect((await cli(['export', '1', '--format', 'nifti', '--out', folder, '--data-dir', dataDir])).code).toBe(0)
    const sidecar = await fs.readFile(path.join(folder, 'export.json'), 'utf8')
    expect(JSON.parse(sidecar)).toMatchObject({ plan: '1@1', plan_id: 1, plan_version: 1 })
    expect(sidecar).not.toMatch(/tfus-export-/)
  }, 60_000)

  it('focus-corrected plan with thermal.json: says corrected, shows thermal values and the approval', async () => {
    const out = path.join(corrected.root, 'out', 'report.html')
    await exportPlanFolder(corrected.planDir, 'report', out, { approval: { by: 'Dr A. Example', at: '2026-11-27T10:00:00Z' } })
    const html = await fs.readFile(out, 'utf8')
    expect(html).toContain('this is the corrected pose')
    expect(html).not.toMatch(/Thermal: not assessed/)
    expect(html).toContain('data-si="0.42"')
    // thermal.json keys carry their unit as a suffix: shown as the quantity and the unit.
    expect(html).toContain('<tr><th>max temperature rise (°C)</th><td data-si="0.42">0.42 °C</td></tr>')
    expect(html).toContain('<tr><th>cem43 brain (min)</th><td data-si="0.0012">0.0012 min</td></tr>')
    expect(html).toContain('Dr A. Example')
    expect(html).not.toContain('Not approved in the planning software')
  }, 60_000)

  it('every pose export of a focus-corrected plan says it carries the corrected pose', async () => {
    const dir = path.join(corrected.root, 'out')
    const checks: Array<[Parameters<typeof exportPlanFolder>[1], string, string]> = [
      ['brainsight', 'p.txt', 'p.txt'],
      ['localite', 'p.xml', 'p.xml'],
      // The .tfm is exactly the ITK format (strict parsers refuse extra lines): its note is in export.json.
      ['slicer', 'slicer', 'slicer/export.json'],
      ['slicer', 'slicer', 'slicer/plan.mrk.json'],
      ['nifti', 'nifti', 'nifti/export.json'],
    ]
    for (const [format, target, file] of checks) {
      await exportPlanFolder(corrected.planDir, format, path.join(dir, target))
      expect(await fs.readFile(path.join(dir, file), 'utf8'), file).toContain('this is the corrected pose')
    }
    await exportPlanFolder(corrected.planDir, 'kplan', path.join(dir, 'p.kps'))
    expect((await readKps(path.join(dir, 'p.kps')))[0]!.label).toContain('this is the corrected pose')
    await exportPlanFolder(corrected.planDir, 'dicom', path.join(dir, 'dicom'))
    const seg = await fs.readFile(path.join(dir, 'dicom', 'seg', 'focal_6db_seg.dcm'))
    expect(seg.toString('latin1')).toContain('Pose corrected by focus correction')
  }, 60_000)
})

describe('spaces', () => {
  it('--space mri is refused clearly when the plan has no registration', async () => {
    await expect(exportPlanFolder(base.planDir, 'nifti', path.join(base.root, 'out', 'mri'), { space: 'mri' })).rejects.toThrow(
      /has no MRI registration \(registration: null\)/,
    )
  })

  it('--space mri: poses mapped by inv(registration), volumes resampled onto the MRI grid', async () => {
    const mriToCt = obliquePose(0.05, -0.08, 0.26, [0.004, -0.003, 0.002])
    const plan = await syntheticPlan({ mriToCt })
    try {
      const txt = path.join(plan.root, 'mri.txt')
      await exportPlanFolder(plan.planDir, 'brainsight', txt, { space: 'mri' })
      const back = await importPoseFile(txt, 'brainsight')
      expectPoseClose(back.poses[0]!.transducerToRas, multiplyAffine(invertAffine(mriToCt), plan.plan.pose.transducer_to_ras))

      const out = path.join(plan.root, 'nifti-mri')
      await exportPlanFolder(plan.planDir, 'nifti', out, { space: 'mri' })
      const pressure = await readVolume(path.join(out, 'pressure.nii.gz'))
      const mri = await readVolume(plan.plan.registration!.mri.source)
      expect(pressure.dims).toEqual(mri.dims)
      // The resampled peak sits where inv(M) puts the CT peak, within one MRI voxel.
      let best = 0
      let bestIndex = 0
      for (let i = 0; i < pressure.data.length; i++) if (pressure.data[i]! > best) [best, bestIndex] = [pressure.data[i]!, i]
      const [nx, ny] = pressure.dims
      const peakVoxel = [bestIndex % nx, Math.floor(bestIndex / nx) % ny, Math.floor(bestIndex / (nx * ny))]
      const expectedRas = applyAffine(invertAffine(mriToCt), plan.peakRasM)
      const expectedVoxel = worldToVoxel(mri, [-expectedRas[0], -expectedRas[1], expectedRas[2]])
      peakVoxel.forEach((v, k) => expect(Math.abs(v - expectedVoxel[k]!)).toBeLessThanOrEqual(1))
      expect(best).toBeGreaterThan(0.6 * 512345.6)

      const dicom = path.join(plan.root, 'dicom-mri')
      await exportPlanFolder(plan.planDir, 'dicom', dicom, { space: 'mri' })
      const series = await readVolume(path.join(dicom, 'pressure'))
      expect(series.meta.frameOfReferenceUid).toBe(plan.plan.registration!.mri.frame_of_reference_uid)
      expect(series.dims).toEqual(mri.dims)
    } finally {
      await fs.rm(plan.root, { recursive: true, force: true })
    }
  }, 60_000)
})

describe('CLI', () => {
  it('tfus export and tfus import-pose', async () => {
    const out = path.join(base.root, 'cli', 'plan.xml')
    const exported = await cli(['export', base.planDir, '--format', 'localite', '--out', out, '--coords', 'lps'])
    expect(exported.err).toBe('')
    expect(exported.code).toBe(0)
    expect(exported.out).toContain('Pose as planned')
    const imported = await cli(['import-pose', out, '--format', 'localite', '--json'])
    expect(imported.code).toBe(0)
    const json = JSON.parse(imported.out)
    const apex = base.plan.pose.apex_ras_m.map((v) => v * 1000)
    json.poses[0].apex_ras_mm.forEach((v: number, k: number) => expect(Math.abs(v - apex[k]!)).toBeLessThan(1e-6))
  }, 60_000)

  it('bad input exits 2 with one line naming the problem', async () => {
    const mri = await cli(['export', base.planDir, '--format', 'nifti', '--out', path.join(base.root, 'cli', 'x'), '--space', 'mri'])
    expect(mri.code).toBe(2)
    expect(mri.err).toMatch(/--space: .*plan\.json has no MRI registration/)
    const format = await cli(['export', base.planDir, '--format', 'pdf', '--out', 'x'])
    expect(format.code).toBe(2)
    expect(format.err).toMatch(/--format: must be one of brainsight, localite/)
    const missing = await cli(['export', path.join(base.root, 'nope'), '--format', 'report', '--out', 'x.html'])
    expect(missing.code).toBe(2)
    expect(missing.err).toMatch(/nope: is not a plan folder/)
    const notNav = await cli(['import-pose', path.join(base.planDir, 'plan.json'), '--format', 'localite'])
    expect(notNav.code).toBe(2)
    expect(notNav.err).toMatch(/plan\.json: no InstrumentMarkerList/)
  }, 60_000)
})
