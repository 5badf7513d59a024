import { describe, it, expect } from 'vitest'
import { deflateSync } from 'fflate'
import { parseDicom, Tag, TransferSyntax, isEncapsulatedTransferSyntax, formatTag, tag } from '../../../core/io/dicom/index.ts'
import { ImportError } from '../../../core/io/errors.ts'
import {
  concat,
  el,
  text,
  u16,
  i16,
  u32,
  f32,
  f64,
  part10,
  sqUndefined,
  sqDefined,
  imageDataset,
  rng,
  IMPLICIT_LE,
  EXPLICIT_LE,
  EXPLICIT_BE,
  ITEM,
  ITEM_END,
  SEQ_END,
  UNDEFINED,
} from './build.ts'

/** Runs `fn` and returns the ImportError it throws; fails on success or any other exception. */
function importError(fn: () => unknown): ImportError {
  try {
    fn()
  } catch (e) {
    if (e instanceof ImportError) return e
    throw new Error(`expected ImportError, got ${String(e)}`, { cause: e })
  }
  throw new Error('expected ImportError, but nothing was thrown')
}

/** A data set mixing many VRs, in ascending tag order. */
function mixedDataset(enc = EXPLICIT_LE, withPrivate = true): Uint8Array {
  const common = concat(
    el(0x00080016, 'UI', text('1.2.840.10008.5.1.4.1.1.2', 'UI'), enc),
    el(0x00080060, 'CS', text('CT'), enc),
    el(0x00100010, 'PN', text('Doe^Jane'), enc),
    el(0x00180050, 'DS', text(' 1.25 '), enc),
    el(0x0020000e, 'UI', text('1.2.3.4.5', 'UI'), enc),
    el(0x00200013, 'IS', text('42'), enc),
    el(0x00200032, 'DS', text('-12.5\\3e1\\.5'), enc),
    el(0x00280010, 'US', u16([512], enc.le), enc),
    el(0x00280030, 'DS', text('0.5\\0.75'), enc),
    el(0x00281052, 'DS', text('abc'), enc),
  )
  if (!withPrivate) return common
  return concat(
    common,
    // Private tags with binary VRs (only explicit VR carries their VR).
    el(0x00291001, 'SS', i16([-7, 3], enc.le), enc),
    el(0x00291002, 'UL', u32([70000], enc.le), enc),
    el(0x00291003, 'FL', f32([1.5], enc.le), enc),
    el(0x00291004, 'FD', f64([Math.PI, -2], enc.le), enc),
    el(0x00291005, 'AT', u16([0x0020, 0x0032], enc.le), enc),
  )
}

