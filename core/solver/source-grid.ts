/**
 * Off-grid sources: each element's surface is sampled by equal-area integration points and
 * each point is spread onto the grid with a truncated band-limited interpolant (a product of
 * sincs), as k-Wave's kWaveArray does (Wise, Cox, Jaros & Treeby 2019, JASA 146(1):278). This
 * avoids the staircase error of voxelised bowls, a few per cent of focal pressure at 6 PPW.
 */
import { cross3, normalize3, type Vec3 } from '../math/index.ts'
import type { SourceElement } from './model.ts'

export interface IntegrationPoints {
  /** xyz triples [m]. */
  readonly positions: Float64Array
  /** Surface area each point stands for [m^2]. */
  readonly areaPerPointM2: number
  readonly totalAreaM2: number
}

const GOLDEN_ANGLE = Math.PI * (3 - Math.sqrt(5))

/** Two unit vectors completing `axis` to a right-handed orthonormal basis. */
function basisAround(axis: Vec3): [Vec3, Vec3] {
  const helper: Vec3 = Math.abs(axis[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0]
  const e1 = normalize3(cross3(helper, axis))
  const e2 = cross3(axis, e1)
  return [e1, e2]
}

/** Radiating area of an element [m^2] (a cap or ring of a sphere, or a flat disc). */
export function elementAreaM2(element: Exclude<SourceElement, { kind: 'plane' }>): number {
  if (element.kind === 'bowl') {
    const r = element.rocM
    const cosIn = Math.sqrt(1 - (element.innerApertureM / (2 * r)) ** 2)
    const cosOut = Math.sqrt(1 - (element.apertureM / (2 * r)) ** 2)
    return 2 * Math.PI * r * r * (cosIn - cosOut)
  }
  return Math.PI * (element.diameterM / 2) ** 2
}

/** How many integration points elementIntegrationPoints makes, without making them. */
export function integrationPointCount(element: Exclude<SourceElement, { kind: 'plane' }>, spacingM: number, upsampling: number): number {
  return Math.max(1, Math.ceil((upsampling * elementAreaM2(element)) / (spacingM * spacingM)))
}

/**
 * Equal-area points on a spherical cap or ring: uniform in cos(theta) (the area element of a
 * sphere), golden-angle spiral in azimuth (k-Wave makeCartBowl's Fermat spiral), midpoint rule
 * so no point sits exactly on the rim.
 */
export function elementIntegrationPoints(element: Exclude<SourceElement, { kind: 'plane' }>, spacingM: number, upsampling: number): IntegrationPoints {
  if (element.kind === 'bowl') {
    const axis = normalize3([element.focusM[0] - element.apexM[0], element.focusM[1] - element.apexM[1], element.focusM[2] - element.apexM[2]])
    const [e1, e2] = basisAround(axis)
    const r = element.rocM
    const centre: Vec3 = [element.apexM[0] + r * axis[0], element.apexM[1] + r * axis[1], element.apexM[2] + r * axis[2]]
    const cosIn = Math.sqrt(1 - (element.innerApertureM / (2 * r)) ** 2)
    const cosOut = Math.sqrt(1 - (element.apertureM / (2 * r)) ** 2)
    const area = elementAreaM2(element)
    const n = integrationPointCount(element, spacingM, upsampling)
    const positions = new Float64Array(3 * n)
    for (let t = 0; t < n; t++) {
      const cosTheta = cosIn - ((t + 0.5) / n) * (cosIn - cosOut)
      const sinTheta = Math.sqrt(Math.max(0, 1 - cosTheta * cosTheta))
      const phi = t * GOLDEN_ANGLE
      const a = r * sinTheta * Math.cos(phi)
      const b = r * sinTheta * Math.sin(phi)
      for (let d = 0; d < 3; d++) positions[3 * t + d] = centre[d]! - r * cosTheta * axis[d]! + a * e1[d]! + b * e2[d]!
    }
    return { positions, areaPerPointM2: area / n, totalAreaM2: area }
  }
  const axis = normalize3([element.towardM[0] - element.centerM[0], element.towardM[1] - element.centerM[1], element.towardM[2] - element.centerM[2]])
  const [e1, e2] = basisAround(axis)
  const radius = element.diameterM / 2
  const area = elementAreaM2(element)
  const n = integrationPointCount(element, spacingM, upsampling)
  const positions = new Float64Array(3 * n)
  for (let t = 0; t < n; t++) {
    const rr = radius * Math.sqrt((t + 0.5) / n)
    const phi = t * GOLDEN_ANGLE
    for (let d = 0; d < 3; d++) positions[3 * t + d] = element.centerM[d]! + rr * (Math.cos(phi) * e1[d]! + Math.sin(phi) * e2[d]!)
  }
  return { positions, areaPerPointM2: area / n, totalAreaM2: area }
}

/** Half-width in points of the band-limited interpolant for a tolerance (k-Wave: ceil(1/(pi tol))). */
export function bliHalfWidth(tolerance: number): number {
  return Math.ceil(1 / (Math.PI * tolerance))
}

/**
 * Offsets of the truncated 3D interpolant: a hyperbolic-cross "star" keeping the offsets where
 * the product of the sinc envelopes, prod max(1, pi |i|)^-1, stays above 1/(pi s): the full
 * axis lines out to s and fewer points off-axis, where the product of three sincs is small.
 */
export function bliStencil(halfWidth: number): Int32Array {
  const limit = Math.PI * halfWidth + 1e-9
  const env = (i: number) => Math.max(1, Math.PI * Math.abs(i))
  const out: number[] = []
  for (let k = -halfWidth; k <= halfWidth; k++)
    for (let j = -halfWidth; j <= halfWidth; j++) for (let i = -halfWidth; i <= halfWidth; i++) if (env(i) * env(j) * env(k) <= limit) out.push(i, j, k)
  return Int32Array.from(out)
}

function sincPi(x: number): number {
  if (Math.abs(x) < 1e-12) return 1
  const px = Math.PI * x
  return Math.sin(px) / px
}

export interface GridFrame {
  /** Position of computational grid point (0, 0, 0) [m]. */
  readonly originM: Vec3
  readonly spacingM: number
  readonly size: readonly [number, number, number]
}

/**
 * Accumulates amplitude * e^{i phase} * (area / dx^2) * BLI weight of every integration point
 * of every element into a complex map on the grid: the source distribution S(x) whose real
 * part drives cos(omega t) and imaginary part -sin(omega t). Stencil points outside the grid are
 * reported (the caller pads the grid so that there are none).
 */
export function sourceDistribution(
  elements: readonly SourceElement[],
  frame: GridFrame,
  options: { upsampling: number; bliTolerance: number },
): { re: Float64Array; im: Float64Array; pointsOutside: number; integrationPoints: number } {
  const [nx, ny, nz] = frame.size
  const re = new Float64Array(nx * ny * nz)
  const im = new Float64Array(nx * ny * nz)
  const s = bliHalfWidth(options.bliTolerance)
  const stencil = bliStencil(s)
  const wx = new Float64Array(2 * s + 1)
  const wy = new Float64Array(2 * s + 1)
  const wz = new Float64Array(2 * s + 1)
  let pointsOutside = 0
  let integrationPoints = 0
  for (const element of elements) {
    if (element.kind === 'plane') {
      addPlane(element, frame, s, re, im)
      continue
    }
    const pts = elementIntegrationPoints(element, frame.spacingM, options.upsampling)
    const n = pts.positions.length / 3
    integrationPoints += n
    const scale = pts.areaPerPointM2 / (frame.spacingM * frame.spacingM)
    const cr = element.amplitudePa * Math.cos(element.phaseRad) * scale
    const ci = element.amplitudePa * Math.sin(element.phaseRad) * scale
    for (let p = 0; p < n; p++) {
      const qx = (pts.positions[3 * p]! - frame.originM[0]) / frame.spacingM
      const qy = (pts.positions[3 * p + 1]! - frame.originM[1]) / frame.spacingM
      const qz = (pts.positions[3 * p + 2]! - frame.originM[2]) / frame.spacingM
      const ix = Math.round(qx)
      const iy = Math.round(qy)
      const iz = Math.round(qz)
      for (let d = -s; d <= s; d++) {
        wx[d + s] = sincPi(ix + d - qx)
        wy[d + s] = sincPi(iy + d - qy)
        wz[d + s] = sincPi(iz + d - qz)
      }
      for (let t = 0; t < stencil.length; t += 3) {
        const di = stencil[t]!
        const dj = stencil[t + 1]!
        const dk = stencil[t + 2]!
        const gi = ix + di
        const gj = iy + dj
        const gk = iz + dk
        if (gi < 0 || gj < 0 || gk < 0 || gi >= nx || gj >= ny || gk >= nz) {
          pointsOutside++
          continue
        }
        const w = wx[di + s]! * wy[dj + s]! * wz[dk + s]!
        const index = gi + nx * (gj + ny * gk)
        re[index] = re[index]! + cr * w
        im[index] = im[index]! + ci * w
      }
    }
  }
  return { re, im, pointsOutside, integrationPoints }
}

/**
 * A plane sheet across the whole grid: one grid point per dx^2 of area, so the weight along the
 * normal is the 1D band-limited interpolant and uniform across.
 */
function addPlane(element: Extract<SourceElement, { kind: 'plane' }>, frame: GridFrame, halfWidth: number, re: Float64Array, im: Float64Array) {
  const [nx, ny, nz] = frame.size
  const q = (element.positionM - frame.originM[element.axis]) / frame.spacingM
  const centre = Math.round(q)
  const weights = new Float64Array(frame.size[element.axis])
  for (let d = -halfWidth; d <= halfWidth; d++) {
    const g = centre + d
    if (g >= 0 && g < weights.length) weights[g] = sincPi(g - q)
  }
  const cr = element.amplitudePa * Math.cos(element.phaseRad)
  const ci = element.amplitudePa * Math.sin(element.phaseRad)
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const w = weights[element.axis === 0 ? i : element.axis === 1 ? j : k]!
        if (w === 0) continue
        const index = i + nx * (j + ny * k)
        re[index] = re[index]! + cr * w
        im[index] = im[index]! + ci * w
      }
}

/** Axis-aligned box holding every integration point of the elements [m]. */
export function sourceBounds(elements: readonly SourceElement[], spacingM: number): { min: Vec3; max: Vec3 } {
  const min = [Infinity, Infinity, Infinity]
  const max = [-Infinity, -Infinity, -Infinity]
  for (const element of elements) {
    if (element.kind === 'plane') {
      // Only its position along the normal is bounded; across, it spans the (periodic) grid.
      min[element.axis] = Math.min(min[element.axis]!, element.positionM)
      max[element.axis] = Math.max(max[element.axis]!, element.positionM)
      continue
    }
    // A coarse sampling is enough for the bounding box.
    const pts = elementIntegrationPoints(element, spacingM, 1)
    for (let p = 0; p < pts.positions.length; p += 3)
      for (let d = 0; d < 3; d++) {
        min[d] = Math.min(min[d]!, pts.positions[p + d]!)
        max[d] = Math.max(max[d]!, pts.positions[p + d]!)
      }
  }
  return { min: min as unknown as Vec3, max: max as unknown as Vec3 }
}
