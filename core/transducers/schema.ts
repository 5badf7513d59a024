/**
 * Transducer definition files: one JSON file per transducer model (or per calibrated unit), in
 * SI units (m, Hz, Pa), validated with zod so that a bad file names the file and the field.
 *
 * What the other planners keep per transducer, and what this format takes from them
 * (shared/reference/planners.md §1 "Transducer library", §2 B, D, F):
 * - k-Plan `.ktx`: single element (bowl or disc), annular, multi-element; the annular focal
 *   distance convention (from the rear or from the exit plane) is fixed per transducer.
 * - BabelBrain: per-device ROC, aperture, ring diameters, "NaturalOutPlaneDistance" (geometric
 *   focus to the exit plane) and the steerable range measured from the exit plane.
 * - PRESTUS `config/equipment/<serial>.yaml`: one file per physical unit with `elem_id_mm` /
 *   `elem_od_mm` (ring diameters), `curv_radius_mm`, `dist_geom_ep_mm`, `min_foc`/`max_foc`
 *   (steerable range from the exit plane) and per-unit calibration.
 * - OpenLIFU: JSON definitions with a standoff between the array and the skin.
 *
 * Geometry conventions (the solver's, core/solver/model.ts): ring and aperture sizes are
 * DIAMETERS, as k-Wave `addAnnularElement(pos, roc, [inner, outer] diameters, focus)`; the
 * apex is the centre of the bowl's rear surface; distances along the axis of `focal_range_m`
 * are measured from the exit plane (the housing face), as the consoles (e.g. the NeuroFUS TPO)
 * and PRESTUS count them.
 *
 * Every number in a file must be cited: `sources[].fields` names the fields a citation covers,
 * and a number without a citation is a validation error. A planner must be able to tell a
 * datasheet value from a guess.
 */
import { MAX_FREQUENCY_HZ, MIN_FREQUENCY_HZ } from '../solver/limits.ts'
import { z } from 'zod'

export const TRANSDUCER_TYPES = ['bowl', 'annular', 'disc'] as const
export type TransducerType = (typeof TRANSDUCER_TYPES)[number]

// zod 4's z.number() already rejects NaN and +-Infinity.
const positive = z.number().positive()
const nonnegative = z.number().nonnegative()

const sourceSchema = z.strictObject({
  /** The top-level fields whose numbers this citation supports, e.g. ["roc_m", "aperture_m"]. */
  fields: z.array(z.string().min(1)).min(1),
  /** Paper, datasheet, code file + commit: enough to find it again (no URL needed). */
  citation: z.string().min(1),
})

const calibrationSchema = z.strictObject({
  /**
   * The unit of the console setting this calibration maps from, stated in words, e.g.
   * "V (peak drive voltage)" or "W/cm^2 (free-field Isppa entered on the console)".
   */
  setting_unit: z.string().min(1),
  /**
   * Source amplitude [Pa] (the solver's `amplitudePa`, k-Wave's additive source amplitude =
   * rho c u0) per unit of the setting (law "linear") or per sqrt(unit) (law "sqrt").
   */
  pa_per_setting_unit: positive,
  /**
   * "linear": amplitude = factor * setting (voltage-like settings);
   * "sqrt": amplitude = factor * sqrt(setting) (intensity- or power-like settings, since
   * I = p^2 / (2 rho c)).
   */
  law: z.enum(['linear', 'sqrt']).default('linear'),
  /** Relative amplitude of each ring (annular only; multiplies amplitudePa), e.g. from a hydrophone scan. */
  ring_weights: z.array(positive).min(1).optional(),
  /** Serial number of the calibrated unit, when the file describes one unit. */
  serial: z.string().min(1).optional(),
  /** When the calibration was measured (free text, e.g. "2025-03-14"). */
  date: z.string().min(1).optional(),
  /** How it was measured (hydrophone, radiation-force balance, ...). */
  method: z.string().min(1).optional(),
})

