/**
 * The planning thresholds, each with its source: one place that the metrics, the placement
 * warnings, the report and the renderer's results table all read, so a flag can never say one
 * thing on screen and another in the report.
 */
import { ACCURATE_POINTS_PER_WAVELENGTH } from '../solver/limits.ts'

/**
 * Mechanical index limit for non-significant-risk transcranial ultrasound: MI or MI_tc <= 1.9
 * (ITRUSST consensus on biophysical safety, Aubry et al. 2025; 1.9 is the FDA diagnostic limit
 * the consensus adopts, judged on free-water MI or on the transcranial MI_tc).
 */
export const MECHANICAL_INDEX_LIMIT = 1.9

/**
 * Beam incidence on the skull above which a placement is flagged [deg]. Longitudinal transmission
 * through the bone falls as the angle nears the longitudinal critical angle, asin(1500 / 2800) ~
 * 32 deg for cortical bone, and mode conversion to shear takes over beyond it (Clement, White and
 * Hynynen, JASA 115(3):1356-1364, 2004); 20 deg keeps a margin below that fall-off.
 */
export const INCIDENCE_WARNING_DEG = 20

/** Distance from the target to the simulated peak above which moving the transducer is suggested [m]. */
export const FOCAL_SHIFT_WARNING_M = 5e-3

/**
 * Points per wavelength (in water) a plan needs to be more than a preview: the k-space scheme's
 * error at the focus is within a few per cent from 6 (see core/solver/limits.ts); below it the
 * result is preview grade and cannot be the basis of a treatment.
 */
export const CLINICAL_POINTS_PER_WAVELENGTH = ACCURATE_POINTS_PER_WAVELENGTH

/** The mechanical flag text of a plan (metrics.json flags.mechanical). */
export function mechanicalFlag(mi: number, miTc: number): string {
  return Math.min(mi, miTc) <= MECHANICAL_INDEX_LIMIT
    ? `pass: MI_tc ${miTc.toFixed(2)} <= ${MECHANICAL_INDEX_LIMIT} (ITRUSST, MI or MI_tc)`
    : `exceeds: MI ${mi.toFixed(2)} and MI_tc ${miTc.toFixed(2)} > ${MECHANICAL_INDEX_LIMIT} (ITRUSST)`
}
