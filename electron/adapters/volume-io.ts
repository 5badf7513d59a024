/**
 * Node host for volume import/export: the filesystem side of `core/io`. Core parses and
 * validates bytes; this module finds files, hands bytes to core, and calls itk-wasm's Node
 * pipelines (which take paths) for the formats core does not decode itself.
 */
import { promises as fs, type Stats } from 'node:fs'
import * as os from 'node:os'
import { AsyncLocalStorage } from 'node:async_hooks'
import { replaceFileAtomically } from './atomic-file.ts'
import * as path from 'node:path'
import { readImageNode, writeImageNode } from '@itk-wasm/image-io'
import { readImageDicomFileSeriesNode } from '@itk-wasm/dicom'
import { ImportError, isImportError } from '../../core/io/errors.ts'
import { sniffFormat, FORMAT_NAMES, type SniffedFormat } from '../../core/io/sniff.ts'
import { parseNiftiHeader } from '../../core/io/nifti-header.ts'
import { checkDeclaredSize, gunzipBounded, MAX_VOXELS, parseTextImageHeader, type SizeCaps } from '../../core/io/limits.ts'
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

type ConsoleMethod = 'log' | 'error' | 'warn' | 'info'
const CONSOLE_METHODS: readonly ConsoleMethod[] = ['log', 'error', 'warn', 'info']
/**
 * The quietly() call the current async context belongs to (none outside one). `open` turns false
 * when the call returns, so a callback it left behind that prints later is not swallowed.
 */
const captureLog = new AsyncLocalStorage<{ readonly lines: string[]; open: boolean }>()
let activeCaptures = 0
let installed:
  { readonly real: Record<ConsoleMethod, (...args: unknown[]) => void>; readonly routers: Record<ConsoleMethod, (...args: unknown[]) => void> } | undefined

/**
 * ITK has no logging hook: it prints through the global console. One set of routing methods is
 * installed while any capture runs (reference-counted, so concurrent reads - thermal-plan reads
 * five volumes at once - share it): a line printed inside a quietly() call, in its async
 * context, goes to that call's log; any other line (the CLI's verdict, another request's
 * output) goes to the real console. Replacing and restoring the console per call instead could
 * not nest: one call's restore reinstated another's capture and swallowed `tfus thermal`'s
 * output. The routers also stay correct if something keeps a reference to them (Emscripten
 * binds console.log when a module loads): outside a capture they pass straight through.
 */
function acquireConsoleCapture(): void {
  if (activeCaptures++ > 0) return
  const real = { log: console.log, error: console.error, warn: console.warn, info: console.info }
  const routers = {} as Record<ConsoleMethod, (...args: unknown[]) => void>
  for (const name of CONSOLE_METHODS) {
    const through = real[name]
    routers[name] = (...args: unknown[]) => {
      const capture = captureLog.getStore()
      if (capture?.open) capture.lines.push(args.map(String).join(' '))
      else through.apply(console, args)
    }
    console[name] = routers[name]
  }
  installed = { real, routers }
}

function releaseConsoleCapture(): void {
  if (--activeCaptures > 0 || !installed) return
  // Restore only what is still ours: a method someone replaced meanwhile is theirs to restore.
  for (const name of CONSOLE_METHODS) if (console[name] === installed.routers[name]) console[name] = installed.real[name]
  installed = undefined
}

/**
 * Runs an itk-wasm pipeline with its console chatter captured: ITK prints warnings and
 * "Exception while running pipeline" to the console, and the CLI owes the user one clear line.
 * The captured text is kept, because the real reason ("data not read completely") is there,
 * while the rejection itself is a bare number (an Emscripten exception pointer). Safe to call
 * concurrently (see acquireConsoleCapture).
 */
export async function quietly<T>(run: () => Promise<T>): Promise<{ value?: T; error?: unknown; log: string[] }> {
  const log: string[] = []
  const capture = { lines: log, open: true }
  acquireConsoleCapture()
  try {
    return await captureLog.run(capture, async () => {
      try {
        return { value: await run(), log }
      } catch (error) {
        return { error, log }
      }
    })
  } finally {
    capture.open = false
    releaseConsoleCapture()
  }
}