const ringSchema = z.strictObject({
  /** Inner aperture DIAMETER of the ring [m] (0 for a central disc-like element). */
  inner_m: nonnegative,
  /** Outer aperture DIAMETER of the ring [m]. */
  outer_m: positive,
})

const common = {
  /** Optional marker for future format changes. */
  format_version: z.literal(1).optional(),
  /** Stable key used in plans and on the command line; a user's file cannot take a built-in id. */
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must start with a lower-case letter or digit and hold only a-z, 0-9, ".", "_" and "-"'),
  name: z.string().min(1),
  manufacturer: z.string().min(1).optional(),
  /** Nominal drive frequency [Hz]. */
  frequency_hz: positive,
  /** [min, max] frequencies the transducer may be driven at [Hz]; only the nominal one when absent. */
  frequency_range_hz: z.tuple([positive, positive]).optional(),
  /**
   * Distance from the apex (centre of the rear surface) to the exit plane (housing face) along
   * the axis [m]. At least the rim depth R - sqrt(R^2 - (D/2)^2) of a bowl: the face cannot
   * cut the radiating surface.
   */
  exit_plane_offset_m: nonnegative,
  /** Default gap between the exit plane and the scalp (gel pad, water bag) [m]; 0 when absent. */
  coupling_standoff_m: nonnegative.default(0),
  calibration: calibrationSchema.optional(),
  sources: z.array(sourceSchema).min(1),
  notes: z.union([z.string(), z.array(z.string())]).optional(),
}

const bowlSchema = z.strictObject({
  ...common,
  type: z.literal('bowl'),
  /** Radius of curvature [m]. */
  roc_m: positive,
  /** Outer aperture diameter [m]. */
  aperture_m: positive,
  /** Diameter of a central hole (e.g. for an imaging probe) [m]; 0 when absent. */
  inner_aperture_m: nonnegative.optional(),
  /**
   * [min, max] from the exit plane [m]. A single-element bowl does not steer: both ends must be
   * its geometric focus, roc_m - exit_plane_offset_m. Derived when absent.
   */
  focal_range_m: z.tuple([positive, positive]).optional(),
})

const annularSchema = z.strictObject({
  ...common,
  type: z.literal('annular'),
  /** Radius of curvature shared by all rings [m]. */
  roc_m: positive,
  /** Rings from the centre out, as aperture DIAMETERS (k-Wave addAnnularElement). */
  rings: z.array(ringSchema).min(1),
  /** Axial steering range [min, max] measured from the exit plane [m]. */
  focal_range_m: z.tuple([positive, positive]),
})

const discSchema = z.strictObject({
  ...common,
  type: z.literal('disc'),
  /** Diameter of the flat piston [m]. */
  diameter_m: positive,
  /** A flat piston has no geometric focus; a range may still be stated (e.g. the last axial maximum). */
  focal_range_m: z.tuple([positive, positive]).optional(),
})

export const transducerSchema = z.discriminatedUnion('type', [bowlSchema, annularSchema, discSchema])

export type TransducerDefinition = z.infer<typeof transducerSchema>
export type BowlDefinition = z.infer<typeof bowlSchema>
export type AnnularDefinition = z.infer<typeof annularSchema>
export type DiscDefinition = z.infer<typeof discSchema>
export type TransducerCalibration = z.infer<typeof calibrationSchema>

/** Top-level fields that hold numbers and so need a citation in `sources`. */
export const NUMERIC_FIELDS = [
  'frequency_hz',
  'frequency_range_hz',
  'roc_m',
  'aperture_m',
  'inner_aperture_m',
  'rings',
  'diameter_m',
  'exit_plane_offset_m',
  'coupling_standoff_m',
  'focal_range_m',
  'calibration',
] as const

