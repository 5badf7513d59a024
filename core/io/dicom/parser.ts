/**
 * DICOM Part 10 / raw data set parser (PS3.10 §7, PS3.5 §7).
 *
 * Built for reading hundreds of slices quickly: element values are views (`subarray`) into
 * the caller's bytes, never copies (deflated data sets are the one exception: they must be
 * inflated once). Only top-level elements are indexed; sequences are walked just far enough
 * to find their end. Parsing stops at Pixel Data, because PS3.5 §7.1 orders elements by tag
 * and nothing a viewer needs can follow (7FE0,0010) — only padding and signatures.
 *
 * Every malformed input ends in an `ImportError` naming the file: each read is bounds-checked
 * before the DataView call, every loop advances by at least one element header, and nesting
 * depth is capped, so hostile bytes give neither a RangeError nor a hang.
 */
import { inflateSync } from 'fflate'
import { ImportError } from '../errors.ts'
import { formatTag, impliedVr, Tag, TransferSyntax } from './tags.ts'

export interface DicomParseOptions {
  /** Stop at Pixel Data without walking encapsulated fragments (for scanning folders). */
  readonly headerOnly?: boolean
}

export interface DicomElement {
  readonly tag: number
  /** VR as written (explicit VR) or from the small dictionary (implicit VR; 'UN' if unknown). */
  readonly vr: string
  /** The value bytes, a view into the parsed buffer. For undefined-length SQ: items + delimiter. */
  readonly value: Uint8Array
  readonly littleEndian: boolean
}

/** Native (uncompressed) pixel data: one contiguous run of bytes. */
export interface NativePixelData {
  readonly kind: 'native'
  readonly vr: string
  /** Byte offset of the value in the parsed buffer (the inflated buffer for deflated files). */
  readonly offset: number
  readonly length: number
  /** View of the value bytes (no copy). */
  readonly bytes: Uint8Array
  /** Byte order of 16/32-bit samples; only explicit VR big endian files are false. */
  readonly littleEndian: boolean
}

/** Encapsulated (compressed) pixel data, PS3.5 §A.4: offset table item, then fragments. */
export interface EncapsulatedPixelData {
  readonly kind: 'encapsulated'
  readonly offset: number
  /** Basic Offset Table item value (often empty); undefined when parsed with `headerOnly`. */
  readonly basicOffsetTable: Uint8Array | undefined
  /** Fragment values in order (views); undefined when parsed with `headerOnly`. */
  readonly fragments: readonly Uint8Array[] | undefined
}

export type DicomPixelData = NativePixelData | EncapsulatedPixelData

const UNDEFINED_LENGTH = 0xffffffff
/** Deeper nesting than this is not produced by any real modality; treat it as hostile. */
const MAX_SEQUENCE_DEPTH = 32

const vrCode = (vr: string): number => (vr.charCodeAt(0) << 8) | vr.charCodeAt(1)

