/**
 * From a pile of DICOM files to series summaries (scan) and from one series to a `Volume`
 * (assemble).
 *
 * Geometry comes only from the Image Plane module (PS3.3 §C.7.6.2): slices are ordered by
 * the projection of ImagePositionPatient on the slice normal, never by file name or
 * InstanceNumber, which are unreliable after anonymisation and copying.
 */
import { ImportError } from '../errors.ts'
import { checkDeclaredSize, DEFAULT_CAPS, type SizeCaps } from '../limits.ts'
import { cross3, dot3, norm3, scale3, sub3, toVec3 } from '../../math/index.ts'
import type { Mat3, Modality, Vec3, Volume, VolumeMeta } from '../../volume/types.ts'
import { parseDicom, type DicomDataset, type NativePixelData } from './parser.ts'
import { describeSopClass, describeTransferSyntax, formatTag, isEncapsulatedTransferSyntax, Tag } from './tags.ts'

export interface DicomFile {
  readonly name: string
  readonly bytes: Uint8Array
}

export interface SeriesSummary {
  /** SeriesInstanceUID (0020,000E). */
  readonly seriesInstanceUid: string
  /** Modality (0008,0060) as written, e.g. 'CT', 'MR', 'PT'. */
  readonly modality: string
  readonly description: string | undefined
  readonly seriesNumber: number | undefined
  readonly patientName: string | undefined
  readonly patientId: string | undefined
  readonly studyInstanceUid: string | undefined
  readonly frameOfReferenceUid: string | undefined
  readonly sliceCount: number
  readonly rows: number | undefined
  readonly columns: number | undefined
  /** In-plane voxel size in metres along i (between columns) and j (between rows). */
  readonly pixelSpacingM: readonly [number, number] | undefined
  /** Median distance between adjacent slice positions (or SliceThickness for one slice), metres. */
  readonly sliceSpacingM: number | undefined
  /** Transfer syntaxes seen; an encapsulated one means `assembleSeries` will refuse the pixels. */
  readonly transferSyntaxUids: readonly string[]
  /** File names, ordered along the slice normal when positions allow. */
  readonly files: readonly string[]
}

export interface ScanResult {
  readonly series: SeriesSummary[]
  readonly skipped: Array<{ readonly name: string; readonly reason: string }>
}

// ---------------------------------------------------------------- small helpers (vectors: core/math)

const at = (a: readonly number[], i: number): number => a[i] ?? Number.NaN

function fmtMm(v: readonly number[]): string {
  return `(${v.map((x) => Number(x.toFixed(3)).toString()).join(', ')}) mm`
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? at(s, mid) : (at(s, mid - 1) + at(s, mid)) / 2
}

/** `n` finite numbers from a DS/IS element, or undefined (absent, short or non-numeric). */
function finiteNumbers(ds: DicomDataset, t: number, n: number): number[] | undefined {
  const v = ds.numbers(t)
  if (v === undefined || v.length < n) return undefined
  const head = v.slice(0, n)
  return head.every(Number.isFinite) ? head : undefined
}

// ---------------------------------------------------------------- scanning

/** Slice normal and position projection from a header, when the Image Plane module is usable. */
function planeOf(ds: DicomDataset): { normal: Vec3 } | undefined {
  const iop = finiteNumbers(ds, Tag.ImageOrientationPatient, 6)
  if (iop === undefined) return undefined
  const n = cross3(toVec3(iop.slice(0, 3)), toVec3(iop.slice(3, 6)))
  const len = norm3(n)
  if (!(len > 1e-6)) return undefined
  return { normal: scale3(n, 1 / len) }
}

function summarise(uid: string, entries: ReadonlyArray<{ name: string; ds: DicomDataset }>): SeriesSummary {
  const first = entries[0]?.ds
  if (first === undefined) throw new Error('summarise: empty series')
  const ps = finiteNumbers(first, Tag.PixelSpacing, 2)
  const plane = planeOf(first)
  let files = entries.map((e) => e.name)
  let sliceSpacingM: number | undefined
  if (plane !== undefined) {
    const placed = entries.map((e) => {
      const ipp = finiteNumbers(e.ds, Tag.ImagePositionPatient, 3)
      return { name: e.name, z: ipp === undefined ? undefined : dot3(toVec3(ipp), plane.normal) }
    })
    if (placed.every((p) => p.z !== undefined)) {
      placed.sort((a, b) => (a.z ?? 0) - (b.z ?? 0))
      files = placed.map((p) => p.name)
      const gaps: number[] = []
      for (let k = 1; k < placed.length; k++) gaps.push((placed[k]?.z ?? 0) - (placed[k - 1]?.z ?? 0))
      const positive = gaps.filter((g) => g > 1e-3)
      if (positive.length > 0) sliceSpacingM = median(positive) / 1000
    }
  }
  if (sliceSpacingM === undefined && entries.length === 1) {
    const t = first.number(Tag.SpacingBetweenSlices) ?? first.number(Tag.SliceThickness)
    if (t !== undefined && t > 0) sliceSpacingM = t / 1000
  }
  const tsSet = new Set(entries.map((e) => e.ds.transferSyntaxUid))
  return {
    seriesInstanceUid: uid,
    modality: first.string(Tag.Modality) ?? '',
    description: first.string(Tag.SeriesDescription) || undefined,
    seriesNumber: first.number(Tag.SeriesNumber),
    patientName: first.string(Tag.PatientName) || undefined,
    patientId: first.string(Tag.PatientID) || undefined,
    studyInstanceUid: first.uid(Tag.StudyInstanceUID) || undefined,
    frameOfReferenceUid: first.uid(Tag.FrameOfReferenceUID) || undefined,
    sliceCount: entries.length,
    rows: first.number(Tag.Rows),
    columns: first.number(Tag.Columns),
    pixelSpacingM: ps === undefined ? undefined : [at(ps, 1) / 1000, at(ps, 0) / 1000],
    sliceSpacingM,
    transferSyntaxUids: [...tsSet],
    files,
  }
}

