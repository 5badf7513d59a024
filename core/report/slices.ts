/**
 * Three orthogonal slices through the focus for the plan report: CT in grey with the pressure
 * amplitude over it, sampled on RAS-aligned planes (trilinear, in the volumes' own LPS world).
 *
 * Display convention, written on the page beside each image: axial and coronal in radiological
 * view (patient right on the image left), sagittal with anterior on the left; superior / anterior
 * at the top.
 */
import { worldToIndexAffine } from '../volume/geometry.ts'
import type { Vec3, Volume } from '../volume/types.ts'
import { encodePngRgb } from './png.ts'

export type SlicePlane = 'axial' | 'coronal' | 'sagittal'

export interface SliceImage {
  readonly plane: SlicePlane
  readonly png: Uint8Array
  readonly widthPx: number
  readonly heightPx: number
  /** Anatomical direction at each image edge. */
  readonly labels: { readonly left: string; readonly right: string; readonly top: string; readonly bottom: string }
  /** Field of view [m] (square) and the RAS point at the image centre [m]. */
  readonly fieldOfViewM: number
  readonly centreRasM: Vec3
}

export interface SliceOptions {
  /** Square field of view [m]; default 0.12. */
  readonly fieldOfViewM?: number
  /**
   * Pixel size [m]; default 0.0002: 600 pixels across the default 0.12 m, which print at about
   * 260 dpi in the report's 58 mm figures (240 px at 0.5 mm looked blocky on paper and on
   * screens). The volumes are sampled directly at this spacing with trilinear interpolation,
   * finer than a clinical CT voxel (0.4-0.6 mm), so this is upsampling of the CT and pressure.
   */
  readonly pixelM?: number
  /** CT grey window [HU]; default level 300, width 1800 (bone and soft tissue both visible). */
  readonly windowHu?: { readonly level: number; readonly width: number }
  /** Target drawn as a green cross (RAS, m). */
  readonly markerRasM?: Vec3
}

interface PlaneAxes {
  /** RAS direction of +u (image rightwards) and +v (image downwards). */
  readonly u: Vec3
  readonly v: Vec3
  readonly labels: SliceImage['labels']
}

const PLANES: Record<SlicePlane, PlaneAxes> = {
  axial: { u: [-1, 0, 0], v: [0, -1, 0], labels: { left: 'R', right: 'L', top: 'A', bottom: 'P' } },
  coronal: { u: [-1, 0, 0], v: [0, 0, -1], labels: { left: 'R', right: 'L', top: 'S', bottom: 'I' } },
  sagittal: { u: [0, -1, 0], v: [0, 0, -1], labels: { left: 'A', right: 'P', top: 'S', bottom: 'I' } },
}

/** Trilinear sampler of a volume at RAS points (m); NaN outside the grid. */
function sampler(volume: Volume): (ras: Vec3) => number {
  const m = worldToIndexAffine(volume)
  const [nx, ny, nz] = volume.dims
  const data = volume.data
  return (ras) => {
    const x = -ras[0]
    const y = -ras[1]
    const z = ras[2]
    const fi = m[0]! * x + m[1]! * y + m[2]! * z + m[3]!
    const fj = m[4]! * x + m[5]! * y + m[6]! * z + m[7]!
    const fk = m[8]! * x + m[9]! * y + m[10]! * z + m[11]!
    if (fi < -0.5 || fj < -0.5 || fk < -0.5 || fi > nx - 0.5 || fj > ny - 0.5 || fk > nz - 0.5) return Number.NaN
    const clamp = (f: number, n: number) => Math.min(Math.max(f, 0), n - 1)
    const ci = clamp(fi, nx)
    const cj = clamp(fj, ny)
    const ck = clamp(fk, nz)
    const i0 = Math.floor(ci)
    const j0 = Math.floor(cj)
    const k0 = Math.floor(ck)
    const i1 = Math.min(i0 + 1, nx - 1)
    const j1 = Math.min(j0 + 1, ny - 1)
    const k1 = Math.min(k0 + 1, nz - 1)
    const a = ci - i0
    const b = cj - j0
    const c = ck - k0
    const at = (i: number, j: number, k: number) => data[i + nx * (j + ny * k)]!
    const c00 = at(i0, j0, k0) * (1 - a) + at(i1, j0, k0) * a
    const c10 = at(i0, j1, k0) * (1 - a) + at(i1, j1, k0) * a
    const c01 = at(i0, j0, k1) * (1 - a) + at(i1, j0, k1) * a
    const c11 = at(i0, j1, k1) * (1 - a) + at(i1, j1, k1) * a
    return (c00 * (1 - b) + c10 * b) * (1 - c) + (c01 * (1 - b) + c11 * b) * c
  }
}

