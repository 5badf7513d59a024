import { ImportError } from './errors.ts'
import { checkDeclaredSize, DEFAULT_CAPS, type SizeCaps } from './limits.ts'

/**
 * Just enough of the NIfTI-1/-2 header (https://nifti.nimh.nih.gov/nifti-1) to refuse a bad
 * file before it reaches a decoder: a decoder that fills a truncated file with zeros is a
 * silent wrong answer, the worst outcome for a planning tool.
 */
export interface NiftiHeaderSummary {
  readonly version: 1 | 2
  readonly littleEndian: boolean
  readonly dims: readonly number[]
  readonly datatype: number
  readonly bitpix: number
  readonly voxOffset: number
  readonly qformCode: number
  readonly sformCode: number
  /** pixdim[1..3]: voxel spacing [mm] (pixdim[i] for each of dims). */
  readonly pixdim: readonly number[]
  /** Bytes the image data needs after vox_offset. */
  readonly dataBytes: number
}

/** NIfTI datatype codes we accept, with their size in bits (nifti1.h). */
const DATATYPE_BITS: Record<number, number> = {
  2: 8, // uint8
  4: 16, // int16
  8: 32, // int32
  16: 32, // float32
  64: 64, // float64
  256: 8, // int8
  512: 16, // uint16
  768: 32, // uint32
}

export interface NiftiHeaderOptions {
  /** Only the header is at hand (a peek into a .nii.gz): skip the check that the data is all there. */
  readonly headerOnly?: boolean
  /** Declared size limits (default: MAX_VOXELS, no byte cap). */
  readonly caps?: SizeCaps
}

export function parseNiftiHeader(bytes: Uint8Array, file: string, options: NiftiHeaderOptions = {}): NiftiHeaderSummary {
  if (bytes.length < 348) throw new ImportError('truncated', file, `NIfTI header needs 348 bytes, file has ${bytes.length}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let littleEndian = true
  let version: 1 | 2
  const le = view.getInt32(0, true)
  const be = view.getInt32(0, false)
  if (le === 348 || be === 348) {
    version = 1
    littleEndian = le === 348
  } else if (le === 540 || be === 540) {
    version = 2
    littleEndian = le === 540
  } else {
    throw new ImportError('corrupt-header', file, `sizeof_hdr is ${le}, expected 348 (NIfTI-1) or 540 (NIfTI-2)`)
  }
  if (version === 2 && bytes.length < 540) throw new ImportError('truncated', file, `NIfTI-2 header needs 540 bytes, file has ${bytes.length}`)

  const dims: number[] = []
  const pixdim: number[] = []
  let datatype: number
  let bitpix: number
  let voxOffset: number
  let qformCode: number
  let sformCode: number
  if (version === 1) {
    const ndim = view.getInt16(40, littleEndian)
    if (ndim < 1 || ndim > 7) throw new ImportError('corrupt-header', file, `dim[0] is ${ndim}, must be 1..7`)
    for (let i = 1; i <= ndim; i++) dims.push(view.getInt16(40 + 2 * i, littleEndian))
    for (let i = 1; i <= Math.min(ndim, 3); i++) pixdim.push(view.getFloat32(76 + 4 * i, littleEndian))
    datatype = view.getInt16(70, littleEndian)
    bitpix = view.getInt16(72, littleEndian)
    voxOffset = view.getFloat32(108, littleEndian)
    qformCode = view.getInt16(252, littleEndian)
    sformCode = view.getInt16(254, littleEndian)
  } else {
    const ndim = Number(view.getBigInt64(16, littleEndian))
    if (ndim < 1 || ndim > 7) throw new ImportError('corrupt-header', file, `dim[0] is ${ndim}, must be 1..7`)
    for (let i = 1; i <= ndim; i++) dims.push(Number(view.getBigInt64(16 + 8 * i, littleEndian)))
    for (let i = 1; i <= Math.min(ndim, 3); i++) pixdim.push(view.getFloat64(104 + 8 * i, littleEndian))
    datatype = view.getInt16(12, littleEndian)
    bitpix = view.getInt16(14, littleEndian)
    voxOffset = Number(view.getBigInt64(168, littleEndian))
    qformCode = view.getInt32(344, littleEndian)
    sformCode = view.getInt32(348, littleEndian)
  }
  for (const [i, d] of dims.entries()) {
    if (!Number.isInteger(d) || d < 1) throw new ImportError('corrupt-header', file, `dim[${i + 1}] is ${d}, must be a positive integer`)
  }
  if (dims.slice(3).some((d) => d !== 1)) {
    throw new ImportError(
      'unsupported-pixel-format',
      file,
      `a 3D volume is expected, the file holds dims ${dims.join('x')} (time series or vector images are not supported)`,
    )
  }
  const bits = DATATYPE_BITS[datatype]
  if (bits === undefined)
    throw new ImportError('unsupported-pixel-format', file, `NIfTI datatype ${datatype} is not supported (need a scalar integer or float type)`)
  if (bitpix !== bits) throw new ImportError('corrupt-header', file, `bitpix is ${bitpix} but datatype ${datatype} has ${bits} bits`)
  const minOffset = version === 1 ? 348 : 540
  if (!Number.isFinite(voxOffset) || voxOffset < minOffset) {
    throw new ImportError('corrupt-header', file, `vox_offset is ${voxOffset}, must be at least ${minOffset}`)
  }
  // ITK turns a zero or non-finite spacing into 1 mm without a word: a silently wrong geometry.
  for (const [i, d] of pixdim.entries()) {
    if (!Number.isFinite(d) || d <= 0)
      throw new ImportError('corrupt-header', file, `pixdim[${i + 1}] (voxel spacing) is ${d}, must be a positive number of mm`)
  }
  checkDeclaredSize(file, 'dim', dims, bits / 8, options.caps ?? DEFAULT_CAPS)
  const voxels = dims.reduce((a, b) => a * b, 1)
  const dataBytes = (voxels * bits) / 8
  if (!options.headerOnly && bytes.length < voxOffset + dataBytes) {
    throw new ImportError(
      'truncated',
      file,
      `image data needs ${voxOffset + dataBytes} bytes (${dims.join('x')} voxels of ${bits} bits after a ${voxOffset}-byte header), the file has ${bytes.length}`,
    )
  }
  return { version, littleEndian, dims, datatype, bitpix, voxOffset, qformCode, sformCode, pixdim, dataBytes }
}
