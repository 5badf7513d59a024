/**
 * ITK HDF5 transform files (`.h5`, Slicer's default format for a saved transform) through
 * h5wasm (NODERAWFS: host paths). Only the datasets are read here; what they mean (types,
 * centre, LPS "from parent" direction) is core/exports/slicer.ts `readItkRecords`, shared with
 * the text `.tfm` reader. See core/exports/slicer.md.
 *
 * Layout (itkHDF5TransformIO.cxx `Write`/`WriteOneTransform`):
 *   /ITKVersion, /HDFVersion, /OSName, /OSVersion   variable-length string datasets, shape [1]
 *   /TransformGroup/<n>/TransformType               variable-length string, shape [1]
 *   /TransformGroup/<n>/TransformFixedParameters    float64 (float32 for _float_ types), 1-D
 *   /TransformGroup/<n>/TransformParameters         float64 (float32), 1-D
 * <n> = 0, 1, ...; a CompositeTransform at 0 stores no parameters, its components follow.
 * ITK before 4.8 spelled the parameter datasets "TranformFixedParameters"/"TranformParameters";
 * its reader still accepts them, and so do we.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import h5wasm from 'h5wasm/node'
import type { Dataset as H5Dataset, File as H5File } from 'h5wasm/node'
import { readItkRecords, type ItkTransformRecord } from '../../core/exports/slicer.ts'
import type { ImportedNavigation } from '../../core/exports/types.ts'
import { ImportError } from '../../core/io/errors.ts'

export const HDF5_MAGIC = '\x89HDF\r\n\x1a\n'

/** True when `bytes` start with the HDF5 signature (HDF5 spec §II.A, superblock at offset 0). */
export function isHdf5(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.subarray(0, 8)).toString('latin1') === HDF5_MAGIC
}

/**
 * Why `bytes` cannot be an HDF5 file h5wasm can open, or undefined. The HDF5 library prints a
 * page of diagnostics to the process's stderr when it fails to open a file (not interceptable
 * from JS), so a damaged superblock is refused here first, in one line. Superblock layout (HDF5
 * spec §II.A): version at byte 8; sizes of offsets and lengths at bytes 13/14 (versions 0, 1) or
 * 9/10 (versions 2, 3), each 2, 4, 8, 16 or 32.
 */
export function hdf5HeaderProblem(bytes: Uint8Array): string | undefined {
  if (!isHdf5(bytes)) return 'not an HDF5 file'
  const version = bytes[8]
  if (version === undefined || version > 3) return `not a readable HDF5 file (superblock version ${String(version)})`
  const sizes = version <= 1 ? [bytes[13], bytes[14]] : [bytes[9], bytes[10]]
  if (bytes.length < 48 || sizes.some((v) => v === undefined || ![2, 4, 8, 16, 32].includes(v)))
    return 'not a readable HDF5 file (truncated or damaged superblock)'
  return undefined
}

function dataset(h5: H5File, where: string): H5Dataset | undefined {
  const entry = h5.get(where)
  return entry instanceof h5wasm.Dataset ? entry : undefined
}

/** The records of every /TransformGroup/<n>, in order. */
function itkRecords(h5: H5File, file: string): ItkTransformRecord[] {
  const fail = (problem: string) => new ImportError('corrupt-header', file, problem)
  const group = h5.get('TransformGroup')
  if (!(group instanceof h5wasm.Group)) throw fail('no /TransformGroup: not an ITK HDF5 transform file')
  const names = group
    .keys()
    .filter((k) => /^\d+$/.test(k))
    .sort((a, b) => Number(a) - Number(b))
  if (names.length === 0) throw fail('/TransformGroup holds no transform')
  return names.map((n) => {
    const base = `TransformGroup/${n}`
    const typeSet = dataset(h5, `${base}/TransformType`)
    if (!typeSet) throw fail(`/${base}/TransformType is missing`)
    const raw = typeSet.value
    const type = Array.isArray(raw) ? raw[0] : raw
    if (typeof type !== 'string') throw fail(`/${base}/TransformType is not a string`)
    const numbers = (name: string, misspelled: string): number[] => {
      const set = dataset(h5, `${base}/${name}`) ?? dataset(h5, `${base}/${misspelled}`)
      // A CompositeTransform stores no parameters of its own.
      if (!set) return []
      const v = set.value
      if (!(v instanceof Float64Array || v instanceof Float32Array)) throw fail(`/${base}/${name} is not floating point`)
      return Array.from(v)
    }
    return {
      type: type.trim(),
      parameters: numbers('TransformParameters', 'TranformParameters'),
      fixedParameters: numbers('TransformFixedParameters', 'TranformFixedParameters'),
    }
  })
}

function writeString(h5: H5File, name: string, value: string): void {
  // Variable-length string, shape [1], as itkHDF5TransformIO `WriteString` (h5wasm marks it
  // UTF-8 where ITK writes ASCII: the same bytes for the ASCII names ITK uses).
  h5.create_dataset({ name, data: [value], shape: [1] })
}

/**
 * Writes `records` in ITK's HDF5 layout (tests and fixtures; tests/fixtures/poses/README.md).
 * `misspelled` writes the pre-4.8 dataset names.
 */
export async function writeItkHdf5Transform(
  file: string,
  records: readonly ItkTransformRecord[],
  options: { misspelled?: boolean; itkVersion?: string } = {},
): Promise<void> {
  await h5wasm.ready
  const h5 = new h5wasm.File(path.resolve(file), 'w')
  try {
    writeString(h5, 'ITKVersion', options.itkVersion ?? '5.3.0')
    writeString(h5, 'HDFVersion', '1.12.1')
    writeString(h5, 'OSName', 'Linux')
    writeString(h5, 'OSVersion', '5.15.0')
    h5.create_group('TransformGroup')
    records.forEach((r, i) => {
      const base = `TransformGroup/${i}`
      h5.create_group(base)
      writeString(h5, `${base}/TransformType`, r.type)
      if (/^CompositeTransform_/.test(r.type)) return
      const fixedName = options.misspelled ? 'TranformFixedParameters' : 'TransformFixedParameters'
      const paramsName = options.misspelled ? 'TranformParameters' : 'TransformParameters'
      h5.create_dataset({ name: `${base}/${fixedName}`, data: new Float64Array(r.fixedParameters), shape: [r.fixedParameters.length], dtype: '<d' })
      h5.create_dataset({ name: `${base}/${paramsName}`, data: new Float64Array(r.parameters), shape: [r.parameters.length], dtype: '<d' })
    })
  } finally {
    h5.close()
  }
}

/** Reads a Slicer/ITK `.h5` transform as the transducer pose (same meaning as a `.tfm`). */
export async function readItkHdf5Transform(file: string): Promise<ImportedNavigation> {
  const bytes = await fs.readFile(file).catch((e: unknown) => {
    throw new ImportError('not-found', file, 'no such file', { cause: e })
  })
  const problem = hdf5HeaderProblem(bytes)
  if (problem) throw new ImportError(isHdf5(bytes) ? 'corrupt-header' : 'unsupported-format', file, problem)
  await h5wasm.ready
  const h5 = new h5wasm.File(path.resolve(file), 'r')
  try {
    return readItkRecords(itkRecords(h5, file), file, path.basename(file).replace(/\.(h5|hdf5)$/i, ''))
  } finally {
    h5.close()
  }
}
