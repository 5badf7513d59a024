/**
 * A transducer-library definition as the planner needs it: placement geometry, areas for the
 * thermal index, and its elements for a focal distance.
 */
import type { TransducerDefinition } from '../transducers/schema.ts'
import { focalRangeM, transducerElements } from '../transducers/library.ts'
import { SimulationInputError } from '../solver/errors.ts'
import type { PlanDevice } from './run-plan.ts'

/** Thickest coupling (gel pad or water bag) accepted by default [m]. */
export const DEFAULT_MAX_STANDOFF_M = 0.03

function capArea(rocM: number, innerDiameterM: number, outerDiameterM: number): number {
  const cos = (d: number) => Math.sqrt(1 - (d / (2 * rocM)) ** 2)
  return 2 * Math.PI * rocM * rocM * (cos(innerDiameterM) - cos(outerDiameterM))
}

export function planDevice(def: TransducerDefinition, options: { maxStandoffM?: number } = {}): PlanDevice {
  if (def.type === 'disc')
    throw new SimulationInputError('--transducer', `${def.id} is a flat disc: transcranial placement needs a focused bowl or an annular array`)
  const outer = def.type === 'bowl' ? def.aperture_m : Math.max(...def.rings.map((r) => r.outer_m))
  const emitting =
    def.type === 'bowl'
      ? capArea(def.roc_m, def.inner_aperture_m ?? 0, def.aperture_m)
      : def.rings.reduce((sum, r) => sum + capArea(def.roc_m, r.inner_m, r.outer_m), 0)
  const range = focalRangeM(def)
  return {
    id: def.id,
    kind: def.type === 'bowl' ? 'bowl' : 'annular',
    rocM: def.roc_m,
    apertureM: outer,
    exitPlaneOffsetM: def.exit_plane_offset_m,
    minStandoffM: def.coupling_standoff_m ?? 0,
    maxStandoffM: options.maxStandoffM ?? DEFAULT_MAX_STANDOFF_M,
    ...(def.type === 'annular' && range ? { focalRangeM: range } : {}),
    frequencyHz: def.frequency_hz,
    emittingAreaM2: emitting,
    apertureAreaM2: Math.PI * (outer / 2) ** 2,
    elements(amplitudePa: number, focalDistanceFromApexM: number) {
      return def.type === 'annular'
        ? transducerElements(def, { amplitudePa, focalDepthM: focalDistanceFromApexM - def.exit_plane_offset_m })
        : transducerElements(def, { amplitudePa })
    },
  }
}