/** PS3.5 §7.1.2 Table 7.1-1: these VRs have 2 reserved bytes and a 32-bit length. */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'].map(vrCode))
/** The remaining VRs of PS3.5 §6.2, with a 16-bit length. */
const SHORT_VRS = new Set(
  ['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'PN', 'SH', 'SL', 'SS', 'ST', 'TM', 'UI', 'UL', 'US'].map(vrCode),
)

/** Character-set dependent VRs (PS3.5 §6.1.2.3); all others use the default repertoire. */
const CHARSET_VRS = new Set(['SH', 'LO', 'ST', 'LT', 'UC', 'UT', 'PN'])
/** Free-text VRs: no value multiplicity and leading spaces are significant (PS3.5 §6.2). */
const TEXT_VRS = new Set(['ST', 'LT', 'UT', 'UR'])

const NUMERIC_BINARY: Readonly<Record<string, { size: number; read: (dv: DataView, o: number, le: boolean) => number }>> = {
  US: { size: 2, read: (dv, o, le) => dv.getUint16(o, le) },
  SS: { size: 2, read: (dv, o, le) => dv.getInt16(o, le) },
  UL: { size: 4, read: (dv, o, le) => dv.getUint32(o, le) },
  SL: { size: 4, read: (dv, o, le) => dv.getInt32(o, le) },
  FL: { size: 4, read: (dv, o, le) => dv.getFloat32(o, le) },
  FD: { size: 8, read: (dv, o, le) => dv.getFloat64(o, le) },
  SV: { size: 8, read: (dv, o, le) => Number(dv.getBigInt64(o, le)) },
  UV: { size: 8, read: (dv, o, le) => Number(dv.getBigUint64(o, le)) },
  // PS3.5 §6.2: AT is a pair of 16-bit numbers (group, element), each in the data set's byte order.
  AT: { size: 4, read: (dv, o, le) => ((dv.getUint16(o, le) << 16) | dv.getUint16(o + 2, le)) >>> 0 },
  OW: { size: 2, read: (dv, o, le) => dv.getUint16(o, le) },
  OL: { size: 4, read: (dv, o, le) => dv.getUint32(o, le) },
  OF: { size: 4, read: (dv, o, le) => dv.getFloat32(o, le) },
  OD: { size: 8, read: (dv, o, le) => dv.getFloat64(o, le) },
}

/** DS (PS3.5 §6.2: fixed or floating point) and IS; stricter than Number(), which takes "" and "0x1F". */
const DECIMAL_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/** The part of TextDecoder used here (core has no DOM lib, so the global is typed as a value only). */
interface Decoder {
  decode(input: Uint8Array): string
}

const latin1: Decoder = new TextDecoder('latin1')
const decoders = new Map<string, Decoder>()

/** PS3.3 §C.12.1.1.2 defined terms to WHATWG encoding labels, for TextDecoder. */
function decoderFor(specificCharacterSet: string | undefined): Decoder {
  if (specificCharacterSet === undefined || specificCharacterSet === '') return latin1
  const terms = specificCharacterSet.split('\\').map((s) => s.trim())
  let label = 'latin1'
  if (terms.includes('ISO_IR 192')) label = 'utf-8'
  else if (terms.some((t) => t === 'GB18030')) label = 'gb18030'
  else if (terms.some((t) => t === 'GBK')) label = 'gbk'
  else if (terms.some((t) => t.endsWith('IR 87') || t.endsWith('IR 159'))) label = 'iso-2022-jp'
  else if (terms.some((t) => t.endsWith('IR 13'))) label = 'shift_jis'
  else if (terms.some((t) => t.endsWith('IR 149'))) label = 'euc-kr'
  else {
    const map: Record<string, string> = {
      'IR 101': 'iso-8859-2',
      'IR 109': 'iso-8859-3',
      'IR 110': 'iso-8859-4',
      'IR 144': 'iso-8859-5',
      'IR 127': 'iso-8859-6',
      'IR 126': 'iso-8859-7',
      'IR 138': 'iso-8859-8',
      'IR 148': 'iso-8859-9',
      'IR 203': 'iso-8859-15',
      'IR 166': 'windows-874',
    }
    for (const t of terms) {
      const key = t.replace(/^ISO(_| 2022 )/, '')
      const found = map[key]
      if (found !== undefined) {
        label = found
        break
      }
    }
  }
  let d = decoders.get(label)
  if (d === undefined) {
    try {
      d = new TextDecoder(label)
    } catch {
      // Runtimes without full ICU lack some legacy encodings; Latin-1 keeps ASCII readable.
      d = latin1
    }
    decoders.set(label, d)
  }
  return d
}

function dataViewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength)
}

function trimEnd(s: string): string {
  // PS3.5 §6.2: values are padded to even length with a space, UI with NUL.
  let end = s.length
  while (end > 0) {
    const c = s.charCodeAt(end - 1)
    if (c !== 0x20 && c !== 0x00) break
    end--
  }
  return end === s.length ? s : s.slice(0, end)
}

function trimBoth(s: string): string {
  let start = 0
  while (start < s.length && s.charCodeAt(start) === 0x20) start++
  return trimEnd(start === 0 ? s : s.slice(start))
}

/** One parsed data set: top-level elements by tag, plus where the pixel data are. */
export class DicomDataset {
  private decoder: Decoder | undefined

  constructor(
    readonly fileName: string,
    /** From (0002,0010), or inferred for files without file meta information. */
    readonly transferSyntaxUid: string,
    readonly littleEndian: boolean,
    readonly explicitVr: boolean,
    readonly elements: ReadonlyMap<number, DicomElement>,
    readonly pixelData: DicomPixelData | undefined,
    /** Irregularities that were tolerated (missing preamble, mislabelled VR encoding, ...). */
    readonly warnings: readonly string[],
  ) {}

  has(t: number): boolean {
    return this.elements.has(t)
  }

