/**
 * Thermal flags against the ITRUSST biophysical-safety consensus (J.-F. Aubry et al., arXiv:2311.05359
 * v3, Oct 2025; Brain Stimulation 18(6), 2025; docs/physics.md §5.4). A tissue is within the
 * non-significant-risk limits when ANY one of these holds:
 *   (a) peak temperature rise <= 2 °C, or peak absolute temperature <= 39 °C (from 37 °C);
 *   (b) thermal dose <= 2 CEM43 in brain, 16 in bone (skull), 21 in skin (v3; v2 of Jul 2024 said 0.25).
 * The third route (c), the thermal index against the exposure-time table, is not used here.
 * Each flag says which criterion decided it.
 */

export type FlaggedTissue = 'skin' | 'skull' | 'brain'

export const ITRUSST_RISE_LIMIT_C = 2
export const ITRUSST_ABSOLUTE_LIMIT_C = 39
export const ITRUSST_CEM43_LIMIT_MIN: Readonly<Record<FlaggedTissue, number>> = { brain: 2, skull: 16, skin: 21 }
export const ITRUSST_CITATION = `ITRUSST consensus on biophysical safety, Aubry et al., arXiv:2311.05359 v3 (2025), Brain Stimulation 18(6) 2025: rise <= ${ITRUSST_RISE_LIMIT_C} °C or T <= ${ITRUSST_ABSOLUTE_LIMIT_C} °C; or CEM43 <= ${ITRUSST_CEM43_LIMIT_MIN.brain} (brain) / ${ITRUSST_CEM43_LIMIT_MIN.skull} (bone) / ${ITRUSST_CEM43_LIMIT_MIN.skin} (skin) min`

export interface ThermalFlag {
  readonly tissue: FlaggedTissue
  readonly within: boolean
  /** 'rise' (criterion a), 'cem43' (criterion b) or 'none' (both exceeded). */
  readonly criterion: 'rise' | 'cem43' | 'none'
  /** The criterion in words with the numbers. */
  readonly text: string
}

export function flagTissue(tissue: FlaggedTissue, peakRiseC: number, peakTemperatureC: number, cem43Min: number): ThermalFlag {
  const limit = ITRUSST_CEM43_LIMIT_MIN[tissue]
  const rise = `peak rise ${peakRiseC.toFixed(2)} °C (max ${peakTemperatureC.toFixed(2)} °C)`
  const dose = `CEM43 ${cem43Min.toPrecision(3)} min`
  if (peakRiseC <= ITRUSST_RISE_LIMIT_C || peakTemperatureC <= ITRUSST_ABSOLUTE_LIMIT_C) {
    return {
      tissue,
      within: true,
      criterion: 'rise',
      text: `${tissue}: within ITRUSST limits by criterion (a), ${rise} <= ${ITRUSST_RISE_LIMIT_C} °C rise / ${ITRUSST_ABSOLUTE_LIMIT_C} °C`,
    }
  }
  if (cem43Min <= limit) {
    return {
      tissue,
      within: true,
      criterion: 'cem43',
      text: `${tissue}: within ITRUSST limits by criterion (b), ${dose} <= ${limit} min (rise criterion exceeded: ${rise})`,
    }
  }
  return {
    tissue,
    within: false,
    criterion: 'none',
    text: `${tissue}: EXCEEDS ITRUSST limits: ${rise} > ${ITRUSST_RISE_LIMIT_C} °C and ${dose} > ${limit} min`,
  }
}

/** One line for the safety display, as metrics.flags.thermal reads. */
export function thermalFlagSummary(flags: readonly ThermalFlag[]): string {
  const over = flags.filter((f) => !f.within)
  if (over.length === 0) return `within ITRUSST limits (${flags.map((f) => `${f.tissue} by ${f.criterion === 'rise' ? 'rise' : 'CEM43'}`).join(', ')})`
  return `exceeds ITRUSST limits in ${over.map((f) => f.tissue).join(', ')}`
}