/** A definition file that cannot be used: the file, the field at fault (e.g. "rings[2].outer_m") and why. */
export class TransducerDefinitionError extends Error {
  override readonly name = 'TransducerDefinitionError'
  constructor(
    /** The file as the caller named it. */
    readonly file: string,
    /** Dotted path of the field at fault; "(file)" when the text is not JSON at all. */
    readonly field: string,
    /** What is wrong, in plain words. */
    readonly problem: string,
  ) {
    super(`${file}: ${field}: ${problem}`)
  }
}

export function isTransducerDefinitionError(e: unknown): e is TransducerDefinitionError {
  return e instanceof TransducerDefinitionError
}

/** Sag of a spherical cap of radius of curvature R and aperture diameter D: R - sqrt(R^2 - (D/2)^2) [m]. */
export function rimDepthM(rocM: number, apertureDiameterM: number): number {
  const a = apertureDiameterM / 2
  // a^2 / (R + sqrt(R^2 - a^2)): the same quantity without cancellation for shallow bowls.
  return (a * a) / (rocM + Math.sqrt(Math.max(0, rocM * rocM - a * a)))
}

function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('')
}

/** Rounding slack for numbers typed into files with micrometre precision [m]. */
const GEOMETRY_TOLERANCE_M = 1e-6
/** How far a bowl's stated focal range may sit from its geometric focus (file rounding) [m]. */
const BOWL_FOCUS_TOLERANCE_M = 0.5e-3

/**
 * Validates an already-decoded JSON value; throws TransducerDefinitionError naming `fileName`
 * and the first field at fault. Structural checks come from zod, then the geometry checks zod
 * cannot express (ring order, aperture <= 2 ROC, exit plane behind the rim, cited numbers).
 */
