/**
 * Recognise a file's format from its first bytes, so that a file renamed to the wrong
 * extension is named for what it is instead of reaching a decoder that may misread it.
 */
export type SniffedFormat = 'nifti1' | 'nifti2' | 'gzip' | 'nrrd' | 'metaimage' | 'dicom' | 'png' | 'jpeg' | 'zip' | 'pdf' | 'hdf5' | 'text' | 'unknown'

function ascii(bytes: Uint8Array, start: number, length: number): string {
  let s = ''
  for (let i = start; i < Math.min(bytes.length, start + length); i++) s += String.fromCharCode(bytes[i]!)
  return s
}

export function sniffFormat(head: Uint8Array): SniffedFormat {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip'
  if (head.length >= 132 && ascii(head, 128, 4) === 'DICM') return 'dicom'
  if (head.length >= 348) {
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength)
    const sizeLE = view.getInt32(0, true)
    const sizeBE = view.getInt32(0, false)
    if ((sizeLE === 348 || sizeBE === 348) && ['n+1\0', 'ni1\0'].includes(ascii(head, 344, 4))) return 'nifti1'
    if ((sizeLE === 540 || sizeBE === 540) && ascii(head, 4, 4).startsWith('n+2')) return 'nifti2'
    if ((sizeLE === 540 || sizeBE === 540) && ascii(head, 4, 4).startsWith('ni2')) return 'nifti2'
  }
  if (ascii(head, 0, 4) === 'NRRD') return 'nrrd'
  const start = ascii(head, 0, 64)
  if (/^\s*(ObjectType|NDims)\s*=/.test(start)) return 'metaimage'
  if (head[0] === 0x89 && ascii(head, 1, 3) === 'PNG') return 'png'
  if (head[0] === 0xff && head[1] === 0xd8) return 'jpeg'
  if (ascii(head, 0, 4) === 'PK\u0003\u0004') return 'zip'
  if (ascii(head, 0, 5) === '%PDF-') return 'pdf'
  if (head[0] === 0x89 && ascii(head, 1, 3) === 'HDF') return 'hdf5'
  let printable = 0
  const n = Math.min(head.length, 512)
  for (let i = 0; i < n; i++) {
    const b = head[i]!
    if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127)) printable++
  }
  if (n > 0 && printable === n) return 'text'
  return 'unknown'
}

export const FORMAT_NAMES: Record<SniffedFormat, string> = {
  nifti1: 'NIfTI-1',
  nifti2: 'NIfTI-2',
  gzip: 'gzip-compressed data',
  nrrd: 'NRRD',
  metaimage: 'MetaImage (MHA/MHD)',
  dicom: 'DICOM',
  png: 'a PNG picture',
  jpeg: 'a JPEG picture',
  zip: 'a ZIP archive',
  pdf: 'a PDF document',
  hdf5: 'an HDF5 file',
  text: 'a text file',
  unknown: 'an unrecognised binary file',
}
