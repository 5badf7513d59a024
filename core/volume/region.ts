/**
 * Region growing on a voxel grid: the 6-connected voxels at or above a threshold reachable from
 * seed voxels. The focal region of a plan (-6 dB around the peak) is defined this way, in the
 * metrics on the simulation grid and in the DICOM SEG on the exported grid.
 */

/**
 * Mask (1 inside) of the voxels with `values[v] >= threshold` 6-connected to a seed. Seeds below
 * the threshold are not included (and grow nothing). `dims` is [nx, ny, nz], i fastest.
 */
export function growRegion(
  values: ArrayLike<number>,
  dims: readonly [number, number, number] | readonly number[],
  seeds: Iterable<number>,
  threshold: number,
): Uint8Array {
  const [nx, ny, nz] = dims as readonly [number, number, number]
  const mask = new Uint8Array(values.length)
  const queue = new Int32Array(values.length)
  let head = 0
  let tail = 0
  for (const s of seeds) {
    if (!mask[s] && values[s]! >= threshold) {
      mask[s] = 1
      queue[tail++] = s
    }
  }
  while (head < tail) {
    const v = queue[head++]!
    const k = Math.floor(v / (nx * ny))
    const j = Math.floor(v / nx) % ny
    const i = v % nx
    for (const [di, dj, dk] of [
      [1, 0, 0],
      [-1, 0, 0],
      [0, 1, 0],
      [0, -1, 0],
      [0, 0, 1],
      [0, 0, -1],
    ] as const) {
      const a = i + di
      const b = j + dj
      const c = k + dk
      if (a < 0 || b < 0 || c < 0 || a >= nx || b >= ny || c >= nz) continue
      const w = a + nx * (b + ny * c)
      if (!mask[w] && values[w]! >= threshold) {
        mask[w] = 1
        queue[tail++] = w
      }
    }
  }
  return mask
}
