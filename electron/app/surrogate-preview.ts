/**
 * The live preview: the surrogate on the plan pipeline's stages (pipeline/: resolve device,
 * prepare, the surrogate field source) without writing a plan folder. The CT, its segmentation
 * and the model stay loaded between requests, so a moved transducer costs a placement, the
 * beam-aligned medium, one network call (8 variants) and the resampling onto the CT for the
 * overlay.
 */
import { readVolume } from '../adapters/volume-io.ts'
import { SOFTWARE_VERSION } from '../adapters/version.ts'
import { poseRecordOf } from './pipeline/write.ts'
import { resolveDevice } from './pipeline/resolve.ts'
import { prepareDomain } from './pipeline/prepare.ts'
import { surrogateFieldSource } from './pipeline/field-source.ts'
import { loadSurrogate, type LoadedSurrogate, type ProviderChoice } from '../adapters/onnx-runtime.ts'
import { runPreparedPlan, type DriveLevel } from '../../core/planning/run-plan.ts'
import { segmentHead, type HeadSegmentation } from '../../core/planning/masks.ts'
import { PlacementError } from '../../core/planning/placement.ts'
import { pulseTimingRecordOf, type PulseTiming } from '../../core/planning/metrics.ts'
import { driveRecordOf } from '../../core/planning/drive.ts'
import { SurrogateModelError } from '../../core/surrogate/manifest.ts'
import { getHuMapping, type HuMappingId } from '../../core/skull/mappings.ts'
import { imageRefOf, patientRecordOf, planMetricsRecord, planRecord, type PlanMetricsRecord, type PlanRecord } from '../../core/contracts/plan.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'
import type { Vec3, Volume } from '../../core/volume/types.ts'

export interface PreviewRequest {
  readonly ctPath: string
  readonly targetRasM: Vec3
  readonly entryRasM?: Vec3
  readonly transducerId: string
  readonly mappingId: string
  readonly drive: DriveLevel
  readonly pulseTiming: PulseTiming
}

export interface PreviewResult {
  readonly plan: PlanRecord
  readonly metrics: PlanMetricsRecord
  /** Pressure amplitude [Pa] on the CT grid. */
  readonly pressureCt: Float32Array
}

export class PreviewEngine {
  private model: Promise<LoadedSurrogate> | undefined
  private ct: { path: string; volume: Volume; segmentation: HeadSegmentation } | undefined

  constructor(
    private readonly modelFile: string,
    private readonly provider: ProviderChoice = 'auto',
  ) {}

  async notes(): Promise<readonly string[]> {
    return (await this.loadModel()).notes
  }

  private loadModel(): Promise<LoadedSurrogate> {
    this.model ??= loadSurrogate(this.modelFile, this.provider)
    this.model.catch(() => (this.model = undefined))
    return this.model
  }

  async predict(req: PreviewRequest): Promise<PreviewResult> {
    const started = performance.now()
    const model = await this.loadModel()
    const m = model.manifest
    if (this.ct?.path !== req.ctPath) {
      const volume = await readVolume(req.ctPath, { modality: 'CT' })
      this.ct = { path: req.ctPath, volume, segmentation: segmentHead(volume) }
    }
    const { volume: ct, segmentation } = this.ct
    const { entryDef: entry, device } = await resolveDevice(req, { field: 'transducerId' })
    const source = surrogateFieldSource(model, device, req.mappingId)
    let result
    try {
      const started = performance.now()
      const prepared = prepareDomain({
        ct,
        segmentation,
        targetRasM: req.targetRasM,
        ...(req.entryRasM ? { entryRasM: req.entryRasM } : {}),
        device,
        mappingId: req.mappingId as HuMappingId,
        pointsPerWavelength: m.points_per_wavelength,
      })
      result = await runPreparedPlan(
        {
          ct,
          targetRasM: req.targetRasM,
          device,
          mappingId: req.mappingId,
          ...prepared.medium,
          pointsPerWavelength: m.points_per_wavelength,
          drive: req.drive,
          pulseTiming: req.pulseTiming,
          backend: () => Promise.reject(new Error('the preview runs no solver')),
          fieldSource: source.fieldSource,
        },
        prepared,
        started,
      )
    } catch (e) {
      if (e instanceof PlacementError) throw new SimulationInputError(`placement (${e.code})`, e.message)
      if (e instanceof SurrogateModelError) throw new SimulationInputError(e.where, e.message.slice(e.where.length + 2))
      throw e
    }
    const p = source.lastPrediction()!
    const tag = `[surrogate preview, confidence ${p.confidence.toFixed(2)}] `
    const plan = planRecord.parse({
      software: SOFTWARE_VERSION,
      patient: patientRecordOf(ct.meta),
      ct: imageRefOf(req.ctPath, ct.meta),
      target_ras_m: req.targetRasM,
      // The proposed scalp entry when the planner gave none (the pipeline's solve stage does the same).
      entry_ras_m: [...(req.entryRasM ?? result.placement.path.scalpPointRasM)],
      entry_proposed: !req.entryRasM,
      transducer: { id: device.id, frequency_hz: device.frequencyHz, source_file: entry.file },
      pose: poseRecordOf(result.placement.pose),
      mapping: { id: req.mappingId, citation: getHuMapping(req.mappingId as HuMappingId).citation },
      simulation: {
        ppw: m.points_per_wavelength,
        grid_size: [...result.domain.grid.size],
        spacing_m: result.domain.grid.spacingM,
        backend: 'surrogate',
        device: result.device,
      },
      drive: driveRecordOf(req.drive, result.sourceAmplitudePa),
      pulse_timing: pulseTimingRecordOf(req.pulseTiming),
      registration: null,
      source: 'surrogate',
      surrogate: {
        model_version: m.version,
        model_file: model.manifestFile,
        provider: p.provider,
        confidence: p.confidence,
        confidence_low: p.low,
        confidence_calibrated: p.calibrated,
        expected_peak_error: p.expectedPeakError,
        peak_spread: p.peakSpread,
        focus_spread_m: p.focusSpreadM,
        inference_s: p.inferenceS,
      },
      wall_s: (performance.now() - started) / 1000,
    })
    const warnings = [...result.metrics.warnings]
    if (p.low) warnings.unshift(`low surrogate confidence (${p.confidence.toFixed(2)}): run the full simulation before deciding`)
    const metrics = planMetricsRecord.parse({
      ...result.metrics,
      warnings,
      source: 'surrogate',
      confidence: p.confidence,
      flags: { mechanical: tag + result.metrics.flags.mechanical, thermal: tag + result.metrics.flags.thermal },
    })
    return { plan, metrics, pressureCt: result.pressureCt }
  }

  async dispose(): Promise<void> {
    const m = await this.model?.catch(() => undefined)
    await m?.port.dispose()
  }
}
