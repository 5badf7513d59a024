/** The WebGPU solver backend; the host supplies the GPUDevice (Node: electron/adapters/webgpu-device.ts). */
export { createWebGpuBackend } from './backend.ts'
export type { GPUDevice } from './gpu-types.ts'
