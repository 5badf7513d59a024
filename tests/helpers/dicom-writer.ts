/**
 * Test fixtures only: writes a `Volume` as a single-frame CT or MR Image Storage series (one
 * Part 10 file per k-slice, explicit VR little endian), so the DICOM reader, the series assembly
 * and the folder import can be tested on series with known geometry (and scripts/bench-dicom.ts
 * can time them). The application's DICOM exports are core/exports/dicom.ts.
 *
 * Voxel values are stored as signed 16-bit with RescaleSlope/Intercept chosen so the data
 * fit (identity for int16 input); geometry is written with enough DS digits that reading
 * back reproduces it to well below a nanometre.
 */
import { ImportError } from '../../core/io/errors.ts'
import type { Volume, VoxelArray } from '../../core/volume/types.ts'
import { SopClass, Tag, TransferSyntax } from '../../core/io/dicom/tags.ts'
import { isValidUid, mintUid } from '../../core/io/dicom/uid.ts'
import { formatDS, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../../core/io/dicom/values.ts'

export interface WriteDicomOptions {
  readonly patientName: string
  readonly patientId: string
  readonly studyInstanceUid: string
  readonly seriesInstanceUid: string
  readonly frameOfReferenceUid: string
  readonly seriesNumber?: number
  readonly seriesDescription?: string
  /** Defaults to the volume's modality when it is MR, else CT. */
  readonly modality?: 'CT' | 'MR'
  /** Organisation UID root for SOP Instance UIDs; without one, 2.25 UUID-derived UIDs. */
  readonly uidRoot?: string
}

const utf8 = new TextEncoder()

function formatIS(n: number): string {
  // PS3.5 §6.2: IS is a 32-bit signed integer in at most 12 characters.
  return String(Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(n))))
}

/** Explicit VR little endian element encoder. */
class DatasetBuilder {
  readonly chunks: Uint8Array[] = []
  length = 0

  private header(t: number, vr: string, len: number): void {
    const long = vr === 'OB' || vr === 'OW' || vr === 'SQ' || vr === 'UN' || vr === 'UT' || vr === 'UC' || vr === 'UR'
    const h = new Uint8Array(long ? 12 : 8)
    const dv = new DataView(h.buffer)
    dv.setUint16(0, t >>> 16, true)
    dv.setUint16(2, t & 0xffff, true)
    h[4] = vr.charCodeAt(0)
    h[5] = vr.charCodeAt(1)
    if (long) dv.setUint32(8, len, true)
    else dv.setUint16(6, len, true)
    this.push(h)
  }

  private push(b: Uint8Array): void {
    this.chunks.push(b)
    this.length += b.length
  }

  /** Text VRs; PS3.5 §6.2: pad to even length with a space, UI with a NUL. */
  text(t: number, vr: string, value: string): void {
    let b = utf8.encode(value)
    if (b.length % 2 === 1) {
      const padded = new Uint8Array(b.length + 1)
      padded.set(b)
      padded[b.length] = vr === 'UI' ? 0x00 : 0x20
      b = padded
    }
    this.header(t, vr, b.length)
    this.push(b)
  }

  us(t: number, v: number): void {
    const b = new Uint8Array(2)
    new DataView(b.buffer).setUint16(0, v, true)
    this.header(t, 'US', 2)
    this.push(b)
  }

  ul(t: number, v: number): void {
    const b = new Uint8Array(4)
    new DataView(b.buffer).setUint32(0, v, true)
    this.header(t, 'UL', 4)
    this.push(b)
  }

  ob(t: number, bytes: Uint8Array): void {
    const even = bytes.length % 2 === 0 ? bytes : Uint8Array.from([...bytes, 0])
    this.header(t, 'OB', even.length)
    this.push(even)
  }

  /** Header of an OW element whose value the caller appends. */
  owHeader(t: number, len: number): void {
    this.header(t, 'OW', len)
  }
}

interface Rescale {
  readonly slope: number
  readonly intercept: number
  readonly slopeText: string
  readonly interceptText: string
  readonly identity: boolean
}

/**
 * Maps the voxel values onto int16. Integral data that fit are stored unchanged; integral
 * data spanning at most 65536 values are shifted by an integer intercept (lossless); other
 * data are quantised linearly over the full int16 range. Non-finite values are stored as
 * the minimum (NaN) or clamped (±Infinity): DICOM integer pixels cannot hold them.
 */