function reasonOf(e: unknown): string {
  if (e instanceof ImportError) return e.problem
  return `unreadable (${e instanceof Error ? e.message : String(e)})`
}

/**
 * Groups image files by SeriesInstanceUID, reading headers only. Files that are not DICOM,
 * cannot be parsed, or hold no image (RT structure sets, SR, presentation states, DICOMDIR)
 * are listed in `skipped` with the reason instead of failing the scan.
 */
export function scanDicomFiles(files: ReadonlyArray<DicomFile>): ScanResult {
  const groups = new Map<string, Array<{ name: string; ds: DicomDataset }>>()
  const skipped: Array<{ name: string; reason: string }> = []
  for (const f of files) {
    let ds: DicomDataset
    try {
      ds = parseDicom(f.bytes, f.name, { headerOnly: true })
    } catch (e) {
      // One bad file in a folder must not hide the good series next to it.
      skipped.push({ name: f.name, reason: reasonOf(e) })
      continue
    }
    if (ds.pixelData === undefined) {
      const sop = ds.uid(Tag.SOPClassUID) ?? ds.uid(Tag.MediaStorageSOPClassUID)
      skipped.push({
        name: f.name,
        reason: `not an image: no PixelData ${formatTag(Tag.PixelData)}${sop ? ` (SOP class ${describeSopClass(sop)})` : ''}`,
      })
      continue
    }
    const uid = ds.uid(Tag.SeriesInstanceUID)
    if (!uid) {
      skipped.push({ name: f.name, reason: `image without SeriesInstanceUID ${formatTag(Tag.SeriesInstanceUID)}` })
      continue
    }
    let g = groups.get(uid)
    if (g === undefined) {
      g = []
      groups.set(uid, g)
    }
    g.push({ name: f.name, ds })
  }
  const series = [...groups].map(([uid, entries]) => summarise(uid, entries))
  series.sort(
    (a, b) =>
      (a.seriesNumber ?? Infinity) - (b.seriesNumber ?? Infinity) ||
      (a.seriesInstanceUid < b.seriesInstanceUid ? -1 : a.seriesInstanceUid > b.seriesInstanceUid ? 1 : 0),
  )
  return { series, skipped }
}

// ---------------------------------------------------------------- assembling

interface Slice {
  readonly name: string
  readonly ds: DicomDataset
  /** Undefined for encapsulated pixel data (allowed only in header-only assembly). */
  readonly pixels: NativePixelData | undefined
  readonly rows: number
  readonly columns: number
  readonly bitsAllocated: number
  readonly bitsStored: number
  readonly signed: boolean
  readonly slope: number
  readonly intercept: number
  readonly iop: number[] | undefined
  readonly ipp: number[] | undefined
  readonly pixelSpacing: number[] | undefined
}

function requireUint(ds: DicomDataset, t: number, label: string): number {
  const v = ds.number(t)
  if (v === undefined || !Number.isInteger(v) || v < 0) {
    throw new ImportError('corrupt-header', ds.fileName, `${label} ${formatTag(t)} is missing or not a whole number`)
  }
  return v
}

function readSlice(f: DicomFile, headerOnly: boolean): Slice {
  const ds = parseDicom(f.bytes, f.name, { headerOnly })
  const px = ds.pixelData
  if (px === undefined) {
    const sop = ds.uid(Tag.SOPClassUID)
    throw new ImportError(
      'not-an-image',
      f.name,
      `holds no pixel data${sop ? ` (SOP class ${describeSopClass(sop)})` : ''}, so it cannot be a slice of an image series`,
    )
  }
  const frames = ds.number(Tag.NumberOfFrames) ?? 1
  if (frames > 1) {
    throw new ImportError('unsupported-pixel-format', f.name, `multi-frame image (${frames} frames); this reader takes one slice per file`)
  }
  const rows = requireUint(ds, Tag.Rows, 'Rows')
  const columns = requireUint(ds, Tag.Columns, 'Columns')
  const bitsAllocated = ds.number(Tag.BitsAllocated) ?? 0
  const bitsStored = ds.number(Tag.BitsStored) ?? bitsAllocated
  const pixelRepresentation = ds.number(Tag.PixelRepresentation) ?? 0
  const slope = ds.number(Tag.RescaleSlope) ?? 1
  const intercept = ds.number(Tag.RescaleIntercept) ?? 0
  if (!Number.isFinite(slope) || slope === 0 || !Number.isFinite(intercept)) {
    throw new ImportError('corrupt-header', f.name, `RescaleSlope ${slope} / RescaleIntercept ${intercept} cannot map stored values`)
  }
  const slice: Slice = {
    name: f.name,
    ds,
    pixels: px.kind === 'native' ? px : undefined,
    rows,
    columns,
    bitsAllocated,
    bitsStored,
    signed: pixelRepresentation === 1,
    slope,
    intercept,
    iop: finiteNumbers(ds, Tag.ImageOrientationPatient, 6),
    ipp: finiteNumbers(ds, Tag.ImagePositionPatient, 3),
    pixelSpacing: finiteNumbers(ds, Tag.PixelSpacing, 2),
  }
  // Header-only assembly serves callers that decode the pixels elsewhere: skip pixel checks.
  if (!headerOnly) checkPixelFormat(slice)
  return slice
}

