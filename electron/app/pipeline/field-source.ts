/**
 * Stage 5, field source: where the head field of each prepared domain comes from, the k-space
 * solver (the backend chosen here) or the neural surrogate (its model loaded and checked against
 * the plan here, before any placement work). The solve stage applies it to every prepared domain.
 */
import { selectBackend, type BackendChoice } from '../../adapters/solver-backends.ts'
import { loadSurrogate, type LoadedSurrogate } from '../../adapters/onnx-runtime.ts'
import { hostMemoryBudget } from '../../adapters/host-memory.ts'
import { checkSurrogateRequest, SurrogateModelError } from '../../../core/surrogate/manifest.ts'
import { poseFeatures, predictField, type SurrogatePrediction } from '../../../core/surrogate/predict.ts'
import { REFERENCE_AMPLITUDE_PA, type FieldFromSource, type PlanDevice, type PreparedPlan } from '../../../core/planning/run-plan.ts'
import type { BackendFactory } from '../../../core/solver/run.ts'
import type { MemoryBudget } from '../../../core/solver/limits.ts'
import { SimulationInputError } from '../../../core/solver/errors.ts'
import type { PlanInput, StageHooks } from './types.ts'

export interface FieldSource {
  readonly kind: 'solver' | 'surrogate'
  /** The solver's backend (a surrogate run has none: its factory refuses). */
  readonly backend: BackendFactory
  /** The field instead of the solver (the surrogate). */
  readonly fieldSource?: (prepared: PreparedPlan) => Promise<FieldFromSource>
  /** The model and its latest prediction, for plan.json (surrogate runs). */
  readonly surrogate?: { readonly model: LoadedSurrogate; lastPrediction(): SurrogatePrediction | undefined }
  /** What a solve may allocate on this machine, measured when asked (none for the surrogate). */
  memoryBudget(): MemoryBudget | undefined
}

/**
 * The surrogate as a field source on prepared domains: checks each domain against the model's
 * grid and predicts. `warningsOf` gives the warnings a prediction adds to the plan.
 */
export function surrogateFieldSource(
  model: LoadedSurrogate,
  device: PlanDevice,
  mappingId: string,
  warningsOf: (p: SurrogatePrediction) => string[] = () => [],
) {
  const m = model.manifest
  let last: SurrogatePrediction | undefined
  const fieldSource = async (prepared: PreparedPlan): Promise<FieldFromSource> => {
    const g = prepared.domain.grid
    checkSurrogateRequest(
      m,
      { transducerId: device.id, frequencyHz: device.frequencyHz, mappingId, gridSize: g.size, spacingM: g.spacingM, originM: g.originM },
      model.manifestFile,
    )
    const prediction = await predictField(model.port, m, prepared.domain.medium, model.freeWaterPa, poseFeatures(prepared.placement))
    last = prediction
    return {
      amplitudePa: prediction.amplitudePa,
      freeWaterPeakPa: m.free_water.peak_pa,
      backend: 'surrogate',
      device: `ONNX Runtime (${prediction.provider})`,
      warnings: warningsOf(prediction),
    }
  }
  return { fieldSource, lastPrediction: () => last }
}

/** The warnings a plan made by the surrogate carries: what it is, and a low confidence. */
function surrogatePlanWarnings(version: string, p: SurrogatePrediction): string[] {
  const warnings = [
    `surrogate preview (model ${version}, ${p.provider}): a neural-network estimate, not a solve; confidence ${p.confidence.toFixed(2)}${p.calibrated ? '' : ' (uncalibrated)'}. Confirm the final pose with the full solver (tfus plan)`,
  ]
  if (p.low)
    warnings.push(
      `low surrogate confidence (${p.confidence.toFixed(2)}): the expected peak error is ${(p.expectedPeakError * 100).toFixed(0)} %; run the full solver`,
    )
  return warnings
}

/** The surrogate model of a plan, refused (one line naming the flag) when it was not trained for this plan. */
async function openSurrogate(
  input: Pick<PlanInput, 'mappingId' | 'pointsPerWavelength'>,
  engine: Extract<PlanInput['engine'], { kind: 'surrogate' }>,
  device: PlanDevice,
  hooks: StageHooks,
): Promise<FieldSource> {
  hooks.onStage('loading the surrogate model')
  const model = engine.loaded ?? (await loadSurrogate(engine.modelFile, engine.provider))
  for (const n of model.notes) hooks.note(n)
  const m = model.manifest
  const file = model.manifestFile
  if (m.free_water.reference_source_amplitude_pa !== REFERENCE_AMPLITUDE_PA)
    throw new SurrogateModelError(
      file,
      `free-water reference amplitude ${m.free_water.reference_source_amplitude_pa} Pa differs from the planner's ${REFERENCE_AMPLITUDE_PA} Pa`,
    )
  if (device.id !== m.transducer_id)
    throw new SimulationInputError(
      '--transducer',
      `${file}: trained for transducer ${m.transducer_id}, not ${device.id}: run the full solver (tfus plan) for this transducer`,
    )
  if (Math.abs(device.frequencyHz - m.frequency_hz) > 1e-6 * m.frequency_hz)
    throw new SimulationInputError('--transducer', `${file}: trained at ${m.frequency_hz / 1e6} MHz, not ${device.frequencyHz / 1e6} MHz`)
  if (input.mappingId !== m.mapping_id)
    throw new SimulationInputError('--mapping', `${file}: trained with the ${m.mapping_id} HU mapping, not ${input.mappingId}`)
  if (input.pointsPerWavelength !== m.points_per_wavelength)
    throw new SurrogateModelError(file, `trained at ${m.points_per_wavelength} points per wavelength, not ${input.pointsPerWavelength}`)
  const source = surrogateFieldSource(model, device, input.mappingId, (p) => surrogatePlanWarnings(m.version, p))
  return {
    kind: 'surrogate',
    backend: () => Promise.reject(new Error('no solver in a surrogate run')),
    fieldSource: source.fieldSource,
    surrogate: { model, lastPrediction: source.lastPrediction },
    memoryBudget: () => undefined,
  }
}

/**
 * The solver's backend for `choice`. Which device solves is said when the solver starts, not
 * before placement: a plan refused for its inputs (a target outside the head) then ends in
 * exactly one line.
 */
async function openSolver(choice: BackendChoice, hooks: StageHooks): Promise<FieldSource> {
  const selected = await selectBackend(choice)
  let noted = false
  const backend = ((...args: Parameters<typeof selected.factory>) => {
    if (!noted) for (const n of selected.notes) hooks.note(n)
    noted = true
    return selected.factory(...args)
  }) as typeof selected.factory
  return { kind: 'solver', backend, memoryBudget: () => hostMemoryBudget() }
}

export function openFieldSource(
  input: Pick<PlanInput, 'engine' | 'backend' | 'mappingId' | 'pointsPerWavelength'>,
  device: PlanDevice,
  hooks: StageHooks,
): Promise<FieldSource> {
  return input.engine?.kind === 'surrogate' ? openSurrogate(input, input.engine, device, hooks) : openSolver(input.backend, hooks)
}
