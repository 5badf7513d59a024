/**
 * DICOM conformance of the plan export (dciodvfy/DCMTK findings of the interoperability issue),
 * checked by parsing the written files with dcmjs:
 * - MR pressure series: RepetitionTime (Type 2C, required for ScanningSequence RM / SequenceVariant
 *   NONE) present and empty, PatientPosition (Type 2C, required for MR Image Storage) present,
 *   Laterality absent (the head is not a paired body part), no Modality LUT (RescaleSlope/Intercept)
 *   but a Real World Value Mapping in UCUM kPa, the window from the in-brain peak (metrics.json),
 *   not from a hot spot twice as high;
 * - SEG: SegmentAlgorithmType AUTOMATIC with a name, a documented category/type code, and a mask
 *   that is exactly the 6-connected region >= half the in-brain peak around the peak, on the
 *   exported grid, from the exported pressure values (not the plan's nearest-neighbour mask);
 * - de-identified: every DeidentificationMethod value at most 64 characters (LO).
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { data as dcmjsData, type NaturalizedDataset } from 'dcmjs'
import { FOCAL_REGION_CODE, PARAMETRIC_MAP_STORAGE, SEGMENT_ALGORITHM_NAME, writePlanDicom } from '../../../core/exports/dicom.ts'
import { applyAffine, invertAffine } from '../../../core/math/index.ts'
import { createVolume, worldToVoxel } from '../../../core/volume/geometry.ts'
import type { Vec3, Volume } from '../../../core/volume/types.ts'
import { exportPlanFolder } from '../../../electron/app/exports.ts'
import { readVolume, writeVolume } from '../../../electron/adapters/volume-io.ts'
import { CT_DICOM_STUDY, obliquePose, syntheticPlan, type SyntheticPlan } from './helpers.ts'

const PEAK = 512345.6
/** A hot spot near the bowl, outside the focal region: twice the in-brain peak. */
const HOT_VOXEL: Vec3 = [1, 1, 1]

let plan: SyntheticPlan
let out: string

async function readDicom(file: string): Promise<NaturalizedDataset> {
  const bytes = await fs.readFile(file)
  return dcmjsData.DicomMetaDictionary.naturalizeDataset(dcmjsData.DicomMessage.readFile(new Uint8Array(bytes).buffer).dict)
}

async function pressureSlices(dir: string): Promise<NaturalizedDataset[]> {
  const names = (await fs.readdir(path.join(dir, 'pressure'))).sort()
  const slices = await Promise.all(names.map((n) => readDicom(path.join(dir, 'pressure', n))))
  return slices.sort((a, b) => Number(a.InstanceNumber) - Number(b.InstanceNumber))
}

const rwvSlopeKpa = (ds: NaturalizedDataset) => (ds.RealWorldValueMappingSequence as Array<Record<string, unknown>>)[0]!.RealWorldValueSlope as number

/** The exported pressure in Pa (stored value x the RWV slope in kPa x 1000), slice after slice. */
function exportedPressurePa(slices: NaturalizedDataset[]): Float64Array {
  const perSlice = Number(slices[0]!.Rows) * Number(slices[0]!.Columns)
  const out = new Float64Array(perSlice * slices.length)
  slices.forEach((s, k) => {
    const stored = new Uint16Array((s.PixelData as ArrayBuffer[])[0]!)
    const slope = rwvSlopeKpa(s) * 1000
    for (let i = 0; i < perSlice; i++) out[k * perSlice + i] = stored[i]! * slope
  })
  return out
}

function segBits(seg: NaturalizedDataset, n: number): Uint8Array {
  const bytes = new Uint8Array((seg.PixelData as ArrayBuffer[]).reduce((acc, b) => acc + b.byteLength, 0))
  let o = 0
  for (const b of seg.PixelData as ArrayBuffer[]) {
    bytes.set(new Uint8Array(b), o)
    o += b.byteLength
  }
  const mask = new Uint8Array(n)
  for (let v = 0; v < n; v++) mask[v] = (bytes[v >> 3]! >> (v & 7)) & 1
  return mask
}