  element(t: number): DicomElement | undefined {
    return this.elements.get(t)
  }

  /** The VR used to interpret `t`: 'UN' values of known tags are read with the dictionary VR. */
  vr(t: number): string | undefined {
    const e = this.elements.get(t)
    if (e === undefined) return undefined
    return e.vr === 'UN' ? impliedVr(t) : e.vr
  }

  bytes(t: number): Uint8Array | undefined {
    return this.elements.get(t)?.value
  }

  /**
   * Whole value as text without padding (multiple values stay joined by backslashes).
   * Binary numeric VRs are rendered as their numbers.
   */
  string(t: number): string | undefined {
    const e = this.elements.get(t)
    if (e === undefined) return undefined
    const vr = this.vr(t) ?? 'UN'
    if (NUMERIC_BINARY[vr] !== undefined) return this.numbers(t)?.join('\\')
    const text = this.decode(e.value, vr)
    return TEXT_VRS.has(vr) ? trimEnd(text) : trimBoth(text)
  }

  /** Values split at backslashes (PS3.5 §6.4), each trimmed of insignificant spaces. */
  strings(t: number): string[] | undefined {
    const e = this.elements.get(t)
    if (e === undefined) return undefined
    const vr = this.vr(t) ?? 'UN'
    if (NUMERIC_BINARY[vr] !== undefined) return this.numbers(t)?.map(String)
    const text = this.decode(e.value, vr)
    if (TEXT_VRS.has(vr)) return [trimEnd(text)]
    if (e.value.length === 0) return []
    return text.split('\\').map(trimBoth)
  }

  /** A UID without its NUL padding (PS3.5 §9.1); also drops the spaces some writers use. */
  uid(t: number): string | undefined {
    const e = this.elements.get(t)
    if (e === undefined) return undefined
    return trimBoth(latin1.decode(e.value))
  }

  /**
   * Numeric values: DS/IS parsed from text (invalid entries become NaN), binary VRs
   * (US, SS, UL, SL, FL, FD, SV, UV, OW, OL, OF, OD; AT as tag numbers) decoded in the data
   * set's byte order.
   * Undefined when absent or of a non-numeric VR.
   */
  numbers(t: number): number[] | undefined {
    const e = this.elements.get(t)
    if (e === undefined) return undefined
    const vr = this.vr(t) ?? 'UN'
    if (vr === 'DS' || vr === 'IS') {
      const text = trimBoth(latin1.decode(e.value))
      if (text === '') return []
      return text.split('\\').map((s) => {
        const v = trimBoth(s)
        return DECIMAL_RE.test(v) ? Number(v) : Number.NaN
      })
    }
    const bin = NUMERIC_BINARY[vr]
    if (bin === undefined) return undefined
    const dv = dataViewOf(e.value)
    const n = Math.floor(e.value.length / bin.size)
    const out = new Array<number>(n)
    for (let i = 0; i < n; i++) out[i] = bin.read(dv, i * bin.size, e.littleEndian)
    return out
  }

  /** First numeric value; undefined when absent, empty or not a valid number. */
  number(t: number): number | undefined {
    const v = this.numbers(t)?.[0]
    return v === undefined || Number.isNaN(v) ? undefined : v
  }

  private decode(value: Uint8Array, vr: string): string {
    if (!CHARSET_VRS.has(vr)) return latin1.decode(value)
    if (this.decoder === undefined) {
      const cs = this.elements.get(Tag.SpecificCharacterSet)
      this.decoder = decoderFor(cs === undefined ? undefined : latin1.decode(cs.value))
    }
    return this.decoder.decode(value)
  }
}

interface Cursor {
  readonly buf: Uint8Array
  readonly dv: DataView
  readonly le: boolean
  readonly explicit: boolean
  readonly file: string
  /** Said in messages after byte offsets of an inflated stream. */
  readonly where: string
}

interface Header {
  readonly tag: number
  readonly vr: string
  readonly length: number
  readonly valuePos: number
}

function truncated(c: Cursor, problem: string): ImportError {
  return new ImportError('truncated', c.file, problem)
}

function corrupt(c: Cursor, problem: string): ImportError {
  return new ImportError('corrupt-header', c.file, problem)
}

function isUpper(b: number | undefined): boolean {
  return b !== undefined && b >= 0x41 && b <= 0x5a
}

function readTag(c: Cursor, pos: number): number {
  return ((c.dv.getUint16(pos, c.le) << 16) | c.dv.getUint16(pos + 2, c.le)) >>> 0
}

