/**
 * De-identified exports (--deidentify): a plan whose folder is named after the patient, with a
 * patient name/ID/birth date and known original UIDs, exported in every format. No written byte
 * may hold the folder name, the identity or an original UID; the DICOM objects share one new
 * Frame of Reference and reference each other; the method codes say exactly what was done
 * (113100 and the options applied, 113110 only with --retain-uids). An identified export keeps the
 * planning scan's FoR (navigation needs it) and claims no de-identification.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { data as dcmjsData } from 'dcmjs'
import { DEIDENTIFICATION_METHOD_CODES, deidentificationMethodCodes, findIdentifier } from '../../../core/exports/deidentify.ts'
import { isValidUid } from '../../../core/io/dicom/uid.ts'
import { runExport } from '../../../electron/cli/export.ts'
import { exportPlanFolder, type ExportFormat, type ExportOptions } from '../../../electron/app/exports.ts'
import { cli } from '../../helpers/cli.ts'
import { obliquePose, syntheticPlan, type SyntheticPlan } from './helpers.ts'

const FOLDER = 'DOE^JOHN_2024'
const PATIENT = { name: 'DOE^JOHN', id: 'PID-0815-X', birth_date: '19610704' }
const CT_UIDS = {
  frame_of_reference_uid: '1.2.826.0.1.3680043.9.7777.1.1',
  series_instance_uid: '1.2.826.0.1.3680043.9.7777.2.1',
  study_instance_uid: '1.2.826.0.1.3680043.9.7777.3.1',
}
const MRI_UIDS = {
  frame_of_reference_uid: '1.2.826.0.1.3680043.9.7777.1.2',
  series_instance_uid: '1.2.826.0.1.3680043.9.7777.2.2',
  study_instance_uid: '1.2.826.0.1.3680043.9.7777.3.2',
}
const ORIGINAL_UIDS = [...Object.values(CT_UIDS), ...Object.values(MRI_UIDS)]
const NOW = new Date('2026-03-04T05:06:07Z')

let plan: SyntheticPlan

beforeAll(async () => {
  plan = await syntheticPlan({
    folderName: FOLDER,
    patient: PATIENT,
    ctUids: CT_UIDS,
    mriUids: MRI_UIDS,
    mriToCt: obliquePose(0.05, -0.08, 0.26, [0.004, -0.003, 0.002]),
  })
}, 60_000)

afterAll(async () => {
  if (plan) await fs.rm(plan.root, { recursive: true, force: true })
})

async function walk(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...(await walk(full)))
    else out.push(full)
  }
  return out
}

/** Every byte of a file as latin1 text; a gzip file also decompressed. */
async function allText(file: string): Promise<string> {
  const bytes = await fs.readFile(file)
  const raw = bytes.toString('latin1')
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? `${raw}\n${zlib.gunzipSync(bytes).toString('latin1')}` : raw
}

const header = (bytes: Buffer) => dcmjsData.DicomMetaDictionary.naturalizeDataset(dcmjsData.DicomMessage.readFile(new Uint8Array(bytes).buffer).dict)
const metaOf = (bytes: Buffer) => dcmjsData.DicomMetaDictionary.naturalizeDataset(dcmjsData.DicomMessage.readFile(new Uint8Array(bytes).buffer).meta)

type Dataset = Record<string, unknown>

interface Sidecar {
  readonly plan: string
  readonly frame_of_reference_uid?: string
  readonly study_instance_uid?: string
  readonly deidentified: boolean
  readonly deidentification?: {
    readonly patient_identity_removed: boolean
    readonly uids: string
    readonly method_codes?: Array<{ readonly code_value: string }>
  }
}

interface DicomOut {
  readonly slices: Dataset[]
  readonly sliceMetas: Dataset[]
  readonly seg: Dataset
  readonly sidecar: Sidecar
}

