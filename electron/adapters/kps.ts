/**
 * k-Plan transducer position files (`.kps`, HDF5) through h5wasm (NODERAWFS: host paths). The
 * pose mapping and dataset layout are in core/exports/kplan.ts; see core/exports/kplan.md.
 *
 * Layout written (as PlanTUS `create_kps_file_for_kPlan` with h5py):
 *   root attributes application_name="k-Plan", file_type="k-Plan Transducer Position",
 *   number_transforms (uint64, shape [1]); group /<n> with attribute transform_label;
 *   dataset /<n>/position_transform float32 shape (1, 4, 4), the 4x4 transposed.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { replaceFileAtomically } from './atomic-file.ts'
import h5wasm from 'h5wasm/node'
import type { File as H5File, Group as H5Group } from 'h5wasm/node'
import { KPS_ATTRIBUTES, KPS_DATASET_SHAPE, kplanDatasetValues, poseFromKplanDataset } from '../../core/exports/kplan.ts'
import { ImportError } from '../../core/io/errors.ts'

export interface KpsTransform {
  readonly label: string
  /** Our pose: row-major transducer (apex, +z into the head, m) -> RAS (m). */
  readonly transducerToRas: readonly number[]
}

function setString(target: H5File | H5Group, name: string, value: string): void {
  const ascii = value.replace(/[^\x20-\x7e]/g, '?').slice(0, 255)
  // Fixed-length ASCII as h5py writes np.string_ (PlanTUS); +1 for the terminating NUL.
  target.create_attribute(name, ascii, null, `A${ascii.length + 1}`)
}

/** Writes a .kps atomically (temp file, fsync, rename). */
export async function writeKps(target: string, transforms: readonly KpsTransform[]): Promise<void> {
  if (transforms.length === 0) throw new ImportError('write-failed', target, 'no transform to write')
  await h5wasm.ready
  await replaceFileAtomically(target, async (tmp) => {
    const file = new h5wasm.File(tmp, 'w')
    try {
      setString(file, 'application_name', KPS_ATTRIBUTES.application_name)
      setString(file, 'file_type', KPS_ATTRIBUTES.file_type)
      file.create_attribute('number_transforms', new BigUint64Array([BigInt(transforms.length)]), [1], '<Q')
      transforms.forEach((t, i) => {
        const group = file.create_group(String(i + 1))
        setString(group, 'transform_label', t.label)
        group.create_dataset({ name: 'position_transform', data: kplanDatasetValues(t.transducerToRas), shape: [...KPS_DATASET_SHAPE], dtype: '<f4' })
      })
    } finally {
      file.close()
    }
  })
}

/** Reads every /<n>/position_transform of a .kps back as our pose. */
export async function readKps(file: string): Promise<KpsTransform[]> {
  const head = await fs.readFile(file).catch((e: unknown) => {
    throw new ImportError('not-found', file, 'no such file', { cause: e })
  })
  if (head.length < 8 || head.subarray(0, 8).toString('latin1') !== '\x89HDF\r\n\x1a\n') throw new ImportError('unsupported-format', file, 'not an HDF5 file')
  await h5wasm.ready
  const h5 = new h5wasm.File(path.resolve(file), 'r')
  try {
    const fileType = h5.attrs['file_type']?.value
    if (fileType !== KPS_ATTRIBUTES.file_type)
      throw new ImportError('unsupported-format', file, `file_type is "${String(fileType)}", not "${KPS_ATTRIBUTES.file_type}"`)
    const groups = h5
      .keys()
      .filter((k) => /^\d+$/.test(k))
      .sort((a, b) => Number(a) - Number(b))
    if (groups.length === 0) throw new ImportError('corrupt-header', file, 'no /<n>/position_transform dataset')
    return groups.map((g) => {
      const group = h5.get(g)
      if (!(group instanceof h5wasm.Group)) throw new ImportError('corrupt-header', file, `/${g} is not a group`)
      const dataset = group.get('position_transform')
      if (!(dataset instanceof h5wasm.Dataset)) throw new ImportError('corrupt-header', file, `/${g}/position_transform is missing`)
      const value = dataset.value
      if (!(value instanceof Float32Array || value instanceof Float64Array))
        throw new ImportError('corrupt-header', file, `/${g}/position_transform is not floating point`)
      const label = group.attrs['transform_label']?.value
      return { label: typeof label === 'string' ? label : `transform ${g}`, transducerToRas: poseFromKplanDataset(value, file, `/${g}/position_transform`) }
    })
  } finally {
    h5.close()
  }
}
