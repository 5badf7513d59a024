/**
 * Node host for volume import/export: the filesystem side of `core/io`. Core parses and
 * validates bytes; this module finds files, hands bytes to core, and calls itk-wasm's Node
 * pipelines (which take paths) for the formats core does not decode itself.
 */
import { promises as fs } from 'node:fs'
import { replaceFileAtomically } from './atomic-file.ts'
import * as path from 'node:path'
import { gunzipSync } from 'fflate'
import { readImageNode, writeImageNode } from '@itk-wasm/image-io'
import { readImageDicomFileSeriesNode } from '@itk-wasm/dicom'
import { ImportError, isImportError } from '../../core/io/errors.ts'
import { sniffFormat, FORMAT_NAMES, type SniffedFormat } from '../../core/io/sniff.ts'
import { parseNiftiHeader } from '../../core/io/nifti-header.ts'
import { itkImageFromVolume, volumeFromItkImage } from '../../core/io/itk-image.ts'
import { assembleSeries, scanDicomFiles, contentUid, type SeriesSummary } from '../../core/io/dicom/index.ts'
import type { Modality, Volume, VolumeMeta } from '../../core/volume/types.ts'

export interface ReadOptions {
  /** For DICOM folders holding several series: which one to read. */
  readonly seriesUid?: string
  /** Overrides the modality guessed for formats that carry none (NIfTI, NRRD, MHA). */
  readonly modality?: Modality
  readonly onProgress?: (fraction: number, message: string) => void
  readonly signal?: AbortSignal
}

export interface DicomFolderListing {
  readonly folder: string
  readonly series: readonly SeriesSummary[]
  readonly skipped: ReadonlyArray<{ name: string; reason: string }>
}

const VOLUME_EXTENSIONS = ['.nii.gz', '.nii', '.nrrd', '.nhdr', '.mha', '.mhd']

function extensionOf(file: string): string {
  const lower = file.toLowerCase()
  return VOLUME_EXTENSIONS.find((ext) => lower.endsWith(ext)) ?? path.extname(lower)
}

/**
 * Runs an itk-wasm pipeline with its console chatter captured: ITK prints warnings and
 * "Exception while running pipeline" to the console, and the CLI owes the user one clear line.
 * The captured text is kept, because the real reason ("data not read completely") is there,
 * while the rejection itself is a bare number (an Emscripten exception pointer).
 */
async function quietly<T>(run: () => Promise<T>): Promise<{ value?: T; error?: unknown; log: string[] }> {
  const log: string[] = []
  const saved = { log: console.log, error: console.error, warn: console.warn, info: console.info }
  const capture = (...args: unknown[]) => void log.push(args.map(String).join(' '))
  console.log = console.error = console.warn = console.info = capture
  try {
    return { value: await run(), log }
  } catch (error) {
    return { error, log }
  } finally {
    Object.assign(console, saved)
  }
}