/** Voxels >= threshold 6-connected to one within one voxel of the continuous index `c`. */
function connectedAbove(values: Float64Array, dims: Vec3, threshold: number, c: Vec3): Uint8Array {
  const [nx, ny, nz] = dims
  const mask = new Uint8Array(values.length)
  const stack: number[] = []
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const v = i + nx * (j + ny * k)
        if (Math.abs(i - c[0]) <= 1 && Math.abs(j - c[1]) <= 1 && Math.abs(k - c[2]) <= 1 && values[v]! >= threshold) {
          mask[v] = 1
          stack.push(v)
        }
      }
    }
  }
  while (stack.length) {
    const v = stack.pop()!
    const [i, j, k] = [v % nx, Math.floor(v / nx) % ny, Math.floor(v / (nx * ny))]
    for (const [a, b, e] of [
      [i + 1, j, k],
      [i - 1, j, k],
      [i, j + 1, k],
      [i, j - 1, k],
      [i, j, k + 1],
      [i, j, k - 1],
    ] as const) {
      if (a < 0 || b < 0 || e < 0 || a >= nx || b >= ny || e >= nz) continue
      const w = a + nx * (b + ny * e)
      if (!mask[w] && values[w]! >= threshold) {
        mask[w] = 1
        stack.push(w)
      }
    }
  }
  return mask
}

/** The SEG agrees with the exported pressure: returns the number of mask voxels. */
async function expectMaskMatchesPressure(dir: string, peakRasM: Vec3, peakPa: number): Promise<number> {
  const slices = await pressureSlices(dir)
  const volume = await readVolume(path.join(dir, 'pressure'))
  const pressure = exportedPressurePa(slices)
  const seg = await readDicom(path.join(dir, 'seg', 'focal_6db_seg.dcm'))
  // SEG frame k is pressure slice k (same position).
  const frames = seg.PerFrameFunctionalGroupsSequence as Array<{ PlanePositionSequence: Array<{ ImagePositionPatient: number[] }> }>
  frames.forEach((f, k) =>
    f.PlanePositionSequence[0]!.ImagePositionPatient.forEach((v, r) =>
      expect(Math.abs(v - Number((slices[k]!.ImagePositionPatient as number[])[r]))).toBeLessThan(1e-9),
    ),
  )
  const mask = segBits(seg, pressure.length)
  const threshold = 0.5 * peakPa
  let inside = 0
  for (let v = 0; v < mask.length; v++) {
    if (!mask[v]) continue
    inside++
    expect(pressure[v]!, `mask voxel ${v}`).toBeGreaterThanOrEqual(threshold)
  }
  const expected = connectedAbove(pressure, volume.dims, threshold, worldToVoxel(volume, [-peakRasM[0], -peakRasM[1], peakRasM[2]]))
  let mismatches = 0
  for (let v = 0; v < mask.length; v++) if (mask[v] !== expected[v]) mismatches++
  expect(mismatches).toBe(0)
  expect(inside).toBeGreaterThan(0)
  return inside
}

beforeAll(async () => {
  plan = await syntheticPlan()
  // Like a real plan: a hot spot near the bowl (2x the in-brain peak, outside the brain and the
  // focal region) and a -6 dB mask resampled by nearest neighbour, here shifted one voxel along i,
  // so it disagrees with the trilinear pressure.
  const pressure = await readVolume(path.join(plan.planDir, 'pressure.nii.gz'))
  const [nx, ny] = pressure.dims
  const data = Float32Array.from(pressure.data as ArrayLike<number>)
  data[HOT_VOXEL[0] + nx * (HOT_VOXEL[1] + ny * HOT_VOXEL[2])] = 2 * PEAK
  await writeVolume(createVolume({ ...pressure, data, meta: { modality: 'OT' } }), path.join(plan.planDir, 'pressure.nii.gz'))
  const mask = await readVolume(path.join(plan.planDir, 'focal_6db.nii.gz'))
  const shifted = new Uint8Array(mask.data.length)
  for (let v = 0; v < shifted.length; v++) if (mask.data[v] && v % nx < nx - 1) shifted[v + 1] = 1
  await writeVolume(createVolume({ ...mask, data: shifted, meta: { modality: 'OT' } }), path.join(plan.planDir, 'focal_6db.nii.gz'))
  out = path.join(plan.root, 'dicom')
  await exportPlanFolder(plan.planDir, 'dicom', out, { patient: { name: 'DOE^JANE', id: 'PID-4711', birthDate: '19700321' } })
}, 120_000)