function decoderReason(log: readonly string[]): string | undefined {
  const lines = log.flatMap((l) => l.split('\n')).map((l) => l.trim())
  const meaningful = lines.filter(
    (l) => l && !/^(WARNING|stdout:|stderr:|Exception while running pipeline|Build module in Debug mode)/.test(l) && !/won't be written/.test(l),
  )
  return meaningful.length > 0 ? meaningful.slice(0, 2).join(' ') : undefined
}

function wrapDecoderError(file: string, e: unknown, what: string, log: readonly string[] = []): ImportError {
  if (isImportError(e)) return e
  const reason = decoderReason(log)
  const detail =
    reason ?? (e instanceof Error ? e.message : typeof e === 'number' ? 'the decoder aborted without a message (damaged or truncated data?)' : String(e))
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

/**
 * Largest file read into memory: Node reads at most 2 GiB - 1 into one buffer, and no planning
 * image comes near it (a 1024^3 int16 CT is 2 GiB uncompressed; clinical CTs are ~100-500 MB).
 */
export const MAX_IMAGE_FILE_BYTES = 2 ** 31 - 1

/** Decoded voxels may take at most half of this machine's memory (and 2^31 voxels). */
export function imageSizeCaps(): SizeCaps {
  return { maxVoxels: MAX_VOXELS, maxBytes: Math.floor(os.totalmem() / 2) }
}

function kindOf(st: Stats): string {
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isFIFO()) return 'a FIFO (named pipe)'
  if (st.isSocket()) return 'a socket'
  return 'not a regular file'
}

/**
 * Refuses, from its metadata alone (nothing is opened), what must not be read as an image: a
 * device (/dev/zero never ends), a FIFO (blocks until a writer comes), a socket, a file too big.
 */
function checkReadableFile(file: string, st: Stats, what = 'an image'): void {
  if (!st.isFile()) throw new ImportError('not-a-file', file, `is ${kindOf(st)}, not a regular file: refusing to read it as ${what}`)
  if (st.size > MAX_IMAGE_FILE_BYTES) {
    throw new ImportError(
      'too-large',
      file,
      `is ${(st.size / 2 ** 30).toFixed(1)} GiB, larger than the ${(MAX_IMAGE_FILE_BYTES / 2 ** 30).toFixed(0)} GiB an image file may have`,
    )
  }
}