function checkPixelFormat(s: Slice): void {
  const { ds, name } = s
  if (s.pixels === undefined || isEncapsulatedTransferSyntax(ds.transferSyntaxUid)) {
    // The host matches "transfer syntax" in this problem to fall back to another decoder.
    throw new ImportError(
      'unsupported-pixel-format',
      name,
      `pixel data are encapsulated with transfer syntax ${describeTransferSyntax(ds.transferSyntaxUid)}; this reader decodes only uncompressed pixel data`,
    )
  }
  const samples = ds.number(Tag.SamplesPerPixel) ?? 1
  if (samples !== 1) {
    throw new ImportError(
      'unsupported-pixel-format',
      name,
      `SamplesPerPixel ${formatTag(Tag.SamplesPerPixel)} is ${samples}; only single-sample (greyscale) images are supported`,
    )
  }
  const photometric = ds.string(Tag.PhotometricInterpretation) ?? 'MONOCHROME2'
  if (photometric !== 'MONOCHROME2' && photometric !== 'MONOCHROME1') {
    throw new ImportError(
      'unsupported-pixel-format',
      name,
      `PhotometricInterpretation ${formatTag(Tag.PhotometricInterpretation)} is ${photometric}; only MONOCHROME1/2 are supported`,
    )
  }
  const { bitsAllocated, bitsStored } = s
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw new ImportError(
      'unsupported-pixel-format',
      name,
      `BitsAllocated ${formatTag(Tag.BitsAllocated)} is ${bitsAllocated || 'missing'}; only 8, 16 and 32 are supported`,
    )
  }
  const highBit = ds.number(Tag.HighBit) ?? bitsStored - 1
  // PS3.5 §8.1.1 allows samples anywhere in the allocated bits; every modality in use aligns them low.
  if (!Number.isInteger(bitsStored) || bitsStored < 1 || bitsStored > bitsAllocated || highBit !== bitsStored - 1) {
    throw new ImportError(
      'unsupported-pixel-format',
      name,
      `BitsStored ${bitsStored} / HighBit ${highBit} with BitsAllocated ${bitsAllocated}: only low-aligned samples (HighBit = BitsStored - 1) are supported`,
    )
  }
  const needed = s.rows * s.columns * (bitsAllocated / 8)
  if (s.pixels.length < needed) {
    throw new ImportError(
      'truncated',
      name,
      `pixel data hold ${s.pixels.length} bytes but ${s.rows} rows x ${s.columns} columns x ${bitsAllocated / 8} bytes need ${needed}`,
    )
  }
}

function mixed(a: Slice, b: Slice, what: string, valueB: string, valueA: string): ImportError {
  return new ImportError('mixed-series', b.name, `${what} ${valueB} differs from ${valueA} in "${a.name}"; these files are not one series`)
}

function checkSameSeries(ref: Slice, s: Slice): void {
  const uidA = ref.ds.uid(Tag.SeriesInstanceUID) || '(none)'
  const uidB = s.ds.uid(Tag.SeriesInstanceUID) || '(none)'
  if (uidA !== uidB) throw mixed(ref, s, `SeriesInstanceUID ${formatTag(Tag.SeriesInstanceUID)}`, uidB, uidA)
  if (ref.rows !== s.rows || ref.columns !== s.columns) {
    throw mixed(ref, s, 'image size (columns x rows)', `${s.columns}x${s.rows}`, `${ref.columns}x${ref.rows}`)
  }
  if (ref.bitsAllocated !== s.bitsAllocated || ref.signed !== s.signed || ref.bitsStored !== s.bitsStored) {
    const fmt = (x: Slice): string => `${x.bitsAllocated}/${x.bitsStored} bits ${x.signed ? 'signed' : 'unsigned'}`
    throw mixed(ref, s, 'pixel format', fmt(s), fmt(ref))
  }
  const iopText = (x: Slice): string => (x.iop === undefined ? '(none)' : `[${x.iop.join(', ')}]`)
  if ((ref.iop === undefined) !== (s.iop === undefined)) {
    throw mixed(ref, s, `orientation ${formatTag(Tag.ImageOrientationPatient)}`, iopText(s), iopText(ref))
  }
  if (ref.iop !== undefined && s.iop !== undefined) {
    // Writers print cosines with 6+ decimals; anything beyond rounding is another orientation.
    for (let i = 0; i < 6; i++) {
      if (Math.abs(at(ref.iop, i) - at(s.iop, i)) > 1e-4) {
        throw mixed(ref, s, `orientation ${formatTag(Tag.ImageOrientationPatient)}`, iopText(s), iopText(ref))
      }
    }
  }
  const psText = (x: Slice): string => (x.pixelSpacing === undefined ? '(none)' : `${x.pixelSpacing.join('\\')} mm`)
  if ((ref.pixelSpacing === undefined) !== (s.pixelSpacing === undefined)) {
    throw mixed(ref, s, `pixel spacing ${formatTag(Tag.PixelSpacing)}`, psText(s), psText(ref))
  }
  if (ref.pixelSpacing !== undefined && s.pixelSpacing !== undefined) {
    for (let i = 0; i < 2; i++) {
      const a = at(ref.pixelSpacing, i)
      const b = at(s.pixelSpacing, i)
      if (Math.abs(a - b) > 1e-4 * Math.max(Math.abs(a), Math.abs(b))) {
        throw mixed(ref, s, `pixel spacing ${formatTag(Tag.PixelSpacing)}`, psText(s), psText(ref))
      }
    }
  }
}