function readHeader(c: Cursor, pos: number): Header {
  const end = c.buf.length
  if (pos + 8 > end) {
    throw truncated(c, `file ends inside an element header at byte ${pos}${c.where} (${end - pos} of 8 bytes present)`)
  }
  const t = readTag(c, pos)
  // PS3.5 §7.5: items and delimiters have no VR field, in every transfer syntax.
  if (t >>> 16 === 0xfffe || !c.explicit) {
    return { tag: t, vr: c.explicit ? '' : impliedVr(t), length: c.dv.getUint32(pos + 4, c.le), valuePos: pos + 8 }
  }
  const b0 = c.buf[pos + 4] ?? 0
  const b1 = c.buf[pos + 5] ?? 0
  const code = (b0 << 8) | b1
  if (SHORT_VRS.has(code)) {
    return { tag: t, vr: String.fromCharCode(b0, b1), length: c.dv.getUint16(pos + 6, c.le), valuePos: pos + 8 }
  }
  if (LONG_VRS.has(code)) {
    if (pos + 12 > end) {
      throw truncated(c, `file ends inside the header of element ${formatTag(t)} at byte ${pos}${c.where}`)
    }
    return { tag: t, vr: String.fromCharCode(b0, b1), length: c.dv.getUint32(pos + 8, c.le), valuePos: pos + 12 }
  }
  const shown = isUpper(b0) && isUpper(b1) ? `'${String.fromCharCode(b0, b1)}'` : `bytes ${b0} ${b1}`
  throw corrupt(c, `element ${formatTag(t)} at byte ${pos}${c.where} has an invalid VR (${shown})`)
}

function checkValueFits(c: Cursor, h: Header): void {
  if (h.valuePos + h.length > c.buf.length) {
    throw truncated(c, `element ${formatTag(h.tag)} at byte ${h.valuePos}${c.where} declares ${h.length} bytes but only ${c.buf.length - h.valuePos} remain`)
  }
}

/** Implicit VR LE view of the same bytes: PS3.5 §6.2.2 requires UN of undefined length to hold implicit-VR LE items. */
function implicitLe(c: Cursor): Cursor {
  return c.explicit || !c.le ? { ...c, explicit: false, le: true } : c
}

/** Walks the items of an undefined-length sequence starting at `pos`; returns the position after its delimiter. */
function skipSequence(c: Cursor, pos: number, depth: number, owner: number): number {
  if (depth > MAX_SEQUENCE_DEPTH) {
    throw corrupt(c, `sequences nested deeper than ${MAX_SEQUENCE_DEPTH} levels (in ${formatTag(owner)})`)
  }
  for (;;) {
    if (pos + 8 > c.buf.length) {
      throw truncated(c, `file ends inside sequence ${formatTag(owner)} (no sequence delimiter before byte ${c.buf.length}${c.where})`)
    }
    const t = readTag(c, pos)
    const length = c.dv.getUint32(pos + 4, c.le)
    pos += 8
    if (t === Tag.SequenceDelimitationItem) return pos
    if (t !== Tag.Item) {
      throw corrupt(c, `sequence ${formatTag(owner)} holds ${formatTag(t)} at byte ${pos - 8}${c.where} where an item (FFFE,E000) must be`)
    }
    if (length === UNDEFINED_LENGTH) {
      pos = skipItem(c, pos, depth + 1, owner)
    } else {
      if (pos + length > c.buf.length) {
        throw truncated(c, `item of sequence ${formatTag(owner)} at byte ${pos - 8}${c.where} declares ${length} bytes but only ${c.buf.length - pos} remain`)
      }
      pos += length
    }
  }
}

/** Walks the elements of an undefined-length item; returns the position after its delimiter. */
function skipItem(c: Cursor, pos: number, depth: number, owner: number): number {
  for (;;) {
    if (pos + 8 > c.buf.length) {
      throw truncated(c, `file ends inside an item of sequence ${formatTag(owner)} (no item delimiter before byte ${c.buf.length}${c.where})`)
    }
    const h = readHeader(c, pos)
    if (h.tag === Tag.ItemDelimitationItem) return h.valuePos
    if (h.tag >>> 16 === 0xfffe) {
      throw corrupt(c, `unexpected ${formatTag(h.tag)} at byte ${pos}${c.where} inside an item of sequence ${formatTag(owner)}`)
    }
    pos = skipValue(c, h, depth)
  }
}

