/**
 * Stage 8, thermal: the thermal model on the folder just written (electron/app/thermal-plan.ts),
 * when a protocol was given; its ITRUSST flag replaces "not assessed" in metrics.json. The
 * protocol is the one the resolve stage checked before the acoustics (not read again).
 */
import * as path from 'node:path'
import type { BackendChoice } from '../../adapters/solver-backends.ts'
import { namingProtocolFile, runThermalOnPlanFolder } from '../thermal-plan.ts'
import { PLAN_FILES, planMetricsRecord, type PlanMetricsRecord } from '../../../core/contracts/plan.ts'
import type { ThermalProtocolRecord } from '../../../core/contracts/thermal-protocol.ts'
import type { PlanRunOutput, StageHooks } from './types.ts'
import { writeJsonAtomic } from './write.ts'

export interface ThermalInput {
  /** The folder being written (the pipeline's temporary) and where it will end up. */
  readonly dir: string
  readonly finalDir: string
  readonly thermalProtocol: ThermalProtocolRecord
  readonly thermalProtocolFile: string
  readonly backend: BackendChoice
  readonly metrics: PlanMetricsRecord
}

export interface ThermalStageOutput {
  readonly metrics: PlanMetricsRecord
  readonly thermal: NonNullable<PlanRunOutput['thermal']>
  /** The thermal run's files, relative to the folder. */
  readonly files: readonly string[]
}

export async function runThermalStage(t: ThermalInput, hooks: StageHooks): Promise<ThermalStageOutput> {
  const { signal } = hooks
  hooks.onStage('thermal model')
  const outcome = await namingProtocolFile(t.thermalProtocolFile, () =>
    runThermalOnPlanFolder(t.dir, t.thermalProtocol, {
      backend: t.backend,
      ...(signal ? { signal } : {}),
      onNote: hooks.note,
      // One stage with a fraction (the messages carry step counters, which would read as new stages).
      onProgress: (_message, fraction) =>
        hooks.onStage('thermal model', { fraction, step: Math.round(fraction * 1000), maxSteps: 1000, phase: 'steady-state' }),
    }),
  )
  const metrics = planMetricsRecord.parse({ ...t.metrics, flags: { ...t.metrics.flags, thermal: outcome.result.flagSummary } })
  await writeJsonAtomic(path.join(t.dir, PLAN_FILES.metrics), metrics)
  const files = outcome.files.map((f) => path.relative(t.dir, f))
  // The thermal run wrote into the temporary folder: report where its files will be.
  const thermal = {
    thermalProtocolName: t.thermalProtocol.name ?? path.basename(t.thermalProtocolFile),
    outcome: { ...outcome, files: files.map((f) => path.join(t.finalDir, f)) },
  }
  return { metrics, thermal, files }
}