afterAll(async () => {
  if (plan) await fs.rm(plan.root, { recursive: true, force: true })
})

describe('DICOM pressure series (MR Image Storage)', () => {
  it('RepetitionTime and PatientPosition present (empty: not known), no Laterality', async () => {
    for (const ds of await pressureSlices(out)) {
      // Type 2C: required for ScanningSequence RM / SequenceVariant NONE; zero length allowed.
      expect(ds.ScanningSequence).toBe('RM')
      expect(Object.keys(ds)).toContain('RepetitionTime')
      expect(ds.RepetitionTime ?? '').toBe('')
      // Type 2C: required for MR Image Storage; the NIfTI planning CT has no header to take it from.
      expect(Object.keys(ds)).toContain('PatientPosition')
      expect(ds.PatientPosition ?? '').toBe('')
      expect(Object.keys(ds)).not.toContain('Laterality')
      expect(ds.BodyPartExamined).toBe('HEAD')
    }
  })

  it('no Modality LUT; stored values explained by a Real World Value Mapping in UCUM kPa; exact to half a unit at the peak', async () => {
    const slices = await pressureSlices(out)
    for (const ds of slices) {
      expect(ds.RescaleSlope).toBeUndefined()
      expect(ds.RescaleIntercept).toBeUndefined()
      expect(ds.RescaleType).toBeUndefined()
      const rwv = (ds.RealWorldValueMappingSequence as Array<Record<string, unknown>>)[0]!
      expect(rwv.RealWorldValueIntercept).toBe(0)
      expect(rwv.RealWorldValueSlope).toBeGreaterThan(0)
      expect(rwv.RealWorldValueFirstValueMapped).toBe(0)
      expect(rwv.RealWorldValueLastValueMapped).toBe(65535)
      expect(String(rwv.LUTExplanation)).toMatch(/kPa/)
      expect((rwv.LUTExplanation as string).length).toBeLessThanOrEqual(64)
      const units = (rwv.MeasurementUnitsCodeSequence as Array<Record<string, string>>)[0]!
      expect([units.CodeValue, units.CodingSchemeDesignator]).toEqual(['kPa', 'UCUM'])
      expect(ds.SeriesDescription).toMatch(/kPa/)
    }
    // With a 2x hot spot (1.02 MPa) the unit is 0.1 kPa; the voxel at the peak's world position
    // holds the NIfTI's pressure within half a unit (50 Pa, 1e-4 of the peak).
    const unitPa = rwvSlopeKpa(slices[0]!) * 1000
    expect(unitPa).toBeCloseTo(100, 9)
    const nifti = await readVolume(path.join(plan.planDir, 'pressure.nii.gz'))
    const dicom = await readVolume(path.join(out, 'pressure'))
    const lps: Vec3 = [-plan.peakRasM[0], -plan.peakRasM[1], plan.peakRasM[2]]
    const at = (v: Volume) => {
      const [i, j, k] = worldToVoxel(v, lps).map(Math.round) as [number, number, number]
      return v.data[i + v.dims[0] * (j + v.dims[1] * k)]!
    }
    expect(at(nifti)).toBeCloseTo(PEAK, 0)
    expect(Math.abs(at(dicom) * unitPa - at(nifti))).toBeLessThanOrEqual(unitPa / 2 + 1e-6)
  })

  it('window from the in-brain peak of metrics.json (centre peak/2, width peak), not the hot spot', async () => {
    for (const ds of await pressureSlices(out)) {
      const unitPa = rwvSlopeKpa(ds) * 1000
      expect(Number(ds.WindowCenter) * unitPa).toBeCloseTo(plan.metrics.peak_pressure_pa / 2, 3)
      expect(Number(ds.WindowWidth) * unitPa).toBeCloseTo(plan.metrics.peak_pressure_pa, 3)
    }
    // The hot spot is stored (not clipped) at twice the peak.
    const dicom = await readVolume(path.join(out, 'pressure'))
    const max = Math.max(...Array.from(dicom.data as ArrayLike<number>))
    expect(max * 100).toBeCloseTo(2 * PEAK, -2)
  })
})

