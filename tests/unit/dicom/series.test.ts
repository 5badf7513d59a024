import { describe, it, expect } from 'vitest'
import { assembleSeries, scanDicomFiles, parseDicom, mintUid, isValidUid, formatDS, Tag, TransferSyntax, type DicomFile } from '../../../core/io/dicom/index.ts'
import { writeDicomSeries, type WriteDicomOptions } from '../../helpers/dicom-writer.ts'
import { ImportError } from '../../../core/io/errors.ts'
import { mat3AxisAngle, normalize3 } from '../../../core/math/index.ts'
import type { Mat3, Vec3, Volume, VoxelArray } from '../../../core/volume/types.ts'
import { concat, el, text, i16, u16, part10, imageDataset, rng, shuffle, ITEM, SEQ_END, UNDEFINED, EXPLICIT_BE, IMPLICIT_LE } from './build.ts'

function importError(fn: () => unknown): ImportError {
  try {
    fn()
  } catch (e) {
    if (e instanceof ImportError) return e
    throw new Error(`expected ImportError, got ${String(e)}`, { cause: e })
  }
  throw new Error('expected ImportError, but nothing was thrown')
}

/** Rotation about an arbitrary axis (Rodrigues), so the direction is truly oblique. */
const rotation = (axis: Vec3, angleRad: number): Mat3 => mat3AxisAngle(normalize3(axis), angleRad)

function makeVolume<T extends VoxelArray>(data: T, over: Partial<Volume> = {}): Volume<T> {
  return {
    data,
    dims: [32, 24, 10],
    spacingM: [0.00043, 0.00061, 0.00125],
    originM: [-0.0123456789, 0.0456789012, -0.0789012345],
    direction: rotation([0.3, -0.5, 0.8], 0.4),
    meta: { modality: 'CT', manufacturer: 'ACME', kvp: 120, convolutionKernel: 'H31s' },
    warnings: [],
    ...over,
  } as Volume<T>
}

function ctData(n = 32 * 24 * 10): Int16Array {
  const random = rng(7)
  return Int16Array.from({ length: n }, () => Math.floor(random() * 4000) - 1024)
}

const OPTS: WriteDicomOptions = {
  patientName: 'Müller^Jürgen',
  patientId: 'P-0001',
  studyInstanceUid: '2.25.11',
  seriesInstanceUid: '2.25.22',
  frameOfReferenceUid: '2.25.33',
  seriesNumber: 7,
  seriesDescription: 'Head 0.6 H31s',
}

/** Writer output under random names, in random order. */
function scrambled(files: DicomFile[], seed: number): DicomFile[] {
  const random = rng(seed)
  const renamed = files.map((f) => ({ name: `x${Math.floor(random() * 1e9).toString(36)}.dcm`, bytes: f.bytes }))
  return shuffle(renamed, random)
}

function world(v: Volume, i: number, j: number, k: number): Vec3 {
  const d = v.direction
  const [sx, sy, sz] = v.spacingM
  const p = [i * sx, j * sy, k * sz]
  return [0, 1, 2].map((r) => v.originM[r]! + d[3 * r]! * p[0]! + d[3 * r + 1]! * p[1]! + d[3 * r + 2]! * p[2]!) as unknown as Vec3
}

/** A smooth field of world position (HU-like numbers), linear so interpolation reproduces it. */
const field = (p: Vec3): number => 3e4 * p[0] - 2e4 * p[1] + 2.5e4 * p[2]

/** int16 voxels of `field` at each voxel's world position `at(i, j, k)`. */
function linearData(nx: number, ny: number, nz: number, at: (i: number, j: number, k: number) => Vec3): Int16Array {
  const out = new Int16Array(nx * ny * nz)
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) out[(k * ny + j) * nx + i] = Math.round(field(at(i, j, k)))
  return out
}

function expectGeometry(back: Volume, vol: Volume, tol = 1e-9): void {
  expect(back.dims).toEqual(vol.dims)
  for (let i = 0; i < 3; i++) {
    expect(Math.abs(back.spacingM[i]! - vol.spacingM[i]!)).toBeLessThan(tol)
    expect(Math.abs(back.originM[i]! - vol.originM[i]!)).toBeLessThan(tol)
  }
  for (let i = 0; i < 9; i++) expect(Math.abs(back.direction[i]! - vol.direction[i]!)).toBeLessThan(tol)
}