function chooseRescale(data: VoxelArray): Rescale {
  const identity: Rescale = { slope: 1, intercept: 0, slopeText: '1', interceptText: '0', identity: true }
  if (data instanceof Int16Array || data instanceof Int8Array || data instanceof Uint8Array) return identity
  let lo = Infinity
  let hi = -Infinity
  let integral = true
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number
    if (!Number.isFinite(v)) continue
    if (v < lo) lo = v
    if (v > hi) hi = v
    if (integral && !Number.isInteger(v)) integral = false
  }
  if (lo === Infinity) return identity
  if (integral && lo >= -32768 && hi <= 32767) return identity
  if (integral && hi - lo <= 65535) {
    const intercept = lo + 32768
    return { slope: 1, intercept, slopeText: '1', interceptText: formatDS(intercept), identity: false }
  }
  // Parse back the printed numbers so quantisation uses exactly what a reader will apply.
  const slopeText = formatDS(hi > lo ? (hi - lo) / 65535 : 1)
  const slope = Number(slopeText)
  const interceptText = formatDS(lo + 32768 * slope)
  return { slope, intercept: Number(interceptText), slopeText, interceptText, identity: false }
}

function fail(volume: Volume, problem: string): ImportError {
  return new ImportError('write-failed', volume.meta.source ?? 'volume', problem)
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

function dsList(values: readonly number[]): string {
  return values.map(formatDS).join('\\')
}

/**
 * One Part 10 file per k-slice of `volume`. Returns files named "<modality><k+1>.dcm" in
 * k order. Throws `ImportError('write-failed')` for volumes DICOM cannot represent.
 */
export function writeDicomSeries(volume: Volume, opts: WriteDicomOptions): Array<{ name: string; bytes: Uint8Array }> {
  const [nx, ny, nz] = volume.dims
  if (![nx, ny, nz].every((n) => Number.isInteger(n) && n > 0)) throw fail(volume, `invalid dims ${volume.dims.join('x')}`)
  // PS3.3 §C.7.6.3: Rows and Columns are US.
  if (nx > 65535 || ny > 65535) throw fail(volume, `slices of ${nx}x${ny} exceed DICOM's 65535 rows/columns`)
  if (volume.data.length !== nx * ny * nz) {
    throw fail(volume, `data hold ${volume.data.length} voxels but dims ${nx}x${ny}x${nz} need ${nx * ny * nz}`)
  }
  if (!volume.spacingM.every((s) => Number.isFinite(s) && s > 0)) throw fail(volume, `invalid spacing ${volume.spacingM.join(', ')}`)
  if (!volume.originM.every(Number.isFinite) || !volume.direction.every(Number.isFinite)) {
    throw fail(volume, 'origin or direction is not finite')
  }
  for (const [label, uid] of [
    ['studyInstanceUid', opts.studyInstanceUid],
    ['seriesInstanceUid', opts.seriesInstanceUid],
    ['frameOfReferenceUid', opts.frameOfReferenceUid],
  ] as const) {
    if (!isValidUid(uid)) throw fail(volume, `${label} "${uid}" is not a valid UID (PS3.5 §9.1)`)
  }

  const d = volume.direction
  const col = (c: number): [number, number, number] => [d[c] as number, d[3 + c] as number, d[6 + c] as number]
  const unit = (v: [number, number, number]): [number, number, number] => {
    const n = Math.hypot(...v)
    return [v[0] / n, v[1] / n, v[2] / n]
  }
  const rowCos = unit(col(0))
  const colCos = unit(col(1))
  if (!rowCos.every(Number.isFinite) || !colCos.every(Number.isFinite)) throw fail(volume, 'direction columns 0 and 1 must be non-zero')
  const skew = Math.abs(rowCos[0] * colCos[0] + rowCos[1] * colCos[1] + rowCos[2] * colCos[2])
  if (skew > 1e-6) {
    // PS3.3 §C.7.6.2.1.1: the row and column cosines must be orthogonal.
    throw fail(
      volume,
      `direction columns 0 and 1 are not orthogonal (cosine ${skew.toExponential(2)}); ImageOrientationPatient cannot express a sheared slice plane`,
    )
  }
  const axis = col(2)
  const [sx, sy, sz] = volume.spacingM
  const origin = volume.originM

  const modality = opts.modality ?? (volume.meta.modality === 'MR' ? 'MR' : 'CT')
  const sopClass = modality === 'MR' ? SopClass.MRImageStorage : SopClass.CTImageStorage
  const rescale = chooseRescale(volume.data)
  const seriesNumber = opts.seriesNumber ?? volume.meta.seriesNumber
  const description = (opts.seriesDescription ?? volume.meta.seriesDescription ?? '').slice(0, 64)
  const iopText = dsList([...rowCos, ...colCos])
  // PS3.3 §10.7.1.3: PixelSpacing is row spacing (between rows, along j) first, then column spacing.
  const pixelSpacingText = dsList([sy * 1000, sx * 1000])
  const digits = Math.max(4, String(nz).length)
  const perSlice = nx * ny
  const data = volume.data

  const files: Array<{ name: string; bytes: Uint8Array }> = []
  for (let k = 0; k < nz; k++) {
    const sopInstanceUid = mintUid(opts.uidRoot)
    const ippMm = [0, 1, 2].map((r) => ((origin[r] as number) + k * sz * (axis[r] as number)) * 1000)

    // PS3.10 §7.1: file meta information, always explicit VR little endian.
    const meta = new DatasetBuilder()
    meta.ob(Tag.FileMetaInformationVersion, Uint8Array.of(0x00, 0x01))
    meta.text(Tag.MediaStorageSOPClassUID, 'UI', sopClass)
    meta.text(Tag.MediaStorageSOPInstanceUID, 'UI', sopInstanceUid)
    meta.text(Tag.TransferSyntaxUID, 'UI', TransferSyntax.ExplicitVRLittleEndian)
    meta.text(Tag.ImplementationClassUID, 'UI', IMPLEMENTATION_CLASS_UID)
    meta.text(Tag.ImplementationVersionName, 'SH', IMPLEMENTATION_VERSION_NAME)
    const group = new DatasetBuilder()
    group.ul(Tag.FileMetaInformationGroupLength, meta.length)

    // Elements in ascending tag order (PS3.5 §7.1). Empty values are type 2 "unknown".
    const b = new DatasetBuilder()
    b.text(Tag.SpecificCharacterSet, 'CS', 'ISO_IR 192') // UTF-8 for names (PS3.3 §C.12.1.1.2)
    b.text(Tag.ImageType, 'CS', 'DERIVED\\SECONDARY\\AXIAL')
    b.text(Tag.SOPClassUID, 'UI', sopClass)
    b.text(Tag.SOPInstanceUID, 'UI', sopInstanceUid)
    b.text(Tag.StudyDate, 'DA', '')
    b.text(Tag.StudyTime, 'TM', '')
    b.text(Tag.AccessionNumber, 'SH', '')
    b.text(Tag.Modality, 'CS', modality)
    b.text(Tag.Manufacturer, 'LO', (volume.meta.manufacturer ?? '').slice(0, 64))
    b.text(Tag.ReferringPhysicianName, 'PN', '')
    if (description !== '') b.text(Tag.SeriesDescription, 'LO', description)
    if (volume.meta.manufacturerModelName) b.text(Tag.ManufacturerModelName, 'LO', volume.meta.manufacturerModelName.slice(0, 64))
    b.text(Tag.PatientName, 'PN', opts.patientName)
    b.text(Tag.PatientID, 'LO', opts.patientId.slice(0, 64))
    b.text(Tag.PatientBirthDate, 'DA', '')
    b.text(Tag.PatientSex, 'CS', '')
    if (modality === 'MR') {
      // MR Image module (PS3.3 §C.8.3.1) type 1 attributes; "RM" = research mode, i.e. unknown.
      b.text(Tag.ScanningSequence, 'CS', 'RM')
      b.text(Tag.SequenceVariant, 'CS', 'NONE')
      b.text(Tag.ScanOptions, 'CS', '')
      b.text(Tag.MRAcquisitionType, 'CS', '')
    }
    b.text(Tag.SliceThickness, 'DS', formatDS(sz * 1000))
    if (modality === 'CT') b.text(Tag.KVP, 'DS', volume.meta.kvp !== undefined && Number.isFinite(volume.meta.kvp) ? formatDS(volume.meta.kvp) : '')
    if (modality === 'MR') {
      b.text(Tag.EchoTime, 'DS', '')
      b.text(Tag.EchoTrainLength, 'IS', '')
    }
    if (modality === 'CT' && volume.meta.convolutionKernel) {
      b.text(Tag.ConvolutionKernel, 'SH', volume.meta.convolutionKernel.slice(0, 16))
    }
    b.text(Tag.PatientPosition, 'CS', '')
    b.text(Tag.StudyInstanceUID, 'UI', opts.studyInstanceUid)
    b.text(Tag.SeriesInstanceUID, 'UI', opts.seriesInstanceUid)
    b.text(Tag.StudyID, 'SH', '')
    b.text(Tag.SeriesNumber, 'IS', seriesNumber === undefined ? '' : formatIS(seriesNumber))
    b.text(Tag.AcquisitionNumber, 'IS', '')
    b.text(Tag.InstanceNumber, 'IS', String(k + 1))
    b.text(Tag.ImagePositionPatient, 'DS', dsList(ippMm))
    b.text(Tag.ImageOrientationPatient, 'DS', iopText)
    b.text(Tag.FrameOfReferenceUID, 'UI', opts.frameOfReferenceUid)
    b.text(Tag.PositionReferenceIndicator, 'LO', '')
    b.us(Tag.SamplesPerPixel, 1)
    b.text(Tag.PhotometricInterpretation, 'CS', 'MONOCHROME2')
    b.us(Tag.Rows, ny)
    b.us(Tag.Columns, nx)
    b.text(Tag.PixelSpacing, 'DS', pixelSpacingText)
    b.us(Tag.BitsAllocated, 16)
    b.us(Tag.BitsStored, 16)
    b.us(Tag.HighBit, 15)
    b.us(Tag.PixelRepresentation, 1)
    b.text(Tag.RescaleIntercept, 'DS', rescale.interceptText)
    b.text(Tag.RescaleSlope, 'DS', rescale.slopeText)
    if (modality === 'CT') b.text(Tag.RescaleType, 'LO', volume.meta.valueUnit ?? 'HU')
    b.owHeader(Tag.PixelData, perSlice * 2)

    const headerLength = 132 + group.length + meta.length + b.length
    const bytes = new Uint8Array(headerLength + perSlice * 2)
    bytes.set([0x44, 0x49, 0x43, 0x4d], 128) // 'DICM' after the zero preamble
    let pos = 132
    for (const chunk of [...group.chunks, ...meta.chunks, ...b.chunks]) {
      bytes.set(chunk, pos)
      pos += chunk.length
    }
    writePixels(bytes, headerLength, data, k * perSlice, perSlice, rescale)
    files.push({ name: `${modality}${String(k + 1).padStart(digits, '0')}.dcm`, bytes })
  }
  return files
}

function writePixels(out: Uint8Array, at: number, data: VoxelArray, from: number, count: number, r: Rescale): void {
  // `at` is even (all element lengths are even), so an Int16Array view is aligned.
  const target = HOST_LITTLE_ENDIAN ? new Int16Array(out.buffer, out.byteOffset + at, count) : undefined
  const dv = new DataView(out.buffer, out.byteOffset + at, count * 2)
  const put = (i: number, v: number): void => {
    if (target !== undefined) target[i] = v
    else dv.setInt16(i * 2, v, true)
  }
  if (r.identity) {
    if (target !== undefined && data instanceof Int16Array) {
      target.set(data.subarray(from, from + count))
      return
    }
    for (let i = 0; i < count; i++) {
      const v = data[from + i] as number
      put(i, Number.isFinite(v) ? Math.max(-32768, Math.min(32767, Math.round(v))) : v > 0 ? 32767 : -32768)
    }
    return
  }
  const { slope, intercept } = r
  for (let i = 0; i < count; i++) {
    const v = data[from + i] as number
    const q = Number.isNaN(v) ? -32768 : Math.round((v - intercept) / slope)
    put(i, q < -32768 ? -32768 : q > 32767 ? 32767 : q)
  }
}
