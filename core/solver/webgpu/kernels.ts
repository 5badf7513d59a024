/**
 * Descriptors of the time-step kernels (the FFT's are in ./fft.ts). Each names its WGSL file's
 * storage bindings and `struct Params` fields in order; KernelContext checks them against the
 * source when the pipeline is built.
 */
import accumulateSource from './accumulate.wgsl'
import densitySource from './density.wgsl'
import derivativeSource from './derivative.wgsl'
import fractionalCombineSource from './fractional-combine.wgsl'
import fractionalPrepareSource from './fractional-prepare.wgsl'
import nonfiniteSource from './nonfinite.wgsl'
import pressureSource from './pressure.wgsl'
import radialFilterSource from './radial-filter.wgsl'
import sourceSource from './source.wgsl'
import velocitySource from './velocity.wgsl'
import { defineKernel } from './kernel.ts'

/** Invocations per workgroup of the element-wise kernels: a multiple of every vendor's SIMD width. */
export const ELEMENTWISE_WORKGROUP = 128

export const derivativeKernel = defineKernel({
  label: 'derivative',
  source: derivativeSource,
  entryPoint: 'main',
  workgroupSize: ELEMENTWISE_WORKGROUP,
  bindings: [
    { binding: 1, name: 'spectrum', kind: 'read-only-storage' },
    { binding: 2, name: 'product', kind: 'storage' },
    { binding: 3, name: 'kappa', kind: 'read-only-storage' },
    { binding: 4, name: 'shift', kind: 'read-only-storage' },
  ],
  uniforms: [
    ['count', 'u32'],
    ['nxh', 'u32'],
    ['ny', 'u32'],
    ['axis', 'u32'],
    ['shiftOffset', 'u32'],
  ],
})

export const radialFilterKernel = defineKernel({
  label: 'radial filter',
  source: radialFilterSource,
  entryPoint: 'main',
  workgroupSize: ELEMENTWISE_WORKGROUP,
  bindings: [
    { binding: 1, name: 'spectrum', kind: 'storage' },
    { binding: 2, name: 'weight', kind: 'read-only-storage' },
  ],
  uniforms: [['count', 'u32']],
})

export const velocityKernel = defineKernel({
  label: 'velocity',
  source: velocitySource,
  entryPoint: 'main',
  workgroupSize: ELEMENTWISE_WORKGROUP,
  bindings: [
    { binding: 1, name: 'velocity', kind: 'storage' },
    { binding: 2, name: 'gradient', kind: 'read-only-storage' },
    { binding: 3, name: 'dtOverDensity', kind: 'read-only-storage' },
    { binding: 4, name: 'pml', kind: 'read-only-storage' },
  ],
  uniforms: [
    ['count', 'u32'],
    ['nx', 'u32'],
    ['ny', 'u32'],
    ['axis', 'u32'],
    ['pmlOffset', 'u32'],
    ['dtOverDensityStride', 'u32'],
  ],
})

export const densityKernel = defineKernel({
  label: 'density',
  source: densitySource,
  entryPoint: 'main',
  workgroupSize: ELEMENTWISE_WORKGROUP,
  bindings: [
    { binding: 1, name: 'splitDensity', kind: 'storage' },
    { binding: 2, name: 'gradient', kind: 'read-only-storage' },
    { binding: 3, name: 'density', kind: 'read-only-storage' },
    { binding: 4, name: 'pml', kind: 'read-only-storage' },
    { binding: 5, name: 'divergence', kind: 'storage' },
  ],
  uniforms: [
    ['count', 'u32'],
    ['nx', 'u32'],
    ['ny', 'u32'],
    ['axis', 'u32'],
    ['pmlOffset', 'u32'],
    ['densityStride', 'u32'],
    ['dt', 'f32'],
    ['divergenceMode', 'u32'],
  ],
})

export const sourceKernel = defineKernel({
  label: 'source',
  source: sourceSource,
  entryPoint: 'main',
  workgroupSize: ELEMENTWISE_WORKGROUP,
  bindings: [
    { binding: 1, name: 'sourceIndex', kind: 'read-only-storage' },
    { binding: 2, name: 'sourceWeight', kind: 'read-only-storage' },
    { binding: 3, name: 'densityX', kind: 'storage' },
    { binding: 4, name: 'densityY', kind: 'storage' },
    { binding: 5, name: 'densityZ', kind: 'storage' },
  ],
  uniforms: [['count', 'u32']],
  perStep: true,
})