async function readDicomExport(dir: string): Promise<DicomOut> {
  const names = (await fs.readdir(path.join(dir, 'pressure'))).sort()
  const bytes = await Promise.all(names.map((n) => fs.readFile(path.join(dir, 'pressure', n))))
  return {
    slices: bytes.map(header),
    sliceMetas: bytes.map(metaOf),
    seg: header(await fs.readFile(path.join(dir, 'seg', 'focal_6db_seg.dcm'))),
    sidecar: JSON.parse(await fs.readFile(path.join(dir, 'export.json'), 'utf8')),
  }
}

const codeValues = (ds: Dataset) => ((ds.DeidentificationMethodCodeSequence ?? []) as Array<{ CodeValue: string }>).map((c) => c.CodeValue)
const reportUids = (html: string) => [...html.matchAll(/<td class="uid">([^<]*)<\/td>/g)].map((m) => m[1]!)

describe('--deidentify in every format', () => {
  it('no written byte holds the folder name, patient name/ID/birth date, an original UID or the plan path', async () => {
    const out = path.join(plan.root, 'deid')
    const exports: Array<[ExportFormat, string, ExportOptions]> = [
      ['brainsight', 'plan.txt', {}],
      ['localite', 'InstrumentMarker.xml', {}],
      ['kplan', 'transducer.kps', {}],
      ['report', 'report.html', {}],
      ['slicer', 'slicer', {}],
      ['nifti', 'nifti', {}],
      ['nifti', 'nifti-mri', { space: 'mri' }],
      ['dicom', 'dicom', {}],
      ['dicom', 'dicom-mri', { space: 'mri' }],
    ]
    for (const [format, name, extra] of exports) {
      // The caller's identity too (as the database passes it), so nothing can come from there either.
      await exportPlanFolder(plan.planDir, format, path.join(out, name), {
        ...extra,
        deidentify: true,
        now: NOW,
        patient: { name: PATIENT.name, id: PATIENT.id, birthDate: PATIENT.birth_date },
      })
    }
    const files = await walk(out)
    expect(files.length).toBeGreaterThan(20)
    const forbidden = [FOLDER, PATIENT.name, PATIENT.id, PATIENT.birth_date, plan.planDir, ...ORIGINAL_UIDS]
    for (const file of files) {
      const text = await allText(file)
      for (const s of forbidden) expect(text.includes(s), `${path.relative(out, file)} holds "${s}"`).toBe(false)
    }

    const html = await fs.readFile(path.join(out, 'report.html'), 'utf8')
    expect(html).toMatch(/<title>TFUS plan report: Plan [0-9a-f]{12} \(de-identified\)<\/title>/)
    expect(html).toContain('De-identified')
    for (const name of ['slicer', 'nifti', 'dicom']) {
      const sidecar = JSON.parse(await fs.readFile(path.join(out, name, 'export.json'), 'utf8')) as Sidecar
      expect(sidecar.plan).toMatch(/^Plan [0-9a-f]{12} \(de-identified\)$/)
      expect(sidecar.deidentified).toBe(true)
      expect(sidecar.deidentification?.patient_identity_removed).toBe(true)
    }
  }, 120_000)

  it('DICOM: one new FoR and Study shared by every object, consistent references, the report shows the same new FoR', async () => {
    const dir = path.join(plan.root, 'deid-dicom')
    await exportPlanFolder(plan.planDir, 'dicom', dir, { deidentify: true, now: NOW })
    const { slices, sliceMetas, seg, sidecar } = await readDicomExport(dir)
    const all = [...slices, seg]
    const forUid = seg.FrameOfReferenceUID as string
    expect(isValidUid(forUid)).toBe(true)
    expect(forUid).toMatch(/^2\.25\./)
    expect(ORIGINAL_UIDS).not.toContain(forUid)
    expect(new Set(all.map((d) => d.FrameOfReferenceUID))).toEqual(new Set([forUid]))
    const study = seg.StudyInstanceUID as string
    expect(ORIGINAL_UIDS).not.toContain(study)
    expect(new Set(all.map((d) => d.StudyInstanceUID))).toEqual(new Set([study]))
    expect(sidecar.frame_of_reference_uid).toBe(forUid)
    expect(sidecar.study_instance_uid).toBe(study)

    // One pressure series; the SEG references exactly its instances, frame k -> slice k.
    const seriesUid = slices[0]!.SeriesInstanceUID as string
    expect(new Set(slices.map((s) => s.SeriesInstanceUID))).toEqual(new Set([seriesUid]))
    expect(seg.SeriesInstanceUID).not.toBe(seriesUid)
    for (const uid of [seriesUid, seg.SeriesInstanceUID, seg.SOPInstanceUID, ...slices.map((s) => s.SOPInstanceUID)] as string[]) {
      expect(isValidUid(uid)).toBe(true)
      expect(ORIGINAL_UIDS).not.toContain(uid)
    }
    slices.forEach((s, k) => expect(sliceMetas[k]!.MediaStorageSOPInstanceUID).toBe(s.SOPInstanceUID))
    const bySlice = [...slices].sort((a, b) => Number(a.InstanceNumber) - Number(b.InstanceNumber)).map((s) => s.SOPInstanceUID as string)
    const ref = (
      seg.ReferencedSeriesSequence as Array<{ SeriesInstanceUID: string; ReferencedInstanceSequence: Array<{ ReferencedSOPInstanceUID: string }> }>
    )[0]!
    expect(ref.SeriesInstanceUID).toBe(seriesUid)
    expect(ref.ReferencedInstanceSequence.map((r) => r.ReferencedSOPInstanceUID)).toEqual(bySlice)
    const frames = seg.PerFrameFunctionalGroupsSequence as Array<{
      DerivationImageSequence: Array<{ SourceImageSequence: Array<{ ReferencedSOPInstanceUID: string }> }>
    }>
    expect(frames.map((f) => f.DerivationImageSequence[0]!.SourceImageSequence[0]!.ReferencedSOPInstanceUID)).toEqual(bySlice)

    // The declaration: identity removed, Basic Profile plus the options applied, never Retain UIDs.
    for (const d of all) {
      expect(d.PatientIdentityRemoved).toBe('YES')
      expect(JSON.stringify(d.PatientName ?? '')).not.toMatch(/DOE|JOHN/)
      expect(d.PatientID ?? '').toBe('')
      expect(d.PatientBirthDate ?? '').toBe('')
      expect(codeValues(d)).toEqual(['113100', '113105', '113106'])
      expect(codeValues(d)).not.toContain('113110')
      for (const c of d.DeidentificationMethodCodeSequence as Array<Record<string, string>>) expect(c.CodingSchemeDesignator).toBe('DCM')
      expect((d.DeidentificationMethodCodeSequence as Array<Record<string, string>>)[0]!.CodeMeaning).toBe('Basic Application Confidentiality Profile')
      // Full Dates: the ContentDate is the export's own, kept as it is (PS3.15 E.3.6).
      expect(d.ContentDate).toBe('20260304')
      expect(d.LongitudinalTemporalInformationModified).toBe('UNMODIFIED')
      const method = ([] as string[]).concat(d.DeidentificationMethod as string | string[])
      for (const v of method) expect(v.length).toBeLessThanOrEqual(64)
      expect(method.join('\\')).not.toMatch(/Retain UIDs/)
    }
    expect(sidecar.deidentification?.method_codes?.map((c) => c.code_value)).toEqual(['113100', '113105', '113106'])

    // Re-exporting gives the same UIDs, and the report and the MRI-space export use the same map.
    const again = path.join(plan.root, 'deid-dicom-again')
    await exportPlanFolder(plan.planDir, 'dicom', again, { deidentify: true, now: NOW })
    expect((await readDicomExport(again)).seg.FrameOfReferenceUID).toBe(forUid)
    const report = path.join(plan.root, 'deid-report.html')
    await exportPlanFolder(plan.planDir, 'report', report, { deidentify: true, now: NOW })
    const shown = reportUids(await fs.readFile(report, 'utf8'))
    expect(shown[0]).toBe(forUid)
    const mriDir = path.join(plan.root, 'deid-dicom-mri')
    await exportPlanFolder(plan.planDir, 'dicom', mriDir, { deidentify: true, space: 'mri', now: NOW })
    const mri = await readDicomExport(mriDir)
    expect(mri.seg.FrameOfReferenceUID).toBe(shown[2])
    expect(mri.seg.FrameOfReferenceUID).not.toBe(forUid)
    expect(ORIGINAL_UIDS).not.toContain(mri.seg.StudyInstanceUID)
  }, 120_000)

  it("--retain-uids keeps the planning scan's Study and FoR and declares 113110; identity still removed", async () => {
    const dir = path.join(plan.root, 'retain')
    await exportPlanFolder(plan.planDir, 'dicom', dir, { deidentify: true, retainUids: true, now: NOW })
    const { slices, seg, sidecar } = await readDicomExport(dir)
    for (const d of [...slices, seg]) {
      expect(d.FrameOfReferenceUID).toBe(CT_UIDS.frame_of_reference_uid)
      expect(d.StudyInstanceUID).toBe(CT_UIDS.study_instance_uid)
      expect(d.PatientIdentityRemoved).toBe('YES')
      expect(codeValues(d)).toEqual(['113100', '113105', '113106', '113110'])
      expect((d.DeidentificationMethodCodeSequence as Array<Record<string, string>>)[3]!.CodeMeaning).toBe('Retain UIDs Option')
    }
    expect(sidecar.deidentification?.uids).toMatch(/^retained/)
    for (const file of await walk(dir)) {
      const text = await allText(file)
      for (const s of [FOLDER, PATIENT.name, PATIENT.id, PATIENT.birth_date]) expect(text.includes(s), `${file} holds "${s}"`).toBe(false)
    }
    const report = path.join(plan.root, 'retain.html')
    await exportPlanFolder(plan.planDir, 'report', report, { deidentify: true, retainUids: true, now: NOW })
    const html = await fs.readFile(report, 'utf8')
    expect(reportUids(html).slice(0, 2)).toEqual([CT_UIDS.frame_of_reference_uid, CT_UIDS.series_instance_uid])
    expect(html).not.toContain(FOLDER)
    await expect(exportPlanFolder(plan.planDir, 'dicom', path.join(plan.root, 'x'), { retainUids: true })).rejects.toThrow(/only applies with --deidentify/)
  }, 120_000)

  it('a de-identified file that would still name the patient (free text in the plan) is refused and removed', async () => {
    const noted = await syntheticPlan({
      folderName: FOLDER,
      patient: PATIENT,
      ctUids: CT_UIDS,
      thermal: { reviewer_note: `checked for ${PATIENT.name}`, max_temperature_rise_c: 0.4 },
    })
    try {
      const out = path.join(noted.root, 'report.html')
      await expect(exportPlanFolder(noted.planDir, 'report', out, { deidentify: true })).rejects.toThrow(
        /de-identified export refused: this file would hold the patient's name/,
      )
      await expect(fs.access(out)).rejects.toThrow()
      // Identified, the same note is simply shown.
      await exportPlanFolder(noted.planDir, 'report', out)
      expect(await fs.readFile(out, 'utf8')).toContain(`checked for ${PATIENT.name}`)
    } finally {
      await fs.rm(noted.root, { recursive: true, force: true })
    }
  }, 60_000)
})