function decoderReason(log: readonly string[]): string | undefined {
  const lines = log.flatMap((l) => l.split('\n')).map((l) => l.trim())
  const meaningful = lines.filter((l) => l && !/^(WARNING|stdout:|stderr:|Exception while running pipeline|Build module in Debug mode)/.test(l) && !/won't be written/.test(l))
  return meaningful.length > 0 ? meaningful.slice(0, 2).join(' ') : undefined
}

function wrapDecoderError(file: string, e: unknown, what: string, log: readonly string[] = []): ImportError {
  if (isImportError(e)) return e
  const reason = decoderReason(log)
  const detail = reason ?? (e instanceof Error ? e.message : typeof e === 'number' ? 'the decoder aborted without a message (damaged or truncated data?)' : String(e))
  return new ImportError('corrupt-header', file, `${what} could not be decoded: ${detail}`, { cause: e })
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DOMException('import cancelled', 'AbortError')
}

async function statOrThrow(target: string) {
  try {
    return await fs.stat(target)
  } catch (e) {
    throw new ImportError('not-found', target, 'no such file or folder', { cause: e })
  }
}

/** Read any supported volume: a NIfTI/NRRD/MHA file, a DICOM file (its series), or a DICOM folder. */
export async function readVolume(target: string, options: ReadOptions = {}): Promise<Volume> {
  const st = await statOrThrow(target)
  if (st.isDirectory()) return readDicomFolder(target, options)
  const bytes = new Uint8Array(await fs.readFile(target))
  if (bytes.length === 0) throw new ImportError('truncated', target, 'the file is empty (0 bytes)')
  const format = sniffFormat(bytes.subarray(0, 1024))
  if (format === 'dicom') {
    const dataset = scanDicomFiles([{ name: target, bytes }])
    const uid = dataset.series[0]?.seriesInstanceUid
    if (!uid) throw new ImportError('not-an-image', target, dataset.skipped[0]?.reason ?? 'DICOM file holds no image')
    return readDicomFolder(path.dirname(target), { ...options, seriesUid: options.seriesUid ?? uid })
  }
  return readImageFile(target, bytes, format, options)
}

function expectedFormats(ext: string): SniffedFormat[] {
  switch (ext) {
    case '.nii':
      return ['nifti1', 'nifti2']
    case '.nii.gz':
      return ['gzip']
    case '.nrrd':
    case '.nhdr':
      return ['nrrd']
    case '.mha':
    case '.mhd':
      return ['metaimage']
    default:
      return []
  }
}

async function readImageFile(file: string, bytes: Uint8Array, format: SniffedFormat, options: ReadOptions): Promise<Volume> {
  const ext = extensionOf(file)
  const expected = expectedFormats(ext)
  if (expected.length === 0 && !['nifti1', 'nifti2', 'nrrd', 'metaimage'].includes(format)) {
    throw new ImportError('unsupported-format', file, `${FORMAT_NAMES[format]} is not a supported volume (NIfTI .nii/.nii.gz, NRRD, MHA or DICOM)`)
  }
  if (ext === '.nii' && format === 'unknown' && bytes.length >= 4) {
    // A NIfTI header cut short is too short to sniff; its sizeof_hdr still says what it was.
    const sizeofHdr = new DataView(bytes.buffer, bytes.byteOffset, 4)
    if ([348, 540].includes(sizeofHdr.getInt32(0, true)) || [348, 540].includes(sizeofHdr.getInt32(0, false))) parseNiftiHeader(bytes, file)
  }
  if (expected.length > 0 && !expected.includes(format)) {
    throw new ImportError('unsupported-format', file, `named ${ext} but the contents are ${FORMAT_NAMES[format]}`)
  }
  if (format === 'gzip') {
    let inner: Uint8Array
    try {
      inner = gunzipSync(bytes)
    } catch (e) {
      throw new ImportError('truncated', file, `the gzip stream is damaged or cut short (${e instanceof Error ? e.message : String(e)})`, { cause: e })
    }
    const innerFormat = sniffFormat(inner.subarray(0, 1024))
    if (innerFormat !== 'nifti1' && innerFormat !== 'nifti2') {
      throw new ImportError('unsupported-format', file, `named .nii.gz but the decompressed contents are ${FORMAT_NAMES[innerFormat]}`)
    }
    parseNiftiHeader(inner, file)
  } else if (format === 'nifti1' || format === 'nifti2') {
    parseNiftiHeader(bytes, file)
  }
  checkAborted(options.signal)
  options.onProgress?.(0.2, 'decoding')
  const decoded = await quietly(() => readImageNode(file))
  const image = decoded.value
  if (!image) throw wrapDecoderError(file, decoded.error, FORMAT_NAMES[format], decoded.log)
  options.onProgress?.(1, 'decoded')
  const warnings: string[] = []
  const guessed = options.modality ?? guessModality(image.data as ArrayLike<number>)
  if (!options.modality) {
    warnings.push(`modality ${guessed} inferred from the intensity range (${ext || 'this format'} carries no modality)`)
  }
  const meta: VolumeMeta = {
    modality: guessed,
    source: file,
    // Same file, same UIDs: derived from the file's bytes (see contentUid).
    studyInstanceUid: await contentUid(bytes, 'study'),
    seriesInstanceUid: await contentUid(bytes, 'series'),
    frameOfReferenceUid: await contentUid(bytes, 'frame-of-reference'),
    uidsMinted: true,
    seriesDescription: path.basename(file).replace(/\.(nii\.gz|nii|nrrd|nhdr|mha|mhd)$/i, ''),
    ...(guessed === 'CT' ? { valueUnit: 'HU' } : {}),
  }
  try {
    return volumeFromItkImage(image, meta, warnings)
  } catch (e) {
    throw new ImportError('unsupported-pixel-format', file, e instanceof Error ? e.message : String(e), { cause: e })
  }
}

/** CT in HU has air near -1000 and bone above +300; MR magnitude images are non-negative. */
function guessModality(data: ArrayLike<number>): Modality {
  let min = Infinity
  let below900 = 0
  const stride = Math.max(1, Math.floor(data.length / 200_000))
  let n = 0
  for (let i = 0; i < data.length; i += stride) {
    const v = data[i]!
    if (v < min) min = v
    if (v < -900) below900++
    n++
  }
  return min <= -900 && below900 / n > 0.05 ? 'CT' : 'MR'
}

async function listFilesRecursive(folder: string, depth = 0): Promise<string[]> {
  const entries = await fs.readdir(folder, { withFileTypes: true })
  const files: string[] = []
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue
    const full = path.join(folder, entry.name)
    if (entry.isDirectory() && depth < 4) files.push(...(await listFilesRecursive(full, depth + 1)))
    else if (entry.isFile()) files.push(full)
  }
  return files.sort()
}

async function readAllBytes(files: readonly string[], options: ReadOptions, label: string): Promise<Array<{ name: string; bytes: Uint8Array }>> {
  const out: Array<{ name: string; bytes: Uint8Array }> = new Array(files.length)
  const batch = 32
  for (let start = 0; start < files.length; start += batch) {
    checkAborted(options.signal)
    const slice = files.slice(start, start + batch)
    const read = await Promise.all(slice.map(async (f) => ({ name: f, bytes: new Uint8Array(await fs.readFile(f)) })))
    read.forEach((r, i) => (out[start + i] = r))
    options.onProgress?.(0.6 * Math.min(1, (start + batch) / files.length), `${label} ${Math.min(files.length, start + batch)}/${files.length} files`)
  }
  return out
}