describe('DICOM SEG of the -6 dB focal region', () => {
  it('SegmentAlgorithmType AUTOMATIC with a name; documented category and type codes', async () => {
    const seg = await readDicom(path.join(out, 'seg', 'focal_6db_seg.dcm'))
    const segment = (seg.SegmentSequence as Array<Record<string, unknown>>)[0]!
    expect(segment.SegmentAlgorithmType).toBe('AUTOMATIC')
    expect(segment.SegmentAlgorithmName).toBe(SEGMENT_ALGORITHM_NAME)
    const category = (segment.SegmentedPropertyCategoryCodeSequence as Array<Record<string, string>>)[0]!
    expect([category.CodeValue, category.CodingSchemeDesignator]).toEqual(['309825002', 'SCT'])
    const type = (segment.SegmentedPropertyTypeCodeSequence as Array<Record<string, string>>)[0]!
    expect([type.CodeValue, type.CodingSchemeDesignator, type.CodeMeaning]).toEqual([
      FOCAL_REGION_CODE.value,
      FOCAL_REGION_CODE.scheme,
      FOCAL_REGION_CODE.meaning,
    ])
    // The private scheme is declared in the object.
    const schemes = seg.CodingSchemeIdentificationSequence as Array<Record<string, string>>
    expect(schemes.map((s) => s.CodingSchemeDesignator)).toContain(FOCAL_REGION_CODE.scheme)
  })

  it('mask = the connected region >= half the in-brain peak of the exported pressure, exactly (not the plan mask)', async () => {
    const inside = await expectMaskMatchesPressure(out, plan.peakRasM, plan.metrics.peak_pressure_pa)
    // The hot spot is above the threshold but not connected to the focus: not in the mask.
    const seg = await readDicom(path.join(out, 'seg', 'focal_6db_seg.dcm'))
    const dicom = await readVolume(path.join(out, 'pressure'))
    const mask = segBits(seg, dicom.data.length)
    const [nx, ny] = dicom.dims
    expect(mask[HOT_VOXEL[0] + nx * (HOT_VOXEL[1] + ny * HOT_VOXEL[2])]).toBe(0)
    const sidecar = JSON.parse(await fs.readFile(path.join(out, 'export.json'), 'utf8')) as { focal_voxels: number }
    expect(sidecar.focal_voxels).toBe(inside)
  })

  it('agrees on a left-handed grid and on the MRI grid too', async () => {
    const left = await syntheticPlan({ leftHanded: true })
    const mriToCt = obliquePose(0.05, -0.08, 0.26, [0.004, -0.003, 0.002])
    const registered = await syntheticPlan({ mriToCt })
    try {
      await exportPlanFolder(left.planDir, 'dicom', path.join(left.root, 'ct'))
      await expectMaskMatchesPressure(path.join(left.root, 'ct'), left.peakRasM, left.metrics.peak_pressure_pa)
      await exportPlanFolder(registered.planDir, 'dicom', path.join(registered.root, 'mri'), { space: 'mri' })
      const peakMri = applyAffine(invertAffine(mriToCt), registered.peakRasM)
      await expectMaskMatchesPressure(path.join(registered.root, 'mri'), peakMri, registered.metrics.peak_pressure_pa)
    } finally {
      await fs.rm(left.root, { recursive: true, force: true })
      await fs.rm(registered.root, { recursive: true, force: true })
    }
  }, 120_000)
})