describe('identified export', () => {
  it("keeps the planning scan's FoR and Study (navigation overlays on them) and claims no de-identification", async () => {
    const dir = path.join(plan.root, 'identified')
    await exportPlanFolder(plan.planDir, 'dicom', dir, { now: NOW })
    const { slices, seg, sidecar } = await readDicomExport(dir)
    for (const d of [...slices, seg]) {
      expect(d.FrameOfReferenceUID).toBe(CT_UIDS.frame_of_reference_uid)
      expect(d.StudyInstanceUID).toBe(CT_UIDS.study_instance_uid)
      expect(JSON.stringify(d.PatientName)).toContain(PATIENT.name)
      expect(d.PatientIdentityRemoved).toBeUndefined()
      expect(d.DeidentificationMethod).toBeUndefined()
      expect(d.DeidentificationMethodCodeSequence).toBeUndefined()
      expect(d.LongitudinalTemporalInformationModified).toBeUndefined()
    }
    expect(sidecar.frame_of_reference_uid).toBe(CT_UIDS.frame_of_reference_uid)
    expect(sidecar.deidentified).toBe(false)
    expect(sidecar.deidentification).toBeUndefined()
    const report = path.join(plan.root, 'identified.html')
    await exportPlanFolder(plan.planDir, 'report', report, { now: NOW })
    const html = await fs.readFile(report, 'utf8')
    // Identified: the plan folder's name, not its path.
    expect(html).toContain(`<title>TFUS plan report: ${path.basename(plan.planDir)}</title>`)
    expect(reportUids(html).slice(0, 2)).toEqual([CT_UIDS.frame_of_reference_uid, CT_UIDS.series_instance_uid])
  }, 60_000)
})

