/**
 * Head and skull from a CT in HU. The head is the largest connected body above an air/tissue
 * threshold with its internal cavities filled (sinuses, mastoid cells and the airway count as
 * "inside": the beam crosses them and must see them as air, not water); the skull is bone above
 * a HU threshold inside the head (300 HU by default: PRESTUS/k-Plan use 250-300).
 */
import type { Volume } from '../volume/types.ts'

export interface HeadSegmentation {
  /** 1 inside the head (holes filled), 0 outside. */
  readonly head: Uint8Array
  /** 1 where bone (HU >= skull threshold) inside the head. */
  readonly skull: Uint8Array
  readonly headVoxels: number
  readonly skullVoxels: number
  readonly warnings: readonly string[]
}

export interface SegmentationOptions {
  /** Air/tissue boundary [HU]; default -300 (between air -1000 and fat -100). */
  readonly headThresholdHu?: number
  /** Bone threshold [HU]; default 300. */
  readonly skullThresholdHu?: number
}

/** Breadth-first flood over 6-neighbours from `seeds`, through voxels where `passable` is 1. */
function flood(dims: readonly [number, number, number], passable: Uint8Array, seeds: Iterable<number>, mark: Uint8Array): number {
  const [nx, ny, nz] = dims
  const plane = nx * ny
  const queue = new Int32Array(passable.length)
  let head = 0
  let tail = 0
  for (const s of seeds) {
    if (passable[s] && !mark[s]) {
      mark[s] = 1
      queue[tail++] = s
    }
  }
  while (head < tail) {
    const v = queue[head++]!
    const k = (v / plane) | 0
    const rest = v - k * plane
    const j = (rest / nx) | 0
    const i = rest - j * nx
    // Unrolled 6-neighbourhood: this loop runs once per voxel of a 7-million-voxel head.
    let w = v - 1
    if (i > 0 && passable[w] && !mark[w]) {
      mark[w] = 1
      queue[tail++] = w
    }
    w = v + 1
    if (i < nx - 1 && passable[w] && !mark[w]) {
      mark[w] = 1
      queue[tail++] = w
    }
    w = v - nx
    if (j > 0 && passable[w] && !mark[w]) {
      mark[w] = 1
      queue[tail++] = w
    }
    w = v + nx
    if (j < ny - 1 && passable[w] && !mark[w]) {
      mark[w] = 1
      queue[tail++] = w
    }
    w = v - plane
    if (k > 0 && passable[w] && !mark[w]) {
      mark[w] = 1
      queue[tail++] = w
    }
    w = v + plane
    if (k < nz - 1 && passable[w] && !mark[w]) {
      mark[w] = 1
      queue[tail++] = w
    }
  }
  return tail
}

/** Labels 6-connected components of `mask` and returns the largest as a new mask. */
export function largestComponent(dims: readonly [number, number, number], mask: Uint8Array): Uint8Array {
  const seen = new Uint8Array(mask.length)
  let bestSeed = -1
  let bestSize = 0
  for (let v = 0; v < mask.length; v++) {
    if (mask[v] && !seen[v]) {
      const size = flood(dims, mask, [v], seen)
      if (size > bestSize) {
        bestSize = size
        bestSeed = v
      }
    }
  }
  const out = new Uint8Array(mask.length)
  if (bestSeed >= 0) flood(dims, mask, [bestSeed], out)
  return out
}

/** Fills every cavity of `mask` not connected to the volume's border. */
export function fillHoles(dims: readonly [number, number, number], mask: Uint8Array): Uint8Array {
  const [nx, ny, nz] = dims
  const background = new Uint8Array(mask.length)
  for (let v = 0; v < mask.length; v++) background[v] = mask[v] ? 0 : 1
  const border: number[] = []
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) if (i === 0 || j === 0 || k === 0 || i === nx - 1 || j === ny - 1 || k === nz - 1) border.push(i + nx * (j + ny * k))
  const outside = new Uint8Array(mask.length)
  flood(dims, background, border, outside)
  const out = new Uint8Array(mask.length)
  for (let v = 0; v < mask.length; v++) out[v] = outside[v] ? 0 : 1
  return out
}

export function segmentHead(ct: Volume, options: SegmentationOptions = {}): HeadSegmentation {
  const headThreshold = options.headThresholdHu ?? -300
  const skullThreshold = options.skullThresholdHu ?? 300
  const dims = ct.dims
  const n = ct.data.length
  const above = new Uint8Array(n)
  for (let v = 0; v < n; v++) above[v] = ct.data[v]! > headThreshold ? 1 : 0
  const head = fillHoles(dims, largestComponent(dims, above))
  const skull = new Uint8Array(n)
  let headVoxels = 0
  let skullVoxels = 0
  for (let v = 0; v < n; v++) {
    if (!head[v]) continue
    headVoxels++
    if (ct.data[v]! >= skullThreshold) {
      skull[v] = 1
      skullVoxels++
    }
  }
  const warnings: string[] = []
  // Bone on the first or last slice of an axis means the field of view cuts the skull there.
  const [nx, ny, nz] = dims
  const faces: Array<[string, (i: number, j: number, k: number) => boolean]> = [
    ['first slice along i', (i) => i === 0],
    ['last slice along i', (i) => i === nx - 1],
    ['first slice along j', (_i, j) => j === 0],
    ['last slice along j', (_i, j) => j === ny - 1],
    ['first slice along k', (_i, _j, k) => k === 0],
    ['last slice along k', (_i, _j, k) => k === nz - 1],
  ]
  for (const [name, onFace] of faces) {
    let count = 0
    for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (onFace(i, j, k) && skull[i + nx * (j + ny * k)]) count++
    if (count > 50)
      warnings.push(`the skull is cut off by the field of view at the ${name} (${count} bone voxels on that face): beams entering there cannot be modelled`)
  }
  return { head, skull, headVoxels, skullVoxels, warnings }
}