describe('parseDicom: encodings', () => {
  it('reads explicit VR little endian Part 10 with typed getters', () => {
    const ds = parseDicom(part10(TransferSyntax.ExplicitVRLittleEndian, mixedDataset()), 'a.dcm')
    expect(ds.transferSyntaxUid).toBe(TransferSyntax.ExplicitVRLittleEndian)
    expect(ds.explicitVr).toBe(true)
    expect(ds.uid(Tag.SOPClassUID)).toBe('1.2.840.10008.5.1.4.1.1.2')
    expect(ds.uid(Tag.SeriesInstanceUID)).toBe('1.2.3.4.5') // odd length: NUL pad stripped
    expect(ds.string(Tag.Modality)).toBe('CT')
    expect(ds.string(Tag.PatientName)).toBe('Doe^Jane')
    expect(ds.number(Tag.SliceThickness)).toBe(1.25)
    expect(ds.number(Tag.InstanceNumber)).toBe(42)
    expect(ds.numbers(Tag.ImagePositionPatient)).toEqual([-12.5, 30, 0.5])
    expect(ds.numbers(Tag.PixelSpacing)).toEqual([0.5, 0.75])
    expect(ds.strings(Tag.PixelSpacing)).toEqual(['0.5', '0.75'])
    expect(ds.number(Tag.Rows)).toBe(512)
    expect(ds.numbers(Tag.RescaleIntercept)?.[0]).toBeNaN()
    expect(ds.number(Tag.RescaleIntercept)).toBeUndefined()
    expect(ds.numbers(tag(0x0029, 0x1001))).toEqual([-7, 3])
    expect(ds.numbers(tag(0x0029, 0x1002))).toEqual([70000])
    expect(ds.numbers(tag(0x0029, 0x1003))).toEqual([1.5])
    expect(ds.numbers(tag(0x0029, 0x1004))).toEqual([Math.PI, -2])
    expect(ds.numbers(tag(0x0029, 0x1005))).toEqual([Tag.ImagePositionPatient])
    expect(ds.string(Tag.StudyInstanceUID)).toBeUndefined()
    expect(ds.pixelData).toBeUndefined()
    expect(ds.warnings).toEqual([])
  })

  it('reads a raw implicit VR little endian data set without preamble or meta', () => {
    const ds = parseDicom(mixedDataset(IMPLICIT_LE, false), 'raw.dcm')
    expect(ds.explicitVr).toBe(false)
    expect(ds.transferSyntaxUid).toBe(TransferSyntax.ImplicitVRLittleEndian)
    expect(ds.uid(Tag.SeriesInstanceUID)).toBe('1.2.3.4.5')
    expect(ds.number(Tag.Rows)).toBe(512)
    expect(ds.numbers(Tag.ImagePositionPatient)).toEqual([-12.5, 30, 0.5])
    expect(ds.warnings.join(' ')).toMatch(/no preamble/)
  })

  it('reads implicit VR little endian Part 10 and types known tags from the dictionary', () => {
    const data = concat(
      el(0x00080060, '', text('MR'), IMPLICIT_LE),
      el(0x00280010, '', u16([24]), IMPLICIT_LE),
      el(0x00280011, '', u16([32]), IMPLICIT_LE),
      el(0x00280100, '', u16([16]), IMPLICIT_LE),
      el(0x7fe00010, '', i16([1, -2, 3, -4]), IMPLICIT_LE),
    )
    const ds = parseDicom(part10(TransferSyntax.ImplicitVRLittleEndian, data), 'impl.dcm')
    expect(ds.string(Tag.Modality)).toBe('MR')
    expect(ds.number(Tag.Columns)).toBe(32)
    expect(ds.vr(Tag.Rows)).toBe('US')
    expect(ds.pixelData).toMatchObject({ kind: 'native', vr: 'OW', length: 8, littleEndian: true })
  })

  it('reads explicit VR big endian, binary values in big endian order', () => {
    const enc = EXPLICIT_BE
    const data = concat(
      el(0x00080060, 'CS', text('CT'), enc),
      el(0x00280010, 'US', u16([300], false), enc),
      el(0x00291001, 'SS', i16([-300], false), enc),
      el(0x00291003, 'FD', f64([2.5], false), enc),
      el(0x7fe00010, 'OW', i16([1000, -1000], false), enc),
    )
    const ds = parseDicom(part10(TransferSyntax.ExplicitVRBigEndian, data), 'be.dcm')
    expect(ds.littleEndian).toBe(false)
    expect(ds.number(Tag.Rows)).toBe(300)
    expect(ds.numbers(tag(0x0029, 0x1001))).toEqual([-300])
    expect(ds.numbers(tag(0x0029, 0x1003))).toEqual([2.5])
    expect(ds.pixelData).toMatchObject({ kind: 'native', littleEndian: false, length: 4 })
    // Meta group stays little endian (PS3.10 §7.1).
    expect(ds.uid(Tag.TransferSyntaxUID)).toBe(TransferSyntax.ExplicitVRBigEndian)
  })

  it('inflates deflated explicit VR little endian', () => {
    const body = concat(mixedDataset(), el(0x7fe00010, 'OW', i16([5, 6, 7, 8])))
    const file = part10(TransferSyntax.DeflatedExplicitVRLittleEndian, deflateSync(body))
    const ds = parseDicom(file, 'deflated.dcm')
    expect(ds.number(Tag.Rows)).toBe(512)
    expect(ds.numbers(Tag.ImagePositionPatient)).toEqual([-12.5, 30, 0.5])
    expect(ds.pixelData?.kind).toBe('native')
    const broken = part10(TransferSyntax.DeflatedExplicitVRLittleEndian, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
    expect(importError(() => parseDicom(broken, 'bad-deflate.dcm')).message).toMatch(/^bad-deflate\.dcm: /)
  })

  it('detects a mislabelled encoding (implicit VR data under the explicit VR UID)', () => {
    const data = concat(el(0x00080060, '', text('CT'), IMPLICIT_LE), el(0x00280010, '', u16([7]), IMPLICIT_LE))
    const ds = parseDicom(part10(TransferSyntax.ExplicitVRLittleEndian, data), 'liar.dcm')
    expect(ds.number(Tag.Rows)).toBe(7)
    expect(ds.warnings.join(' ')).toMatch(/implicit VR/)
  })

  it('keeps encapsulated fragments and reports the transfer syntax', () => {
    const jpeg = '1.2.840.10008.1.2.4.70'
    const frags = concat(
      el(ITEM, '', new Uint8Array(0)), // empty Basic Offset Table
      el(ITEM, '', Uint8Array.of(1, 2, 3, 4)),
      el(ITEM, '', Uint8Array.of(5, 6)),
      el(SEQ_END, '', new Uint8Array(0)),
    )
    const data = concat(el(0x00080060, 'CS', text('CT')), el(0x7fe00010, 'OB', frags, EXPLICIT_LE, UNDEFINED))
    const ds = parseDicom(part10(jpeg, data), 'j.dcm')
    expect(ds.transferSyntaxUid).toBe(jpeg)
    expect(isEncapsulatedTransferSyntax(jpeg)).toBe(true)
    expect(isEncapsulatedTransferSyntax(TransferSyntax.ExplicitVRLittleEndian)).toBe(false)
    const px = ds.pixelData
    expect(px?.kind).toBe('encapsulated')
    if (px?.kind !== 'encapsulated') return
    expect(px.basicOffsetTable?.length).toBe(0)
    expect(px.fragments?.map((f) => [...f])).toEqual([
      [1, 2, 3, 4],
      [5, 6],
    ])
    const header = parseDicom(part10(jpeg, data), 'j.dcm', { headerOnly: true })
    expect(header.pixelData).toMatchObject({ kind: 'encapsulated', fragments: undefined })
  })

  it('stops at pixel data and returns a view into the input, not a copy', () => {
    const file = part10(TransferSyntax.ExplicitVRLittleEndian, imageDataset({ rows: 2, columns: 2, pixels: i16([1, 2, 3, 4]) }))
    const ds = parseDicom(file, 'v.dcm', { headerOnly: true })
    const px = ds.pixelData
    expect(px?.kind).toBe('native')
    if (px?.kind !== 'native') return
    expect(px.bytes.buffer).toBe(file.buffer)
    expect(px.offset).toBe(file.length - 8)
  })
})

describe('parseDicom: sequences', () => {
  const inner = (enc = EXPLICIT_LE) =>
    concat(el(0x00081150, 'UI', text('1.2.840.10008.5.1.4.1.1.2', 'UI'), enc), el(0x00081155, 'UI', text('1.2.3', 'UI'), enc))

  it('skips undefined-length sequences with nested undefined-length sequences', () => {
    const nested = sqUndefined(0x00082112, [concat(inner(), sqUndefined(0x00081140, [inner(), inner()])), inner()])
    const data = concat(el(0x00080060, 'CS', text('CT')), nested, el(0x00280010, 'US', u16([99])))
    const ds = parseDicom(part10(TransferSyntax.ExplicitVRLittleEndian, data), 'sq.dcm')
    expect(ds.string(Tag.Modality)).toBe('CT')
    expect(ds.number(Tag.Rows)).toBe(99)
    expect(ds.has(0x00082112)).toBe(true)
    // Nested elements are not indexed at top level.
    expect(ds.has(0x00081155)).toBe(false)
  })

  it('skips sequences with defined length, and implicit VR undefined-length sequences', () => {
    const data = concat(el(0x00080060, 'CS', text('CT')), sqDefined(0x00082112, [inner(), inner()]), el(0x00280010, 'US', u16([5])))
    expect(parseDicom(part10(TransferSyntax.ExplicitVRLittleEndian, data), 'd.dcm').number(Tag.Rows)).toBe(5)
    const impl = concat(
      el(0x00080060, '', text('CT'), IMPLICIT_LE),
      sqUndefined(0x00091010, [inner(IMPLICIT_LE)], IMPLICIT_LE), // private tag: unknown VR, undefined length
      el(0x00280010, '', u16([6]), IMPLICIT_LE),
    )
    expect(parseDicom(part10(TransferSyntax.ImplicitVRLittleEndian, impl), 'i.dcm').number(Tag.Rows)).toBe(6)
  })

  it('skips an explicit UN of undefined length whose items are implicit VR (PS3.5 §6.2.2)', () => {
    const items = concat(
      el(ITEM, '', new Uint8Array(0), IMPLICIT_LE, UNDEFINED),
      inner(IMPLICIT_LE),
      el(ITEM_END, '', new Uint8Array(0), IMPLICIT_LE),
      el(SEQ_END, '', new Uint8Array(0), IMPLICIT_LE),
    )
    const data = concat(el(0x00091010, 'UN', items, EXPLICIT_LE, UNDEFINED), el(0x00280010, 'US', u16([8])))
    expect(parseDicom(part10(TransferSyntax.ExplicitVRLittleEndian, data), 'un.dcm').number(Tag.Rows)).toBe(8)
  })

  it('rejects hostile nesting and unterminated sequences with ImportError', () => {
    let deep = inner()
    for (let i = 0; i < 100; i++) deep = sqUndefined(0x00082112, [deep])
    const e1 = importError(() => parseDicom(part10(TransferSyntax.ExplicitVRLittleEndian, deep), 'deep.dcm'))
    expect(e1.code).toBe('corrupt-header')
    const open = concat(el(0x00082112, 'SQ', new Uint8Array(0), EXPLICIT_LE, UNDEFINED), el(ITEM, '', new Uint8Array(0), EXPLICIT_LE, UNDEFINED), inner())
    const e2 = importError(() => parseDicom(part10(TransferSyntax.ExplicitVRLittleEndian, open), 'open.dcm'))
    expect(e2.code).toBe('truncated')
    expect(e2.message).toMatch(/^open\.dcm: .*\(0008,2112\)/)
  })
})

describe('parseDicom: damaged and foreign input', () => {
  const good = part10(TransferSyntax.ExplicitVRLittleEndian, concat(mixedDataset(), el(0x7fe00010, 'OW', i16(Array.from({ length: 64 }, (_, i) => i - 32)))))
  const pixelStart = good.length - 128

  it('rejects a file cut in the header as truncated', () => {
    // Cut inside the value of PatientName: the element declares more bytes than remain.
    const cutAt = Buffer.from(good).indexOf('Doe^') + 2
    expect(cutAt).toBeGreaterThan(200)
    const e = importError(() => parseDicom(good.subarray(0, cutAt), 'cut-header.dcm'))
    expect(e.code).toBe('truncated')
    expect(e.file).toBe('cut-header.dcm')
    expect(e.message).toMatch(/^cut-header\.dcm: /)
  })

  it('rejects a file cut in the pixel data as truncated, even header-only', () => {
    for (const headerOnly of [false, true]) {
      const e = importError(() => parseDicom(good.subarray(0, pixelStart + 50), 'cut-pixels.dcm', { headerOnly }))
      expect(e.code).toBe('truncated')
      expect(e.problem).toMatch(/pixel data/)
    }
  })

  it('never throws anything but ImportError for any truncation', () => {
    for (let n = 0; n < good.length; n++) {
      try {
        parseDicom(good.subarray(0, n), `cut${n}.dcm`)
      } catch (e) {
        expect(e, `cut at ${n}`).toBeInstanceOf(ImportError)
        expect((e as ImportError).message.startsWith(`cut${n}.dcm: `)).toBe(true)
      }
    }
  })

  it('never throws anything but ImportError for random corruption', () => {
    const random = rng(1234)
    for (let trial = 0; trial < 3000; trial++) {
      const bad = good.slice()
      const flips = 1 + Math.floor(random() * 4)
      for (let f = 0; f < flips; f++) bad[Math.floor(random() * bad.length)] = Math.floor(random() * 256)
      try {
        parseDicom(bad, 'fuzz.dcm')
      } catch (e) {
        expect(e).toBeInstanceOf(ImportError)
      }
    }
  })

  it('rejects garbage, a PNG renamed .dcm and an empty file with the file name', () => {
    const random = rng(99)
    const garbage = Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256))
    const e1 = importError(() => parseDicom(garbage, 'garbage.dcm'))
    expect(e1.code).toBe('unsupported-format')
    expect(e1.message).toMatch(/^garbage\.dcm: not a DICOM file/)

    const png = concat(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), new Uint8Array(600))
    const e2 = importError(() => parseDicom(png, 'scan.dcm'))
    expect(e2.code).toBe('unsupported-format')
    expect(e2.message).toMatch(/^scan\.dcm: not a DICOM file.*PNG/)

    const e3 = importError(() => parseDicom(new Uint8Array(0), 'empty.dcm'))
    expect(e3.code).toBe('truncated')
    expect(e3.message).toMatch(/^empty\.dcm: /)

    const e4 = importError(() => parseDicom(new Uint8Array(300).fill(0xab), 'ab.dcm'))
    expect(e4.code).toBe('unsupported-format')
  })

  it('rejects an invalid VR and oversized lengths with corrupt-header / truncated', () => {
    const badVr = part10(TransferSyntax.ExplicitVRLittleEndian, concat(el(0x00080060, 'CS', text('CT')), el(0x00100010, 'Q!', text('x'))))
    const e1 = importError(() => parseDicom(badVr, 'vr.dcm'))
    expect(e1.code).toBe('corrupt-header')
    expect(e1.problem).toContain(formatTag(Tag.PatientName))
    const huge = part10(TransferSyntax.ExplicitVRLittleEndian, el(0x00081030, 'UT', text('abcd'), EXPLICIT_LE, 0x7ffffff0))
    expect(importError(() => parseDicom(huge, 'huge.dcm')).code).toBe('truncated')
    const onlyMeta = part10(TransferSyntax.ExplicitVRLittleEndian, new Uint8Array(0))
    expect(importError(() => parseDicom(onlyMeta, 'meta.dcm')).code).toBe('truncated')
  })

  it('tolerates an odd length with a warning when the rest still parses', () => {
    const odd = concat(el(0x00080060, 'CS', new TextEncoder().encode('CT1')), el(0x00280010, 'US', u16([3])))
    const ds = parseDicom(part10(TransferSyntax.ExplicitVRLittleEndian, odd), 'odd.dcm')
    expect(ds.string(Tag.Modality)).toBe('CT1')
    expect(ds.number(Tag.Rows)).toBe(3)
    expect(ds.warnings.join(' ')).toMatch(/odd length/)
  })

  it('decodes names in UTF-8 when SpecificCharacterSet says ISO_IR 192', () => {
    const data = concat(el(0x00080005, 'CS', text('ISO_IR 192')), el(0x00100010, 'PN', text('Müller^Jürgen')))
    const ds = parseDicom(part10(TransferSyntax.ExplicitVRLittleEndian, data), 'utf8.dcm')
    expect(ds.string(Tag.PatientName)).toBe('Müller^Jürgen')
    const latin = concat(el(0x00100010, 'PN', Uint8Array.of(0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72)))
    expect(parseDicom(part10(TransferSyntax.ExplicitVRLittleEndian, latin), 'l1.dcm').string(Tag.PatientName)).toBe('Müller')
  })
})