describe('write → scan → assemble round trip', () => {
  const vol = makeVolume(ctData())
  const files = scrambled(writeDicomSeries(vol, OPTS), 1)

  it('writes valid Part 10 CT files', () => {
    expect(files).toHaveLength(10)
    const ds = parseDicom(files[0]!.bytes, files[0]!.name)
    expect(ds.transferSyntaxUid).toBe(TransferSyntax.ExplicitVRLittleEndian)
    expect(ds.uid(Tag.SOPClassUID)).toBe('1.2.840.10008.5.1.4.1.1.2')
    expect(ds.uid(Tag.MediaStorageSOPInstanceUID)).toBe(ds.uid(Tag.SOPInstanceUID))
    expect(isValidUid(ds.uid(Tag.SOPInstanceUID) ?? '')).toBe(true)
    expect(ds.numbers(Tag.FileMetaInformationGroupLength)).toHaveLength(1)
    for (const t of [Tag.ImagePositionPatient, Tag.ImageOrientationPatient, Tag.PixelSpacing]) {
      for (const s of ds.strings(t) ?? []) expect(s.length).toBeLessThanOrEqual(16)
    }
    expect(ds.numbers(Tag.BitsAllocated)).toEqual([16])
    expect(ds.number(Tag.PixelRepresentation)).toBe(1)
    expect(ds.string(Tag.RescaleSlope)).toBe('1')
    expect(ds.string(Tag.RescaleIntercept)).toBe('0')
    expect(ds.warnings).toEqual([])
    // Every element length is even (PS3.5 §7.1.1).
    for (const e of ds.elements.values()) expect(e.value.length % 2).toBe(0)
    const sops = new Set(files.map((f) => parseDicom(f.bytes, f.name, { headerOnly: true }).uid(Tag.SOPInstanceUID)))
    expect(sops.size).toBe(10)
  })

  it('scans one series with the right summary', () => {
    const { series, skipped } = scanDicomFiles(files)
    expect(skipped).toEqual([])
    expect(series).toHaveLength(1)
    const s = series[0]!
    expect(s).toMatchObject({
      seriesInstanceUid: '2.25.22',
      modality: 'CT',
      description: 'Head 0.6 H31s',
      seriesNumber: 7,
      patientName: 'Müller^Jürgen',
      patientId: 'P-0001',
      studyInstanceUid: '2.25.11',
      frameOfReferenceUid: '2.25.33',
      sliceCount: 10,
      rows: 24,
      columns: 32,
      transferSyntaxUids: [TransferSyntax.ExplicitVRLittleEndian],
    })
    expect(s.pixelSpacingM![0]).toBeCloseTo(0.00043, 12)
    expect(s.pixelSpacingM![1]).toBeCloseTo(0.00061, 12)
    expect(s.sliceSpacingM).toBeCloseTo(0.00125, 12)
    expect(new Set(s.files)).toEqual(new Set(files.map((f) => f.name)))
  })

  it('assembles voxel-identical data with the same geometry, from shuffled names', () => {
    const back = assembleSeries(files, { source: 'series-folder' })
    expect(back.data).toBeInstanceOf(Int16Array)
    expect(back.data).toEqual(vol.data)
    expectGeometry(back, vol)
    expect(back.warnings).toEqual([])
    expect(back.meta).toMatchObject({
      modality: 'CT',
      valueUnit: 'HU',
      patientName: 'Müller^Jürgen',
      patientId: 'P-0001',
      studyInstanceUid: '2.25.11',
      seriesInstanceUid: '2.25.22',
      frameOfReferenceUid: '2.25.33',
      seriesNumber: 7,
      seriesDescription: 'Head 0.6 H31s',
      manufacturer: 'ACME',
      kvp: 120,
      convolutionKernel: 'H31s',
      source: 'series-folder',
    })
  })

  it('header-only assembly gives the same geometry and no pixels', () => {
    const head = assembleSeries(files, { source: 's', headerOnly: true })
    expect(head.data.length).toBe(0)
    expectGeometry(head, vol)
  })

  it('refuses a series whose Rows x Columns x slices exceed the caps before allocating it', () => {
    const files = writeDicomSeries(vol, OPTS)
    const e = importError(() => assembleSeries(files, { source: 'big-folder', caps: { maxVoxels: 100, maxBytes: Number.POSITIVE_INFINITY } }))
    expect(e.code).toBe('too-large')
    expect(e.file).toBe('big-folder')
    expect(e.problem).toMatch(/Rows x Columns x slices declares/)
    const bytes = importError(() => assembleSeries(files, { source: 'big-folder', caps: { maxVoxels: 2 ** 31, maxBytes: 1000 } }))
    expect(bytes.problem).toMatch(/GiB/)
    expect(assembleSeries(files, { source: 'ok', caps: { maxVoxels: vol.data.length, maxBytes: 4 * vol.data.length } }).data.length).toBe(vol.data.length)
  })

  it('reports a missing middle slice naming the neighbouring files and positions', () => {
    const original = writeDicomSeries(vol, OPTS)
    const names = original.map((_, k) => `slice-${String.fromCharCode(97 + k)}.dcm`)
    const named = original.map((f, k) => ({ name: names[k]!, bytes: f.bytes }))
    const gappy = shuffle(
      named.filter((_, k) => k !== 5),
      rng(3),
    )
    const e = importError(() => assembleSeries(gappy, { source: 'gap-folder' }))
    expect(e.code).toBe('missing-slice')
    expect(e.file).toBe('gap-folder')
    expect(e.problem).toContain(names[4])
    expect(e.problem).toContain(names[6])
    expect(e.problem).toMatch(/2\.50\d? mm/)
    expect(e.problem).toMatch(/\(-?\d+(\.\d+)?, -?\d+(\.\d+)?, -?\d+(\.\d+)?\) mm/)
  })

  it('lists two series from one mixed list and refuses to assemble them together', () => {
    const other = writeDicomSeries(makeVolume(ctData(32 * 24 * 4), { dims: [32, 24, 4] }), { ...OPTS, seriesInstanceUid: '2.25.44', seriesNumber: 8 })
    const mixedFiles = shuffle([...files, ...scrambled(other, 9)], rng(5))
    const { series } = scanDicomFiles(mixedFiles)
    expect(series.map((s) => [s.seriesInstanceUid, s.sliceCount])).toEqual([
      ['2.25.22', 10],
      ['2.25.44', 4],
    ])
    const e = importError(() => assembleSeries(mixedFiles))
    expect(e.code).toBe('mixed-series')
    const namesInMessage = mixedFiles.filter((f) => e.message.includes(f.name))
    expect(namesInMessage.length).toBeGreaterThanOrEqual(2)
  })

  it('skips non-image and non-DICOM files with a reason', () => {
    const sr = part10(
      TransferSyntax.ExplicitVRLittleEndian,
      concat(
        el(0x00080016, 'UI', text('1.2.840.10008.5.1.4.1.1.481.3', 'UI')),
        el(0x00080060, 'CS', text('RTSTRUCT')),
        el(0x0020000e, 'UI', text('2.25.22', 'UI')),
      ),
      '1.2.840.10008.5.1.4.1.1.481.3',
    )
    const junk = [
      { name: 'rtstruct.dcm', bytes: sr },
      { name: 'notes.txt', bytes: new TextEncoder().encode('hello, this is not DICOM at all, nothing to see') },
      { name: 'empty.dcm', bytes: new Uint8Array(0) },
      { name: 'cut.dcm', bytes: files[0]!.bytes.subarray(0, 700) },
    ]
    const { series, skipped } = scanDicomFiles([...files, ...junk])
    expect(series).toHaveLength(1)
    expect(series[0]!.sliceCount).toBe(10)
    expect(skipped.map((s) => s.name)).toEqual(['rtstruct.dcm', 'notes.txt', 'empty.dcm', 'cut.dcm'])
    expect(skipped[0]!.reason).toMatch(/no PixelData.*RT Structure Set/)
    expect(skipped[1]!.reason).toMatch(/not a DICOM file/)
    expect(skipped[2]!.reason).toMatch(/empty/)
    expect(skipped[3]!.reason).toMatch(/file ends/)
    const e = importError(() => assembleSeries([...files, junk[0]!]))
    expect(e.code).toBe('not-an-image')
    expect(e.file).toBe('rtstruct.dcm')
  })

  it('rejects truncated slices and foreign files in assembly with ImportError naming the file', () => {
    const cut = files.map((f, k) => (k === 2 ? { name: f.name, bytes: f.bytes.subarray(0, f.bytes.length - 100) } : f))
    const e = importError(() => assembleSeries(cut))
    expect(e.code).toBe('truncated')
    expect(e.file).toBe(files[2]!.name)
    const png = { name: 'photo.dcm', bytes: concat(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10), new Uint8Array(200)) }
    const e2 = importError(() => assembleSeries([png, ...files]))
    expect(e2.code).toBe('unsupported-format')
    expect(e2.message).toMatch(/^photo\.dcm: not a DICOM file/)
  })
})

