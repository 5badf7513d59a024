/**
 * vtkImageData per volume, fetched once through the API and shared by the views. Not reactive
 * (markRaw): stores hold volume ids, this cache holds the voxels (VolView's image-cache idea).
 * World units in the views are millimetres (LPS); the API's metres are converted here.
 */
import { markRaw } from 'vue'
import vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData'
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray'
import type { VolumeHeader, VoxelType } from '../../../../core/contracts/api.ts'
import { api } from '../../api/index.ts'

export const M_TO_MM = 1000

export interface CachedImage {
  readonly header: VolumeHeader
  readonly image: vtkImageData
}

const ARRAYS: Record<VoxelType, new (b: ArrayBuffer) => ArrayLike<number>> = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
}

const cache = new Map<string, Promise<CachedImage>>()

export function imageDataFrom(header: VolumeHeader, bytes: ArrayBuffer): vtkImageData {
  const values = new ARRAYS[header.dataType](bytes)
  const image = vtkImageData.newInstance()
  image.setDimensions(header.dims[0], header.dims[1], header.dims[2])
  image.setSpacing([header.spacingM[0] * M_TO_MM, header.spacingM[1] * M_TO_MM, header.spacingM[2] * M_TO_MM])
  image.setOrigin([header.originM[0] * M_TO_MM, header.originM[1] * M_TO_MM, header.originM[2] * M_TO_MM])
  // The header is row-major with column k = axis k; vtk.js stores the axes' directions one after another.
  const d = header.direction
  image.setDirection([d[0], d[3], d[6], d[1], d[4], d[7], d[2], d[5], d[8]])
  image.getPointData().setScalars(vtkDataArray.newInstance({ name: 'scalars', numberOfComponents: 1, values: values as unknown as number[] }))
  return markRaw(image)
}

export function loadImage(volumeId: string, stride = 1): Promise<CachedImage> {
  const key = `${volumeId}@${stride}`
  let entry = cache.get(key)
  if (!entry) {
    entry = api()
      .getVolume({ volumeId, stride })
      .then(({ header, bytes }) => markRaw({ header, image: imageDataFrom(header, bytes) }))
    cache.set(key, entry)
    entry.catch(() => cache.delete(key))
  }
  return entry
}
