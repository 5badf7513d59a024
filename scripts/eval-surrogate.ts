/**
 * Scores a surrogate model against our solver on held-out data, inside the head past the skull
 * (where the plan's metrics are read), through the same ONNX Runtime
 * path the app and `tfus predict` use (test-time augmentation and confidence included).
 *
 *   npm run eval:surrogate -- [--model resources/surrogate/model.json] [--data data/surrogate]
 *                             [--provider cpu] [--write]
 *
 * Held out: the dataset's "test" split (procedural skulls with id % 5 == 4, never trained on,
 * and sample-CT placements in the right hemisphere; training used the left). The confidence
 * calibration is fitted on the validation tenth of the training split (never in the gradient)
 * and checked on the held-out split. --write stores both in the model's manifest.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import { loadSurrogate, BUNDLED_MODEL, type ProviderChoice } from '../electron/adapters/onnx-runtime.ts'
import { writeFileAtomic } from '../electron/adapters/atomic-file.ts'
import { predictField } from '../core/surrogate/predict.ts'
import { compareFields, intracranialMask, masked, spearman, stats, type FieldComparison } from '../core/surrogate/metrics.ts'
import type { SurrogateDatasetHeader, SurrogateSampleMeta } from '../core/surrogate/dataset.ts'
import type { FieldMetricsSummary } from '../core/surrogate/manifest.ts'

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: BUNDLED_MODEL },
    data: { type: 'string', default: 'data/surrogate' },
    provider: { type: 'string', default: 'cpu' },
    write: { type: 'boolean', default: false },
    variants: { type: 'string', default: '8' },
  },
})

const isValidation = (id: string) => Number(id.slice(1)) % 10 === 7

function summary(rows: readonly FieldComparison[]): FieldMetricsSummary {
  const s = (f: (r: FieldComparison) => number, scale: number) => {
    const v = stats(rows.map((r) => f(r) * scale))
    return { median: v.median, mean: v.mean, sd: v.sd }
  }
  return {
    n: rows.length,
    focal_error_mm: s((r) => r.focalErrorM, 1000),
    peak_error_pct: s((r) => r.peakError, 100),
    rel_l2_pa_pct: s((r) => r.relL2Pa, 100),
    rel_l2_log1p_pct: s((r) => r.relL2Log1p, 100),
  }
}

function line(name: string, s: FieldMetricsSummary): string {
  const f = (x: { median: number; mean: number; sd: number }) => `${x.median.toFixed(2)} | ${x.mean.toFixed(2)} +/- ${x.sd.toFixed(2)}`
  return `| ${name} | ${s.n} | ${f(s.focal_error_mm)} | ${f(s.peak_error_pct)} | ${f(s.rel_l2_pa_pct)} | ${f(s.rel_l2_log1p_pct)} |`
}

async function main() {
  const dataDir = path.resolve(values.data!)
  const header = JSON.parse(await fs.readFile(path.join(dataDir, 'dataset.json'), 'utf8')) as SurrogateDatasetHeader
  const model = await loadSurrogate(path.resolve(values.model!), values.provider as ProviderChoice)
  for (const n of model.notes) console.log(n)
  const m = model.manifest
  if (m.transducer_id !== header.transducer_id || m.frame.grid_size.some((v, d) => v !== header.grid_size[d])) {
    throw new Error(
      `${values.model}: trained for ${m.transducer_id} on ${m.frame.grid_size.join('x')}; the dataset is ${header.transducer_id} on ${header.grid_size.join('x')}`,
    )
  }
  const names = (await fs.readdir(path.join(dataDir, 'samples'))).filter((f) => f.endsWith('.json')).sort()
  const metas: SurrogateSampleMeta[] = []
  for (const f of names) metas.push(JSON.parse(await fs.readFile(path.join(dataDir, 'samples', f), 'utf8')) as SurrogateSampleMeta)
  const trained = new Set((m.training as { train_ids?: string[] }).train_ids ?? [])
  const heldOut = metas.filter((s) => s.split === 'test')
  const leaked = heldOut.filter((s) => trained.has(s.id))
  if (leaked.length) throw new Error(`held-out samples ${leaked.map((s) => s.id).join(', ')} were in the model's training set`)
  const validation = metas.filter((s) => s.split === 'train' && isValidation(s.id) && !trained.has(s.id))
  const [nx, ny, nz] = header.grid_size
  const n = nx * ny * nz
  const free = new Float32Array((await fs.readFile(path.join(dataDir, header.free_water.file))).buffer.slice(0))
  let freePeak = 0
  for (const v of free) freePeak = Math.max(freePeak, v)

  // Baseline: the free-water field scaled by the median transmission (peak ratio) of the training samples.
  const ratios: number[] = []
  for (const s of metas.filter((x) => trained.has(x.id))) {
    const block = new Float32Array((await fs.readFile(path.join(dataDir, 'samples', `${s.id}.f32`))).buffer)
    let p = 0
    const brain = intracranialMask(block.subarray(0, n), block.subarray(n, 2 * n), header.grid_size)
    for (let v = 0; v < n; v++) if (brain[v]) p = Math.max(p, block[3 * n + v]!)
    ratios.push(p / freePeak)
  }
  const medianRatio = stats(ratios).median

  const evaluate = async (set: SurrogateSampleMeta[]) => {
    const rows: { meta: SurrogateSampleMeta; model: FieldComparison; baseline: FieldComparison; spread: number; confidence: number; inferenceS: number }[] = []
    for (const s of set) {
      const block = new Float32Array((await fs.readFile(path.join(dataDir, 'samples', `${s.id}.f32`))).buffer)
      if (block.length !== 4 * n) throw new Error(`${s.id}.f32: ${block.length} values, expected ${4 * n}`)
      const medium = { soundSpeed: block.subarray(0, n), density: block.subarray(n, 2 * n), alphaNpM: block.subarray(2 * n, 3 * n), alphaPower: 2 }
      const truth = block.subarray(3 * n, 4 * n)
      const tr = s.transducer_to_ras
      const inc = Number.isFinite(s.incidence_deg) ? s.incidence_deg / 30 : 0
      const pose = Float32Array.from([tr[2]!, tr[6]!, tr[10]!, s.standoff_m / 0.03, s.skull_thickness_m / 0.01, inc])
      const pred = await predictField(model.port, m, medium, model.freeWaterPa, pose, Number(values.variants))
      const baseline = free.map((v) => v * medianRatio)
      // Inside the head past the skull, where the plan's metrics are read (see intracranialMask).
      const brain = intracranialMask(medium.soundSpeed, medium.density, header.grid_size)
      const t = masked(truth, brain)
      rows.push({
        meta: s,
        model: compareFields(masked(pred.amplitudePa, brain), t, header.grid_size, header.spacing_m),
        baseline: compareFields(masked(baseline, brain), t, header.grid_size, header.spacing_m),
        spread: pred.peakSpread,
        confidence: pred.confidence,
        inferenceS: pred.inferenceS,
      })
    }
    return rows
  }

  const val = await evaluate(validation)
  const held = await evaluate(heldOut)
  // Confidence: expected peak error = slope * spread (least squares through the origin, validation data).
  const sxy = val.reduce((a, r) => a + r.spread * r.model.peakError, 0)
  const sxx = val.reduce((a, r) => a + r.spread * r.spread, 0)
  const slope = sxx > 0 ? sxy / sxx : 1
  const rho =
    held.length > 2
      ? spearman(
          held.map((r) => r.spread),
          held.map((r) => r.model.peakError),
        )
      : Number.NaN

  console.log(
    `\nmodel ${m.version} (${values.model}); data ${dataDir}: ${header.transducer_id}, ${header.frequency_hz / 1e6} MHz, ${header.grid_size.join('x')} at ${header.spacing_m * 1000} mm (${header.points_per_wavelength} points per wavelength), solver ${header.solver.device}`,
  )
  console.log(
    `trained on ${trained.size} samples; validation ${val.length}; held out ${held.length} (${held.filter((r) => r.meta.source === 'procedural').length} on unseen procedural skulls, ${held.filter((r) => r.meta.source === 'sample-ct').length} unseen placements on the sample CT)\n`,
  )
  console.log('| sample | source | focal error mm | peak error % | rel L2 Pa % | rel L2 log1p % | TTA spread % | baseline peak error % | inference s |')
  console.log('|---|---|---|---|---|---|---|---|---|')
  for (const r of held) {
    console.log(
      `| ${r.meta.id} | ${r.meta.source === 'procedural' ? `procedural ${(r.meta.head as { seed: number }).seed}` : 'sample CT'} | ${(r.model.focalErrorM * 1000).toFixed(2)} | ${(r.model.peakError * 100).toFixed(1)} | ${(r.model.relL2Pa * 100).toFixed(1)} | ${(r.model.relL2Log1p * 100).toFixed(1)} | ${(r.spread * 100).toFixed(2)} | ${(r.baseline.peakError * 100).toFixed(1)} | ${r.inferenceS.toFixed(2)} |`,
    )
  }
  const heldSummary = summary(held.map((r) => r.model))
  const baseSummary = summary(held.map((r) => r.baseline))
  const bySource: Record<string, FieldMetricsSummary> = {}
  for (const src of ['procedural', 'sample-ct']) {
    const rows = held.filter((r) => r.meta.source === src)
    if (rows.length) bySource[src] = summary(rows.map((r) => r.model))
  }
  console.log('\nmedian | mean +/- sd')
  console.log('| set | n | focal error mm | peak error % | rel L2 Pa % | rel L2 log1p % |')
  console.log('|---|---|---|---|---|---|')
  console.log(line('held out, surrogate', heldSummary))
  for (const [k, v] of Object.entries(bySource)) console.log(line(`held out, ${k}`, v))
  console.log(line(`held out, free-water baseline (x${medianRatio.toFixed(3)})`, baseSummary))
  if (val.length) console.log(line('validation, surrogate', summary(val.map((r) => r.model))))
  console.log(
    `\nconfidence: expected peak error = ${slope.toFixed(2)} x TTA spread (fitted on ${val.length} validation samples); Spearman(spread, peak error) on held out = ${rho.toFixed(2)}`,
  )
  const pass =
    heldSummary.focal_error_mm.median < 2 &&
    heldSummary.focal_error_mm.mean < 2 &&
    heldSummary.peak_error_pct.mean < 10 &&
    heldSummary.rel_l2_pa_pct.mean < 25 &&
    heldSummary.rel_l2_log1p_pct.mean < 25
  console.log(`acceptance (focal < 2 mm, peak < 10 %, rel L2 < 25 %, means): ${pass ? 'met' : 'NOT met'}`)
  if (values.write) {
    const file = path.resolve(values.model!)
    const json = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>
    json['evaluation'] = {
      dataset: path.basename(dataDir),
      held_out: heldSummary,
      baseline_free_water: baseSummary,
      by_source: bySource,
      held_out_ids: held.map((r) => r.meta.id),
      evaluated: new Date().toISOString(),
    }
    json['confidence'] = {
      method: 'spread of the peak over the 8 lateral-symmetry variants (test-time augmentation)',
      variants: Number(values.variants),
      slope,
      error_at_zero_confidence: 0.2,
      low_below: 0.5,
      spearman_spread_vs_error: rho,
    }
    await writeFileAtomic(file, JSON.stringify(json, null, 2) + '\n')
    console.log(`wrote the evaluation and the confidence calibration into ${file}`)
  }
  await model.port.dispose()
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
