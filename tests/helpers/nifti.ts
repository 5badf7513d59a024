/**
 * Builds NIfTI-1 files byte by byte (nifti1.h layout), so tests know the geometry the file
 * really carries instead of trusting the writer under test.
 */
export interface NiftiSpec {
  dims: [number, number, number]
  /** 4x4 RAS affine in mm (sform), row-major, rows 0..2. */
  sform: number[][]
  datatype: 4 | 16 // int16 | float32
  data: Int16Array | Float32Array
}

export function buildNifti1(spec: NiftiSpec): Uint8Array {
  const hdr = new ArrayBuffer(352)
  const v = new DataView(hdr)
  v.setInt32(0, 348, true)
  v.setInt16(40, 3, true)
  spec.dims.forEach((d, i) => v.setInt16(42 + 2 * i, d, true))
  for (let i = 3; i < 7; i++) v.setInt16(42 + 2 * i, 1, true)
  v.setInt16(70, spec.datatype, true)
  v.setInt16(72, spec.datatype === 4 ? 16 : 32, true)
  const col = (c: number) => Math.hypot(spec.sform[0]![c]!, spec.sform[1]![c]!, spec.sform[2]![c]!)
  v.setFloat32(76, 1, true)
  for (let c = 0; c < 3; c++) v.setFloat32(80 + 4 * c, col(c), true)
  v.setFloat32(108, 352, true)
  v.setFloat32(112, 1, true) // scl_slope
  v.setInt16(252, 0, true) // qform_code
  v.setInt16(254, 1, true) // sform_code: scanner
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) v.setFloat32(280 + 16 * r + 4 * c, spec.sform[r]![c]!, true)
  new Uint8Array(hdr).set([0x6e, 0x2b, 0x31, 0], 344) // "n+1\0"
  const body = new Uint8Array(spec.data.buffer, spec.data.byteOffset, spec.data.byteLength)
  const out = new Uint8Array(352 + body.length)
  out.set(new Uint8Array(hdr), 0)
  out.set(body, 352)
  return out
}
