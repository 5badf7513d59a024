/**
 * The surrogate's training-data format (written by scripts/surrogate-generate.ts, read by
 * training/). One header per dataset; per sample a float32 block of four channels on the
 * beam-aligned grid (x fastest): sound speed [m/s], density [kg/m^3], attenuation [Np/m] and
 * the steady-state pressure amplitude [Pa] at the reference source amplitude.
 */
export const SURROGATE_DATA_FORMAT = 'tfus-surrogate-data/1'

export interface SurrogateDatasetHeader {
  readonly format: typeof SURROGATE_DATA_FORMAT
  readonly transducer_id: string
  readonly frequency_hz: number
  readonly points_per_wavelength: number
  readonly mapping_id: string
  /** Beam-aligned grid: transducer frame, origin at the apex, +z along the beam. */
  readonly grid_size: [number, number, number]
  readonly spacing_m: number
  readonly origin_m: [number, number, number]
  readonly focal_distance_from_apex_m: number
  readonly reference_source_amplitude_pa: number
  readonly channels: readonly string[]
  /** The same transducer in water on the same grid (one field for every sample). */
  readonly free_water: { readonly file: string; readonly steps: number; readonly residual: number; readonly wall_s: number }
  readonly solver: {
    readonly backend: string
    readonly device: string
    readonly note: string
    readonly steady_tolerance: number
    readonly max_traversals: number
  }
}

export interface SurrogateSampleMeta {
  readonly id: string
  readonly split: 'train' | 'test'
  readonly source: 'sample-ct' | 'procedural' | 'tfuscapes'
  readonly head: { readonly file: string } | { readonly seed: number; readonly parameters: unknown }
  readonly target_ras_m: [number, number, number]
  readonly entry_ras_m: [number, number, number]
  readonly depth_m: number
  readonly tilt_rad: number
  /** Transducer frame to CT RAS, row-major 4x4 [m]. */
  readonly transducer_to_ras: number[]
  readonly standoff_m: number
  readonly skull_thickness_m: number
  readonly incidence_deg: number
  readonly refusals: number
  readonly steps: number
  readonly residual: number
  readonly converged: boolean
  readonly prepare_s: number
  readonly solve_s: number
  readonly backend: string
}