describe('CLI', () => {
  it('tfus export --deidentify gives the neutral title; a database id labels it; --retain-uids alone exits 2', async () => {
    const out = path.join(plan.root, 'cli', 'report.html')
    const r = await cli(['export', plan.planDir, '--format', 'report', '--out', out, '--deidentify'])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(await fs.readFile(out, 'utf8')).toMatch(/<title>TFUS plan report: Plan [0-9a-f]{12} \(de-identified\)<\/title>/)
    expect(r.out).not.toContain(FOLDER)

    // A stored plan is exported from a temporary folder under its database id@version.
    const lines: string[] = []
    const stored = path.join(plan.root, 'cli', 'stored.html')
    await runExport(
      plan.planDir,
      {
        positional: [],
        flags: new Map<string, string | true>([
          ['format', 'report'],
          ['out', stored],
          ['deidentify', true],
        ]),
      },
      (l) => lines.push(l),
      undefined,
      { patientId: PATIENT.id, name: PATIENT.name, birthDate: PATIENT.birth_date },
      { id: 17, version: 2 },
    )
    const html = await fs.readFile(stored, 'utf8')
    expect(html).toContain('<title>TFUS plan report: Plan 17@2 (de-identified)</title>')
    expect(html).not.toContain(PATIENT.id)

    const bad = await cli(['export', plan.planDir, '--format', 'dicom', '--out', path.join(plan.root, 'cli', 'd'), '--retain-uids'])
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/--retain-uids: only applies with --deidentify/)
  }, 60_000)
})

