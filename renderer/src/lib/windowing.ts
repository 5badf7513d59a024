/** Window/level presets for CT in HU (width, centre), as on clinical consoles. */
export const WINDOW_PRESETS = {
  brain: { width: 80, level: 40 },
  bone: { width: 2000, level: 500 },
  soft: { width: 400, level: 40 },
} as const
export type WindowPreset = keyof typeof WINDOW_PRESETS

/** A default window for an image without HU (MRI): its 1st..99th range approximated by min..max. */
export function windowForRange(range: readonly [number, number]): { width: number; level: number } {
  const width = Math.max(1, range[1] - range[0])
  return { width, level: range[0] + width / 2 }
}

/** Pressure amplitude ratio of a level in dB below the peak: -6 dB = 0.501, -3 dB = 0.708. */
export function dbToAmplitudeRatio(db: number): number {
  return Math.pow(10, db / 20)
}
