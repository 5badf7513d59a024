/**
 * Intensity statistics for display windowing, QA and HU sanity checks.
 */

import type { VoxelArray } from './types.ts'

export interface IntensityStats {
  /** Extremes of the counted voxels; NaN when none are counted (likewise below). */
  readonly min: number
  readonly max: number
  readonly mean: number
  /** Population standard deviation (divides by count, not count - 1). */
  readonly std: number
  /** Voxels that entered the statistics: inside the mask and finite. */
  readonly count: number
  /**
   * Voxels inside the mask left out for being non-finite (NaN, and also +-Infinity, which
   * would otherwise make the mean, std and histogram meaningless).
   */
  readonly nanCount: number
  /** Percentiles by linear interpolation between order statistics (numpy's default). */
  readonly p01: number
  readonly p50: number
  readonly p99: number
}

export interface IntensityStatsOptions {
  /** One byte per voxel, same order as the data; non-zero means "include". */
  readonly mask?: Uint8Array
}

/**
 * Percentile strategy, chosen per call:
 * - up to EXACT_SORT_LIMIT counted voxels: exact, by sorting a copy;
 * - integer-typed data whose range fits UNIT_BIN_LIMIT values: exact, by a histogram with
 *   one bin per integer value (covers CT in HU at any size);
 * - otherwise: a HIST_BINS-bin histogram between min and max, with values spread uniformly
 *   inside a bin, so the error is at most (max - min) / HIST_BINS.
 */
const EXACT_SORT_LIMIT = 1 << 20
const UNIT_BIN_LIMIT = 1 << 16
const HIST_BINS = 4096

export function intensityStats(vol: { readonly data: VoxelArray }, opts: IntensityStatsOptions = {}): IntensityStats {
  const data = vol.data
  const mask = opts.mask
  const n = data.length
  if (mask !== undefined && mask.length !== n) {
    throw new Error(`intensityStats: mask has ${mask.length} entries, volume has ${n} voxels`)
  }

  let min = Infinity
  let max = -Infinity
  let sum = 0
  let count = 0
  let nanCount = 0
  for (let i = 0; i < n; i++) {
    if (mask !== undefined && mask[i] === 0) continue
    const v = data[i]!
    if (!Number.isFinite(v)) {
      nanCount++
      continue
    }
    if (v < min) min = v
    if (v > max) max = v
    sum += v
    count++
  }

  if (count === 0) {
    return { min: NaN, max: NaN, mean: NaN, std: NaN, count, nanCount, p01: NaN, p50: NaN, p99: NaN }
  }

  const mean = sum / count
  // Second pass about the mean: the one-pass sum-of-squares formula loses all precision
  // for CT-like data with a large offset relative to its spread.
  let ss = 0
  for (let i = 0; i < n; i++) {
    if (mask !== undefined && mask[i] === 0) continue
    const v = data[i]!
    if (!Number.isFinite(v)) continue
    const d = v - mean
    ss += d * d
  }
  const std = Math.sqrt(ss / count)

  const valueAtRank = rankLookup(data, mask, count, min, max)
  const percentile = (p: number): number => {
    const r = p * (count - 1)
    const r0 = Math.floor(r)
    const v0 = valueAtRank(r0)
    if (r0 === r) return v0
    const v1 = valueAtRank(r0 + 1)
    return v0 + (v1 - v0) * (r - r0)
  }

  return {
    min,
    max,
    mean,
    std,
    count,
    nanCount,
    p01: percentile(0.01),
    p50: percentile(0.5),
    p99: percentile(0.99),
  }
}

/** Returns a function giving the value of the r-th smallest counted voxel (r from 0). */
function rankLookup(data: VoxelArray, mask: Uint8Array | undefined, count: number, min: number, max: number): (r: number) => number {
  const n = data.length
  const counted = (i: number): boolean => (mask === undefined || mask[i] !== 0) && Number.isFinite(data[i]!)

  if (count <= EXACT_SORT_LIMIT) {
    const sorted = new Float64Array(count)
    let w = 0
    for (let i = 0; i < n; i++) if (counted(i)) sorted[w++] = data[i]!
    sorted.sort()
    return (r) => sorted[r]!
  }

  const unitBins = !(data instanceof Float32Array || data instanceof Float64Array) && max - min + 1 <= UNIT_BIN_LIMIT
  const bins = unitBins ? max - min + 1 : HIST_BINS
  const width = unitBins ? 1 : (max - min) / HIST_BINS
  const hist = new Float64Array(bins)
  for (let i = 0; i < n; i++) {
    if (!counted(i)) continue
    const v = data[i]!
    const b = width > 0 ? Math.min(bins - 1, Math.floor((v - min) / width)) : 0
    hist[b] = hist[b]! + 1
  }
  // Cumulative counts let each lookup binary-search instead of rescanning the histogram.
  const cum = new Float64Array(bins)
  let acc = 0
  for (let b = 0; b < bins; b++) {
    acc += hist[b]!
    cum[b] = acc
  }
  return (r) => {
    let lo = 0
    let hi = bins - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cum[mid]! > r) hi = mid
      else lo = mid + 1
    }
    if (unitBins) return min + lo
    const before = lo > 0 ? cum[lo - 1]! : 0
    const inBin = hist[lo]!
    const v = min + (lo + (r - before + 0.5) / inBin) * width
    return Math.min(max, Math.max(min, v))
  }
}