/** End position of the value described by `h` (walking undefined-length sequences). */
function skipValue(c: Cursor, h: Header, depth: number): number {
  if (h.length !== UNDEFINED_LENGTH) {
    checkValueFits(c, h)
    return h.valuePos + h.length
  }
  if (h.vr === 'SQ') return skipSequence(c, h.valuePos, depth + 1, h.tag)
  // An implicit-VR element of undefined length can only be a sequence (PS3.5 §7.1.3).
  if (h.vr === 'UN' || !c.explicit) return skipSequence(implicitLe(c), h.valuePos, depth + 1, h.tag)
  throw corrupt(c, `element ${formatTag(h.tag)} (${h.vr}) at byte ${h.valuePos}${c.where} has undefined length, allowed only for SQ, UN and pixel data`)
}

function readEncapsulated(c: Cursor, pos: number): EncapsulatedPixelData {
  const start = pos
  let basicOffsetTable: Uint8Array | undefined
  const fragments: Uint8Array[] = []
  for (;;) {
    if (pos + 8 > c.buf.length) {
      throw truncated(c, `file ends inside the encapsulated pixel data (no sequence delimiter before byte ${c.buf.length}${c.where})`)
    }
    const t = readTag(c, pos)
    const length = c.dv.getUint32(pos + 4, c.le)
    pos += 8
    if (t === Tag.SequenceDelimitationItem) break
    if (t !== Tag.Item) {
      throw corrupt(c, `encapsulated pixel data hold ${formatTag(t)} at byte ${pos - 8}${c.where} where a fragment item must be`)
    }
    // PS3.5 §A.4: fragments always have an explicit length.
    if (length === UNDEFINED_LENGTH) {
      throw corrupt(c, `pixel data fragment at byte ${pos - 8}${c.where} has undefined length`)
    }
    if (pos + length > c.buf.length) {
      throw truncated(c, `pixel data fragment at byte ${pos - 8}${c.where} declares ${length} bytes but only ${c.buf.length - pos} remain`)
    }
    const value = c.buf.subarray(pos, pos + length)
    // PS3.5 §A.4: the first item is always the Basic Offset Table, possibly empty.
    if (basicOffsetTable === undefined) basicOffsetTable = value
    else fragments.push(value)
    pos += length
  }
  if (basicOffsetTable === undefined) {
    throw corrupt(c, 'encapsulated pixel data lack the Basic Offset Table item (PS3.5 §A.4)')
  }
  return { kind: 'encapsulated', offset: start, basicOffsetTable, fragments }
}

/** Reads top-level elements from `pos` into `out`; returns the pixel data location if reached. */
function readDataset(c: Cursor, pos: number, out: Map<number, DicomElement>, warnings: string[], headerOnly: boolean): DicomPixelData | undefined {
  const end = c.buf.length
  while (pos < end) {
    if (end - pos < 8) {
      // A few trailing NULs are harmless padding that some writers add to even sizes.
      if (c.buf.subarray(pos).every((b) => b === 0)) break
      throw truncated(c, `file ends inside an element header at byte ${pos}${c.where} (${end - pos} of 8 bytes present)`)
    }
    const h = readHeader(c, pos)
    if (h.tag >>> 16 === 0xfffe) {
      // A stray delimiter at top level is a known writer bug that carries no data.
      if ((h.tag === Tag.SequenceDelimitationItem || h.tag === Tag.ItemDelimitationItem) && h.length === 0) {
        warnings.push(`stray ${formatTag(h.tag)} at byte ${pos}${c.where} ignored`)
        pos = h.valuePos
        continue
      }
      throw corrupt(c, `unexpected ${formatTag(h.tag)} at byte ${pos}${c.where} outside any sequence`)
    }
    if (h.tag === Tag.PixelData) {
      if (h.length === UNDEFINED_LENGTH) {
        if (headerOnly) return { kind: 'encapsulated', offset: h.valuePos, basicOffsetTable: undefined, fragments: undefined }
        return readEncapsulated(c, h.valuePos)
      }
      if (h.valuePos + h.length > end) {
        throw truncated(c, `pixel data ${formatTag(Tag.PixelData)} declare ${h.length} bytes but the file ends after ${end - h.valuePos}`)
      }
      return {
        kind: 'native',
        vr: h.vr === '' || h.vr === 'UN' ? 'OW' : h.vr,
        offset: h.valuePos,
        length: h.length,
        bytes: c.buf.subarray(h.valuePos, h.valuePos + h.length),
        littleEndian: c.le,
      }
    }
    const next = skipValue(c, h, 0)
    if (h.length !== UNDEFINED_LENGTH && h.length % 2 === 1 && warnings.length < 20) {
      // PS3.5 §7.1.1 requires even lengths; a misaligned next header would fail its own checks.
      warnings.push(`element ${formatTag(h.tag)} has odd length ${h.length}`)
    }
    if (!out.has(h.tag)) {
      out.set(h.tag, { tag: h.tag, vr: h.vr, value: c.buf.subarray(h.valuePos, next), littleEndian: c.le })
    }
    pos = next
  }
  return undefined
}