describe('core/exports/deidentify', () => {
  it('method codes: the Basic Profile first, each option only when applied (CID 7050 meanings)', () => {
    const none = { retainUids: false, retainFullDates: false, cleanDescriptors: false, retainPatientCharacteristics: false }
    expect(deidentificationMethodCodes(none)).toEqual([DEIDENTIFICATION_METHOD_CODES.basicProfile])
    expect(deidentificationMethodCodes({ ...none, retainUids: true }).map((c) => `${c.CodeValue} ${c.CodeMeaning}`)).toEqual([
      '113100 Basic Application Confidentiality Profile',
      '113110 Retain UIDs Option',
    ])
    expect(deidentificationMethodCodes({ ...none, retainPatientCharacteristics: true }).map((c) => c.CodeValue)).toEqual(['113100', '113108'])
    expect(DEIDENTIFICATION_METHOD_CODES.retainFullDates.CodeMeaning).toBe('Retain Longitudinal Temporal Information Full Dates Option')
    expect(DEIDENTIFICATION_METHOD_CODES.retainModifiedDates.CodeMeaning).toBe('Retain Longitudinal Temporal Information Modified Dates Option')
  })

  it('findIdentifier: a UID only as a whole UID, names also HTML-escaped', () => {
    const uid = { what: 'UID', value: '2.25.1234' }
    expect(findIdentifier('FoR 2.25.1234 here', [uid])).toBe(uid)
    expect(findIdentifier('FoR 2.25.12345', [uid])).toBeUndefined()
    expect(findIdentifier('FoR 2.25.1234.5', [uid])).toBeUndefined()
    expect(findIdentifier('x12.25.1234', [uid])).toBeUndefined()
    const name = { what: 'name', value: "O'BRIEN^ANN" }
    expect(findIdentifier('<td>O&#39;BRIEN^ANN</td>', [name])).toBe(name)
  })
})
