/** Public API of the volume model: types, geometry, resampling and statistics. */

export { IDENTITY3 } from './types.ts'
export type { Mat3, Modality, Vec3, Volume, VolumeMeta, VoxelArray } from './types.ts'

export { boundsM, centerM, createVolume, indexToWorldAffine, orientationCode, voxelToWorld, worldToIndexAffine, worldToVoxel } from './geometry.ts'
export type { CreateVolumeArgs, GridSpec, VoxelGeometry } from './geometry.ts'

export { resampleTrilinear } from './resample.ts'
export type { ResampleOptions } from './resample.ts'

export { intensityStats } from './stats.ts'
export type { IntensityStats, IntensityStatsOptions } from './stats.ts'
export { flipAxis, isRightHanded } from './reorient.ts'
