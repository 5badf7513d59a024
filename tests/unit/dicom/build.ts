/**
 * Hand-built DICOM byte streams for tests: elements in implicit or explicit VR, either byte
 * order, sequences of defined and undefined length, and Part 10 wrapping.
 */

export interface Encoding {
  readonly explicit: boolean
  readonly le: boolean
}

export const IMPLICIT_LE: Encoding = { explicit: false, le: true }
export const EXPLICIT_LE: Encoding = { explicit: true, le: true }
export const EXPLICIT_BE: Encoding = { explicit: true, le: false }

const LONG = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'])
export const UNDEFINED = 0xffffffff

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** Text value padded to even length (NUL for UI, space otherwise). */
export function text(s: string, vr = 'LO'): Uint8Array {
  const b = new TextEncoder().encode(s)
  if (b.length % 2 === 0) return b
  return concat(b, Uint8Array.of(vr === 'UI' ? 0 : 0x20))
}

export function u16(values: number[], le = true): Uint8Array {
  const b = new Uint8Array(values.length * 2)
  const dv = new DataView(b.buffer)
  values.forEach((v, i) => dv.setUint16(i * 2, v & 0xffff, le))
  return b
}

export function i16(values: number[], le = true): Uint8Array {
  const b = new Uint8Array(values.length * 2)
  const dv = new DataView(b.buffer)
  values.forEach((v, i) => dv.setInt16(i * 2, v, le))
  return b
}

export function u32(values: number[], le = true): Uint8Array {
  const b = new Uint8Array(values.length * 4)
  const dv = new DataView(b.buffer)
  values.forEach((v, i) => dv.setUint32(i * 4, v, le))
  return b
}

export function f32(values: number[], le = true): Uint8Array {
  const b = new Uint8Array(values.length * 4)
  const dv = new DataView(b.buffer)
  values.forEach((v, i) => dv.setFloat32(i * 4, v, le))
  return b
}

export function f64(values: number[], le = true): Uint8Array {
  const b = new Uint8Array(values.length * 8)
  const dv = new DataView(b.buffer)
  values.forEach((v, i) => dv.setFloat64(i * 8, v, le))
  return b
}

/** One element; `length` overrides the value length (e.g. UNDEFINED, or a lie). */
export function el(t: number, vr: string, value: Uint8Array, enc: Encoding = EXPLICIT_LE, length?: number): Uint8Array {
  const len = length ?? value.length
  const isItem = t >>> 16 === 0xfffe
  const long = enc.explicit && !isItem && LONG.has(vr)
  const head = new Uint8Array(!enc.explicit || isItem ? 8 : long ? 12 : 8)
  const dv = new DataView(head.buffer)
  dv.setUint16(0, t >>> 16, enc.le)
  dv.setUint16(2, t & 0xffff, enc.le)
  if (!enc.explicit || isItem) {
    dv.setUint32(4, len, enc.le)
  } else {
    head[4] = vr.charCodeAt(0)
    head[5] = vr.charCodeAt(1)
    if (long) dv.setUint32(8, len, enc.le)
    else dv.setUint16(6, len, enc.le)
  }
  return concat(head, value)
}

export const ITEM = 0xfffee000
export const ITEM_END = 0xfffee00d
export const SEQ_END = 0xfffee0dd

/** Sequence with undefined length whose items also have undefined length. */
export function sqUndefined(t: number, items: Uint8Array[], enc: Encoding = EXPLICIT_LE): Uint8Array {
  const body = items.flatMap((it) => [el(ITEM, '', it, enc, UNDEFINED), el(ITEM_END, '', new Uint8Array(0), enc)])
  return concat(el(t, 'SQ', new Uint8Array(0), enc, UNDEFINED), ...body, el(SEQ_END, '', new Uint8Array(0), enc))
}

/** Sequence with defined length whose items have defined length. */
export function sqDefined(t: number, items: Uint8Array[], enc: Encoding = EXPLICIT_LE): Uint8Array {
  const body = concat(...items.map((it) => el(ITEM, '', it, enc)))
  return el(t, 'SQ', body, enc)
}