async function readFileBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(file))
  } catch (e) {
    throw new ImportError('not-found', file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e))})`, {
      cause: e,
    })
  }
}

/** Read any supported volume: a NIfTI/NRRD/MHA file, a DICOM file (its series), or a DICOM folder. */
export async function readVolume(target: string, options: ReadOptions = {}): Promise<Volume> {
  const st = await statOrThrow(target)
  if (st.isDirectory()) return readDicomFolder(target, options)
  checkReadableFile(target, st)
  const bytes = await readFileBytes(target)
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

/**
 * MetaImage/NRRD: the header's declared dims against the caps, and a detached data file
 * (.mhd ElementDataFile, .nhdr "data file") checked like the header file, before ITK opens it.
 */
async function checkTextHeader(file: string, bytes: Uint8Array, format: 'metaimage' | 'nrrd'): Promise<void> {
  const header = parseTextImageHeader(bytes.subarray(0, 64 * 1024), format)
  if (!header) return
  checkDeclaredSize(file, header.dimsField, header.dims, header.bytesPerVoxel, imageSizeCaps())
  if (header.dataFile === undefined) return
  const dataFile = path.resolve(path.dirname(file), header.dataFile)
  let st: Stats
  try {
    st = await fs.stat(dataFile)
  } catch (e) {
    throw new ImportError('not-found', file, `${header.dataFileField} names ${dataFile}, which does not exist`, { cause: e })
  }
  try {
    checkReadableFile(dataFile, st, 'image data')
  } catch (e) {
    if (isImportError(e)) throw new ImportError(e.code, file, `${header.dataFileField} names ${dataFile}, which ${e.problem}`, { cause: e })
    throw e
  }
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
  const caps = imageSizeCaps()
  if (format === 'gzip') {
    // The header first (a peek), so a declared size beyond the caps is refused before the
    // stream is inflated; then the whole stream, never beyond what the header declares.
    const head = gunzipBounded(bytes, file, { wantBytes: 1024, maxBytes: Number.POSITIVE_INFINITY })
    const innerFormat = sniffFormat(head.subarray(0, 1024))
    if (innerFormat !== 'nifti1' && innerFormat !== 'nifti2') {
      // Too short to sniff? Inflate it all (bounded) so that a damaged stream is named as such.
      if (head.length < 1024) gunzipBounded(bytes, file, { maxBytes: 1024 })
      throw new ImportError('unsupported-format', file, `named .nii.gz but the decompressed contents are ${FORMAT_NAMES[innerFormat]}`)
    }
    const header = parseNiftiHeader(head, file, { headerOnly: true, caps })
    const inner = gunzipBounded(bytes, file, { maxBytes: header.voxOffset + header.dataBytes + 16 * 2 ** 20 })
    parseNiftiHeader(inner, file, { caps })
  } else if (format === 'nifti1' || format === 'nifti2') {
    parseNiftiHeader(bytes, file, { caps })
  } else if (format === 'metaimage' || format === 'nrrd') {
    await checkTextHeader(file, bytes, format)
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

/** Regular files only (a FIFO, device or socket in the folder is never opened), sorted. */
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

/** Every file of a DICOM folder within the per-file cap, and all of them together within memory. */
async function checkFolderFiles(folder: string, files: readonly string[]): Promise<void> {
  const maxTotal = imageSizeCaps().maxBytes
  let total = 0
  for (const file of files) {
    const st = await statOrThrow(file)
    checkReadableFile(file, st)
    total += st.size
    if (total > maxTotal) {
      throw new ImportError(
        'too-large',
        folder,
        `its ${files.length} files hold more than ${(maxTotal / 2 ** 30).toFixed(1)} GiB, more than this machine can hold (half its memory)`,
      )
    }
  }
}

async function readAllBytes(files: readonly string[], options: ReadOptions, label: string): Promise<Array<{ name: string; bytes: Uint8Array }>> {
  const out: Array<{ name: string; bytes: Uint8Array }> = new Array(files.length)
  const batch = 32
  for (let start = 0; start < files.length; start += batch) {
    checkAborted(options.signal)
    const slice = files.slice(start, start + batch)
    const read = await Promise.all(slice.map(async (f) => ({ name: f, bytes: await readFileBytes(f) })))
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
  await checkFolderFiles(folder, files)
  const scanned = scanDicomFiles(await readAllBytes(files, options, 'reading'))
  return { folder, series: scanned.series, skipped: scanned.skipped }
}

export async function readDicomFolder(folder: string, options: ReadOptions = {}): Promise<Volume> {
  const st = await statOrThrow(folder)
  if (!st.isDirectory()) throw new ImportError('not-found', folder, 'is not a folder')
  const files = await listFilesRecursive(folder)
  if (files.length === 0) throw new ImportError('empty-folder', folder, 'the folder holds no files')
  await checkFolderFiles(folder, files)
  const all = await readAllBytes(files, options, 'reading')
  checkAborted(options.signal)
  const scanned = scanDicomFiles(all)
  if (scanned.series.length === 0) {
    const why = scanned.skipped
      .slice(0, 3)
      .map((s) => `${path.basename(s.name)}: ${s.reason}`)
      .join('; ')
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
    const volume = assembleSeries(seriesFiles, { source: folder, caps: imageSizeCaps() })
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
  const headerVolume = assembleSeries(files, { source: folder, headerOnly: true, caps: imageSizeCaps() })
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
