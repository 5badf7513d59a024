/**
 * The DICOM export of a plan checked by the validators navigation vendors and PACS people use:
 * dciodvfy (Debian dicom3tools: IOD, module, attribute type/VR/enumerated-value checks) and DCMTK
 * (dcmdump without data correction, dcm2xml checking every string against the character set,
 * dcm2pnm rendering through the Modality/VOI LUT pipeline; DCMTK reports problems as "W:"/"E:"/"F:"
 * lines; a Parametric Map is not rendered: DCMTK 3.6.7 has no float pixel support), on every file written, identified, `--deidentify` and `--deidentify --retain-uids`,
 * on the CT and on the MRI grid. dcentvfy (dicom3tools) checks that all files of a folder agree on
 * their patient, study, series and frame of reference.
 *
 * Errors fail the test, and so does any dciodvfy warning that is not one of the reviewed ones in
 * ACCEPTED_WARNINGS (core/exports/dicom.md says why each is accepted), so a new warning (e.g. the
 * MR Modality LUT one) is looked at rather than ignored. CI installs dicom3tools and dcmtk
 * (.ci/run); with CI set, a missing tool fails the file instead of skipping it (tests/helpers/requires.ts).
 */
import { execFile, spawnSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { data as dcmjsData } from 'dcmjs'
import { exportPlanFolder, type ExportOptions } from '../../../electron/app/exports.ts'
import { obliquePose, syntheticPlan, type SyntheticPlan } from '../../unit/exports/helpers.ts'
import { requireOrSkip } from '../../helpers/requires.ts'

const TOOLS = ['dciodvfy', 'dcentvfy', 'dcmdump', 'dcm2xml', 'dcm2pnm'] as const
const missing = TOOLS.filter((t) => spawnSync(t, [], { stdio: 'ignore' }).error !== undefined)

/**
 * dciodvfy warnings reviewed and accepted (dicom.md "Checked by"): the DICOMDIR ones name Type 2
 * attributes we write empty because they are not known (the planning CT may be a NIfTI; a
 * de-identified export has no Patient ID); 99TFUS is our private coding scheme, declared in the
 * object, which dciodvfy cannot know.
 */
const ACCEPTED_WARNINGS = [
  /^Warning - Missing attribute or value that would be needed to build DICOMDIR - (Study Date|Study Time|Study ID|Patient ID)$/,
  /^Warning - Unrecognized defined term <99TFUS> for value 1 of attribute <Coding Scheme Designator>$/,
]

interface Run {
  readonly code: number
  readonly out: string
}

function run(cmd: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
      resolve({ code, out: `${stdout}\n${stderr}` })
    })
  })
}

/** The problems the validators report for one file: dciodvfy errors and unaccepted warnings, DCMTK W/E/F lines, non-zero exits. */
async function problems(file: string, tmp: string): Promise<string[]> {
  const found: string[] = []
  const dciodvfy = await run('dciodvfy', [file])
  for (const line of dciodvfy.out.split('\n').map((l) => l.trim())) {
    if (/^Error/.test(line) || (/^Warning/.test(line) && !ACCEPTED_WARNINGS.some((re) => re.test(line)))) found.push(`dciodvfy: ${line}`)
  }
  // dciodvfy exits 1 when it found an error (checked on a broken file below).
  if (dciodvfy.code !== 0) found.push(`dciodvfy: exit ${dciodvfy.code}`)
  const pgm = path.join(tmp, `${path.basename(file)}.pgm`)
  // DCMTK 3.6.7 renders no float pixel data ("no pixel data found"), so the Parametric Map is not rendered.
  const render = path.basename(path.dirname(file)) === 'parametric' ? [] : ([['dcm2pnm', ['-ll', 'warn', file, pgm]]] as const)
  for (const [tool, args] of [['dcmdump', ['-dc', '-ll', 'warn', file]], ['dcm2xml', ['+Cc', '-ll', 'warn', file]], ...render] as const) {
    const r = await run(tool, args)
    const lines =
      tool === 'dcmdump' || tool === 'dcm2xml' ? r.out.split('\n').filter((l) => /^[WEF]: /.test(l)) : r.out.split('\n').filter((l) => l.trim() !== '')
    for (const line of lines) found.push(`${tool}: ${line}`)
    if (r.code !== 0) found.push(`${tool}: exit ${r.code}`)
  }
  return found
}

async function dicomFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true })
  return entries
    .filter((e) => e.endsWith('.dcm'))
    .map((e) => path.join(dir, e))
    .sort()
}

/** `withFiles`: other objects of the same patient (the planning CT) that dcentvfy checks the export against. */
async function validateFolder(dir: string, tmp: string, withFiles: readonly string[] = []): Promise<{ files: number; problems: string[] }> {
  const files = await dicomFiles(dir)
  const found: string[] = []
  for (const f of files) for (const p of await problems(f, tmp)) found.push(`${path.relative(dir, f)}: ${p}`)
  // One patient, study and frame of reference across the pressure series, the SEG (and the CT).
  const entity = await run('dcentvfy', [...withFiles, ...files])
  for (const line of entity.out.split('\n').filter((l) => /^(Error|Warning)/.test(l.trim()))) found.push(`dcentvfy: ${line.trim()}`)
  if (entity.code !== 0) found.push(`dcentvfy: exit ${entity.code}`)
  return { files: files.length, problems: found }
}

