/**
 * The overlay colour bars as numbers: the overlay's own lookup (core/overlay.ts) as CSS gradient
 * stops, and labelled ticks, so what a bar says is exactly what the overlay draws. Pressure: kPa
 * and dB relative to the plan's in-brain peak; comparison: B - A in kPa; thermal: the peak
 * temperature rise in °C.
 */
import { differenceLookup, overlayLookup } from './overlay.ts'

export interface ColorBarTick {
  /** Position from the bottom of the bar, 0..1. */
  readonly at: number
  /** The value with its unit ("153 kPa", "+1.20 °C"). */
  readonly label: string
  /** Relative to the peak in dB (pressure only), else ''. */
  readonly dB: string
}

export interface ColorBarModel {
  /** CSS linear-gradient (to top) for the bar, from its bottom value to its top. */
  readonly gradient: string
  readonly ticks: readonly ColorBarTick[]
}

/** Pressure amplitude relative to the peak in dB (20 log10). */
export function decibelsBelowPeak(pa: number, peakPa: number): number {
  return 20 * Math.log10(Math.max(pa, 1e-12) / peakPa)
}

/** The gradient of lookup colour points [value, r, g, b] between `lo` (bottom) and `hi` (top). */
function gradientOf(colors: readonly (readonly number[])[], lo: number, hi: number): string {
  const span = Math.max(hi - lo, 1e-12)
  const rgb = (c: readonly number[]) => `rgb(${Math.round(c[1]! * 255)}, ${Math.round(c[2]! * 255)}, ${Math.round(c[3]! * 255)})`
  return `linear-gradient(to top, ${colors.map((c) => `${rgb(c)} ${(((c[0]! - lo) / span) * 100).toFixed(1)}%`).join(', ')})`
}

const kPa = (pa: number) => `${(pa / 1000).toFixed(Math.abs(pa) < 10_000 ? 1 : 0)} kPa`

export function colorBarModel(peakPa: number, thresholdFraction: number): ColorBarModel {
  const { colors } = overlayLookup(peakPa, thresholdFraction)
  const lo = colors[0]![0]
  const span = Math.max(peakPa - lo, 1e-12)
  const levels = [peakPa, 10 ** (-3 / 20) * peakPa, 10 ** (-6 / 20) * peakPa, lo].filter(
    (v, i, all) => v >= lo - 1e-9 && all.findIndex((w) => Math.abs(w - v) < 1e-6 * peakPa) === i,
  )
  const ticks = levels.map((v) => ({ at: (v - lo) / span, label: kPa(v), dB: decibelsBelowPeak(v, peakPa).toFixed(1) }))
  return { gradient: gradientOf(colors, lo, peakPa), ticks }
}

/** The comparison's colour bar: B - A in kPa from -max (bottom) to +max (top), zero in the middle. */
export function differenceBarModel(maxAbsPa: number, thresholdFraction: number): ColorBarModel {
  const { colors } = differenceLookup(maxAbsPa, thresholdFraction)
  const m = Math.max(maxAbsPa, 1e-9)
  const signed = (v: number) => `${v > 0 ? '+' : ''}${kPa(v)}`
  return { gradient: gradientOf(colors, -m, m), ticks: [-m, 0, m].map((v) => ({ at: (v + m) / (2 * m), label: signed(v), dB: '' })) }
}

/** The temperature overlay's colour bar: peak rise in °C from the threshold to the largest rise. */
export function temperatureBarModel(peakRiseC: number, thresholdFraction: number): ColorBarModel {
  const { colors } = overlayLookup(peakRiseC, thresholdFraction)
  const lo = colors[0]![0]
  const span = Math.max(peakRiseC - lo, 1e-12)
  const ticks = [peakRiseC, (peakRiseC + lo) / 2, lo].map((v) => ({ at: (v - lo) / span, label: `+${v.toFixed(2)} °C`, dB: '' }))
  return { gradient: gradientOf(colors, lo, peakRiseC), ticks }
}
