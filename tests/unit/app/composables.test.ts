/** Composable building blocks that run without WebGL: the overlay lookup and the view polylines. */
import { describe, expect, test } from 'vitest'
import { lookupAt, overlayLookup } from '../../../renderer/src/lib/overlay.ts'
import { circleSegments, crosshairSegments, projectOntoPlane } from '../../../renderer/src/lib/segments.ts'
import { dbToAmplitudeRatio } from '../../../renderer/src/lib/windowing.ts'

describe('pressure overlay lookup', () => {
  test('transparent below the threshold, opaque above; dark red at the threshold, yellow at the peak', () => {
    const peak = 1e6
    const { colors, opacity } = overlayLookup(peak, 0.3)
    expect(lookupAt(opacity, 0.2 * peak)).toEqual([0])
    expect(lookupAt(opacity, 0.31 * peak)[0]).toBeCloseTo(1, 6)
    expect(lookupAt(colors, peak)).toEqual([1, 1, 0])
    expect(lookupAt(colors, 0.3 * peak)).toEqual([0.5, 0, 0])
    // Monotone: brighter toward the peak.
    const red = [0.3, 0.5, 0.7, 0.9, 1].map((f) => lookupAt(colors, f * peak)[0]! + lookupAt(colors, f * peak)[1]!)
    expect([...red].sort((a, b) => a - b)).toEqual(red)
  })

  test('-3 and -6 dB contour levels are amplitude ratios', () => {
    expect(dbToAmplitudeRatio(-6)).toBeCloseTo(0.501, 3)
    expect(dbToAmplitudeRatio(-3)).toBeCloseTo(0.708, 3)
  })
})

describe('view polylines', () => {
  test('the crosshair leaves a gap at the point so the target stays visible', () => {
    const segs = crosshairSegments([0, 0, 0], [1, 0, 0], [0, 1, 0], 100, 6)
    expect(segs).toHaveLength(4)
    for (const [a] of segs) expect(Math.hypot(...a)).toBeCloseTo(6, 9)
  })

  test('markers are circles in the slice plane; points are projected onto it', () => {
    const c = circleSegments([1, 2, 3], [1, 0, 0], [0, 0, 1], 4, 16)
    for (const [a] of c) {
      expect(a[1]).toBeCloseTo(2, 12)
      expect(Math.hypot(a[0] - 1, a[2] - 3)).toBeCloseTo(4, 9)
    }
    expect(projectOntoPlane([5, 7, 9], [0, 0, 1], [0, 0, 1])).toEqual([5, 7, 1])
  })
})
