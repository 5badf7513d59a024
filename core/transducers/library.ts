/**
 * Transducer definitions (schema.ts) turned into what the rest of the planner needs: parsed
 * and checked definitions, one-line summaries, and the solver's `SourceElement`s in TRANSDUCER
 * coordinates: origin at the bowl apex (the centre of the rear surface; the disc centre for a
 * disc), +z along the beam, metres. Placing the transducer on the head (a rigid transform of
 * these elements) is the plan's business, not this module's.
 *
 * Pure: the hosts read the files (electron/adapters/transducers.ts) and pass the text in.
 */
import { SimulationInputError } from '../solver/errors.ts'
import type { SourceElement } from '../solver/model.ts'
import { TransducerDefinitionError, rimDepthM, validateTransducer, type AnnularDefinition, type TransducerDefinition, type TransducerType } from './schema.ts'

export {
  NUMERIC_FIELDS,
  TRANSDUCER_TYPES,
  TransducerDefinitionError,
  isTransducerDefinitionError,
  rimDepthM,
  transducerSchema,
  validateTransducer,
  type AnnularDefinition,
  type BowlDefinition,
  type DiscDefinition,
  type TransducerCalibration,
  type TransducerDefinition,
  type TransducerType,
} from './schema.ts'

/** Speed of sound used for steering phases when none is given: water, as ITRUSST's 1500 m/s (docs/physics.md §1.2). */
export const DEFAULT_COUPLING_SOUND_SPEED = 1500

/** Parses the text of a definition file; throws TransducerDefinitionError naming `fileName` and the field. */
export function parseTransducer(text: string, fileName: string): TransducerDefinition {
  let value: unknown
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch (e) {
    throw new TransducerDefinitionError(fileName, '(file)', `is not valid JSON (${e instanceof Error ? e.message : String(e)})`)
  }
  return validateTransducer(value, fileName)
}

/** Distance from the apex to the geometric focus (the centre of curvature) [m]; null for a flat disc. */
export function geometricFocusFromApexM(def: TransducerDefinition): number | null {
  return def.type === 'disc' ? null : def.roc_m
}

/**
 * Focal range [min, max] measured from the exit plane [m]: the steerable range of an annular
 * array, the geometric focus (both ends) of a bowl, and whatever the file states for a disc.
 */
export function focalRangeM(def: TransducerDefinition): readonly [number, number] | null {
  if (def.type === 'bowl') {
    const focus = def.roc_m - def.exit_plane_offset_m
    return def.focal_range_m ?? [focus, focus]
  }
  return def.focal_range_m ?? null
}

export interface TransducerSummary {
  readonly id: string
  readonly name: string
  readonly manufacturer: string | null
  readonly type: TransducerType
  /** Number of independently driven elements (rings for an annular array). */
  readonly elementCount: number
  readonly frequencyHz: number
  readonly frequencyRangeHz: readonly [number, number] | null
  /** [m] from the exit plane; see {@link focalRangeM}. */
  readonly focalRangeM: readonly [number, number] | null
  readonly geometricFocusFromApexM: number | null
  readonly exitPlaneOffsetM: number
  readonly couplingStandoffM: number
  /** Whether the focus can be moved electronically. */
  readonly steerable: boolean
  /** One line for logs and lists, in kHz and mm. */
  readonly text: string
}

export function describe(def: TransducerDefinition): TransducerSummary {
  const range = focalRangeM(def)
  const elementCount = def.type === 'annular' ? def.rings.length : 1
  const kind = def.type === 'annular' ? `annular (${elementCount} rings)` : def.type === 'bowl' ? 'single-element bowl' : 'flat disc'
  const mm = (v: number) => (v * 1e3).toFixed(1)
  const focus = range === null ? 'no focus' : range[0] === range[1] ? `focus ${mm(range[0])} mm` : `focus ${mm(range[0])}-${mm(range[1])} mm`
  return {
    id: def.id,
    name: def.name,
    manufacturer: def.manufacturer ?? null,
    type: def.type,
    elementCount,
    frequencyHz: def.frequency_hz,
    frequencyRangeHz: def.frequency_range_hz ?? null,
    focalRangeM: range,
    geometricFocusFromApexM: geometricFocusFromApexM(def),
    exitPlaneOffsetM: def.exit_plane_offset_m,
    couplingStandoffM: def.coupling_standoff_m,
    steerable: def.type === 'annular',
    text: `${def.id}: ${def.name}, ${kind}, ${formatKHz(def.frequency_hz)} kHz, ${focus}${range === null ? '' : ' from the exit plane'}`,
  }
}

function formatKHz(hz: number): string {
  return Number((hz / 1e3).toFixed(3)).toString()
}

/**
 * Source amplitude [Pa] for a console setting, through the unit's calibration
 * (law "linear": factor * setting; "sqrt": factor * sqrt(setting)).
 */