/**
 * How the stored slices map onto the regular output grid when they do not already lie on it
 * (uneven slice spacing or gantry tilt). Output slice k lies between stored slices
 * `lower[k]` and `lower[k] + 1`, `weight[k]` of the way; stored slice m is shifted in its
 * own plane by (`shiftI[m]`, `shiftJ[m]`) pixels relative to the output grid.
 */
export interface SliceResampling {
  readonly lower: Int32Array
  readonly weight: Float64Array
  readonly shiftI: Float64Array
  readonly shiftJ: Float64Array
}

interface Geometry {
  readonly order: Slice[]
  readonly originMm: Vec3
  readonly dir: [Vec3, Vec3, Vec3]
  readonly spacingMm: Vec3
  readonly warnings: string[]
  /** Undefined when the stored slices already are the regular grid (copied as they are). */
  readonly resampling: SliceResampling | undefined
}

/**
 * Below this relative deviation (with an absolute floor, because many writers print
 * positions with two decimals, ±0.005 mm each, which alone moves a gap by up to 0.01 mm)
 * slice gaps are rounding noise and pass silently.
 */
const SPACING_REL_TOL = 0.01
const SPACING_ABS_TOL_MM = 0.01
/**
 * A gap this many times the median spacing means slices are missing, not jitter. Halfway
 * between 1 (regular) and 2 (one slice missing): a gap of 1.5x or more is closer to "a slice
 * is missing" than to "the slices are where they should be". Scanner jitter is a few per cent
 * (a 19-slice oblique GE MR series had 1.2 %). For comparison, ITK's ImageSeriesReader never
 * refuses a series: it records the largest deviation as `ITK_non_uniform_sampling_deviation`
 * and warns; dcm2niix warns "Interslice distance varies in this volume" when a gap differs
 * from the first by more than 0.2 mm and writes an extra equidistant ("_Eq") volume. Both
 * leave a missing slice to the user; a treatment plan must not silently bridge one.
 */
const MISSING_GAP_FACTOR = 1.5
/**
 * Slices are resampled when keeping them as they are would put a voxel more than this
 * fraction of the slice spacing (along the normal) or of the pixel spacing (in plane) away
 * from where the file says it is: a tenth of a voxel is below what registration and the
 * acoustic grid (>= 6 points per wavelength) resolve, and interpolation blurs the image.
 */
const RESAMPLE_FRACTION = 0.1
/** Stacks whose step deviates from the normal by less than this are treated as untilted (rounding). */
const TILT_MIN_DEG = 0.01

