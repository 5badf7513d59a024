/**
 * The pressure overlay's lookup as plain numbers: a "hot" map from the threshold to the peak
 * (dark red, red, yellow), fully transparent below the threshold (core/vtk/colormap.ts turns it
 * into vtk.js transfer functions).
 */
export interface OverlayLookup {
  /** [value (Pa), r, g, b] control points. */
  readonly colors: readonly (readonly [number, number, number, number])[]
  /** [value (Pa), opacity] control points. */
  readonly opacity: readonly (readonly [number, number])[]
}

export function overlayLookup(peakPa: number, thresholdFraction: number): OverlayLookup {
  const t = thresholdFraction * peakPa
  return {
    colors: [
      [t, 0.5, 0, 0],
      [t + 0.4 * (peakPa - t), 1, 0.1, 0],
      [t + 0.8 * (peakPa - t), 1, 0.9, 0],
      [peakPa, 1, 1, 0],
    ],
    opacity: [
      [0, 0],
      [Math.max(0, t - 1e-6 * peakPa), 0],
      [t, 1],
      [peakPa, 1],
    ],
  }
}

/** Linear interpolation in a control-point list (what the transfer functions do). */
export function lookupAt(points: readonly (readonly number[])[], value: number): number[] {
  const first = points[0]!
  if (value <= first[0]!) return first.slice(1)
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!
    const b = points[i]!
    if (value <= b[0]!) {
      const f = b[0]! === a[0]! ? 1 : (value - a[0]!) / (b[0]! - a[0]!)
      return a.slice(1).map((v, k) => v + f * (b[k + 1]! - v))
    }
  }
  return points[points.length - 1]!.slice(1)
}

/**
 * The comparison overlay's lookup: pressure B - A on a diverging map, blue where plan B gives
 * less than plan A, red where it gives more, transparent within ±threshold x the largest
 * difference (so equal fields leave the anatomy visible).
 */
export function differenceLookup(maxAbsPa: number, thresholdFraction: number): OverlayLookup {
  const m = Math.max(maxAbsPa, 1e-9)
  const t = Math.min(thresholdFraction, 0.95) * m
  const edge = 1e-6 * m
  return {
    colors: [
      [-m, 0, 0.2, 1],
      [-t, 0.5, 0.8, 1],
      [0, 1, 1, 1],
      [t, 1, 0.75, 0.4],
      [m, 1, 0.1, 0],
    ],
    opacity: [
      [-m, 1],
      [-t, 1],
      [-t + edge, 0],
      [t - edge, 0],
      [t, 1],
      [m, 1],
    ],
  }
}
