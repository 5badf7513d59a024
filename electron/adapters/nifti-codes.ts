/**
 * The sform/qform codes of the image an export is relative to, for the Brainsight
 * coordinate-system line (core/exports/brainsight.md). Only the header is read (a .nii.gz is
 * inflated up to its first 1 KiB).
 */
import { promises as fs } from 'node:fs'
import type { NiftiXformCodes } from '../../core/exports/brainsight.ts'
import { gunzipBounded } from '../../core/io/limits.ts'
import { parseNiftiHeader } from '../../core/io/nifti-header.ts'

/**
 * `file`'s NIfTI xform codes, or undefined when it is not a readable NIfTI file (a DICOM
 * series, NRRD, a moved file): the caller then keeps the default (Scanner) and says so.
 */
export async function niftiXformCodes(file: string): Promise<NiftiXformCodes | undefined> {
  if (!/\.nii(\.gz)?$/i.test(file)) return undefined
  try {
    const bytes = new Uint8Array(await fs.readFile(file))
    const head = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipBounded(bytes, file, { wantBytes: 1024, maxBytes: Number.POSITIVE_INFINITY }) : bytes
    const header = parseNiftiHeader(head, file, { headerOnly: true })
    return { sformCode: header.sformCode, qformCode: header.qformCode }
  } catch {
    return undefined
  }
}