export function amplitudeFromSetting(def: TransducerDefinition, setting: number): number {
  const cal = def.calibration
  if (!cal) throw new SimulationInputError('calibration', `${def.id} has no calibration: give the source amplitude in Pa instead of a console setting`)
  if (!(Number.isFinite(setting) && setting >= 0)) throw new SimulationInputError('setting', `must be a finite number >= 0 ${cal.setting_unit}, got ${setting}`)
  return cal.pa_per_setting_unit * (cal.law === 'sqrt' ? Math.sqrt(setting) : setting)
}

export interface ElementOptions {
  /** Source amplitude [Pa] (k-Wave additive source amplitude = rho c u0), before calibration ring weights. */
  readonly amplitudePa: number
  /**
   * Requested focus, measured from the EXIT PLANE along the axis [m], as focal_range_m and the
   * consoles count it. Annular: steers to it (must lie in focal_range_m); default the geometric
   * focus (all phases 0). Bowl: only its geometric focus is accepted. Disc: not accepted.
   */
  readonly focalDepthM?: number
  /** Drive frequency [Hz]; default frequency_hz; must lie in frequency_range_hz (or equal frequency_hz without one). */
  readonly frequencyHz?: number
  /** Speed of sound used for the steering phases [m/s]: the coupling medium, default water 1500 m/s. */
  readonly soundSpeedMps?: number
}

/** Slack on the requested focal depth against the stated range (file rounding) [m]. */
const DEPTH_TOLERANCE_M = 1e-6
/** How far a fixed bowl's requested focus may sit from its geometric focus [m]. */
const BOWL_FOCUS_TOLERANCE_M = 0.5e-3

/**
 * The solver's elements for a definition, in transducer coordinates (apex at the origin, +z
 * along the beam, metres). A bowl is one `bowl` element; an annular array is one `bowl` element
 * per ring (innerApertureM > 0 except for a central disc-like ring) with its steering phase; a
 * disc is one `disc` element at the origin facing +z.
 */
export function transducerElements(def: TransducerDefinition, options: ElementOptions): SourceElement[] {
  const { amplitudePa } = options
  if (!(Number.isFinite(amplitudePa) && amplitudePa >= 0)) throw new SimulationInputError('amplitudePa', `must be a finite number >= 0 Pa, got ${amplitudePa}`)
  const frequencyHz = checkFrequency(def, options.frequencyHz)
  const c = options.soundSpeedMps ?? DEFAULT_COUPLING_SOUND_SPEED
  if (!(Number.isFinite(c) && c > 0)) throw new SimulationInputError('soundSpeedMps', `must be a positive speed of sound in m/s, got ${c}`)
  const apexM = [0, 0, 0] as const

  if (def.type === 'disc') {
    if (options.focalDepthM !== undefined) throw new SimulationInputError('focalDepthM', `${def.id} is a flat disc: it has no focus to place`)
    return [{ kind: 'disc', centerM: apexM, towardM: [0, 0, 1], diameterM: def.diameter_m, amplitudePa, phaseRad: 0 }]
  }
  const focusM = [0, 0, def.roc_m] as const
  const geometricDepth = def.roc_m - def.exit_plane_offset_m

  if (def.type === 'bowl') {
    if (options.focalDepthM !== undefined && Math.abs(options.focalDepthM - geometricDepth) > BOWL_FOCUS_TOLERANCE_M) {
      throw new SimulationInputError(
        'focalDepthM',
        `${def.id} is a single-element bowl and focuses only at ${mm(geometricDepth)} mm from the exit plane, got ${mm(options.focalDepthM)} mm: move the transducer instead`,
      )
    }
    return [{ kind: 'bowl', apexM, focusM, rocM: def.roc_m, apertureM: def.aperture_m, innerApertureM: def.inner_aperture_m ?? 0, amplitudePa, phaseRad: 0 }]
  }

  const depth = options.focalDepthM ?? geometricDepth
  if (options.focalDepthM !== undefined) {
    const [lo, hi] = def.focal_range_m
    if (!(Number.isFinite(depth) && depth >= lo - DEPTH_TOLERANCE_M && depth <= hi + DEPTH_TOLERANCE_M)) {
      throw new SimulationInputError(
        'focalDepthM',
        `${mm(depth)} mm lies outside the steerable range ${mm(lo)}-${mm(hi)} mm (from the exit plane) of ${def.id}`,
      )
    }
  }
  const k = (2 * Math.PI * frequencyHz) / c
  // Unsteered: the centre of curvature itself, not offset + (roc - offset) with its rounding.
  const target = options.focalDepthM === undefined ? def.roc_m : def.exit_plane_offset_m + depth
  const phases = annularSteeringPhases(def.roc_m, def.rings, target, k)
  const weights = def.calibration?.ring_weights
  return def.rings.map((ring, n) => ({
    kind: 'bowl' as const,
    apexM,
    focusM,
    rocM: def.roc_m,
    apertureM: ring.outer_m,
    innerApertureM: ring.inner_m,
    amplitudePa: amplitudePa * (weights?.[n] ?? 1),
    phaseRad: phases[n]!,
  }))
}

