/** Public API of the FFTs: 1D plans and the 3D real/complex transforms used by the k-space solver. */

export { createFftPlan, isFftFriendly, nextFftFriendly, primeFactors } from './plan.ts'
export type { FftPlan } from './plan.ts'
export { createFft3d, DEFAULT_Z_BLOCK } from './fft3d.ts'
export type { Fft3d, Fft3dFactory, Fft3dOptions, Fft3dStages, FftArray } from './fft3d.ts'
