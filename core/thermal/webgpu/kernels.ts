/**
 * Descriptors of the thermal model's WGSL kernels (one file each). KernelContext
 * (core/solver/webgpu/kernel.ts) checks every descriptor against its WGSL text when the pipeline
 * is built.
 */
import { defineKernel } from '../../solver/webgpu/kernel.ts'
import { TRACKED_LABELS } from '../model.ts'
import advanceSource from './advance.wgsl'
import recordSource from './record.wgsl'
import stepSource from './step.wgsl'

/** Invocations per workgroup of the per-voxel kernels. */
export const THERMAL_WORKGROUP = 128
/** Floats per batch in the `batches` buffer: decay[4], gain[4], level, dt [min], 2 unused. */
export const BATCH_FLOATS = 12

// record.wgsl hard-codes the tracked labels 1, 2, 3 in this order.
if (TRACKED_LABELS.join() !== '1,2,3') throw new Error('record.wgsl expects TRACKED_LABELS = [1, 2, 3]')

export const thermalStepKernel = defineKernel({
  label: 'thermal step',
  source: stepSource,
  entryPoint: 'main',
  workgroupSize: THERMAL_WORKGROUP,
  bindings: [
    { binding: 1, name: 'thetaOld', kind: 'read-only-storage' },
    { binding: 2, name: 'thetaNew', kind: 'storage' },
    { binding: 3, name: 'conduct', kind: 'read-only-storage' },
    { binding: 4, name: 'heat', kind: 'read-only-storage' },
    { binding: 5, name: 'batches', kind: 'read-only-storage' },
    { binding: 6, name: 'control', kind: 'read-only-storage' },
    { binding: 7, name: 'dose', kind: 'storage' },
  ],
  uniforms: [
    ['count', 'u32'],
    ['nx', 'u32'],
    ['nxy', 'u32'],
    ['recordMaps', 'u32'],
  ],
})

export const thermalRecordKernel = defineKernel({
  label: 'thermal record',
  source: recordSource,
  entryPoint: 'main',
  workgroupSize: THERMAL_WORKGROUP,
  bindings: [
    { binding: 1, name: 'theta', kind: 'read-only-storage' },
    { binding: 2, name: 'heat', kind: 'read-only-storage' },
    { binding: 3, name: 'control', kind: 'read-only-storage' },
    { binding: 4, name: 'trackedMax', kind: 'storage' },
    { binding: 5, name: 'probeIndex', kind: 'read-only-storage' },
    { binding: 6, name: 'probeRise', kind: 'storage' },
  ],
  uniforms: [
    ['count', 'u32'],
    ['perThread', 'u32'],
    ['probeCount', 'u32'],
  ],
})

export const thermalAdvanceKernel = defineKernel({
  label: 'thermal advance',
  source: advanceSource,
  entryPoint: 'main',
  workgroupSize: 1,
  bindings: [{ binding: 1, name: 'control', kind: 'storage' }],
  uniforms: [['steps', 'u32']],
})