function hasMagic(b: Uint8Array, at: number): boolean {
  return b[at] === 0x44 && b[at + 1] === 0x49 && b[at + 2] === 0x43 && b[at + 3] === 0x4d // 'DICM'
}

/** VR encoding of the element at `pos`: explicit when bytes 4-5 form a known VR. */
function looksExplicit(b: Uint8Array, pos: number): boolean {
  const b0 = b[pos + 4]
  const b1 = b[pos + 5]
  if (b0 === undefined || b1 === undefined) return false
  const code = (b0 << 8) | b1
  return SHORT_VRS.has(code) || LONG_VRS.has(code)
}

/** Names a few common non-DICOM formats so the message can say what the file is instead. */
function sniffOtherFormat(b: Uint8Array): string | undefined {
  const s = (o: number, n: number): string => String.fromCharCode(...b.subarray(o, o + n))
  if (b[0] === 0x89 && s(1, 3) === 'PNG') return 'PNG image'
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'JPEG image'
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip archive (perhaps .nii.gz)'
  if (s(0, 4) === 'PK\x03\x04') return 'zip archive'
  if (s(0, 4) === 'NRRD') return 'NRRD volume'
  if (b.length >= 348 && (s(344, 4) === 'n+1\0' || s(344, 4) === 'ni1\0')) return 'NIfTI volume'
  if (s(0, 5) === '%PDF-') return 'PDF document'
  return undefined
}

/**
 * Heuristic for raw data sets without preamble or meta (old ACR-NEMA style exports, PS3.10 §7
 * not followed): the first element must be a plausible low-group tag (0002..0028, where every
 * real data set starts) whose length fits the file.
 */
function rawDatasetEncoding(b: Uint8Array): { explicit: boolean } | undefined {
  if (b.length < 8) return undefined
  const dv = dataViewOf(b)
  const group = dv.getUint16(0, true)
  const element = dv.getUint16(2, true)
  if (group < 0x0002 || group > 0x0028 || group % 2 === 1) return undefined
  if (group === 0x0002 && element > 0x0100) return undefined
  if (looksExplicit(b, 0)) {
    const code = ((b[4] ?? 0) << 8) | (b[5] ?? 0)
    const length = LONG_VRS.has(code) ? (b.length >= 12 ? dv.getUint32(8, true) : Number.POSITIVE_INFINITY) : dv.getUint16(6, true)
    const header = LONG_VRS.has(code) ? 12 : 8
    if (length === UNDEFINED_LENGTH || header + length <= b.length) return { explicit: true }
  }
  const length = dv.getUint32(4, true)
  if (length === UNDEFINED_LENGTH || 8 + length <= b.length) return { explicit: false }
  return undefined
}

function readMeta(c: Cursor, pos: number, out: Map<number, DicomElement>): number {
  const end = c.buf.length
  while (pos + 8 <= end && c.dv.getUint16(pos, true) === 0x0002) {
    const h = readHeader(c, pos)
    const next = skipValue(c, h, 0)
    out.set(h.tag, { tag: h.tag, vr: h.vr, value: c.buf.subarray(h.valuePos, next), littleEndian: true })
    pos = next
  }
  return pos
}

/**
 * Parses a DICOM file (Part 10 with preamble, or a raw data set) into its top-level
 * elements and the pixel data location. Throws `ImportError` ('unsupported-format',
 * 'truncated', 'corrupt-header') naming `fileName` for anything it cannot read.
 */