describe('de-identified DICOM', () => {
  it('every DeidentificationMethod value is at most 64 characters (LO), also with a long software name', async () => {
    const dir = path.join(plan.root, 'anon')
    await exportPlanFolder(plan.planDir, 'dicom', dir, { deidentify: true, retainUids: true })
    const files = [...(await fs.readdir(path.join(dir, 'pressure'))).map((f) => path.join(dir, 'pressure', f)), path.join(dir, 'seg', 'focal_6db_seg.dcm')]
    for (const f of files) {
      const method = ([] as string[]).concat((await readDicom(f)).DeidentificationMethod as string | string[])
      expect(method.length).toBeGreaterThan(1)
      for (const v of method) expect(v.length, v).toBeLessThanOrEqual(64)
    }

    const volume = await readVolume(path.join(plan.planDir, 'pressure.nii.gz'))
    const result = await writePlanDicom(
      volume,
      { peakPressurePa: PEAK, peakLpsM: [-plan.peakRasM[0], -plan.peakRasM[1], plan.peakRasM[2]] },
      {
        patient: { name: '', id: '', birthDate: '' },
        studyInstanceUid: '2.25.1',
        frameOfReferenceUid: '2.25.2',
        uidSeed: new Uint8Array([1, 2, 3]),
        software: `TFUS Planner ${'9'.repeat(60)}-a-very-long-build-identifier`,
        poseNote: 'Pose as planned.',
        contentDate: '20250101',
        contentTime: '120000',
        deidentified: true,
        uidsRetained: true,
        patientPosition: 'HFS',
      },
    )
    for (const f of [result.pressureSeries[0]!, result.seg]) {
      const ds = dcmjsData.DicomMetaDictionary.naturalizeDataset(dcmjsData.DicomMessage.readFile(new Uint8Array(f.bytes).buffer).dict)
      const method = ([] as string[]).concat(ds.DeidentificationMethod as string | string[])
      expect(method).toHaveLength(5)
      for (const v of method) expect(v.length, v).toBeLessThanOrEqual(64)
    }
    // PatientPosition of the planning image is passed through when known.
    const ds = dcmjsData.DicomMetaDictionary.naturalizeDataset(dcmjsData.DicomMessage.readFile(new Uint8Array(result.pressureSeries[0]!.bytes).buffer).dict)
    expect(ds.PatientPosition).toBe('HFS')
  })
})

describe('a plan made from a DICOM CT', () => {
  it("shares the CT's Frame of Reference, Study (with its date, time, ID, accession) and Patient; PatientPosition passed through", async () => {
    const uids = { frame_of_reference_uid: '2.25.90001', series_instance_uid: '2.25.90002', study_instance_uid: '2.25.90003' }
    const who = { patientName: 'ROE^RICHARD', patientId: 'MRN-77881', birthDate: '19581224', patientPosition: 'HFS' }
    const dicomPlan = await syntheticPlan({ ctDicom: who, ctUids: uids })
    try {
      // plan.json records the series' UIDs and patient as read back from its headers (as `tfus plan` does).
      expect(dicomPlan.plan.ct).toEqual({ source: path.join(dicomPlan.root, 'ct-dicom'), ...uids })
      expect(dicomPlan.plan.patient).toEqual({ name: who.patientName, id: who.patientId, birth_date: who.birthDate })
      const ctHeader = await readDicom(path.join(dicomPlan.root, 'ct-dicom', (await fs.readdir(path.join(dicomPlan.root, 'ct-dicom'))).sort()[0]!))
      const dir = path.join(dicomPlan.root, 'dicom')
      await exportPlanFolder(dicomPlan.planDir, 'dicom', dir, { now: new Date('2026-03-04T05:06:07Z') })
      const objects = [...(await pressureSlices(dir)), await readDicom(path.join(dir, 'seg', 'focal_6db_seg.dcm'))]
      const shared = [
        'FrameOfReferenceUID',
        'StudyInstanceUID',
        'PatientID',
        'PatientBirthDate',
        'PatientSex',
        'StudyDate',
        'StudyTime',
        'StudyID',
        'AccessionNumber',
      ] as const
      for (const ds of objects) {
        for (const key of shared) expect(ds[key], key).toBe(ctHeader[key])
        expect(JSON.stringify(ds.PatientName)).toBe(JSON.stringify(ctHeader.PatientName))
        expect(JSON.stringify(ds.ReferringPhysicianName)).toBe(JSON.stringify(ctHeader.ReferringPhysicianName))
        expect(ds.SeriesInstanceUID).not.toBe(ctHeader.SeriesInstanceUID)
      }
      expect(ctHeader.StudyDate).toBe(CT_DICOM_STUDY.StudyDate)
      expect(objects[0]!.PatientPosition).toBe('HFS')
      // De-identified with --retain-uids: same Study and FoR, but no study date, ID or accession, no patient.
      const anon = path.join(dicomPlan.root, 'anon')
      await exportPlanFolder(dicomPlan.planDir, 'dicom', anon, { deidentify: true, retainUids: true })
      for (const ds of [...(await pressureSlices(anon)), await readDicom(path.join(anon, 'seg', 'focal_6db_seg.dcm'))]) {
        expect([ds.FrameOfReferenceUID, ds.StudyInstanceUID]).toEqual([uids.frame_of_reference_uid, uids.study_instance_uid])
        for (const key of ['PatientID', 'PatientBirthDate', 'PatientSex', 'StudyDate', 'StudyTime', 'StudyID', 'AccessionNumber'] as const)
          expect(ds[key] ?? '', key).toBe('')
      }
    } finally {
      await fs.rm(dicomPlan.root, { recursive: true, force: true })
    }
  }, 120_000)
})