/** 128-byte preamble, 'DICM', and a group 0002 in explicit VR LE naming `transferSyntax`. */
export function part10(transferSyntax: string, dataset: Uint8Array, sopClass = '1.2.840.10008.5.1.4.1.1.2'): Uint8Array {
  const meta = concat(
    el(0x00020001, 'OB', Uint8Array.of(0, 1)),
    el(0x00020002, 'UI', text(sopClass, 'UI')),
    el(0x00020003, 'UI', text('1.2.3.4.5.6', 'UI')),
    el(0x00020010, 'UI', text(transferSyntax, 'UI')),
  )
  const groupLength = el(0x00020000, 'UL', u32([meta.length]))
  const preamble = new Uint8Array(132)
  preamble.set([0x44, 0x49, 0x43, 0x4d], 128)
  return concat(preamble, groupLength, meta, dataset)
}

export interface SliceSpec {
  readonly rows: number
  readonly columns: number
  readonly pixels: Uint8Array
  readonly bitsAllocated?: number
  readonly bitsStored?: number
  readonly signed?: boolean
  readonly slope?: string
  readonly intercept?: string
  readonly ipp?: string
  readonly iop?: string
  readonly pixelSpacing?: string
  readonly sliceThickness?: string
  readonly seriesUid?: string
  readonly modality?: string
  readonly pixelVr?: string
  readonly pixelLength?: number
}

/** A minimal single-frame image data set (elements in ascending tag order). */
export function imageDataset(s: SliceSpec, enc: Encoding = EXPLICIT_LE): Uint8Array {
  const bits = s.bitsAllocated ?? 16
  const parts = [
    el(0x00080016, 'UI', text('1.2.840.10008.5.1.4.1.1.2', 'UI'), enc),
    el(0x00080018, 'UI', text('1.2.3.9', 'UI'), enc),
    el(0x00080060, 'CS', text(s.modality ?? 'CT'), enc),
    el(0x00100010, 'PN', text('Test^Patient'), enc),
    s.sliceThickness === undefined ? new Uint8Array(0) : el(0x00180050, 'DS', text(s.sliceThickness), enc),
    el(0x0020000e, 'UI', text(s.seriesUid ?? '1.2.3.77', 'UI'), enc),
    el(0x00200032, 'DS', text(s.ipp ?? '0\\0\\0'), enc),
    el(0x00200037, 'DS', text(s.iop ?? '1\\0\\0\\0\\1\\0'), enc),
    el(0x00280002, 'US', u16([1], enc.le), enc),
    el(0x00280004, 'CS', text('MONOCHROME2'), enc),
    el(0x00280010, 'US', u16([s.rows], enc.le), enc),
    el(0x00280011, 'US', u16([s.columns], enc.le), enc),
    el(0x00280030, 'DS', text(s.pixelSpacing ?? '1\\1'), enc),
    el(0x00280100, 'US', u16([bits], enc.le), enc),
    el(0x00280101, 'US', u16([s.bitsStored ?? bits], enc.le), enc),
    el(0x00280102, 'US', u16([(s.bitsStored ?? bits) - 1], enc.le), enc),
    el(0x00280103, 'US', u16([s.signed === false ? 0 : 1], enc.le), enc),
    s.intercept === undefined ? new Uint8Array(0) : el(0x00281052, 'DS', text(s.intercept), enc),
    s.slope === undefined ? new Uint8Array(0) : el(0x00281053, 'DS', text(s.slope), enc),
    el(0x7fe00010, s.pixelVr ?? (bits === 8 ? 'OB' : 'OW'), s.pixels, enc, s.pixelLength),
  ]
  return concat(...parts)
}

/** Deterministic pseudo-random numbers in [0, 1) so failures reproduce (the one seeded generator). */
export { seededRandom as rng } from '../../../core/math/random.ts'

export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = out[i] as T
    out[i] = out[j] as T
    out[j] = t
  }
  return out
}
