/**
 * A plan's own simulation as a scene file (`medium/scene.json` in the plan folder): the
 * beam-aligned grid in the transducer frame, the medium as voxel maps (the plan's
 * `medium/*.nii.gz`, the very arrays the head run solved), the transducer's elements at the plan's
 * drive level and the solver settings. `tfus export-kwave <plan-dir>` writes it for k-Wave;
 * `tfus simulate medium/scene.json` runs it again. The background is the coupling water, so the
 * scene without its voxel object is the plan's free-water run.
 */
import type { SceneJson } from '../solver/scene.ts'
import type { Grid, Settings, SourceElement } from '../solver/model.ts'
import { npPerMToDbPerCm } from '../solver/analytic/units.ts'
import { SimulationInputError } from '../solver/errors.ts'

export interface PlanSceneInput {
  readonly frequencyHz: number
  readonly grid: Grid
  readonly alphaPower: number
  /** The coupling water (the free-water run's medium and the grid outside the head). */
  readonly water: { readonly soundSpeed: number; readonly density: number; readonly alphaNpM: number }
  /** The head run's elements (transducer frame), at the plan's drive level. */
  readonly elements: readonly SourceElement[]
  readonly settings: Settings
  /** The voxel maps, relative to the scene file. */
  readonly files: { readonly soundSpeed: string; readonly density: string; readonly alphaDbCm: string }
}

const same = (a: readonly number[], b: readonly number[]) => a.every((v, i) => v === b[i])

export function planSceneJson(input: PlanSceneInput): SceneJson {
  const { grid, elements } = input
  const first = elements[0]
  // A plan's device is a bowl or an annular array: bowl elements sharing apex, focus and radius,
  // which the scene's annular source holds exactly (a bowl is one ring).
  if (
    !first ||
    first.kind !== 'bowl' ||
    !elements.every((e) => e.kind === 'bowl' && same(e.apexM, first.apexM) && same(e.focusM, first.focusM) && e.rocM === first.rocM)
  ) {
    throw new SimulationInputError('source', 'the plan scene holds bowls or annular arrays with a common apex, focus and radius of curvature only')
  }
  const dx = grid.spacingM
  return {
    frequency_hz: input.frequencyHz,
    grid: { spacing_m: dx, min_m: [...grid.originM], max_m: grid.originM.map((o, d) => o + (grid.size[d]! - 1) * dx) as [number, number, number] },
    background: {
      sound_speed: input.water.soundSpeed,
      density: input.water.density,
      alpha_db_cm: npPerMToDbPerCm(input.water.alphaNpM),
      alpha_power: input.alphaPower,
    },
    objects: [{ shape: 'voxels', sound_speed_file: input.files.soundSpeed, density_file: input.files.density, alpha_db_cm_file: input.files.alphaDbCm }],
    source: {
      type: 'annular',
      apex_m: [...first.apexM],
      focus_m: [...first.focusM],
      roc_m: first.rocM,
      rings: elements.flatMap((e) =>
        e.kind === 'bowl' ? [{ inner_m: e.innerApertureM, outer_m: e.apertureM, amplitude_pa: e.amplitudePa, phase_rad: e.phaseRad }] : [],
      ),
    },
    solver: {
      cfl: input.settings.cfl,
      pml_points: [...input.settings.pmlPoints],
      pml_alpha: input.settings.pmlAlpha,
      steady_tolerance: input.settings.steadyTolerance,
      ramp_periods: input.settings.rampPeriods,
      window_periods: input.settings.windowPeriods,
      window_start_traversals: input.settings.windowStartTraversals,
      max_traversals: input.settings.maxTraversals,
      source_upsampling: input.settings.sourceUpsampling,
      bli_tolerance: input.settings.bliTolerance,
      compensate_absorption: input.settings.compensateAbsorption,
    },
  }
}