function geometryOf(slices: Slice[], source: string): Geometry {
  const warnings: string[] = []
  const first = slices[0]
  if (first === undefined) throw new Error('geometryOf: no slices')

  let pixelSpacing = first.pixelSpacing
  if (pixelSpacing === undefined || !(at(pixelSpacing, 0) > 0 && at(pixelSpacing, 1) > 0)) {
    if (slices.length > 1 || pixelSpacing !== undefined) {
      throw new ImportError('inconsistent-geometry', first.name, `PixelSpacing ${formatTag(Tag.PixelSpacing)} is missing or not positive`)
    }
    warnings.push(`no PixelSpacing ${formatTag(Tag.PixelSpacing)}; assumed 1 mm`)
    pixelSpacing = [1, 1]
  }

  if (first.iop === undefined || first.ipp === undefined || slices.some((s) => s.ipp === undefined)) {
    if (slices.length > 1) {
      const bad = slices.find((s) => s.ipp === undefined || s.iop === undefined) ?? first
      throw new ImportError(
        'inconsistent-geometry',
        bad.name,
        `lacks ImagePositionPatient ${formatTag(Tag.ImagePositionPatient)} or ImageOrientationPatient ${formatTag(Tag.ImageOrientationPatient)}, so its slice cannot be placed`,
      )
    }
    warnings.push('no ImagePositionPatient/ImageOrientationPatient; placed at the origin with identity orientation')
  }
  const iop = first.iop ?? [1, 0, 0, 0, 1, 0]
  const rowRaw = toVec3(iop.slice(0, 3))
  const colRaw = toVec3(iop.slice(3, 6))
  const rowLen = norm3(rowRaw)
  const colLen = norm3(colRaw)
  const nRaw = cross3(rowRaw, colRaw)
  if (!(rowLen > 0.5 && colLen > 0.5 && norm3(nRaw) > 0.5 * rowLen * colLen)) {
    throw new ImportError(
      'inconsistent-geometry',
      first.name,
      `ImageOrientationPatient [${iop.join(', ')}] does not describe a plane (zero or parallel cosines)`,
    )
  }
  const row = scale3(rowRaw, 1 / rowLen)
  const col = scale3(colRaw, 1 / colLen)
  const normal = scale3(nRaw, 1 / norm3(nRaw))
  const skewDeg = (Math.asin(Math.min(1, Math.abs(dot3(row, col)))) * 180) / Math.PI
  if (skewDeg > 0.01) {
    // PS3.3 §C.7.6.2.1.1 requires orthogonal cosines; keep them as given (Volume allows skew).
    warnings.push(`row and column cosines are ${skewDeg.toFixed(3)}° from orthogonal`)
  }

  const placed = slices.map((s) => ({ s, ipp: s.ipp ?? [0, 0, 0], z: dot3(toVec3(s.ipp ?? [0, 0, 0]), normal) }))
  placed.sort((a, b) => a.z - b.z)
  const order = placed.map((p) => p.s)
  const originMm: Vec3 = [at(placed[0]?.ipp ?? [], 0), at(placed[0]?.ipp ?? [], 1), at(placed[0]?.ipp ?? [], 2)]

  if (placed.length === 1) {
    const t = first.ds.number(Tag.SpacingBetweenSlices) ?? first.ds.number(Tag.SliceThickness)
    let dz = 1
    if (t !== undefined && t > 0) dz = t
    else warnings.push('single slice without SliceThickness or SpacingBetweenSlices; assumed 1 mm')
    return { order, originMm, dir: [row, col, normal], spacingMm: [at(pixelSpacing, 1), at(pixelSpacing, 0), dz], warnings, resampling: undefined }
  }

  const gaps: number[] = []
  for (let k = 1; k < placed.length; k++) {
    const a = placed[k - 1]
    const b = placed[k]
    if (a === undefined || b === undefined) continue
    const gap = b.z - a.z
    if (gap < 1e-3) {
      const sameSop = a.s.ds.uid(Tag.SOPInstanceUID) !== undefined && a.s.ds.uid(Tag.SOPInstanceUID) === b.s.ds.uid(Tag.SOPInstanceUID)
      throw new ImportError(
        'inconsistent-geometry',
        b.s.name,
        sameSop
          ? `is the same image as "${a.s.name}" (same SOPInstanceUID); a file was given twice`
          : `has the same slice position ${fmtMm(b.ipp)} as "${a.s.name}" ${fmtMm(a.ipp)}; the series holds more than one image per position (several echoes, phases or acquisitions?)`,
      )
    }
    gaps.push(gap)
  }
  const m = median(gaps)
  const seriesName = seriesLabel(first)
  let worst = -1
  let worstDev = 0
  for (let k = 0; k < gaps.length; k++) {
    const g = at(gaps, k)
    const a = placed[k]
    const b = placed[k + 1]
    if (a === undefined || b === undefined) continue
    if (g >= MISSING_GAP_FACTOR * m) {
      const ratio = g / m
      const missing = Math.max(1, Math.round(ratio) - 1)
      // Where the first missing slice would be: one usual spacing past the slice before the gap.
      const expected = [a.ipp[0] ?? 0, a.ipp[1] ?? 0, a.ipp[2] ?? 0].map((x, r) => x + ((b.ipp[r] ?? 0) - x) * (m / g))
      throw new ImportError(
        'missing-slice',
        source,
        `series ${seriesName}: gap of ${g.toFixed(3)} mm between "${a.s.name}" at ${fmtMm(a.ipp)} and "${b.s.name}" at ${fmtMm(b.ipp)} is ${ratio.toFixed(2)} times the usual slice spacing of ${m.toFixed(3)} mm: about ${missing} slice${missing === 1 ? '' : 's'} missing, the first at about ${fmtMm(expected)}`,
      )
    }
    const dev = Math.abs(g - m)
    if (dev > worstDev) {
      worstDev = dev
      worst = k
    }
  }

  // The regular grid runs through the end slices, so the output covers exactly the stored
  // stack and never extrapolates; its spacing is the mean gap.
  const n = placed.length
  const p0 = placed[0]
  const pN = placed[n - 1]
  if (p0 === undefined || pN === undefined) throw new Error('geometryOf: no slices')
  const dz = (pN.z - p0.z) / (n - 1)
  let maxOffMm = 0
  for (let k = 0; k < n; k++) maxOffMm = Math.max(maxOffMm, Math.abs((placed[k]?.z ?? 0) - (p0.z + k * dz)))
  const resampleDepth = maxOffMm > RESAMPLE_FRACTION * dz

  // In-plane offsets of the slices: constant for an ordinary stack, growing linearly along
  // the normal when the gantry was tilted (PS3.3 §C.7.6.2.1.1: ImageOrientationPatient stays
  // the tilted plane, ImagePositionPatient moves along the tilted table axis).
  const inPlane = (p: { ipp: number[]; z: number }): Vec3 => sub3(toVec3(p.ipp), scale3(normal, p.z))
  const q0 = inPlane(p0)
  const shear = scale3(sub3(inPlane(pN), q0), 1 / (pN.z - p0.z))
  const tiltDeg = (Math.atan(norm3(shear)) * 180) / Math.PI
  const tolMm = Math.max(SPACING_REL_TOL * m, SPACING_ABS_TOL_MM)
  for (const p of placed) {
    const off = norm3(sub3(sub3(inPlane(p), q0), scale3(shear, p.z - p0.z)))
    if (off > tolMm) {
      throw new ImportError(
        'inconsistent-geometry',
        p.s.name,
        `slice position ${fmtMm(p.ipp)} is ${off.toFixed(3)} mm off the straight line through the other slices; the stack is not a regular grid`,
      )
    }
  }
  const sx = at(pixelSpacing, 1)
  const sy = at(pixelSpacing, 0)
  const shearMm = norm3(shear) * (pN.z - p0.z)
  // A tilt that shifts the last slice by under a tenth of a pixel is rounding, not worth a blur.
  const resampleTilt = tiltDeg > TILT_MIN_DEG && shearMm > RESAMPLE_FRACTION * Math.min(sx, sy)

  if (worst >= 0 && worstDev > tolMm) {
    const a = placed[worst]
    const b = placed[worst + 1]
    warnings.push(
      `slice spacing is uneven: the gap of ${at(gaps, worst).toFixed(3)} mm between "${a?.s.name}" and "${b?.s.name}" differs by ${((100 * worstDev) / m).toFixed(1)} % (${worstDev.toFixed(3)} mm) from the median ${m.toFixed(3)} mm; ` +
        (resampleDepth
          ? `the slices were resampled onto a regular ${dz.toFixed(3)} mm grid (linear interpolation along the slice normal between neighbouring slices), because keeping them would misplace voxels by up to ${maxOffMm.toFixed(3)} mm (more than a tenth of the spacing)`
          : `kept on a regular ${dz.toFixed(3)} mm grid, which places voxels at most ${maxOffMm.toFixed(3)} mm (${((100 * maxOffMm) / dz).toFixed(1)} % of the spacing) from their stored position`),
    )
  }
  if (resampleTilt) {
    const declared = first.ds.number(Tag.GantryDetectorTilt)
    warnings.push(
      `gantry tilt of ${tiltDeg.toFixed(2)}° (slices are stacked ${tiltDeg.toFixed(2)}° off the slice normal${declared !== undefined ? `; GantryDetectorTilt says ${declared}°` : ''}): ` +
        `the sheared stack was resampled onto a regular grid along the slice normal (bilinear interpolation in each slice plane), each slice shifted by up to ${shearMm.toFixed(1)} mm; ` +
        `what the shift moves outside the field of view is lost and the uncovered edge takes the series' lowest value`,
    )
  }
  const resampling =
    resampleDepth || resampleTilt
      ? sliceResampling(
          placed.map((p) => p.z),
          dz,
          resampleTilt ? [dot3(shear, row) / sx, dot3(shear, col) / sy] : [0, 0],
        )
      : undefined
  return { order, originMm, dir: [row, col, normal], spacingMm: [sx, sy, dz], warnings, resampling }
}