export function validateTransducer(value: unknown, fileName: string): TransducerDefinition {
  const fail = (field: string, problem: string): never => {
    throw new TransducerDefinitionError(fileName, field, problem)
  }
  const parsed = transducerSchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    if (issue.code === 'unrecognized_keys') {
      const where = fieldPath(issue.path)
      fail(issue.keys.map((k) => (where ? `${where}.${k}` : k)).join(', '), 'is not a field of a transducer definition (misspelt?)')
    }
    if (issue.code === 'invalid_union' && issue.path.length === 1 && issue.path[0] === 'type') {
      const given = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).type : undefined
      fail(
        'type',
        given === undefined
          ? `is missing: one of ${TRANSDUCER_TYPES.join(', ')}`
          : `must be one of ${TRANSDUCER_TYPES.join(', ')}, got ${JSON.stringify(given)}`,
      )
    }
    const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message)
    fail(fieldPath(issue.path) || '(file)', missing ? 'is missing' : issue.message)
  }
  const def = parsed.data!

  // The solver's frequency range (core/solver/limits.ts): a 1 THz or 500 Hz device is a unit
  // mistake, refused here rather than as a grid of 10^20 cells at plan time.
  const inRange = (f: number) => f >= MIN_FREQUENCY_HZ && f <= MAX_FREQUENCY_HZ
  const rangeText = `the solver's ${MIN_FREQUENCY_HZ / 1e3} kHz to ${MAX_FREQUENCY_HZ / 1e6} MHz (transcranial ultrasound; a unit mistake?)`
  if (!inRange(def.frequency_hz)) fail('frequency_hz', `${def.frequency_hz} Hz is outside ${rangeText}`)
  if (def.frequency_range_hz && !def.frequency_range_hz.every(inRange))
    fail('frequency_range_hz', `[${def.frequency_range_hz.join(', ')}] Hz reaches outside ${rangeText}`)

  if (def.frequency_range_hz) {
    const [lo, hi] = def.frequency_range_hz
    if (!(lo <= hi)) fail('frequency_range_hz', `must be [min, max] with min <= max, got [${lo}, ${hi}]`)
    if (def.frequency_hz < lo || def.frequency_hz > hi) fail('frequency_hz', `${def.frequency_hz} Hz lies outside frequency_range_hz [${lo}, ${hi}]`)
  }
  if (def.focal_range_m && !(def.focal_range_m[0] <= def.focal_range_m[1])) {
    fail('focal_range_m', `must be [min, max] with min <= max, got [${def.focal_range_m.join(', ')}]`)
  }

  if (def.type === 'bowl') {
    if (def.aperture_m > 2 * def.roc_m)
      fail('aperture_m', `aperture diameter ${def.aperture_m} m exceeds twice the radius of curvature (2 x ${def.roc_m} m): no spherical cap has it`)
    const hole = def.inner_aperture_m ?? 0
    if (hole >= def.aperture_m) fail('inner_aperture_m', `must be smaller than aperture_m (${def.aperture_m} m)`)
    checkExitPlane(def.exit_plane_offset_m, def.roc_m, def.aperture_m, fail)
    if (def.focal_range_m) {
      const focus = def.roc_m - def.exit_plane_offset_m
      for (const end of def.focal_range_m) {
        if (Math.abs(end - focus) > BOWL_FOCUS_TOLERANCE_M) {
          fail(
            'focal_range_m',
            `a single-element bowl does not steer: both ends must be its geometric focus, roc_m - exit_plane_offset_m = ${round(focus)} m from the exit plane, got [${def.focal_range_m.join(', ')}]`,
          )
        }
      }
    }
  } else if (def.type === 'annular') {
    def.rings.forEach((ring, i) => {
      if (!(ring.inner_m < ring.outer_m)) fail(`rings[${i}].outer_m`, `must be greater than inner_m (${ring.inner_m} m)`)
      if (ring.outer_m > 2 * def.roc_m)
        fail(`rings[${i}].outer_m`, `aperture diameter ${ring.outer_m} m exceeds twice the radius of curvature (2 x ${def.roc_m} m)`)
      const previous = def.rings[i - 1]
      if (previous && ring.inner_m < previous.outer_m - GEOMETRY_TOLERANCE_M) {
        fail(`rings[${i}].inner_m`, `overlaps rings[${i - 1}] (outer_m ${previous.outer_m} m): list rings from the centre out, as diameters`)
      }
    })
    checkExitPlane(def.exit_plane_offset_m, def.roc_m, def.rings[def.rings.length - 1]!.outer_m, fail)
    const weights = def.calibration?.ring_weights
    if (weights && weights.length !== def.rings.length) fail('calibration.ring_weights', `has ${weights.length} entries for ${def.rings.length} rings`)
  }
  if (def.type !== 'annular' && def.calibration?.ring_weights) fail('calibration.ring_weights', 'applies to annular arrays only')

  checkSources(value as Record<string, unknown>, def, fail)
  return def
}

function checkExitPlane(offsetM: number, rocM: number, apertureM: number, fail: (field: string, problem: string) => never): void {
  const rim = rimDepthM(rocM, apertureM)
  if (offsetM < rim - GEOMETRY_TOLERANCE_M) {
    fail(
      'exit_plane_offset_m',
      `${offsetM} m puts the exit plane inside the bowl: it must be at least the rim depth R - sqrt(R^2 - (D/2)^2) = ${round(rim)} m from the apex`,
    )
  }
}

/** Every numeric field present in the file is named by some `sources[].fields`, and every named field exists. */
function checkSources(raw: Record<string, unknown>, def: TransducerDefinition, fail: (field: string, problem: string) => never): void {
  const cited = new Set<string>()
  def.sources.forEach((source, i) => {
    source.fields.forEach((field, j) => {
      if (!(field in raw)) fail(`sources[${i}].fields[${j}]`, `"${field}" is not a field of this file: cite only fields it holds`)
      cited.add(field)
    })
  })
  for (const field of NUMERIC_FIELDS) {
    if (field in raw && !cited.has(field)) fail('sources', `no entry cites "${field}": add it to the fields of the citation its numbers come from`)
  }
}

function round(v: number): number {
  return Number(v.toFixed(7))
}