export const pressureKernel = defineKernel({
  label: 'pressure',
  source: pressureSource,
  entryPoint: 'main',
  workgroupSize: ELEMENTWISE_WORKGROUP,
  bindings: [
    { binding: 1, name: 'pressure', kind: 'storage' },
    { binding: 2, name: 'densityX', kind: 'read-only-storage' },
    { binding: 3, name: 'densityY', kind: 'read-only-storage' },
    { binding: 4, name: 'densityZ', kind: 'read-only-storage' },
    { binding: 5, name: 'soundSpeedSq', kind: 'read-only-storage' },
    { binding: 6, name: 'tau', kind: 'read-only-storage' },
    { binding: 7, name: 'density', kind: 'read-only-storage' },
    { binding: 8, name: 'divergence', kind: 'read-only-storage' },
  ],
  uniforms: [
    ['count', 'u32'],
    ['soundSpeedSqStride', 'u32'],
    ['tauStride', 'u32'],
    ['densityStride', 'u32'],
    ['absorbing', 'u32'],
  ],
})

export const fractionalPrepareKernel = defineKernel({
  label: 'fractional prepare',
  source: fractionalPrepareSource,
  entryPoint: 'main',
  workgroupSize: ELEMENTWISE_WORKGROUP,
  bindings: [
    { binding: 1, name: 'divergence', kind: 'storage' },
    { binding: 2, name: 'density', kind: 'read-only-storage' },
    { binding: 3, name: 'densityX', kind: 'read-only-storage' },
    { binding: 4, name: 'densityY', kind: 'read-only-storage' },
    { binding: 5, name: 'densityZ', kind: 'read-only-storage' },
    { binding: 6, name: 'pressure', kind: 'storage' },
  ],
  uniforms: [
    ['count', 'u32'],
    ['densityStride', 'u32'],
  ],
})

export const fractionalCombineKernel = defineKernel({
  label: 'fractional combine',
  source: fractionalCombineSource,
  entryPoint: 'main',
  workgroupSize: ELEMENTWISE_WORKGROUP,
  bindings: [
    { binding: 1, name: 'pressure', kind: 'storage' },
    { binding: 2, name: 'soundSpeedSq', kind: 'read-only-storage' },
    { binding: 3, name: 'tau', kind: 'read-only-storage' },
    { binding: 4, name: 'eta', kind: 'read-only-storage' },
    { binding: 5, name: 'absorptionTerm', kind: 'read-only-storage' },
    { binding: 6, name: 'dispersionTerm', kind: 'read-only-storage' },
  ],
  uniforms: [
    ['count', 'u32'],
    ['soundSpeedSqStride', 'u32'],
    ['tauStride', 'u32'],
    ['etaStride', 'u32'],
  ],
})

export const accumulateKernel = defineKernel({
  label: 'window accumulate',
  source: accumulateSource,
  entryPoint: 'main',
  workgroupSize: ELEMENTWISE_WORKGROUP,
  bindings: [
    { binding: 1, name: 'pressure', kind: 'read-only-storage' },
    { binding: 2, name: 'window', kind: 'storage' },
  ],
  uniforms: [
    ['userCount', 'u32'],
    ['userNx', 'u32'],
    ['userNy', 'u32'],
    ['startX', 'u32'],
    ['startY', 'u32'],
    ['startZ', 'u32'],
    ['nx', 'u32'],
    ['ny', 'u32'],
  ],
  perStep: true,
})

export const nonfiniteKernel = defineKernel({
  label: 'non-finite count',
  source: nonfiniteSource,
  entryPoint: 'main',
  workgroupSize: ELEMENTWISE_WORKGROUP,
  bindings: [
    { binding: 1, name: 'values', kind: 'read-only-storage' },
    { binding: 2, name: 'flags', kind: 'storage' },
  ],
  uniforms: [
    ['count', 'u32'],
    ['perThread', 'u32'],
  ],
})