/** "1.2.3 ("T1 SAG")": how a planner finds the series in a PACS listing. */
function seriesLabel(s: Slice): string {
  const uid = s.ds.uid(Tag.SeriesInstanceUID) || '(no SeriesInstanceUID)'
  const description = s.ds.string(Tag.SeriesDescription)
  return description ? `${uid} ("${description}")` : uid
}

/**
 * Output slice k at depth z[0] + k * dz between its two stored neighbours (linear along the
 * normal); `shearPx` is the in-plane shift in pixels per mm of depth (gantry tilt). Rows and
 * columns are taken as orthogonal: skewed cosines are warned about above and rare.
 */
function sliceResampling(z: readonly number[], dz: number, shearPx: readonly [number, number]): SliceResampling {
  const n = z.length
  const lower = new Int32Array(n)
  const weight = new Float64Array(n)
  const z0 = at(z, 0)
  let a = 0
  for (let k = 0; k < n; k++) {
    const target = z0 + k * dz
    while (a < n - 2 && at(z, a + 1) <= target) a++
    const za = at(z, a)
    const zb = at(z, a + 1)
    lower[k] = a
    weight[k] = Math.min(1, Math.max(0, (target - za) / (zb - za)))
  }
  const shiftI = Float64Array.from(z, (zm) => (zm - z0) * shearPx[0])
  const shiftJ = Float64Array.from(z, (zm) => (zm - z0) * shearPx[1])
  return { lower, weight, shiftI, shiftJ }
}

/**
 * The stored slices (`src`, nx x ny x nz, in stacking order) on the regular grid described
 * by `plan`: linear between the two neighbouring slices along the normal, bilinear within
 * each slice plane for the tilt shift. Points outside a slice take `fill`. Int16 input stays
 * Int16 (rounded to the nearest value: HU and MR intensities are integers anyway).
 */
export function resampleSlices<T extends Int16Array | Float32Array>(src: T, dims: readonly [number, number, number], plan: SliceResampling, fill: number): T {
  const [nx, ny, nz] = dims
  const per = nx * ny
  const out = (src instanceof Int16Array ? new Int16Array(src.length) : new Float32Array(src.length)) as T
  const round = src instanceof Int16Array
  const sample = (m: number, x: number, y: number): number => {
    const i0 = Math.floor(x)
    const j0 = Math.floor(y)
    const fx = x - i0
    const fy = y - j0
    let v = 0
    for (let dj = 0; dj < 2; dj++) {
      const wy = dj === 0 ? 1 - fy : fy
      if (wy === 0) continue
      for (let di = 0; di < 2; di++) {
        const wx = di === 0 ? 1 - fx : fx
        if (wx === 0) continue
        const i = i0 + di
        const j = j0 + dj
        v += wx * wy * (i < 0 || j < 0 || i >= nx || j >= ny ? fill : (src[m * per + j * nx + i] as number))
      }
    }
    return v
  }
  for (let k = 0; k < nz; k++) {
    const a = plan.lower[k] ?? 0
    const t = plan.weight[k] ?? 0
    const b = Math.min(a + 1, nz - 1)
    const sa = [plan.shiftI[a] ?? 0, plan.shiftJ[a] ?? 0]
    const sb = [plan.shiftI[b] ?? 0, plan.shiftJ[b] ?? 0]
    const shifted = sa[0] !== 0 || sa[1] !== 0 || sb[0] !== 0 || sb[1] !== 0
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const idx = j * nx + i
        let v: number
        if (!shifted) v = (1 - t) * (src[a * per + idx] as number) + (t === 0 ? 0 : t * (src[b * per + idx] as number))
        else v = (1 - t) * sample(a, i - (sa[0] ?? 0), j - (sa[1] ?? 0)) + (t === 0 ? 0 : t * sample(b, i - (sb[0] ?? 0), j - (sb[1] ?? 0)))
        out[k * per + idx] = round ? Math.round(v) : v
      }
    }
  }
  return out
}

type RawArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Stored values of one slice as a typed array: a view when byte order and alignment allow, else one copy. */
function storedValues(s: Slice, count: number): RawArray {
  const size = s.bitsAllocated / 8
  if (s.pixels === undefined) throw new Error('storedValues: no native pixel data')
  const src = s.pixels.bytes.subarray(0, count * size)
  let bytes = src
  // PS3.5 §7.3: OB values have no byte order; OW/OL words are swapped in big endian files.
  const swap = size > 1 && s.pixels.littleEndian !== HOST_LITTLE_ENDIAN
  if (swap || src.byteOffset % size !== 0) {
    bytes = src.slice()
    if (swap) {
      for (let i = 0; i < bytes.length; i += size) {
        for (let a = i, b = i + size - 1; a < b; a++, b--) {
          const t = bytes[a] ?? 0
          bytes[a] = bytes[b] ?? 0
          bytes[b] = t
        }
      }
    }
  }
  const useSigned = s.signed && s.bitsStored === s.bitsAllocated
  let raw: RawArray
  if (size === 1) raw = useSigned ? new Int8Array(bytes.buffer, bytes.byteOffset, count) : new Uint8Array(bytes.buffer, bytes.byteOffset, count)
  else if (size === 2) raw = useSigned ? new Int16Array(bytes.buffer, bytes.byteOffset, count) : new Uint16Array(bytes.buffer, bytes.byteOffset, count)
  else raw = useSigned ? new Int32Array(bytes.buffer, bytes.byteOffset, count) : new Uint32Array(bytes.buffer, bytes.byteOffset, count)
  if (s.bitsStored === s.bitsAllocated) return raw
  // PS3.5 §8.1.1: bits above HighBit are not part of the value; sign-extend from BitsStored.
  const out = new Int32Array(count)
  if (s.signed) {
    const shift = 32 - s.bitsStored
    for (let i = 0; i < count; i++) out[i] = ((raw[i] ?? 0) << shift) >> shift
  } else {
    const mask = 2 ** s.bitsStored - 1
    for (let i = 0; i < count; i++) out[i] = (raw[i] ?? 0) & mask
  }
  return out
}

/** Writes stored * slope + intercept into `out` at `off`; false if a value leaves int16 (nothing else is promised then). */
function rescaleIntoInt16(out: Int16Array, off: number, raw: RawArray, slope: number, intercept: number, checked: boolean): boolean {
  const n = raw.length
  if (!checked) {
    if (slope === 1 && intercept === 0 && (raw instanceof Int16Array || raw instanceof Int8Array || raw instanceof Uint8Array)) {
      out.set(raw, off)
    } else {
      for (let i = 0; i < n; i++) out[off + i] = (raw[i] as number) * slope + intercept
    }
    return true
  }
  for (let i = 0; i < n; i++) {
    const v = (raw[i] as number) * slope + intercept
    if (v < -32768 || v > 32767) return false
    out[off + i] = v
  }
  return true
}

/**
 * Rescaled voxels of the ordered slices (PS3.3 §C.11.1.1.2: stored * slope + intercept):
 * Int16Array when every slope and intercept is integral and the values fit, else Float32Array.
 * One pass in the common case: the range check rides along with the copy, and is skipped
 * when the stored bit depth alone guarantees the result fits.
 */
function readVoxels(order: readonly Slice[], perSlice: number): Int16Array | Float32Array {
  const nz = order.length
  if (order.every((s) => Number.isInteger(s.slope) && Number.isInteger(s.intercept))) {
    const out = new Int16Array(perSlice * nz)
    let fits = true
    for (let k = 0; k < nz && fits; k++) {
      const s = order[k] as Slice
      const lo = s.signed ? -(2 ** (s.bitsStored - 1)) : 0
      const hi = s.signed ? 2 ** (s.bitsStored - 1) - 1 : 2 ** s.bitsStored - 1
      const a = lo * s.slope + s.intercept
      const b = hi * s.slope + s.intercept
      const always = Math.min(a, b) >= -32768 && Math.max(a, b) <= 32767
      fits = rescaleIntoInt16(out, k * perSlice, storedValues(s, perSlice), s.slope, s.intercept, !always)
    }
    if (fits) return out
  }
  const out = new Float32Array(perSlice * nz)
  for (let k = 0; k < nz; k++) {
    const s = order[k] as Slice
    const raw = storedValues(s, perSlice)
    const off = k * perSlice
    const { slope, intercept } = s
    if (slope === 1 && intercept === 0) out.set(raw, off)
    else for (let i = 0; i < perSlice; i++) out[off + i] = (raw[i] as number) * slope + intercept
  }
  return out
}

/** Lowest value: what the scanner stored outside the field of view (padding or air). */
function minOf(a: Int16Array | Float32Array): number {
  let lo = Number.POSITIVE_INFINITY
  for (let i = 0; i < a.length; i++) if ((a[i] as number) < lo) lo = a[i] as number
  return Number.isFinite(lo) ? lo : 0
}

function modalityOf(s: string | undefined): Modality {
  return s === 'CT' || s === 'MR' ? s : 'OT'
}

