/**
 * The pressure colour bar as numbers: the overlay's own lookup (core/overlay.ts) as CSS gradient
 * stops, and labelled ticks in kPa and in dB relative to the plan's in-brain peak, so what the
 * bar says is exactly what the overlay draws.
 */
import { differenceLookup, overlayLookup } from './overlay.ts'

export interface ColorBarTick {
  /** Position from the bottom of the bar, 0..1. */
  readonly at: number
  readonly kPa: string
  readonly dB: string
}

export interface ColorBarModel {
  /** CSS linear-gradient (to top) for the bar, from the threshold to the peak. */
  readonly gradient: string
  readonly ticks: readonly ColorBarTick[]
}

/** Pressure amplitude relative to the peak in dB (20 log10). */
export function decibelsBelowPeak(pa: number, peakPa: number): number {
  return 20 * Math.log10(Math.max(pa, 1e-12) / peakPa)
}

export function colorBarModel(peakPa: number, thresholdFraction: number): ColorBarModel {
  const { colors } = overlayLookup(peakPa, thresholdFraction)
  const lo = colors[0]![0]
  const span = Math.max(peakPa - lo, 1e-12)
  const rgb = (c: readonly number[]) => `rgb(${Math.round(c[1]! * 255)}, ${Math.round(c[2]! * 255)}, ${Math.round(c[3]! * 255)})`
  const gradient = `linear-gradient(to top, ${colors.map((c) => `${rgb(c)} ${(((c[0]! - lo) / span) * 100).toFixed(1)}%`).join(', ')})`
  const levels = [peakPa, 10 ** (-3 / 20) * peakPa, 10 ** (-6 / 20) * peakPa, lo].filter((v, i, all) => v >= lo - 1e-9 && all.findIndex((w) => Math.abs(w - v) < 1e-6 * peakPa) === i)
  const ticks = levels.map((v) => ({ at: (v - lo) / span, kPa: (v / 1000).toFixed(v < 10_000 ? 1 : 0), dB: decibelsBelowPeak(v, peakPa).toFixed(1) }))
  return { gradient, ticks }
}

/** The comparison's colour bar: B - A in kPa from -max (bottom) to +max (top), zero in the middle. */
export function differenceBarModel(maxAbsPa: number, thresholdFraction: number): ColorBarModel {
  const { colors } = differenceLookup(maxAbsPa, thresholdFraction)
  const m = Math.max(maxAbsPa, 1e-9)
  const rgb = (c: readonly number[]) => `rgb(${Math.round(c[1]! * 255)}, ${Math.round(c[2]! * 255)}, ${Math.round(c[3]! * 255)})`
  const gradient = `linear-gradient(to top, ${colors.map((c) => `${rgb(c)} ${(((c[0]! + m) / (2 * m)) * 100).toFixed(1)}%`).join(', ')})`
  const kPa = (v: number) => `${v > 0 ? '+' : ''}${(v / 1000).toFixed(Math.abs(v) < 10_000 ? 1 : 0)}`
  return { gradient, ticks: [-m, 0, m].map((v) => ({ at: (v + m) / (2 * m), kPa: kPa(v), dB: '' })) }
}
