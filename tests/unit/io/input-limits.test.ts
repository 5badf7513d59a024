/**
 * Every path read as an image is checked before it is read: a device, a FIFO or a socket is
 * refused unopened (a FIFO must not hang the CLI), an oversized file unread, and a header that
 * declares more voxels than a volume may have (or a spacing of 0) before anything is allocated.
 * Exit 2 at the CLI, one line naming the file.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs } from 'node:fs'
import { execFileSync } from 'node:child_process'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { gzipSync } from 'fflate'
import { buildNifti1 } from '../../helpers/nifti.ts'
import { cli } from '../../helpers/cli.ts'
import { listDicomFolder, readVolume, MAX_IMAGE_FILE_BYTES } from '../../../electron/adapters/volume-io.ts'
import { checkDeclaredSize, gunzipBounded, MAX_VOXELS, parseTextImageHeader } from '../../../core/io/limits.ts'
import { parseNiftiHeader } from '../../../core/io/nifti-header.ts'
import { isImportError } from '../../../core/io/errors.ts'

let dir: string
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-limits-'))
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

const SFORM = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
]
const good = () => buildNifti1({ dims: [8, 8, 8], sform: SFORM, datatype: 4, data: new Int16Array(512).fill(7) })
const text = (s: string) => new TextEncoder().encode(s)

async function put(name: string, bytes: Uint8Array | string): Promise<string> {
  const file = path.join(dir, name)
  await fs.mkdir(path.dirname(file), { recursive: true })
  await fs.writeFile(file, bytes)
  return file
}

/** `info` and `convert` both exit 2 with one line naming `named` and matching `problem`, within `ms`. */
async function expectRefused(target: string, problem: RegExp, named = path.basename(target), ms = 5000): Promise<void> {
  for (const cmd of [
    ['info', target],
    ['convert', target, path.join(dir, 'out.nii.gz')],
  ]) {
    const started = performance.now()
    const r = await cli(cmd)
    expect(performance.now() - started, `${cmd[0]} took too long`).toBeLessThan(ms)
    expect(r.code, `${cmd[0]}: ${r.err}`).toBe(2)
    const lines = r.err.trim().split('\n')
    expect(lines, r.err).toHaveLength(1)
    expect(lines[0]).toContain(named)
    expect(lines[0]).toMatch(problem)
    expect(r.err).not.toMatch(/at .*\.ts:\d+/)
  }
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise
  } catch (e) {
    if (isImportError(e)) return { code: e.code, message: e.message }
    throw e
  }
  throw new Error('expected a rejection')
}