export interface AssembleOptions {
  /** File or folder name for `meta.source` and for errors about the whole series. */
  readonly source?: string
  /**
   * Check the series and compute geometry, meta and warnings without touching pixel data;
   * the returned volume's `data` is EMPTY (length 0). For callers that decode compressed
   * pixels elsewhere and need the validated geometry.
   */
  readonly headerOnly?: boolean
  /** Declared-size limits for the assembled volume (default: MAX_VOXELS, no byte cap). */
  readonly caps?: SizeCaps
}

/**
 * Builds one `Volume` from the files of ONE series (e.g. a `SeriesSummary.files` selection).
 * Slices with uneven spacing (scanner jitter) or gantry tilt are placed on a regular grid,
 * resampled where keeping them would misplace a voxel by more than a tenth of a voxel; the
 * warnings say so. Throws `ImportError`: 'mixed-series', 'missing-slice',
 * 'inconsistent-geometry' (also: header-only assembly of a series that needs resampling), 'unsupported-pixel-format' (encapsulated/compressed data: the
 * problem names the transfer syntax and the caller should fall back to another decoder),
 * 'not-an-image', 'empty-folder', and the parser's codes.
 */
export function assembleSeries(files: ReadonlyArray<DicomFile>, opts: AssembleOptions = {}): Volume {
  if (files.length === 0) throw new ImportError('empty-folder', opts.source ?? '(no files)', 'no DICOM files were given')
  const headerOnly = opts.headerOnly === true
  const slices = files.map((f) => readSlice(f, headerOnly))
  const ref = slices[0]
  if (ref === undefined) throw new ImportError('empty-folder', opts.source ?? '(no files)', 'no DICOM files were given')
  for (const s of slices) checkSameSeries(ref, s)

  const source = opts.source ?? ref.name
  const geo = geometryOf(slices, source)
  const order = geo.order
  const nx = ref.columns
  const ny = ref.rows
  const nz = order.length
  // Rows x Columns x slices, checked before the volume is allocated (4 bytes: the float32
  // case; twice that when the stored slices and the resampled grid are held at once).
  checkDeclaredSize(source, 'Rows x Columns x slices', [nx, ny, nz], geo.resampling === undefined ? 4 : 8, opts.caps ?? DEFAULT_CAPS)
  if (headerOnly && geo.resampling !== undefined) {
    // The header-only caller decodes the pixels elsewhere and would place them unresampled.
    throw new ImportError(
      'inconsistent-geometry',
      source,
      `the slices must be resampled onto a regular grid (${geo.warnings.filter((w) => w.includes('resampled')).join('; ')}), which this reader does only for uncompressed pixel data; convert the series to uncompressed DICOM (e.g. gdcmconv --raw) first`,
    )
  }
  const stored = headerOnly ? new Int16Array(0) : readVoxels(order, nx * ny)
  const data = geo.resampling === undefined || headerOnly ? stored : resampleSlices(stored, [nx, ny, nz], geo.resampling, minOf(stored))
  const ds = ref.ds
  const modality = modalityOf(ds.string(Tag.Modality))
  const rescaleType = ds.string(Tag.RescaleType)
  const warnings = [...geo.warnings]
  if (ds.string(Tag.PhotometricInterpretation) === 'MONOCHROME1') {
    warnings.push('PhotometricInterpretation is MONOCHROME1: low values are meant to display bright')
  }
  const seen = new Set<string>()
  for (const s of order) {
    for (const w of s.ds.warnings) {
      if (seen.has(w) || seen.size >= 5) continue
      seen.add(w)
      warnings.push(`${s.name}: ${w}`)
    }
  }

  const meta: VolumeMeta = {
    modality,
    patientName: ds.string(Tag.PatientName) || undefined,
    patientId: ds.string(Tag.PatientID) || undefined,
    patientBirthDate: ds.string(Tag.PatientBirthDate) || undefined,
    studyInstanceUid: ds.uid(Tag.StudyInstanceUID) || undefined,
    studyDate: ds.string(Tag.StudyDate) || undefined,
    seriesInstanceUid: ds.uid(Tag.SeriesInstanceUID) || undefined,
    frameOfReferenceUid: ds.uid(Tag.FrameOfReferenceUID) || undefined,
    seriesDescription: ds.string(Tag.SeriesDescription) || undefined,
    seriesNumber: ds.number(Tag.SeriesNumber),
    // CT Image module (PS3.3 §C.8.2.1) rescales to Hounsfield units unless RescaleType says otherwise.
    valueUnit:
      modality === 'CT' && (rescaleType === undefined || rescaleType === '' || rescaleType === 'HU')
        ? 'HU'
        : rescaleType && rescaleType !== 'US'
          ? rescaleType
          : undefined,
    manufacturer: ds.string(Tag.Manufacturer) || undefined,
    manufacturerModelName: ds.string(Tag.ManufacturerModelName) || undefined,
    kvp: ds.number(Tag.KVP),
    convolutionKernel: ds.string(Tag.ConvolutionKernel) || undefined,
    source,
  }
  const mm = (v: readonly number[]): Vec3 => [at(v, 0) / 1000, at(v, 1) / 1000, at(v, 2) / 1000]
  const [c0, c1, c2] = geo.dir
  const direction: Mat3 = [c0[0], c1[0], c2[0], c0[1], c1[1], c2[1], c0[2], c1[2], c2[2]]
  return {
    data,
    dims: [nx, ny, nz],
    spacingM: mm(geo.spacingMm),
    originM: mm(geo.originMm),
    direction,
    meta,
    warnings,
  }
}
