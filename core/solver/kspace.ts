/**
 * k-space operators of the k-Wave scheme on the computational grid (Treeby et al. 2012, JASA
 * 131(6):4324; docs/physics.md §6.2): wavenumbers in FFT order, the staggered-derivative shift
 * operators i k e^{+-i k dx/2}, and the k-space correction kappa = sinc(c_ref |k| dt / 2).
 * Shared by every backend so that the CPU reference and the GPU kernels use the same numbers.
 */

/**
 * Wavenumbers [rad/m] of an n-point axis in FFT order. For even n the Nyquist entry is -pi/dx,
 * as k-Wave's ifftshift(k) gives (it matters for the shifted derivative at Nyquist).
 */
export function wavenumbers(n: number, dx: number): Float64Array {
  const k = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const m = i < Math.ceil(n / 2) ? i : i - n
    k[i] = (2 * Math.PI * m) / (n * dx)
  }
  return k
}

/** i k e^{sign i k dx / 2} per axis entry, as separate re/im arrays. */
export function shiftedDerivative(k: Float64Array, dx: number, sign: 1 | -1): { re: Float64Array; im: Float64Array } {
  const re = new Float64Array(k.length)
  const im = new Float64Array(k.length)
  for (let i = 0; i < k.length; i++) {
    const kk = k[i]!
    const phase = (sign * kk * dx) / 2
    // i k (cos + i sin) = -k sin + i k cos
    re[i] = -kk * Math.sin(phase)
    im[i] = kk * Math.cos(phase)
  }
  return { re, im }
}

export interface HalfSpectrumAxes {
  /** kx for the nx/2 + 1 half-spectrum entries. */
  readonly kx: Float64Array
  readonly ky: Float64Array
  readonly kz: Float64Array
  readonly nxh: number
}

export function halfSpectrumAxes(nx: number, ny: number, nz: number, dx: number): HalfSpectrumAxes {
  const nxh = Math.floor(nx / 2) + 1
  const fullX = wavenumbers(nx, dx)
  const kx = new Float64Array(nxh)
  for (let i = 0; i < nxh; i++) kx[i] = fullX[i]!
  // The half spectrum's last x entry is the Nyquist mode for even nx: k-Wave's first
  // nx/2 + 1 entries of ifftshift(k) end with -pi/dx.
  if (nx % 2 === 0) kx[nxh - 1] = -Math.PI / dx
  return { kx, ky: wavenumbers(ny, dx), kz: wavenumbers(nz, dx), nxh }
}

/** Fills a half-spectrum-shaped array with f(|k|). */
export function radialSpectrum(axes: HalfSpectrumAxes, f: (kAbs: number) => number): Float32Array {
  const { kx, ky, kz, nxh } = axes
  const out = new Float32Array(nxh * ky.length * kz.length)
  let index = 0
  for (let c = 0; c < kz.length; c++) {
    const kz2 = kz[c]! * kz[c]!
    for (let b = 0; b < ky.length; b++) {
      const kyz2 = kz2 + ky[b]! * ky[b]!
      for (let a = 0; a < nxh; a++) out[index++] = f(Math.sqrt(kyz2 + kx[a]! * kx[a]!))
    }
  }
  return out
}

export function sinc(x: number): number {
  return x === 0 ? 1 : Math.sin(x) / x
}

/**
 * Split-field PML damping factors along one axis (k-Wave getPML; Tabei, Mast & Waag 2002,
 * JASA 111(1):53, Eq. 27): sigma = alpha (c_ref / dx) (distance into the layer / N)^4, applied
 * as m = exp(-sigma dt / 2) twice per update. `staggered` evaluates at the half-shifted points.
 */
export function pmlProfile(total: number, pml: number, alphaNpPerPoint: number, cRef: number, dx: number, dt: number, staggered: boolean): Float32Array {
  const m = new Float32Array(total).fill(1)
  if (pml === 0) return m
  const sigmaMax = (alphaNpPerPoint * cRef) / dx
  const shift = staggered ? 0.5 : 0
  for (let i = 0; i < pml; i++) {
    // Low side: point i lies (pml - i - shift) points into the layer from its inner edge.
    const depthLo = (pml - i - shift) / pml
    m[i] = Math.exp((-sigmaMax * depthLo ** 4 * dt) / 2)
    // High side: the (i + 1)-th point of the layer, plus the half shift outward.
    const depthHi = (i + 1 + shift) / pml
    m[total - pml + i] = Math.exp((-sigmaMax * depthHi ** 4 * dt) / 2)
  }
  return m
}
