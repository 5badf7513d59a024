/**
 * DICOM folders through the Node host and the CLI, with the real sample CT written as a
 * series: shuffled file names, a missing slice, two series in one folder, junk beside them.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { readVolume, listDicomFolder } from '../../../electron/adapters/volume-io.ts'
import { mintUid } from '../../../core/io/dicom/index.ts'
import { writeDicomSeries } from '../../helpers/dicom-writer.ts'
import { flipAxis, isRightHanded, voxelToWorld, type Volume } from '../../../core/volume/index.ts'
import { cli } from '../../helpers/cli.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
let dir: string
let ct: Volume

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items]
  let s = seed
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31
    const j = s % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

async function writeSeries(folder: string, vol: Volume, seriesUid: string, skip: number[] = [], prefix = '') {
  const files = writeDicomSeries(vol, {
    patientName: 'CRANIUM^SAMPLE',
    patientId: 'CR0051',
    studyInstanceUid: '2.25.1111',
    seriesInstanceUid: seriesUid,
    frameOfReferenceUid: '2.25.2222',
    modality: 'CT',
  })
  await fs.mkdir(folder, { recursive: true })
  // Names that sort in a different order than the slices: a reader that sorts by name fails.
  const names = shuffled(
    files.map((_, i) => `${prefix}IM${String((i * 7919) % 9973).padStart(5, '0')}`),
    42,
  )
  for (const [i, f] of files.entries()) if (!skip.includes(i)) await fs.writeFile(path.join(folder, names[i]!), f.bytes)
  return files.length
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-dicom-'))
  // The sample is stored bottom-up (LAS, left-handed); DICOM frames are right-handed, so the
  // series is written from the same voxels flipped along j (the layout of the original scan).
  const stored = await readVolume(path.join(ROOT, 'resources/samples/cranium-ct.nii.gz'))
  expect(isRightHanded(stored.direction)).toBe(false)
  ct = flipAxis(stored, 1)
  expect(isRightHanded(ct.direction)).toBe(true)
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

describe('DICOM folder import', () => {
  it('reads the sample CT back voxel-identical with the same geometry from shuffled file names', async () => {
    const folder = path.join(dir, 'shuffled')
    await writeSeries(folder, ct, '2.25.3333')
    const back = await readVolume(folder)
    expect(back.dims).toEqual(ct.dims)
    expect(back.data).toBeInstanceOf(Int16Array)
    expect(
      Buffer.compare(
        Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength),
        Buffer.from(ct.data.buffer, ct.data.byteOffset, ct.data.byteLength),
      ),
    ).toBe(0)
    for (let i = 0; i < 3; i++) {
      expect(back.spacingM[i]).toBeCloseTo(ct.spacingM[i]!, 9)
      expect(back.originM[i]).toBeCloseTo(ct.originM[i]!, 9)
    }
    back.direction.forEach((v, i) => expect(v).toBeCloseTo(ct.direction[i]!, 9))
    expect(back.meta).toMatchObject({ modality: 'CT', patientId: 'CR0051', seriesInstanceUid: '2.25.3333', frameOfReferenceUid: '2.25.2222', valueUnit: 'HU' })
    expect(back.warnings).toEqual([])
  })

  it('keeps every voxel in place when the stored (left-handed) volume itself is written', async () => {
    const stored = flipAxis(ct, 1)
    const folder = path.join(dir, 'left-handed')
    await writeSeries(folder, stored, '2.25.5555')
    const back = await readVolume(folder)
    // DICOM sorts slices along row x column, so k comes back reversed; the world is the same.
    const [nx, ny, nz] = stored.dims
    for (const [i, j, k] of [
      [0, 0, 0],
      [17, 200, 3],
      [255, 255, 107],
      [128, 40, 60],
    ] as const) {
      const p = voxelToWorld(stored, [i, j, k])
      const q = voxelToWorld(back, [i, j, nz - 1 - k])
      p.forEach((v, d) => expect(q[d]).toBeCloseTo(v, 9))
      expect(back.data[i + nx * (j + ny * (nz - 1 - k))]).toBe(stored.data[i + nx * (j + ny * k)])
    }
  })

  it('reports a series with one slice removed instead of stretching it', async () => {
    const folder = path.join(dir, 'gap')
    await writeSeries(folder, ct, '2.25.4444', [50])
    await expect(readVolume(folder)).rejects.toMatchObject({ code: 'missing-slice' })
    const r = await cli(['info', folder])
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/gap/)
    expect(r.err).toMatch(/missing/i)
  })

  it('lists several series in one folder and reads the chosen one', async () => {
    const folder = path.join(dir, 'two-series')
    const small: Volume = { ...ct, dims: [ct.dims[0], ct.dims[1], 10], data: ct.data.subarray(0, ct.dims[0] * ct.dims[1] * 10) }
    const uidA = mintUid()
    const uidB = mintUid()
    await writeSeries(folder, ct, uidA, [], 'a')
    await writeSeries(folder, small, uidB, [], 'b')
    await fs.writeFile(path.join(folder, 'README.txt'), 'not a DICOM file')
    const listing = await listDicomFolder(folder)
    expect(listing.series.map((s) => s.seriesInstanceUid).sort()).toEqual([uidA, uidB].sort())
    expect(listing.skipped.map((s) => path.basename(s.name))).toEqual(['README.txt'])
    await expect(readVolume(folder)).rejects.toMatchObject({ code: 'series-not-chosen' })
    const chosen = await readVolume(folder, { seriesUid: uidB })
    expect(chosen.dims).toEqual([ct.dims[0], ct.dims[1], 10])

    const info = await cli(['info', folder, '--json'])
    expect(info.code).toBe(0)
    const parsed = JSON.parse(info.out)
    expect(parsed.series).toHaveLength(2)
    expect(parsed.warnings.join(' ')).toMatch(/--series/)
    const one = await cli(['info', folder, '--json', '--series', uidB])
    expect(JSON.parse(one.out).dims).toEqual([256, 256, 10])
  })

  it('opening one file of a series reads its whole series', async () => {
    const folder = path.join(dir, 'shuffled')
    const [first] = await fs.readdir(folder)
    const vol = await readVolume(path.join(folder, first!))
    expect(vol.dims).toEqual(ct.dims)
  })

  it('converts a DICOM folder to NIfTI and NRRD with the geometry intact', async () => {
    const folder = path.join(dir, 'shuffled')
    for (const ext of ['.nii.gz', '.nrrd']) {
      const out = path.join(dir, `converted${ext}`)
      const r = await cli(['convert', folder, out])
      expect(r.code, r.err).toBe(0)
      const back = await readVolume(out, { modality: 'CT' })
      expect(back.dims).toEqual(ct.dims)
      back.originM.forEach((v, i) => expect(v).toBeCloseTo(ct.originM[i]!, 6))
      back.direction.forEach((v, i) => expect(v).toBeCloseTo(ct.direction[i]!, 6))
      expect(
        Buffer.compare(
          Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength),
          Buffer.from(ct.data.buffer, ct.data.byteOffset, ct.data.byteLength),
        ),
      ).toBe(0)
    }
  })

  it('opens a series with slice jitter, and tfus info and convert print the warning with the deviation', async () => {
    // 20 slices of the sample, each written as its own file; gaps alternate 2 % long for ten
    // slices then 2 % short, so the middle slice sits 0.2 spacings off: resampled.
    const [nx, ny] = ct.dims
    const dz = ct.spacingM[2]
    const axis = [ct.direction[2], ct.direction[5], ct.direction[8]]
    const depth = Array.from({ length: 20 }, (_, k) => dz * (k <= 10 ? k * 1.02 : 10 * 1.02 + (k - 10) * 0.98))
    const folder = path.join(dir, 'jitter')
    await fs.mkdir(folder, { recursive: true })
    for (const [k, d] of depth.entries()) {
      const slice: Volume = {
        ...ct,
        dims: [nx, ny, 1],
        data: ct.data.subarray(k * nx * ny, (k + 1) * nx * ny),
        originM: [0, 1, 2].map((r) => ct.originM[r]! + d * axis[r]!) as unknown as Volume['originM'],
      }
      const [file] = writeDicomSeries(slice, {
        patientName: 'CRANIUM^SAMPLE',
        patientId: 'CR0051',
        studyInstanceUid: '2.25.1111',
        seriesInstanceUid: '2.25.7777',
        frameOfReferenceUid: '2.25.2222',
        modality: 'CT',
      })
      await fs.writeFile(path.join(folder, `J${k}`), file!.bytes)
    }
    const info = await cli(['info', folder])
    expect(info.code, info.err).toBe(0)
    expect(info.out).toMatch(/\n  - slice spacing is uneven: .* differs by \d+\.\d % \(\d+\.\d{3} mm\) from the median .*resampled onto a regular/)
    const out = path.join(dir, 'jitter.nii.gz')
    const conv = await cli(['convert', folder, out])
    expect(conv.code, conv.err).toBe(0)
    expect(conv.out).toMatch(/warning: slice spacing is uneven/)
    const back = await readVolume(out, { modality: 'CT' })
    expect(back.dims).toEqual([nx, ny, 20])
    expect(back.spacingM[2]).toBeCloseTo(depth[19]! / 19, 6)
  })

  it('reads a gantry-tilted CT onto an orthonormal grid that survives conversion to NIfTI', async () => {
    const t = (12 * Math.PI) / 180
    const [nx, ny] = ct.dims
    const small: Volume = { ...ct, dims: [nx, ny, 12], data: ct.data.subarray(0, nx * ny * 12) }
    // Stack along column 2 tilted toward column 1 (j): a sheared frame as the scanner writes it.
    const d = small.direction
    const tilted: Volume['direction'] = [
      d[0],
      d[1],
      Math.cos(t) * d[2] + Math.sin(t) * d[1],
      d[3],
      d[4],
      Math.cos(t) * d[5] + Math.sin(t) * d[4],
      d[6],
      d[7],
      Math.cos(t) * d[8] + Math.sin(t) * d[7],
    ]
    const folder = path.join(dir, 'tilted')
    await writeSeries(folder, { ...small, direction: tilted }, '2.25.8888')
    const info = await cli(['info', folder])
    expect(info.code, info.err).toBe(0)
    expect(info.out).toMatch(/\n  - gantry tilt of 12\.00° .*resampled onto a regular grid/)
    const out = path.join(dir, 'tilted.nii.gz')
    expect((await cli(['convert', folder, out])).code).toBe(0)
    const back = await readVolume(out, { modality: 'CT' })
    back.direction.forEach((v, i) => expect(v).toBeCloseTo(ct.direction[i]!, 6))
    expect(back.spacingM[2]).toBeCloseTo(ct.spacingM[2] * Math.cos(t), 6)
  })
})
