/**
 * Every kind of bad input a planner can hand us must end in exit code 2 and one line on
 * stderr naming the file: no stack trace, no hang, no silently wrong volume.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { gzipSync } from 'fflate'
import { buildNifti1 } from '../../helpers/nifti.ts'
import { writeDicomSeries } from '../../helpers/dicom-writer.ts'
import { createVolume } from '../../../core/volume/index.ts'
import { cli as run } from '../../helpers/cli.ts'

let dir: string
const SFORM = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
]
const good = () => buildNifti1({ dims: [8, 8, 8], sform: SFORM, datatype: 4, data: new Int16Array(512).fill(7) })

async function put(name: string, bytes: Uint8Array | string): Promise<string> {
  const file = path.join(dir, name)
  await fs.mkdir(path.dirname(file), { recursive: true })
  await fs.writeFile(file, bytes)
  return file
}

function explicitLe(group: number, element: number, vr: string, value: Uint8Array): Uint8Array {
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT', 'OF'].includes(vr)
  const head = new Uint8Array(long ? 12 : 8)
  const v = new DataView(head.buffer)
  v.setUint16(0, group, true)
  v.setUint16(2, element, true)
  head[4] = vr.charCodeAt(0)
  head[5] = vr.charCodeAt(1)
  if (long) v.setUint32(8, value.length, true)
  else v.setUint16(6, value.length, true)
  const out = new Uint8Array(head.length + value.length)
  out.set(head)
  out.set(value, head.length)
  return out
}
const str = (s: string) => new TextEncoder().encode(s.length % 2 ? s + ' ' : s)
const uid = (s: string) => new TextEncoder().encode(s.length % 2 ? s + '\0' : s)

/** A Basic Text SR: valid DICOM, no pixel data. */
function nonImageDicom(): Uint8Array {
  const ts = explicitLe(0x0002, 0x0010, 'UI', uid('1.2.840.10008.1.2.1'))
  const sop = explicitLe(0x0002, 0x0002, 'UI', uid('1.2.840.10008.5.1.4.1.1.88.11'))
  const metaLen = explicitLe(0x0002, 0x0000, 'UL', new Uint8Array(new Uint32Array([sop.length + ts.length]).buffer))
  const body = [
    explicitLe(0x0008, 0x0016, 'UI', uid('1.2.840.10008.5.1.4.1.1.88.11')),
    explicitLe(0x0008, 0x0060, 'CS', str('SR')),
    explicitLe(0x0010, 0x0010, 'PN', str('TEST^PATIENT')),
    explicitLe(0x0020, 0x000e, 'UI', uid('1.2.3.4.5')),
  ]
  const parts = [new Uint8Array(128), new TextEncoder().encode('DICM'), metaLen, sop, ts, ...body]
  const total = parts.reduce((n, p) => n + p.length, 0)
  const out = new Uint8Array(total)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-corpus-'))
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

interface Case {
  name: string
  make: () => Promise<string>
  code: RegExp
}

const cases: Case[] = [
  { name: 'missing file', make: async () => path.join(dir, 'nope.nii.gz'), code: /no such file/ },
  { name: 'zero-byte .nii', make: () => put('empty.nii', new Uint8Array(0)), code: /empty/ },
  { name: 'NIfTI cut inside the header', make: () => put('cut-header.nii', good().subarray(0, 200)), code: /named \.nii but|header needs 348 bytes/ },
  { name: 'NIfTI cut inside the voxel data', make: () => put('cut-data.nii', good().subarray(0, 352 + 300)), code: /image data needs 1376 bytes/ },
  { name: '.nii.gz with the gzip stream cut short', make: () => put('cut.nii.gz', gzipSync(good()).subarray(0, 60)), code: /gzip stream/ },
  {
    name: 'NIfTI with a negative dimension',
    make: async () => {
      const b = good()
      new DataView(b.buffer).setInt16(42, -8, true)
      return put('neg-dim.nii', b)
    },
    code: /dim\[1\] is -8/,
  },
  {
    name: 'NIfTI whose bitpix contradicts its datatype',
    make: async () => {
      const b = good()
      new DataView(b.buffer).setInt16(72, 32, true)
      return put('bitpix.nii', b)
    },
    code: /bitpix is 32/,
  },
  {
    name: 'NIfTI with an unsupported datatype (RGB)',
    make: async () => {
      const b = good()
      new DataView(b.buffer).setInt16(70, 128, true)
      new DataView(b.buffer).setInt16(72, 24, true)
      return put('rgb.nii', b)
    },
    code: /datatype 128 is not supported/,
  },
  {
    name: 'PNG renamed .nii',
    make: () => put('picture.nii', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(400)])),
    code: /named \.nii but the contents are a PNG picture/,
  },
  {
    name: 'text renamed .nii.gz',
    make: () => put('notes.nii.gz', 'these are not voxels\n'.repeat(40)),
    code: /named \.nii\.gz but the contents are a text file/,
  },
  {
    name: 'gzip of a text file named .nii.gz',
    make: () => put('text-inside.nii.gz', gzipSync(new TextEncoder().encode('hello\n'.repeat(100)))),
    code: /decompressed contents are a text file/,
  },
  { name: 'PDF with an unknown extension', make: () => put('report.xyz', '%PDF-1.4\n' + 'x'.repeat(600)), code: /a PDF document is not a supported volume/ },
  {
    name: 'NRRD with a garbage header',
    make: () => put('garbage.nrrd', 'NRRD0004\ntype: nonsense\ndimension: banana\n\n' + 'x'.repeat(100)),
    code: /could not be decoded/,
  },
  {
    name: 'NRRD cut inside the data',
    make: async () => {
      const header = 'NRRD0004\ntype: short\ndimension: 3\nsizes: 8 8 8\nspacings: 1 1 1\nencoding: raw\nendian: little\n\n'
      const body = new Uint8Array(8 * 8 * 8 * 2 - 100)
      return put('cut.nrrd', new Uint8Array([...new TextEncoder().encode(header), ...body]))
    },
    code: /could not be decoded/,
  },
  {
    name: 'MHA cut inside the data',
    make: async () => {
      const header = 'ObjectType = Image\nNDims = 3\nDimSize = 8 8 8\nElementType = MET_SHORT\nElementSpacing = 1 1 1\nElementDataFile = LOCAL\n'
      const body = new Uint8Array(8 * 8 * 8 * 2 - 100)
      return put('cut.mha', new Uint8Array([...new TextEncoder().encode(header), ...body]))
    },
    code: /data not read completely|could not be decoded/,
  },
  {
    name: 'empty folder',
    make: async () => {
      const d = path.join(dir, 'empty-folder')
      await fs.mkdir(d, { recursive: true })
      return d
    },
    code: /holds no files/,
  },
  {
    name: 'folder of a non-image DICOM (structured report)',
    make: async () => (await put('sr-only/report.dcm', nonImageDicom()), path.join(dir, 'sr-only')),
    code: /no DICOM image series/,
  },
  { name: 'single non-image DICOM file', make: () => put('sr-file/report.dcm', nonImageDicom()), code: /report\.dcm/ },
  {
    name: 'DICOM series with a missing slice',
    make: async () => {
      const vol = createVolume({
        data: new Int16Array(6 * 5 * 7).map((_, i) => i - 50),
        dims: [6, 5, 7],
        spacingM: [0.001, 0.001, 0.002],
        meta: { modality: 'CT' },
      })
      const files = writeDicomSeries(vol, {
        patientName: 'TEST^GAP',
        patientId: 'GAP1',
        studyInstanceUid: '1.2.3',
        seriesInstanceUid: '1.2.3.4',
        frameOfReferenceUid: '1.2.3.5',
      })
      for (const [i, f] of files.entries()) if (i !== 3) await put(`gap/img${i}.dcm`, f.bytes)
      return path.join(dir, 'gap')
    },
    code: /missing|gap/i,
  },
  {
    name: 'garbage file with a .dcm name in a folder',
    make: async () => (await put('junk-only/x.dcm', new Uint8Array(300).fill(0xab)), path.join(dir, 'junk-only')),
    code: /no DICOM image series/,
  },
]

describe('corrupt-input corpus: exit 2 with the file named', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const target = await c.make()
      for (const cmd of [
        ['info', target],
        ['convert', target, path.join(dir, 'out.nii.gz')],
      ]) {
        const r = await run(cmd)
        expect(r.code, `${cmd[0]}: ${r.err}`).toBe(2)
        const lines = r.err.trim().split('\n')
        expect(lines).toHaveLength(1)
        expect(lines[0]).toContain(path.basename(target))
        expect(lines[0]).toMatch(c.code)
        expect(r.err).not.toMatch(/at .*\.ts:\d+/) // no stack trace
      }
    })
  }

  it('writes nothing when the input is bad', async () => {
    const entries = await fs.readdir(dir)
    expect(entries.filter((e) => e.startsWith('out.') || e.includes('.tmp'))).toEqual([])
  })
})