/** 'hot'-like colour for a normalised amplitude in [0, 1]. */
function hot(t: number): [number, number, number] {
  const r = Math.min(1, t * 2.5)
  const g = Math.min(1, Math.max(0, t * 2.5 - 1))
  const b = Math.min(1, Math.max(0, t * 2.5 - 2))
  return [r * 255, g * 255, b * 255]
}

/**
 * The three slices through `centreRasM`. `ct` may be absent (image not found): the pressure is
 * then drawn on black. The overlay starts at 20 % of the peak and is opaque from 50 %.
 */
export function orthogonalSlices(ct: Volume | undefined, pressure: Volume, centreRasM: Vec3, options: SliceOptions = {}): SliceImage[] {
  const fov = options.fieldOfViewM ?? 0.12
  const pixel = options.pixelM ?? 0.0002
  const n = Math.max(8, Math.round(fov / pixel))
  const level = options.windowHu?.level ?? 300
  const width = options.windowHu?.width ?? 1800
  const sampleCt = ct ? sampler(ct) : undefined
  const samplePressure = sampler(pressure)
  let peak = 0
  for (let i = 0; i < pressure.data.length; i++) {
    const v = pressure.data[i]!
    if (Number.isFinite(v) && v > peak) peak = v
  }
  const out: SliceImage[] = []
  for (const plane of ['axial', 'coronal', 'sagittal'] as const) {
    const { u, v, labels } = PLANES[plane]
    const rgb = new Uint8Array(3 * n * n)
    for (let row = 0; row < n; row++) {
      for (let col = 0; col < n; col++) {
        const du = (col + 0.5 - n / 2) * pixel
        const dv = (row + 0.5 - n / 2) * pixel
        const p: Vec3 = [centreRasM[0] + du * u[0] + dv * v[0], centreRasM[1] + du * u[1] + dv * v[1], centreRasM[2] + du * u[2] + dv * v[2]]
        let grey = 0
        if (sampleCt) {
          const hu = sampleCt(p)
          grey = Number.isNaN(hu) ? 0 : Math.min(255, Math.max(0, ((hu - (level - width / 2)) / width) * 255))
        }
        let r = grey
        let g = grey
        let b = grey
        const pa = samplePressure(p)
        if (peak > 0 && Number.isFinite(pa)) {
          const t = pa / peak
          if (t > 0.2) {
            const alpha = Math.min(1, (t - 0.2) / 0.3) * 0.85
            const [hr, hg, hb] = hot(t)
            r = r * (1 - alpha) + hr * alpha
            g = g * (1 - alpha) + hg * alpha
            b = b * (1 - alpha) + hb * alpha
          }
        }
        const o = 3 * (row * n + col)
        rgb[o] = Math.round(r)
        rgb[o + 1] = Math.round(g)
        rgb[o + 2] = Math.round(b)
      }
    }
    if (options.markerRasM) {
      const d: Vec3 = [options.markerRasM[0] - centreRasM[0], options.markerRasM[1] - centreRasM[1], options.markerRasM[2] - centreRasM[2]]
      const cu = (d[0] * u[0] + d[1] * u[1] + d[2] * u[2]) / pixel + n / 2
      const cv = (d[0] * v[0] + d[1] * v[1] + d[2] * v[2]) / pixel + n / 2
      const arm = Math.max(4, Math.round(n / 40))
      for (let s = -arm; s <= arm; s++) {
        for (const [x, y] of [
          [Math.floor(cu) + s, Math.floor(cv)],
          [Math.floor(cu), Math.floor(cv) + s],
        ] as const) {
          if (x < 0 || y < 0 || x >= n || y >= n || Math.abs(s) < 2) continue
          const o = 3 * (y * n + x)
          rgb[o] = 0
          rgb[o + 1] = 230
          rgb[o + 2] = 0
        }
      }
    }
    out.push({ plane, png: encodePngRgb(rgb, n, n), widthPx: n, heightPx: n, labels, fieldOfViewM: fov, centreRasM })
  }
  return out
}
