import type { Image } from 'itk-wasm'
import type { Mat3, Vec3, Volume, VolumeMeta, VoxelArray } from '../volume/types.ts'

/**
 * itk-wasm images carry millimetres and an ITK direction matrix stored row-major
 * (element (r, c) at 3r + c, column c = LPS unit vector of index axis c) — checked against
 * an oblique NIfTI sform in tests/unit/io. Our volumes carry metres with the same layout.
 */
const MM_PER_M = 1000

function vec3(values: ArrayLike<number>, scale: number, what: string): Vec3 {
  if (values.length !== 3) throw new Error(`itk-wasm image ${what} has ${values.length} components, expected 3`)
  return [values[0]! * scale, values[1]! * scale, values[2]! * scale]
}

function isVoxelArray(data: unknown): data is VoxelArray {
  return (
    data instanceof Int8Array ||
    data instanceof Uint8Array ||
    data instanceof Int16Array ||
    data instanceof Uint16Array ||
    data instanceof Int32Array ||
    data instanceof Uint32Array ||
    data instanceof Float32Array ||
    data instanceof Float64Array
  )
}

export function volumeFromItkImage(image: Image, meta: VolumeMeta, warnings: readonly string[] = []): Volume {
  const source = meta.source ?? 'image'
  if (image.imageType.dimension !== 3) {
    throw new Error(`${source}: a 3D volume is expected, the file holds a ${image.imageType.dimension}D image`)
  }
  if (image.imageType.components !== 1) {
    throw new Error(`${source}: a scalar volume is expected, the file has ${image.imageType.components} components per voxel`)
  }
  if (!isVoxelArray(image.data)) throw new Error(`${source}: pixel type ${image.imageType.componentType} is not supported`)
  const size = vec3(image.size, 1, 'size')
  const direction = Array.from(image.direction as ArrayLike<number>)
  if (direction.length !== 9) throw new Error(`${source}: direction has ${direction.length} elements, expected 9`)
  return {
    data: image.data,
    dims: size,
    spacingM: vec3(image.spacing, 1 / MM_PER_M, 'spacing'),
    originM: vec3(image.origin, 1 / MM_PER_M, 'origin'),
    direction: direction as unknown as Mat3,
    meta,
    warnings: [...warnings],
  }
}

const COMPONENT_TYPES: Array<[new (n: number) => VoxelArray, string]> = [
  [Int8Array, 'int8'],
  [Uint8Array, 'uint8'],
  [Int16Array, 'int16'],
  [Uint16Array, 'uint16'],
  [Int32Array, 'int32'],
  [Uint32Array, 'uint32'],
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
]

/** The plain object itk-wasm accepts as an Image (its class only fills defaults). */
export function itkImageFromVolume(volume: Volume): Image {
  const entry = COMPONENT_TYPES.find(([ctor]) => volume.data instanceof ctor)
  if (!entry) throw new Error('unsupported voxel array type')
  return {
    imageType: { dimension: 3, componentType: entry[1], pixelType: 'Scalar', components: 1 },
    name: volume.meta.seriesDescription ?? 'volume',
    origin: volume.originM.map((v) => v * MM_PER_M),
    spacing: volume.spacingM.map((v) => v * MM_PER_M),
    direction: Float64Array.from(volume.direction),
    size: [...volume.dims],
    metadata: new Map(),
    data: volume.data,
  } as unknown as Image
}