/** One single-slice file placed at `z` mm along +z (axial), for irregular stacks. */
function axialSlice(z: number, extra: Partial<WriteDicomOptions> = {}, over: Partial<Volume> = {}): Uint8Array {
  const v = makeVolume(new Int16Array(4 * 3).fill(Math.round(z)), {
    dims: [4, 3, 1],
    spacingM: [0.001, 0.001, 0.001],
    originM: [0, 0, z / 1000],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    ...over,
  })
  return writeDicomSeries(v, { ...OPTS, ...extra })[0]!.bytes
}

describe('slice ordering and spacing', () => {
  it('sorts by position along the normal, not by name', () => {
    const zs = [4, 0, 3, 1, 2]
    const files = zs.map((z, k) => ({ name: `a${k}.dcm`, bytes: axialSlice(z) }))
    const v = assembleSeries(files)
    expect(v.dims).toEqual([4, 3, 5])
    expect([0, 1, 2, 3, 4].map((k) => v.data[k * 12])).toEqual([0, 1, 2, 3, 4])
    expect(v.originM[2]).toBeCloseTo(0, 12)
    expect(v.spacingM[2]).toBeCloseTo(0.001, 12)
  })

  it('passes gaps within 1 % silently and warns about larger jitter with the deviation', () => {
    const ok = [0, 1, 2, 3.005, 4, 5].map((z, k) => ({ name: `o${k}.dcm`, bytes: axialSlice(z) }))
    const quiet = assembleSeries(ok)
    expect(quiet.dims[2]).toBe(6)
    expect(quiet.warnings).toEqual([])
    // 5 % on one gap: slice 3 is 0.05 mm off the 1 mm grid, under a tenth of the spacing.
    const files = [0, 1, 2, 3.05, 4, 5].map((z, k) => ({ name: `u${k}.dcm`, bytes: axialSlice(z) }))
    const v = assembleSeries(files, { source: 'uneven' })
    expect(v.dims[2]).toBe(6)
    expect(v.spacingM[2]).toBeCloseTo(0.001, 12)
    expect(v.warnings.join(' ')).toMatch(/uneven.*u[23]\.dcm.*5\.0 % \(0\.050 mm\).*kept.*0\.050 mm/)
    // Kept, not interpolated: each slice's own values.
    expect([0, 1, 2, 3, 4, 5].map((k) => v.data[k * 12])).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('rejects duplicate positions and mixed orientations', () => {
    const dup = [0, 1, 1, 2].map((z, k) => ({ name: `d${k}.dcm`, bytes: axialSlice(z) }))
    const e = importError(() => assembleSeries(dup))
    expect(e.code).toBe('inconsistent-geometry')
    expect(e.message).toMatch(/d[12]\.dcm/)
    const same = { name: 'again.dcm', bytes: dup[0]!.bytes }
    expect(importError(() => assembleSeries([dup[0]!, same, dup[1]!])).problem).toMatch(/same image/)
    const tilted = axialSlice(3, {}, { direction: rotation([1, 0, 0], 0.2) })
    const e2 = importError(() => assembleSeries([...dup.slice(0, 2), { name: 'rot.dcm', bytes: tilted }]))
    expect(e2.code).toBe('mixed-series')
    expect(e2.message).toMatch(/rot\.dcm.*orientation.*d0\.dcm/)
  })

  it('resamples a gantry-tilted stack onto a regular grid along the slice normal and warns with the angle', () => {
    const tiltDeg = 15
    const t = (tiltDeg * Math.PI) / 180
    // Axial slices stacked along a direction tilted 15° in the y-z plane.
    const direction: Mat3 = [1, 0, 0, 0, 1, Math.sin(t), 0, 0, Math.cos(t)]
    const geometry = makeVolume(new Int16Array(0), { dims: [32, 24, 6], direction })
    const vol = { ...geometry, data: linearData(32, 24, 6, (i, j, k) => world(geometry, i, j, k)) }
    const back = assembleSeries(scrambled(writeDicomSeries(vol, OPTS), 4))
    expect(back.warnings.join(' ')).toMatch(/gantry tilt of 15\.00°.*resampled onto a regular grid/)
    // The output grid is orthonormal: slices along the normal, spacing cos(15°) x the stack step.
    expect(back.direction.map((x) => Math.round(x * 1e9) / 1e9)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1])
    expect(back.spacingM[2]).toBeCloseTo(vol.spacingM[2] * Math.cos(t), 9)
    expect(back.originM).toEqual(vol.originM.map((x) => expect.closeTo(x, 9)))
    // Every voxel holds the value of the field at its own world position (the field is linear,
    // so bilinear interpolation reproduces it up to int16 rounding), except where the shift
    // pulls in samples from outside the stored field of view.
    const shiftPx = (vol.spacingM[2] * Math.sin(t)) / vol.spacingM[1]
    let checked = 0
    for (let k = 0; k < 6; k++) {
      for (let j = 0; j < 24; j++) {
        if (j - k * shiftPx < 0) continue
        for (let i = 0; i < 32; i++) {
          expect(Math.abs(back.data[(k * 24 + j) * 32 + i]! - field(world(back, i, j, k)))).toBeLessThanOrEqual(1)
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThan(32 * 24 * 4)
    // The strip the tilt uncovers takes the series' lowest value, not a made-up one.
    const lowest = Math.min(...vol.data)
    expect(back.data[(5 * 24 + 0) * 32 + 3]).toBe(lowest)
  })

  it('refuses to assemble a tilted compressed series header-only (its pixels would be placed unresampled)', () => {
    const t = (10 * Math.PI) / 180
    const vol = makeVolume(ctData(32 * 24 * 4), { dims: [32, 24, 4], direction: [1, 0, 0, 0, 1, Math.sin(t), 0, 0, Math.cos(t)] })
    const e = importError(() => assembleSeries(writeDicomSeries(vol, OPTS), { source: 'tilted', headerOnly: true }))
    expect(e.code).toBe('inconsistent-geometry')
    expect(e.message).toMatch(/^tilted: the slices must be resampled .*gantry tilt of 10\.00°/)
  })

  it('accepts a single slice with SliceThickness as spacing', () => {
    const v = assembleSeries([{ name: 'one.dcm', bytes: axialSlice(7) }])
    expect(v.dims).toEqual([4, 3, 1])
    expect(v.spacingM[2]).toBeCloseTo(0.001, 12)
    expect(v.originM[2]).toBeCloseTo(0.007, 12)
    const hand = part10(TransferSyntax.ExplicitVRLittleEndian, imageDataset({ rows: 1, columns: 2, pixels: i16([1, 2]), sliceThickness: '2.5' }))
    expect(assembleSeries([{ name: 'h.dcm', bytes: hand }]).spacingM[2]).toBeCloseTo(0.0025, 12)
  })
})

describe('pixel formats', () => {
  const series = (
    specs: Parameters<typeof imageDataset>[0][],
    ts: string = TransferSyntax.ExplicitVRLittleEndian,
    enc = undefined as Parameters<typeof imageDataset>[1],
  ) => specs.map((s, k) => ({ name: `p${k}.dcm`, bytes: part10(ts, imageDataset({ ipp: `0\\0\\${k}`, ...s }, enc)) }))

  it('applies a float rescale slope per slice into Float32Array', () => {
    const files = series([
      { rows: 1, columns: 3, pixels: i16([0, 1, -3]), slope: '0.5', intercept: '-10.25' },
      { rows: 1, columns: 3, pixels: i16([4, 100, 7]), slope: '0.25', intercept: '1' },
    ])
    const v = assembleSeries(files)
    expect(v.data).toBeInstanceOf(Float32Array)
    expect([...v.data]).toEqual([-10.25, -9.75, -11.75, 2, 26, 2.75])
  })

  it('writer quantises float data through slope/intercept that read back to Float32Array', () => {
    const random = rng(11)
    const data = Float32Array.from({ length: 32 * 24 * 3 }, () => random() * 7.3 - 2.1)
    const vol = makeVolume(data, { dims: [32, 24, 3], meta: { modality: 'MR' } })
    const files = writeDicomSeries(vol, OPTS)
    const ds = parseDicom(files[0]!.bytes, 'f')
    expect(ds.uid(Tag.SOPClassUID)).toBe('1.2.840.10008.5.1.4.1.1.4')
    const slope = ds.number(Tag.RescaleSlope)!
    expect(slope).toBeGreaterThan(0)
    expect(slope).toBeLessThan(1e-3)
    const back = assembleSeries(files)
    expect(back.data).toBeInstanceOf(Float32Array)
    expect(back.meta.modality).toBe('MR')
    expect(back.meta.valueUnit).toBeUndefined()
    let worst = 0
    for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(back.data[i]! - data[i]!))
    expect(worst).toBeLessThanOrEqual(slope / 2 + 1e-6)
  })

  it('writer shifts wide integer data losslessly and the reader returns it exactly', () => {
    const data = Uint16Array.from({ length: 32 * 24 * 2 }, (_, i) => (i * 37) % 60000)
    const vol = makeVolume(data, { dims: [32, 24, 2] })
    const back = assembleSeries(writeDicomSeries(vol, OPTS))
    expect(back.data).toBeInstanceOf(Float32Array) // 0..59999 does not fit int16
    expect([...back.data]).toEqual([...data])
  })

  it('keeps int16 output for integral rescale of unsigned data (slope 1, intercept -1024)', () => {
    const files = series([
      { rows: 1, columns: 2, pixels: u16([0, 4000]), signed: false, intercept: '-1024', slope: '1' },
      { rows: 1, columns: 2, pixels: u16([1024, 2048]), signed: false, intercept: '-1024', slope: '1' },
    ])
    const v = assembleSeries(files)
    expect(v.data).toBeInstanceOf(Int16Array)
    expect([...v.data]).toEqual([-1024, 2976, 0, 1024])
    expect(v.meta.valueUnit).toBe('HU')
  })

  it('masks bits above BitsStored and sign-extends (PS3.5 §8.1.1)', () => {
    // 12-bit signed: 0xF800 is -2048 in 12 bits; 0x1005 has a stray bit 12 set (value 5).
    const files = series([{ rows: 1, columns: 3, pixels: u16([0xf800, 0x1005, 0x07ff]), bitsStored: 12 }])
    expect([...assembleSeries(files).data]).toEqual([-2048, 5, 2047])
  })

  it('reads 8-bit unsigned and big endian 16-bit pixel data', () => {
    const eight = series([{ rows: 1, columns: 3, pixels: Uint8Array.of(0, 128, 255, 0), bitsAllocated: 8, signed: false }])
    expect([...assembleSeries(eight).data]).toEqual([0, 128, 255])
    const be = series([{ rows: 2, columns: 2, pixels: i16([-1000, 0, 1000, 32767], false) }], TransferSyntax.ExplicitVRBigEndian, EXPLICIT_BE)
    expect([...assembleSeries(be).data]).toEqual([-1000, 0, 1000, 32767])
  })

  it('reads implicit VR little endian image files', () => {
    const files = series(
      [
        { rows: 1, columns: 2, pixels: i16([-5, 5]) },
        { rows: 1, columns: 2, pixels: i16([-6, 6]) },
      ],
      TransferSyntax.ImplicitVRLittleEndian,
      IMPLICIT_LE,
    )
    const v = assembleSeries(files)
    expect([...v.data]).toEqual([-5, 5, -6, 6])
    expect(v.spacingM[2]).toBeCloseTo(0.001, 12)
  })

  it('refuses encapsulated pixel data naming the transfer syntax; header-only still works', () => {
    const frags = concat(el(ITEM, '', new Uint8Array(0)), el(ITEM, '', Uint8Array.of(1, 2, 3, 4)), el(SEQ_END, '', new Uint8Array(0)))
    const jpeg = '1.2.840.10008.1.2.4.90'
    const files = [0, 1].map((k) => ({
      name: `j${k}.dcm`,
      bytes: part10(jpeg, imageDataset({ rows: 2, columns: 2, pixels: frags, pixelVr: 'OB', pixelLength: UNDEFINED, ipp: `0\\0\\${k * 2}` })),
    }))
    const e = importError(() => assembleSeries(files))
    expect(e.code).toBe('unsupported-pixel-format')
    expect(e.problem).toMatch(/transfer syntax JPEG 2000 Lossless \(1\.2\.840\.10008\.1\.2\.4\.90\)/)
    const head = assembleSeries(files, { headerOnly: true })
    expect(head.dims).toEqual([2, 2, 2])
    expect(head.spacingM[2]).toBeCloseTo(0.002, 12)
    expect(scanDicomFiles(files).series[0]?.transferSyntaxUids).toEqual([jpeg])
  })

  it('refuses colour images', () => {
    const rgb = part10(
      TransferSyntax.ExplicitVRLittleEndian,
      concat(
        el(0x0020000e, 'UI', text('1.2', 'UI')),
        el(0x00280002, 'US', u16([3])),
        el(0x00280010, 'US', u16([1])),
        el(0x00280011, 'US', u16([1])),
        el(0x00280100, 'US', u16([8])),
        el(0x7fe00010, 'OB', Uint8Array.of(1, 2, 3, 0)),
      ),
    )
    expect(importError(() => assembleSeries([{ name: 'rgb.dcm', bytes: rgb }])).code).toBe('unsupported-pixel-format')
  })
})

describe('UIDs and DS formatting', () => {
  it('mints valid, unique 2.25 UIDs and rooted UIDs', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const u = mintUid()
      expect(u).toMatch(/^2\.25\.[1-9]\d*$/)
      expect(u.length).toBeLessThanOrEqual(64)
      seen.add(u)
    }
    expect(seen.size).toBe(200)
    const rooted = mintUid('1.2.826.0.1.3680043.10.999')
    expect(rooted.startsWith('1.2.826.0.1.3680043.10.999.')).toBe(true)
    expect(isValidUid(rooted)).toBe(true)
    expect(() => mintUid('1.02.3')).toThrow(ImportError)
    expect(() => mintUid('1.2.' + '3'.repeat(50))).toThrow(ImportError)
  })

  it('formats DS within 16 characters at full usable precision', () => {
    for (const x of [0, -0, 1, 0.1, -123.456789012345678, 0.70710678118654757, 1e-12, -9.87654321e20, 12345678901234567890]) {
      const s = formatDS(x)
      expect(s.length).toBeLessThanOrEqual(16)
      expect(s).toMatch(/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/)
      expect(Math.abs(Number(s) - x)).toBeLessThanOrEqual(Math.abs(x) * 1e-11)
    }
  })
})

describe('slice-spacing jitter in a 19-slice oblique MR series', () => {
  const direction = rotation([0.2, 1, 0.3], 0.35)
  const normal: Vec3 = [direction[2], direction[5], direction[8]]
  const origin: Vec3 = [0.01, -0.02, 0.03]
  const [nx, ny] = [8, 6]
  const spacingM: Vec3 = [0.0009, 0.0009, 0.004]
  /** One file per depth (mm along the normal from the first), each holding `field` at its own voxels. */
  const seriesAt = (depthsMm: readonly number[]): DicomFile[] =>
    depthsMm.map((d, k) => {
      const geometry = makeVolume(new Int16Array(0), {
        dims: [nx, ny, 1],
        spacingM,
        direction,
        originM: [0, 1, 2].map((r) => origin[r]! + (d / 1000) * normal[r]!) as unknown as Vec3,
        meta: { modality: 'MR' },
      })
      const slice = { ...geometry, data: linearData(nx, ny, 1, (i, j) => world(geometry, i, j, 0)) }
      return { name: `IM${String(k + 1).padStart(4, '0')}`, bytes: writeDicomSeries(slice, { ...OPTS, seriesDescription: 'T1 obl' })[0]!.bytes }
    })
  const depths = (gapsMm: readonly number[]): number[] => gapsMm.reduce<number[]>((acc, g) => [...acc, acc[acc.length - 1]! + g], [0])
  /** World position (m) of voxel (i, j) of the stored slice at `depthMm`. */
  const stored = (i: number, j: number, depthMm: number): Vec3 =>
    [0, 1, 2].map(
      (r) => origin[r]! + direction[3 * r]! * i * spacingM[0] + direction[3 * r + 1]! * j * spacingM[1] + (depthMm / 1000) * normal[r]!,
    ) as unknown as Vec3

  it('opens with one gap 1.2 % long, warning with the deviation, every voxel within a tenth of a slice of its stored position', () => {
    const gaps = Array.from({ length: 18 }, (_, k) => (k === 9 ? 4 * 1.012 : 4))
    const z = depths(gaps)
    const v = assembleSeries(shuffle(seriesAt(z), rng(11)), { source: 'ge-mr' })
    expect(v.dims).toEqual([nx, ny, 19])
    expect(v.meta.modality).toBe('MR')
    expect(v.warnings).toHaveLength(1)
    expect(v.warnings[0]).toMatch(
      /slice spacing is uneven: the gap of 4\.048 mm between "IM0010" and "IM0011" differs by 1\.2 % \(0\.048 mm\) from the median 4\.000 mm; kept/,
    )
    let worstM = 0
    for (let k = 0; k < 19; k++) {
      for (const [i, j] of [
        [0, 0],
        [7, 5],
        [3, 2],
      ] as const) {
        const a = world(v, i, j, k)
        const b = stored(i, j, z[k]!)
        worstM = Math.max(worstM, Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]))
        // Kept as stored: the voxel holds its own slice's value.
        expect(v.data[(k * ny + j) * nx + i]).toBe(Math.round(field(b)))
      }
    }
    expect(worstM).toBeLessThan(0.1 * v.spacingM[2])
    expect(worstM).toBeGreaterThan(0.01e-3) // the jitter is really there, not rounded away
  })

  it('resamples when 2 % jitter adds up to more than a tenth of a slice, and says so', () => {
    // Nine gaps 2 % long then nine 2 % short: the middle slice sits 0.72 mm (18 % of a slice) off.
    const gaps = Array.from({ length: 18 }, (_, k) => (k < 9 ? 4.08 : 3.92))
    const v = assembleSeries(seriesAt(depths(gaps)), { source: 'ge-mr' })
    expect(v.dims).toEqual([nx, ny, 19])
    expect(v.spacingM[2]).toBeCloseTo(0.004, 9)
    expect(v.warnings.join(' ')).toMatch(
      /differs by 2\.0 % \(0\.080 mm\).*resampled onto a regular 4\.000 mm grid \(linear interpolation along the slice normal.*0\.720 mm/,
    )
    for (let k = 0; k < 19; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          // On the regular grid voxel k is at depth 4k mm; the field there is what it must hold.
          const p = world(v, i, j, k)
          const q = stored(i, j, 4 * k)
          expect(Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2])).toBeLessThan(1e-7)
          expect(Math.abs(v.data[(k * ny + j) * nx + i]! - field(q))).toBeLessThanOrEqual(1)
        }
      }
    }
  })

  it('refuses a missing slice, naming the series and where the slice should be', () => {
    const z = depths(Array.from({ length: 18 }, () => 4))
    const files = seriesAt(z).filter((_, k) => k !== 7)
    const e = importError(() => assembleSeries(files, { source: 'ge-mr' }))
    expect(e.code).toBe('missing-slice')
    expect(e.message).toMatch(
      /^ge-mr: series 2\.25\.22 \("T1 obl"\): gap of 8\.000 mm between "IM0007" .* and "IM0009" .*about 1 slice missing, the first at about \(/,
    )
    const at = /the first at about \((-?[\d.]+), (-?[\d.]+), (-?[\d.]+)\) mm/.exec(e.problem)
    const expected = stored(0, 0, z[7]!)
    for (let r = 0; r < 3; r++) expect(Math.abs(Number(at?.[r + 1]) - expected[r]! * 1000)).toBeLessThan(0.01)
  })
})
