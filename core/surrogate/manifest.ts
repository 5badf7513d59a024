/**
 * The manifest beside every surrogate model (model.json): what the network expects (frame,
 * resolution, normalisation, pose features), what it was trained on and how well it did on
 * held-out data. A model is only used for the transducer, frequency, resolution and HU mapping
 * it was trained for; anything else is refused with the field that differs.
 */
import { z } from 'zod'

export const SURROGATE_MODEL_FORMAT = 'tfus-surrogate-model/1'

/** Pose features the network is conditioned on, in this order (training/tfus_surrogate/data.py). */
export const POSE_FEATURES = ['axis_ras_x', 'axis_ras_y', 'axis_ras_z', 'standoff_per_30mm', 'skull_thickness_per_10mm', 'incidence_per_30deg'] as const

const vec3 = z.tuple([z.number(), z.number(), z.number()])
const int3 = z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()])

export const fieldMetricsSummary = z.object({
  n: z.number().int().nonnegative(),
  focal_error_mm: z.object({ median: z.number(), mean: z.number(), sd: z.number() }),
  peak_error_pct: z.object({ median: z.number(), mean: z.number(), sd: z.number() }),
  rel_l2_pa_pct: z.object({ median: z.number(), mean: z.number(), sd: z.number() }),
  rel_l2_log1p_pct: z.object({ median: z.number(), mean: z.number(), sd: z.number() }),
})
export type FieldMetricsSummary = z.infer<typeof fieldMetricsSummary>

export const surrogateManifest = z.object({
  format: z.literal(SURROGATE_MODEL_FORMAT),
  version: z.string().min(1),
  model_file: z.string().min(1),
  model_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  transducer_id: z.string().min(1),
  frequency_hz: z.number().positive(),
  points_per_wavelength: z.number().positive(),
  mapping_id: z.string().min(1),
  frame: z.object({
    kind: z.literal('beam-aligned'),
    description: z.string(),
    /** Solver grid (x, y, z) in the transducer frame. */
    grid_size: int3,
    spacing_m: z.number().positive(),
    origin_m: vec3,
    focal_distance_from_apex_m: z.number().positive(),
    /** Network grid (z, y, x): the solver grid padded to multiples of 8. */
    padded_size_zyx: int3,
    padding_zyx: z.object({
      z_after: z.number().int().nonnegative(),
      y_before: z.number().int().nonnegative(),
      y_after: z.number().int().nonnegative(),
      x_before: z.number().int().nonnegative(),
      x_after: z.number().int().nonnegative(),
    }),
  }),
  normalisation: z.object({
    sound_speed_ref_m_s: z.number().positive(),
    density_ref_kg_m3: z.number().positive(),
    alpha_scale_np_m: z.number().positive(),
    log_floor: z.number().positive(),
    output: z.string(),
  }),
  pose_features: z.array(z.string()),
  free_water: z.object({ file: z.string().min(1), peak_pa: z.number().positive(), reference_source_amplitude_pa: z.number().positive() }),
  architecture: z.object({
    kind: z.string(),
    widths: z.array(z.number().int().positive()),
    film: z.boolean(),
    prior: z.boolean(),
    parameters: z.number().int().positive(),
  }),
  training: z.object({ train_samples: z.number().int().nonnegative(), validation_samples: z.number().int().nonnegative() }).passthrough(),
  /** Written by `npm run eval:surrogate` on the held-out split. */
  evaluation: z
    .object({
      dataset: z.string(),
      held_out: fieldMetricsSummary,
      baseline_free_water: fieldMetricsSummary.optional(),
      by_source: z.record(z.string(), fieldMetricsSummary).optional(),
    })
    .passthrough()
    .optional(),
  /** Maps the test-time-augmentation spread to an expected peak error (fitted on validation data). */
  confidence: z
    .object({
      method: z.string(),
      variants: z.number().int().positive(),
      /** Expected relative peak error = slope * spread (linear fit through the origin). */
      slope: z.number().nonnegative(),
      /** Confidence = 1 - min(1, expected error / error_at_zero_confidence). */
      error_at_zero_confidence: z.number().positive(),
      low_below: z.number().min(0).max(1),
      spearman_spread_vs_error: z.number().optional(),
    })
    .optional(),
})
export type SurrogateManifest = z.infer<typeof surrogateManifest>

export class SurrogateModelError extends Error {
  override readonly name = 'SurrogateModelError'
  constructor(
    /** The file or field at fault. */
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`)
  }
}

/** Parses a manifest; errors name the file and the first field that is wrong. */
export function parseSurrogateManifest(json: unknown, file: string): SurrogateManifest {
  const parsed = surrogateManifest.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new SurrogateModelError(file, `not a TFUS surrogate manifest (${issue.path.join('.') || 'root'}: ${issue.message})`)
  }
  const m = parsed.data
  if (m.pose_features.length !== POSE_FEATURES.length || m.pose_features.some((f, i) => f !== POSE_FEATURES[i])) {
    throw new SurrogateModelError(file, `pose features ${m.pose_features.join(', ')} differ from this version's ${POSE_FEATURES.join(', ')}`)
  }
  const [nx, ny, nz] = m.frame.grid_size
  const [pz, py, px] = m.frame.padded_size_zyx
  const p = m.frame.padding_zyx
  if (nz + p.z_after !== pz || ny + p.y_before + p.y_after !== py || nx + p.x_before + p.x_after !== px) {
    throw new SurrogateModelError(file, `frame.padded_size_zyx ${pz}x${py}x${px} does not equal the grid ${nx}x${ny}x${nz} plus its padding`)
  }
  if (pz % 8 || py % 8 || px % 8) throw new SurrogateModelError(file, `frame.padded_size_zyx ${pz}x${py}x${px} must be multiples of 8`)
  return m
}

export interface SurrogateRequest {
  readonly transducerId: string
  readonly frequencyHz: number
  readonly mappingId: string
  /** Simulation grid the plan would use for this pose (from the planner's domain builder). */
  readonly gridSize: readonly [number, number, number]
  readonly spacingM: number
  readonly originM: readonly [number, number, number]
}

/** Refuses a request the model was not trained for, naming what differs. */
export function checkSurrogateRequest(m: SurrogateManifest, r: SurrogateRequest, file: string): void {
  if (r.transducerId !== m.transducer_id)
    throw new SurrogateModelError(file, `trained for transducer ${m.transducer_id}, not ${r.transducerId}: run the full solver (tfus plan) for this transducer`)
  if (Math.abs(r.frequencyHz - m.frequency_hz) > 1e-6 * m.frequency_hz)
    throw new SurrogateModelError(file, `trained at ${m.frequency_hz / 1e6} MHz, not ${r.frequencyHz / 1e6} MHz`)
  if (r.mappingId !== m.mapping_id) throw new SurrogateModelError(file, `trained with the ${m.mapping_id} HU mapping, not ${r.mappingId}`)
  if (Math.abs(r.spacingM - m.frame.spacing_m) > 1e-9)
    throw new SurrogateModelError(file, `trained on a ${m.frame.spacing_m * 1000} mm grid; this plan's grid is ${r.spacingM * 1000} mm`)
  if (r.gridSize.some((v, d) => v !== m.frame.grid_size[d]) || r.originM.some((v, d) => Math.abs(v - m.frame.origin_m[d]!) > 1e-9)) {
    throw new SurrogateModelError(
      file,
      `trained on a ${m.frame.grid_size.join('x')} beam-aligned grid; this placement needs ${r.gridSize.join('x')} (target depth outside the trained range?)`,
    )
  }
}