describe('Parametric Map of the pressure', () => {
  it("float32 kPa frames equal pressure.nii.gz (incl. the hot spot), at the MR slices' positions; RWV identity in UCUM kPa; window from the in-brain peak", async () => {
    const pmap = await readDicom(path.join(out, 'parametric', 'pmap_kpa.dcm'))
    expect(pmap.SOPClassUID).toBe(PARAMETRIC_MAP_STORAGE)
    const slices = await pressureSlices(out)
    expect(pmap.FrameOfReferenceUID).toBe(slices[0]!.FrameOfReferenceUID)
    expect(pmap.StudyInstanceUID).toBe(slices[0]!.StudyInstanceUID)
    expect(pmap.SeriesInstanceUID).not.toBe(slices[0]!.SeriesInstanceUID)
    const frames = pmap.PerFrameFunctionalGroupsSequence as Array<{ PlanePositionSequence: Array<{ ImagePositionPatient: number[] }> }>
    expect(frames).toHaveLength(slices.length)
    frames.forEach((f, k) =>
      f.PlanePositionSequence[0]!.ImagePositionPatient.forEach((v, r) =>
        expect(Math.abs(v - Number((slices[k]!.ImagePositionPatient as number[])[r]))).toBeLessThan(1e-9),
      ),
    )
    const shared = (pmap.SharedFunctionalGroupsSequence as Array<Record<string, Array<Record<string, unknown>>>>)[0]!
    const rwv = shared.RealWorldValueMappingSequence![0]!
    expect([rwv.RealWorldValueSlope, rwv.RealWorldValueIntercept]).toEqual([1, 0])
    const units = (rwv.MeasurementUnitsCodeSequence as Array<Record<string, string>>)[0]!
    expect([units.CodeValue, units.CodingSchemeDesignator]).toEqual(['kPa', 'UCUM'])
    const voi = shared.FrameVOILUTSequence![0]!
    expect(Number(voi.WindowCenter) * 1000).toBeCloseTo(PEAK / 2, 0)
    expect(Number(voi.WindowWidth) * 1000).toBeCloseTo(PEAK, 0)
    // The right-handed synthetic grid is written in the NIfTI's voxel order: every voxel, no quantisation.
    const nifti = await readVolume(path.join(plan.planDir, 'pressure.nii.gz'))
    const kpa = new Float32Array((pmap.FloatPixelData as ArrayBuffer[])[0]!)
    expect(kpa.length).toBe(nifti.data.length)
    let worst = 0
    for (let v = 0; v < kpa.length; v++) worst = Math.max(worst, Math.abs(kpa[v]! * 1000 - nifti.data[v]!) / PEAK)
    expect(worst).toBeLessThan(1e-6)
    expect(Math.max(...kpa) * 1000).toBeCloseTo(2 * PEAK, -1)
  })
})
