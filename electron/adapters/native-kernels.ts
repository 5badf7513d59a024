/**
 * The native CPU kernels (native/: C++ built from source by node-gyp at `npm install`, like
 * better-sqlite3), when this machine has them: the solver's FFT stages, vectorised (AVX2 where the
 * CPU has it) and about five times faster than the TypeScript FFT (docs/benchmarks.md). Where no
 * compiler was present at install the build is absent and the TypeScript kernels run instead; the
 * results agree to float32 round-off (tests/unit/fft/native-fft.test.ts).
 *
 * TFUS_CPU_KERNELS=ts forces the TypeScript kernels (benchmarks, bisecting); =native makes a
 * missing build an error instead of a fallback.
 */
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import type { Fft3dFactory, Fft3dStages } from '../../core/fft/fft3d.ts'
import type { KernelsFactory } from '../../core/solver/cpu/engine.ts'
import type { GridField } from '../../core/solver/cpu/kernels.ts'
import { appPath } from './app-paths.ts'

/** The binding's functions (native/src/addon.cc). */
interface Addon {
  fft3dCreate(nx: number, ny: number, nz: number): object
  fft3dForwardXY(h: object, src: Float32Array, re: Float32Array, im: Float32Array, z0: number, z1: number): void
  fft3dForwardZ(h: object, re: Float32Array, im: Float32Array, y0: number, y1: number): void
  fft3dInverseZ(h: object, re: Float32Array, im: Float32Array, y0: number, y1: number): void
  fft3dInverseXY(h: object, re: Float32Array, im: Float32Array, dst: Float32Array, z0: number, z1: number): void
  fft3dDerivativeInverseZ(
    h: object,
    specRe: Float32Array,
    specIm: Float32Array,
    outRe: Float32Array,
    outIm: Float32Array,
    dd: Float64Array,
    axis: number,
    kappa: Float32Array,
    y0: number,
    y1: number,
  ): void
  fft3dInverseXYUpdate(
    h: object,
    re: Float32Array,
    im: Float32Array,
    field: Float32Array,
    m: Float32Array,
    coef: GridField,
    axis: number,
    div: Float32Array | null,
    z0: number,
    z1: number,
  ): void
  pressure(
    p: Float32Array,
    rx: Float32Array,
    ry: Float32Array,
    rz: Float32Array,
    c0sq: GridField,
    tauRho0: GridField,
    div: Float32Array | null,
    from: number,
    to: number,
  ): void
  accumulate(
    p: Float32Array,
    sumCos: Float64Array,
    sumSin: Float64Array,
    nx: number,
    ny: number,
    sx: number,
    sy: number,
    sz: number,
    ux: number,
    uy: number,
    uz0: number,
    uz1: number,
    c: number,
    s: number,
  ): void
  simdLevel(): string
}

export interface NativeKernels {
  /** One team member's FFT stages. */
  readonly fft3d: Fft3dFactory
  /** One team member's step kernels (the FFT stages with the spectral multiplies and updates fused). */
  readonly kernelsFor: KernelsFactory
  /** The instruction set the kernels use on this CPU: avx2, sse2, neon or baseline. */
  readonly simd: string
}

/** Where the build puts the add-on (scripts/build-native.mjs). */
export const NATIVE_ADDON_PATH = appPath('native', 'build', 'Release', 'tfus_native.node')

let loaded: NativeKernels | { readonly unavailable: string } | undefined

function load(): NativeKernels | { readonly unavailable: string } {
  if (!existsSync(NATIVE_ADDON_PATH))
    return { unavailable: `the native kernels were not built (${NATIVE_ADDON_PATH} is missing; npm install builds them where a C++ compiler is present)` }
  let addon: Addon
  try {
    addon = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as Addon
  } catch (e) {
    return { unavailable: `the native kernels did not load: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` }
  }
  const stages = (h: object, nx: number, ny: number, nz: number): Fft3dStages => ({
    nx,
    ny,
    nz,
    nxh: Math.floor(nx / 2) + 1,
    forwardXY: (src, re, im, z0, z1) => addon.fft3dForwardXY(h, src, re, im, z0, z1),
    forwardZ: (re, im, y0, y1) => addon.fft3dForwardZ(h, re, im, y0, y1),
    inverseZ: (re, im, y0, y1) => addon.fft3dInverseZ(h, re, im, y0, y1),
    inverseXY: (re, im, dst, z0, z1) => addon.fft3dInverseXY(h, re, im, dst, z0, z1),
  })
  const fft3d: Fft3dFactory = (nx, ny, nz) => stages(addon.fft3dCreate(nx, ny, nz), nx, ny, nz)
  const kernelsFor: KernelsFactory = (d) => {
    const [nx, ny, nz] = d.size
    const h = addon.fft3dCreate(nx, ny, nz)
    return {
      fft: stages(h, nx, ny, nz),
      derivativeInverseZ: (specRe, specIm, outRe, outIm, dd, axis, kappa, y0, y1) =>
        addon.fft3dDerivativeInverseZ(h, specRe, specIm, outRe, outIm, dd, axis, kappa, y0, y1),
      inverseXYUpdate: (re, im, field, m, coef, axis, div, z0, z1) => addon.fft3dInverseXYUpdate(h, re, im, field, m, coef, axis, div ?? null, z0, z1),
      pressure: (p, [rx, ry, rz], c0sq, tauRho0, div, from, to) => addon.pressure(p, rx, ry, rz, c0sq, tauRho0, div ?? null, from, to),
      accumulate: (w, uz0, uz1, c, s) =>
        addon.accumulate(
          w.p,
          w.sumCos,
          w.sumSin,
          w.size[0],
          w.size[1],
          w.userStart[0],
          w.userStart[1],
          w.userStart[2],
          w.userSize[0],
          w.userSize[1],
          uz0,
          uz1,
          c,
          s,
        ),
    }
  }
  return { fft3d, kernelsFor, simd: addon.simdLevel() }
}

/**
 * The native kernels, or why they are not used. Loaded once per thread (each worker loads its own
 * copy of the add-on; Node-API add-ons are safe to load in worker threads).
 */
export function nativeKernels(): NativeKernels | { readonly unavailable: string } {
  const choice = process.env.TFUS_CPU_KERNELS
  if (choice === 'ts') return { unavailable: 'TFUS_CPU_KERNELS=ts' }
  loaded ??= load()
  if (choice === 'native' && 'unavailable' in loaded) throw new Error(`TFUS_CPU_KERNELS=native: ${loaded.unavailable}`)
  return loaded
}