/** Lists the DICOM series in a folder (headers only) without assembling a volume. */
export async function listDicomFolder(folder: string, options: ReadOptions = {}): Promise<DicomFolderListing> {
  const st = await statOrThrow(folder)
  if (!st.isDirectory()) throw new ImportError('not-found', folder, 'is not a folder')
  const files = await listFilesRecursive(folder)
  if (files.length === 0) throw new ImportError('empty-folder', folder, 'the folder holds no files')
  const scanned = scanDicomFiles(await readAllBytes(files, options, 'reading'))
  return { folder, series: scanned.series, skipped: scanned.skipped }
}

export async function readDicomFolder(folder: string, options: ReadOptions = {}): Promise<Volume> {
  const st = await statOrThrow(folder)
  if (!st.isDirectory()) throw new ImportError('not-found', folder, 'is not a folder')
  const files = await listFilesRecursive(folder)
  if (files.length === 0) throw new ImportError('empty-folder', folder, 'the folder holds no files')
  const all = await readAllBytes(files, options, 'reading')
  checkAborted(options.signal)
  const scanned = scanDicomFiles(all)
  if (scanned.series.length === 0) {
    const why = scanned.skipped.slice(0, 3).map((s) => `${path.basename(s.name)}: ${s.reason}`).join('; ')
    throw new ImportError('not-an-image', folder, `no DICOM image series found in ${files.length} files (${why})`)
  }
  let chosen: SeriesSummary | undefined
  if (options.seriesUid) {
    chosen = scanned.series.find((s) => s.seriesInstanceUid === options.seriesUid)
    if (!chosen) throw new ImportError('series-not-chosen', folder, `no series with SeriesInstanceUID ${options.seriesUid}`)
  } else if (scanned.series.length > 1) {
    const list = scanned.series.map((s) => `${s.seriesInstanceUid} (${s.modality}, ${s.sliceCount} slices, "${s.description ?? ''}")`).join('; ')
    throw new ImportError('series-not-chosen', folder, `the folder holds ${scanned.series.length} series, choose one: ${list}`)
  } else {
    chosen = scanned.series[0]
  }
  if (!chosen) throw new ImportError('not-an-image', folder, 'no series')
  const wanted = new Set(chosen.files)
  const seriesFiles = all.filter((f) => wanted.has(f.name))
  options.onProgress?.(0.7, 'assembling volume')
  try {
    const volume = assembleSeries(seriesFiles, { source: folder })
    options.onProgress?.(1, 'done')
    return volume
  } catch (e) {
    if (!(isImportError(e) && e.code === 'unsupported-pixel-format' && /transfer syntax/i.test(e.problem))) throw e
    // Compressed pixel data (JPEG, JPEG 2000, RLE ...): GDCM inside itk-wasm decodes it. Core
    // has already checked the series (ordering, gaps, mixing), so only pixels come from here.
    options.onProgress?.(0.8, 'decoding compressed pixel data')
    return readCompressedSeries(folder, seriesFiles, e)
  }
}

async function readCompressedSeries(folder: string, files: ReadonlyArray<{ name: string; bytes: Uint8Array }>, original: ImportError): Promise<Volume> {
  const headerVolume = assembleSeries(files, { source: folder, headerOnly: true })
  const decoded = await quietly(() => readImageDicomFileSeriesNode({ inputImages: files.map((f) => f.name), singleSortedSeries: false }))
  const result = decoded.value
  if (!result) {
    const why = decoderReason(decoded.log) ?? (decoded.error instanceof Error ? decoded.error.message : 'decoder aborted')
    throw new ImportError('unsupported-pixel-format', folder, `${original.problem}; the fallback decoder failed too (${why})`, { cause: decoded.error })
  }
  const volume = volumeFromItkImage(result.outputImage, headerVolume.meta, headerVolume.warnings)
  return { ...volume, originM: headerVolume.originM, direction: headerVolume.direction, spacingM: headerVolume.spacingM }
}

/** Writes NIfTI (.nii/.nii.gz), NRRD or MHA atomically: a temp file beside the target, then rename. */
export async function writeVolume(volume: Volume, target: string): Promise<void> {
  const ext = extensionOf(target)
  if (!['.nii.gz', '.nii', '.nrrd', '.mha'].includes(ext)) {
    throw new ImportError('unsupported-format', target, `cannot write ${ext || 'files without an extension'}: use .nii.gz, .nii, .nrrd or .mha`)
  }
  await replaceFileAtomically(
    target,
    async (tmp) => {
      const written = await quietly(() => writeImageNode(itkImageFromVolume(volume), tmp, { useCompression: ext !== '.nii' }))
      if (written.error !== undefined) throw written.error
    },
    ext,
  )
}