describe('not a regular file: refused before it is opened', () => {
  it('/dev/zero', async () => {
    await expectRefused('/dev/zero', /character device, not a regular file/, '/dev/zero')
    expect(await rejection(readVolume('/dev/zero'))).toMatchObject({ code: 'not-a-file' })
  })

  it('a FIFO does not hang the CLI', async () => {
    const fifo = path.join(dir, 'pipe.nii.gz')
    execFileSync('mkfifo', [fifo])
    await expectRefused(fifo, /FIFO \(named pipe\), not a regular file/)
    expect(await rejection(readVolume(fifo))).toMatchObject({ code: 'not-a-file' })
  })

  it('a socket', async () => {
    const socket = path.join(dir, 'image.sock')
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(socket, resolve))
    try {
      expect(await rejection(readVolume(socket))).toMatchObject({ code: 'not-a-file', message: expect.stringMatching(/image\.sock: is a socket/) })
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('a DICOM folder holding only a FIFO: the FIFO is never opened', async () => {
    const folder = path.join(dir, 'fifo-folder')
    await fs.mkdir(folder)
    execFileSync('mkfifo', [path.join(folder, 'slice.dcm')])
    expect(await rejection(listDicomFolder(folder))).toMatchObject({ code: 'empty-folder' })
    expect(await rejection(readVolume(folder))).toMatchObject({ code: 'empty-folder' })
  })

  it('a file larger than the cap is refused unread (a sparse file: no disk used)', async () => {
    const file = path.join(dir, 'huge.nii')
    await fs.writeFile(file, good())
    await fs.truncate(file, MAX_IMAGE_FILE_BYTES + 1)
    await expectRefused(file, /GiB, larger than the 2 GiB an image file may have/)
    expect(await rejection(readVolume(file))).toMatchObject({ code: 'too-large' })
  })

  it('a .mhd whose ElementDataFile is /dev/zero', async () => {
    const file = await put(
      'zero.mhd',
      'ObjectType = Image\nNDims = 3\nDimSize = 8 8 8\nElementType = MET_SHORT\nElementSpacing = 1 1 1\nElementDataFile = /dev/zero\n',
    )
    await expectRefused(file, /ElementDataFile names \/dev\/zero, which is a character device/)
  })

  it('a .nhdr whose data file is a FIFO', async () => {
    execFileSync('mkfifo', [path.join(dir, 'data.raw')])
    const file = await put(
      'fifo.nhdr',
      'NRRD0004\ntype: short\ndimension: 3\nsizes: 8 8 8\nspacings: 1 1 1\nencoding: raw\nendian: little\ndata file: data.raw\n\n',
    )
    await expectRefused(file, /data file names .*data\.raw, which is a FIFO/)
  })
})

describe('declared sizes: refused before allocation, naming the field', () => {
  it('NIfTI whose dim declares 32767^3 voxels (only the header on disk)', async () => {
    const b = good().slice(0, 352)
    const v = new DataView(b.buffer)
    for (let i = 0; i < 3; i++) v.setInt16(42 + 2 * i, 32767, true)
    await expectRefused(await put('huge-dims.nii', b), /dim declares 32767 x 32767 x 32767 .*voxels, more than the 2147483648/)
  })

  it('.nii.gz declaring 30000^3 voxels: refused from the header, the stream is not inflated', async () => {
    const b = good().slice(0, 352)
    const v = new DataView(b.buffer)
    for (let i = 0; i < 3; i++) v.setInt16(42 + 2 * i, 30000, true)
    await expectRefused(await put('huge-dims.nii.gz', gzipSync(b)), /dim declares 30000 x 30000 x 30000/)
  })

  it('.nii.gz that inflates far beyond what its header declares (a gzip bomb)', async () => {
    const bomb = new Uint8Array(352 + 1024 + 24 * 2 ** 20)
    bomb.set(good())
    await expectRefused(await put('bomb.nii.gz', gzipSync(bomb, { level: 1 })), /inflates to more than .* bytes, more than its NIfTI header declares/)
  })

  it('compressed MHA declaring 100000^3 voxels', async () => {
    const header =
      'ObjectType = Image\nNDims = 3\nDimSize = 100000 100000 100000\nElementType = MET_SHORT\nElementSpacing = 1 1 1\nCompressedData = True\nCompressedDataSize = 20\nElementDataFile = LOCAL\n'
    await expectRefused(
      await put('huge.mha', new Uint8Array([...text(header), ...gzipSync(new Uint8Array(1000))])),
      /DimSize declares 100000 x 100000 x 100000 = 1\.000e\+15 voxels/,
    )
  })

  it('NRRD declaring 5000^3 voxels', async () => {
    const header = 'NRRD0004\ntype: float\ndimension: 3\nsizes: 5000 5000 5000\nspacings: 1 1 1\nencoding: gzip\nendian: little\n\n'
    await expectRefused(await put('huge.nrrd', new Uint8Array([...text(header), ...gzipSync(new Uint8Array(1000))])), /sizes declares 5000 x 5000 x 5000/)
  })

  it('the byte cap (half the memory) names the element size', () => {
    expect(() => checkDeclaredSize('ct.mha', 'DimSize', [1000, 1000, 1000], 8, { maxVoxels: MAX_VOXELS, maxBytes: 4 * 2 ** 30 })).toThrow(
      /^ct\.mha: DimSize declares 1000 x 1000 x 1000 voxels of 8 bytes = 7\.5 GiB, more than the 4\.0 GiB this machine can hold$/,
    )
    expect(() => checkDeclaredSize('ct.mha', 'DimSize', [512, 512, 400], 2)).not.toThrow()
  })

  it('reads dims, element size and the data file from text headers', () => {
    expect(
      parseTextImageHeader(
        text(
          'ObjectType = Image\nNDims = 3\nDimSize = 4 5 6\nElementNumberOfChannels = 3\nElementType = MET_FLOAT\nElementDataFile = img.raw\nDimSize = 9 9 9\n',
        ),
        'metaimage',
      ),
    ).toEqual({
      dimsField: 'DimSize',
      dims: [4, 5, 6],
      bytesPerVoxel: 12,
      dataFile: 'img.raw',
      dataFileField: 'ElementDataFile',
    })
    expect(parseTextImageHeader(text('ObjectType = Image\nDimSize = 4 5 6\nElementType = MET_USHORT\nElementDataFile = LOCAL\n'), 'metaimage')).toEqual({
      dimsField: 'DimSize',
      dims: [4, 5, 6],
      bytesPerVoxel: 2,
    })
    expect(parseTextImageHeader(text('NRRD0004\n# comment\ntype: unsigned short\nsizes: 7 8 9\n\nsizes: 1 1 1'), 'nrrd')).toEqual({
      dimsField: 'sizes',
      dims: [7, 8, 9],
      bytesPerVoxel: 2,
    })
    expect(parseTextImageHeader(text('NRRD0004\ntype: double\nsizes: 7 8 9\ndatafile: LIST\n\n'), 'nrrd')).toEqual({
      dimsField: 'sizes',
      dims: [7, 8, 9],
      bytesPerVoxel: 8,
    })
    expect(parseTextImageHeader(text('NRRD0004\ntype: short\ndimension: banana\n\n'), 'nrrd')).toBeUndefined()
  })

  it('gunzipBounded: a header peek, the cap, a damaged stream', () => {
    const data = new Uint8Array(100_000).map((_, i) => i % 251)
    const z = gzipSync(data)
    expect(gunzipBounded(z, 'a.gz', { maxBytes: 100_000 })).toEqual(data)
    expect(gunzipBounded(z, 'a.gz', { wantBytes: 100, maxBytes: Infinity }).length).toBeGreaterThanOrEqual(100)
    expect(() => gunzipBounded(z, 'a.gz', { maxBytes: 1000 })).toThrow(/a\.gz: the gzip stream inflates to more than 1000 bytes/)
    expect(() => gunzipBounded(z.subarray(0, z.length - 100), 'a.gz', { maxBytes: 100_000 })).toThrow(/a\.gz: the gzip stream is damaged or cut short/)
  })
})

describe('NIfTI pixdim: a spacing that is not a positive number is refused, naming the field', () => {
  for (const [name, axis, value, shown] of [
    ['zero', 1, 0, '0'],
    ['negative', 2, -1.5, '-1.5'],
    ['NaN', 3, Number.NaN, 'NaN'],
    ['infinite', 1, Number.POSITIVE_INFINITY, 'Infinity'],
  ] as const) {
    it(`pixdim[${axis}] ${name}`, async () => {
      const b = good()
      new DataView(b.buffer).setFloat32(76 + 4 * axis, value, true)
      expect(() => parseNiftiHeader(b, 'x.nii')).toThrow(`x.nii: pixdim[${axis}] (voxel spacing) is ${shown}, must be a positive number of mm`)
      await expectRefused(await put(`pixdim-${name}.nii.gz`, gzipSync(b)), new RegExp(`pixdim\\[${axis}\\] \\(voxel spacing\\) is ${shown}`))
    })
  }

  it('a valid file still reads, with its spacing', async () => {
    const volume = await readVolume(await put('fine.nii', good()))
    expect(volume.dims).toEqual([8, 8, 8])
    expect(volume.spacingM.map((s) => s * 1000)).toEqual([1, 1, 1])
  })
})