function checkFrequency(def: TransducerDefinition, requested: number | undefined): number {
  if (requested === undefined) return def.frequency_hz
  if (!(Number.isFinite(requested) && requested > 0)) throw new SimulationInputError('frequencyHz', `must be a positive frequency in Hz, got ${requested}`)
  const [lo, hi] = def.frequency_range_hz ?? [def.frequency_hz, def.frequency_hz]
  const slack = 1e-9 * hi
  if (requested < lo - slack || requested > hi + slack) {
    const allowed = lo === hi ? `its ${formatKHz(lo)} kHz` : `${formatKHz(lo)}-${formatKHz(hi)} kHz`
    throw new SimulationInputError(
      'frequencyHz',
      `${def.id} is driven at ${allowed} only, got ${formatKHz(requested)} kHz (copy the definition to model another transducer)`,
    )
  }
  return requested
}

function mm(m: number): string {
  return (m * 1e3).toFixed(1)
}

/**
 * Drive phases [rad, in [0, 2 pi)] that bring every ring's on-axis field into phase at the
 * point `targetFromApexM` on the axis, i.e. that equalise the path length to it:
 *
 *   phase_n = k (dbar_n - dbar_0) (+ pi when ring n's zone factor below is negative),
 *   dbar_n  = (d(inner edge of ring n) + d(outer edge of ring n)) / 2,
 *
 * with the drive convention of core/solver/model.ts, amplitude * cos(omega t + phase): a ring
 * farther from the target fires earlier.
 *
 * Why the mean of the two EDGE distances: for a cap of radius R (apex at z = 0, centre of
 * curvature at z = R), a surface point at polar angle theta lies at distance d from the axial
 * point z_t with d^2 = R^2 + s^2 + 2 s R cos(theta), s = z_t - R. The area element is
 * 2 pi R^2 d(cos theta), so d dd = s R d(cos theta) and the ring's on-axis Rayleigh integral is
 * exact in closed form (O'Neil 1949, docs/physics.md §2):
 *
 *   integral of e^{-ikd}/d dA = (2 pi R / (i k s)) (e^{-ik d_o} - e^{-ik d_i})
 *                             = 4 pi R e^{-ik dbar} sin(k delta) / (k s),  delta = (d_i - d_o) / 2,
 *
 * whose phase is -k dbar, up to the sign of sin(k delta)/(k s) = R (cos th_i - cos th_o) /
 * (d_i + d_o) * sinc(k delta) (the first factor is positive). So dbar is the exact phase centre
 * of the ring for an on-axis target, where the ring's mid-radius point (PRESTUS's
 * `r_mid = (ID/2 + OD/2)/2`) or its centre-of-area radius are approximations. The sinc turns
 * negative only when a ring spans more than one wavelength of path difference to the target,
 * which then flips its contribution by pi.
 *
 * This puts the rings in phase at the target; the on-axis PEAK of a focused source sits
 * slightly pre-focal (docs/physics.md §0: 2.07 mm for the BM1 bowl), more so at low gain.
 */
export function annularSteeringPhases(rocM: number, rings: AnnularDefinition['rings'], targetFromApexM: number, wavenumber: number): number[] {
  const R = rocM
  const s = targetFromApexM - R
  const cosAt = (diameter: number) => Math.sqrt(Math.max(0, 1 - (diameter / (2 * R)) ** 2))
  const distance = (cosTheta: number) => Math.sqrt(Math.max(0, R * R + s * s + 2 * s * R * cosTheta))
  const raw = rings.map((ring) => {
    const cosInner = cosAt(ring.inner_m)
    const cosOuter = cosAt(ring.outer_m)
    const dInner = distance(cosInner)
    const dOuter = distance(cosOuter)
    // k delta, with delta = (d_i^2 - d_o^2) / (2 (d_i + d_o)) = s R (cos_i - cos_o) / (d_i + d_o): no cancellation.
    const sum = dInner + dOuter
    const kDelta = sum > 0 ? (wavenumber * s * R * (cosInner - cosOuter)) / sum : 0
    const flip = kDelta !== 0 && Math.sin(kDelta) / kDelta < 0 ? Math.PI : 0
    return (wavenumber * sum) / 2 + flip
  })
  const reference = raw[0]!
  const twoPi = 2 * Math.PI
  return raw.map((p) => {
    const wrapped = (p - reference) % twoPi
    const positive = wrapped < 0 ? wrapped + twoPi : wrapped
    // -1e-17 wraps to 2 pi: report it as the 0 it is.
    return twoPi - positive < 1e-12 ? 0 : positive
  })
}

/** Rim depth of the outermost radiating edge [m]; 0 for a disc. */
export function radiatingDepthM(def: TransducerDefinition): number {
  if (def.type === 'disc') return 0
  const aperture = def.type === 'bowl' ? def.aperture_m : def.rings[def.rings.length - 1]!.outer_m
  return rimDepthM(def.roc_m, aperture)
}