let plan: SyntheticPlan
let registered: SyntheticPlan
let fromDicom: SyntheticPlan

const toolsMissing = missing.length > 0 ? `${missing.join(', ')} not on PATH (apt-get install dicom3tools dcmtk)` : null

describe.skipIf(requireOrSkip('dciodvfy/DCMTK', toolsMissing))('DICOM export passes dciodvfy and DCMTK', () => {
  beforeAll(async () => {
    const ids = {
      patient: { name: 'DOE^JOHN', id: 'PID-123456', birth_date: '19650412' },
      ctUids: { frame_of_reference_uid: '2.25.31337000111', series_instance_uid: '2.25.31337000222', study_instance_uid: '2.25.31337000333' },
    }
    plan = await syntheticPlan(ids)
    registered = await syntheticPlan({ ...ids, mriToCt: obliquePose(0.05, -0.08, 0.26, [0.004, -0.003, 0.002]) })
    fromDicom = await syntheticPlan({
      ctUids: ids.ctUids,
      ctDicom: { patientName: 'ROE^ANNA', patientId: 'MRN-99001', birthDate: '19711111', patientPosition: 'HFS' },
    })
  }, 60_000)

  afterAll(async () => {
    for (const p of [plan, registered, fromDicom]) if (p) await fs.rm(p.root, { recursive: true, force: true })
  })

  it("the harness sees errors: a file with the reviewer's findings put back fails", async () => {
    const dir = path.join(plan.root, 'broken')
    await exportPlanFolder(plan.planDir, 'dicom', dir)
    const [first] = await dicomFiles(path.join(dir, 'pressure'))
    const ds = dcmjsData.DicomMessage.readFile(new Uint8Array(await fs.readFile(first!)).buffer)
    const naturalized = dcmjsData.DicomMetaDictionary.naturalizeDataset(ds.dict)
    delete naturalized.RepetitionTime
    naturalized.RescaleSlope = '2'
    naturalized.RescaleIntercept = '0'
    naturalized.DeidentificationMethod = 'x'.repeat(66)
    ds.dict = dcmjsData.DicomMetaDictionary.denaturalizeDataset(naturalized)
    const broken = path.join(plan.root, 'broken.dcm')
    await fs.writeFile(broken, new Uint8Array(ds.write()))
    const found = await problems(broken, plan.root)
    expect(
      found.some((p) => /dciodvfy: Error - Missing attribute Type 2C Conditional Element=<RepetitionTime>/.test(p)),
      found.join('\n'),
    ).toBe(true)
    expect(
      found.some((p) => /dciodvfy: Error - Value invalid for this VR .*0x0012,0x0063.* Length invalid/.test(p)),
      found.join('\n'),
    ).toBe(true)
    expect(
      found.some((p) => /dciodvfy: Warning - Non-identity Modality LUT/.test(p)),
      found.join('\n'),
    ).toBe(true)
    expect(
      found.some((p) => /dcm2pnm: W: .*modality transform/.test(p)),
      found.join('\n'),
    ).toBe(true)
  }, 60_000)

  it.each([
    ['identified', {}],
    ['--deidentify', { deidentify: true }],
    ['--deidentify --retain-uids', { deidentify: true, retainUids: true }],
  ] as Array<[string, ExportOptions]>)(
    'CT grid, %s: 0 errors on every file',
    async (name, options) => {
      const dir = path.join(plan.root, `ct-${name.replace(/\W+/g, '_')}`)
      await exportPlanFolder(plan.planDir, 'dicom', dir, options)
      const r = await validateFolder(dir, plan.root)
      // 10 pressure slices, the SEG and the Parametric Map.
      expect(r.files).toBe(12)
      expect(r.problems, r.problems.join('\n')).toEqual([])
    },
    120_000,
  )

  it.each([
    ['identified', {}],
    ['--deidentify', { deidentify: true }],
  ] as Array<[string, ExportOptions]>)(
    'MRI grid, %s: 0 errors on every file',
    async (name, options) => {
      const dir = path.join(registered.root, `mri-${name.replace(/\W+/g, '_')}`)
      await exportPlanFolder(registered.planDir, 'dicom', dir, { ...options, space: 'mri' })
      const r = await validateFolder(dir, registered.root)
      // 13 slices of the MRI grid, the SEG and the Parametric Map.
      expect(r.files).toBe(15)
      expect(r.problems, r.problems.join('\n')).toEqual([])
    },
    120_000,
  )

  it('plan from a DICOM CT, identified: 0 errors, and dcentvfy finds the export consistent with the CT (one patient, study, frame of reference)', async () => {
    const dir = path.join(fromDicom.root, 'dicom')
    await exportPlanFolder(fromDicom.planDir, 'dicom', dir)
    const ct = await dicomFiles(path.join(fromDicom.root, 'ct-dicom'))
    const r = await validateFolder(dir, fromDicom.root, ct)
    expect(r.files).toBe(12)
    expect(r.problems, r.problems.join('\n')).toEqual([])
  }, 120_000)
})
