/**
 * Bounds checked before an image is read or allocated: a header that declares more voxels than
 * any planning volume has (or than this machine can hold) is refused naming the field, instead
 * of reaching a decoder that allocates what the header says (or a gzip stream that inflates
 * without end).
 */
import { Gunzip } from 'fflate'
import { ImportError } from './errors.ts'

/** Most voxels a volume may declare: 2^31 (a 1290^3 CT; typed arrays index beyond, ITK and our grids do not). */
export const MAX_VOXELS = 2 ** 31

export interface SizeCaps {
  /** Most voxels a header may declare. */
  readonly maxVoxels: number
  /** Most bytes the decoded voxels may take. */
  readonly maxBytes: number
}

export const DEFAULT_CAPS: SizeCaps = { maxVoxels: MAX_VOXELS, maxBytes: Number.POSITIVE_INFINITY }

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 3 : 1)} GiB`
}

/**
 * Refuses a declared size beyond the caps. `field` names the header field that declares the
 * dims (e.g. "dim", "DimSize", "sizes"), so the user knows what to look at.
 */
export function checkDeclaredSize(file: string, field: string, dims: readonly number[], bytesPerVoxel: number, caps: SizeCaps = DEFAULT_CAPS): void {
  const voxels = dims.reduce((a, b) => a * b, 1)
  const shape = dims.join(' x ')
  if (voxels > caps.maxVoxels) {
    throw new ImportError(
      'too-large',
      file,
      `${field} declares ${shape} = ${voxels.toExponential(3)} voxels, more than the ${caps.maxVoxels} a volume may have`,
    )
  }
  const bytes = voxels * bytesPerVoxel
  if (bytes > caps.maxBytes) {
    throw new ImportError(
      'too-large',
      file,
      `${field} declares ${shape} voxels of ${bytesPerVoxel} bytes = ${gib(bytes)}, more than the ${gib(caps.maxBytes)} this machine can hold`,
    )
  }
}

export interface TextImageHeader {
  /** The field that declares the dims: "DimSize" (MetaImage) or "sizes" (NRRD). */
  readonly dimsField: string
  readonly dims: readonly number[]
  /** Bytes per voxel from the element type and channels (a lower bound for unknown types). */
  readonly bytesPerVoxel: number
  /** A detached data file (MetaImage ElementDataFile, NRRD data file) as written, when it names one file. */
  readonly dataFile?: string
  readonly dataFileField?: string
}

function metaImageBytes(type: string): number {
  const t = type.toUpperCase()
  if (/^MET_(U?CHAR|U?INT8)$/.test(t)) return 1
  if (/^MET_(U?SHORT|U?INT16)$/.test(t)) return 2
  if (/^MET_(U?INT|U?LONG|FLOAT|U?INT32)$/.test(t)) return 4
  if (/^MET_(DOUBLE|U?LONG_LONG|U?INT64)$/.test(t)) return 8
  return 1
}

function nrrdBytes(type: string): number {
  const t = type.toLowerCase().trim()
  if (/double|int64|longlong|long long/.test(t)) return 8
  if (/short|int16/.test(t)) return 2
  if (/char|int8/.test(t)) return 1
  if (/int|float|long/.test(t)) return 4
  return 1
}

function positiveIntegers(value: string): number[] | undefined {
  const parts = value.trim().split(/\s+/)
  const numbers = parts.map(Number)
  return parts.length > 0 && numbers.every((n) => Number.isInteger(n) && n > 0) ? numbers : undefined
}

/**
 * The dims, element size and data file of a MetaImage (.mha/.mhd) or NRRD (.nrrd/.nhdr) text
 * header, from the file's first bytes; undefined when the header does not state dims that can
 * be read (the decoder then reports what is wrong).
 */
export function parseTextImageHeader(head: Uint8Array, format: 'metaimage' | 'nrrd'): TextImageHeader | undefined {
  let text = ''
  for (let i = 0; i < head.length; i++) text += String.fromCharCode(head[i]!)
  const lines = text.split(/\r?\n/)
  if (format === 'metaimage') {
    const fields = new Map<string, string>()
    for (const line of lines) {
      const m = /^\s*([A-Za-z_][\w]*)\s*=\s*(.*?)\s*$/.exec(line)
      if (!m) continue
      fields.set(m[1]!.toLowerCase(), m[2]!)
      if (m[1]!.toLowerCase() === 'elementdatafile') break // the last header field
    }
    const dims = positiveIntegers(fields.get('dimsize') ?? '')
    if (!dims) return undefined
    const channels = Number(fields.get('elementnumberofchannels') ?? '1')
    const bytesPerVoxel = metaImageBytes(fields.get('elementtype') ?? '') * (Number.isInteger(channels) && channels > 0 ? channels : 1)
    const dataFile = fields.get('elementdatafile')
    const single = dataFile !== undefined && dataFile !== 'LOCAL' && !/^LIST\b/i.test(dataFile) && !dataFile.includes('%')
    return { dimsField: 'DimSize', dims, bytesPerVoxel, ...(single ? { dataFile, dataFileField: 'ElementDataFile' } : {}) }
  }
  const fields = new Map<string, string>()
  for (const line of lines.slice(1)) {
    if (line.trim() === '') break // the blank line that ends a NRRD header
    if (line.startsWith('#')) continue
    const m = /^([^:=]+):=?\s*(.*?)\s*$/.exec(line)
    if (m) fields.set(m[1]!.trim().toLowerCase(), m[2]!)
  }
  const dims = positiveIntegers(fields.get('sizes') ?? '')
  if (!dims) return undefined
  const dataFile = fields.get('data file') ?? fields.get('datafile')
  const single = dataFile !== undefined && !/^LIST\b/i.test(dataFile) && !/\s/.test(dataFile) && !dataFile.includes('%')
  return { dimsField: 'sizes', dims, bytesPerVoxel: nrrdBytes(fields.get('type') ?? ''), ...(single ? { dataFile, dataFileField: 'data file' } : {}) }
}

const GZIP_CHUNK = 64 * 1024

/**
 * Inflates a gzip stream, stopping once `wantBytes` are out (a header peek) and refusing to go
 * past `maxBytes` (a gzip bomb: a few MB that inflate to more than the header declared).
 */
export function gunzipBounded(bytes: Uint8Array, file: string, options: { wantBytes?: number; maxBytes: number }): Uint8Array {
  const chunks: Uint8Array[] = []
  let total = 0
  let done = false
  const stream = new Gunzip((data, final) => {
    chunks.push(data)
    total += data.length
    if (final) done = true
  })
  try {
    for (let offset = 0; offset < bytes.length && !done; offset += GZIP_CHUNK) {
      const end = Math.min(bytes.length, offset + GZIP_CHUNK)
      stream.push(bytes.subarray(offset, end), end === bytes.length)
      if (total > options.maxBytes) {
        throw new ImportError('too-large', file, `the gzip stream inflates to more than ${options.maxBytes} bytes, more than its NIfTI header declares`)
      }
      if (options.wantBytes !== undefined && total >= options.wantBytes) break
    }
  } catch (e) {
    if (e instanceof ImportError) throw e
    throw new ImportError('truncated', file, `the gzip stream is damaged or cut short (${e instanceof Error ? e.message : String(e)})`, { cause: e })
  }
  if (options.wantBytes === undefined && !done) throw new ImportError('truncated', file, 'the gzip stream is damaged or cut short (unexpected end of data)')
  const out = new Uint8Array(total)
  let o = 0
  for (const c of chunks) {
    out.set(c, o)
    o += c.length
  }
  return out
}