export function parseDicom(bytes: Uint8Array, fileName: string, opts: DicomParseOptions = {}): DicomDataset {
  if (bytes.length === 0) throw new ImportError('truncated', fileName, 'file is empty (0 bytes)')
  const headerOnly = opts.headerOnly === true
  const elements = new Map<number, DicomElement>()
  const warnings: string[] = []
  const dv = dataViewOf(bytes)
  const base: Cursor = { buf: bytes, dv, le: true, explicit: true, file: fileName, where: '' }

  // PS3.10 §7.1: 128-byte preamble, 'DICM', then group 0002 in explicit VR little endian.
  let pos: number
  let hasMeta = false
  if (bytes.length >= 132 && hasMagic(bytes, 128)) {
    pos = 132
    hasMeta = true
  } else if (bytes.length >= 4 && hasMagic(bytes, 0)) {
    warnings.push('file has no 128-byte preamble')
    pos = 4
    hasMeta = true
  } else if (bytes.length >= 8 && dv.getUint16(0, true) === 0x0002 && looksExplicit(bytes, 0)) {
    warnings.push("file has no preamble and no 'DICM' marker")
    pos = 0
    hasMeta = true
  } else {
    pos = 0
  }

  let transferSyntaxUid: string | undefined
  let rawExplicit: boolean | undefined
  if (hasMeta) {
    // Some writers put the meta group in implicit VR; accept it rather than fail.
    const implicitMeta = bytes.length >= pos + 8 && dv.getUint16(pos, true) === 0x0002 && !looksExplicit(bytes, pos)
    const metaCursor = implicitMeta ? { ...base, explicit: false } : base
    if (metaCursor !== base) warnings.push('file meta information is not in explicit VR (PS3.10 §7.1)')
    pos = readMeta(metaCursor, pos, elements)
    const ts = elements.get(Tag.TransferSyntaxUID)
    if (ts !== undefined) transferSyntaxUid = trimBoth(latin1.decode(ts.value))
    else warnings.push('file meta information lacks TransferSyntaxUID (0002,0010)')
  } else {
    const enc = rawDatasetEncoding(bytes)
    if (enc === undefined) {
      const other = sniffOtherFormat(bytes)
      throw new ImportError(
        'unsupported-format',
        fileName,
        other === undefined
          ? "not a DICOM file (no 'DICM' marker at byte 128 and the start is not a DICOM data set)"
          : `not a DICOM file (it looks like a ${other})`,
      )
    }
    rawExplicit = enc.explicit
    warnings.push('file has no preamble and no file meta information')
  }

  if (pos >= bytes.length) {
    throw new ImportError('truncated', fileName, `file ends after the file meta information (byte ${pos}); it holds no data set`)
  }

  let cursor: Cursor
  if (transferSyntaxUid === TransferSyntax.DeflatedExplicitVRLittleEndian) {
    // PS3.5 §A.5: everything after the meta group is one raw (headerless) deflate stream.
    let inflated: Uint8Array
    try {
      inflated = inflateSync(bytes.subarray(pos))
    } catch (e) {
      throw new ImportError('corrupt-header', fileName, 'deflated data set cannot be inflated (damaged or truncated)', { cause: e })
    }
    cursor = { buf: inflated, dv: dataViewOf(inflated), le: true, explicit: true, file: fileName, where: ' of the inflated data set' }
    pos = 0
  } else if (transferSyntaxUid === TransferSyntax.ExplicitVRBigEndian) {
    cursor = { ...base, le: false, explicit: true }
  } else {
    const declaredExplicit =
      rawExplicit ?? (transferSyntaxUid === undefined ? looksExplicit(bytes, pos) : transferSyntaxUid !== TransferSyntax.ImplicitVRLittleEndian)
    // Mislabelled files exist (e.g. implicit VR data under an explicit VR UID); trust the bytes.
    const actualExplicit = bytes.length - pos >= 6 ? looksExplicit(bytes, pos) : declaredExplicit
    if (actualExplicit !== declaredExplicit && transferSyntaxUid !== undefined) {
      warnings.push(`data set is encoded in ${actualExplicit ? 'explicit' : 'implicit'} VR although TransferSyntaxUID ${transferSyntaxUid} says otherwise`)
    }
    cursor = { ...base, explicit: actualExplicit }
  }
  transferSyntaxUid ??= cursor.explicit ? TransferSyntax.ExplicitVRLittleEndian : TransferSyntax.ImplicitVRLittleEndian

  const pixelData = readDataset(cursor, pos, elements, warnings, headerOnly)
  return new DicomDataset(fileName, transferSyntaxUid, cursor.le, cursor.explicit, elements, pixelData, warnings)
}
