/**
 * Surrogate preview speed: for a few poses around a target on the sample CT, the time of the
 * preview's two parts: placement plus the beam-aligned medium (what changes when the transducer
 * moves) and the network with its 8-variant test-time augmentation and confidence. One row per
 * execution provider that can start here (the CPU always; WebGPU or CUDA where a GPU is).
 *
 *   npm run bench:surrogate -- [--model resources/surrogate/model.json] [--poses 5] [--threads N]
 */
import * as os from 'node:os'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import { readVolume } from '../electron/adapters/volume-io.ts'
import { planMediumModel } from '../electron/app/pipeline/index.ts'
import { loadTransducerLibrary } from '../electron/adapters/transducers.ts'
import { loadSurrogate, BUNDLED_MODEL, type ProviderChoice } from '../electron/adapters/onnx-runtime.ts'
import { planDevice } from '../core/planning/device.ts'
import { preparePlan } from '../core/planning/run-plan.ts'
import { segmentHead } from '../core/planning/masks.ts'
import { poseFeatures, predictField } from '../core/surrogate/predict.ts'
import { stats } from '../core/surrogate/metrics.ts'
import { PreviewEngine } from '../electron/app/surrogate-preview.ts'
import { DEFAULT_PULSE_TIMING } from '../core/planning/metrics.ts'
import type { Vec3 } from '../core/volume/types.ts'

const { values } = parseArgs({
  options: { model: { type: 'string', default: BUNDLED_MODEL }, poses: { type: 'string', default: '5' }, threads: { type: 'string' } },
})

async function main() {
  const ct = await readVolume(path.resolve('resources/samples/cranium-ct.nii.gz'), { modality: 'CT' })
  const seg = segmentHead(ct)
  const library = await loadTransducerLibrary()
  const probe = await loadSurrogate(path.resolve(values.model!), 'cpu', { threads: 1 })
  const m = probe.manifest
  await probe.port.dispose()
  const def = library.transducers.find((t) => t.definition.id === m.transducer_id)!.definition
  const device = planDevice(def)
  const medium = planMediumModel(m.mapping_id as 'kplan', device.frequencyHz)
  const target: Vec3 = [0.03, -0.018, 0.0135]
  const entries: Vec3[] = Array.from({ length: Number(values.poses) }, (_, i) => {
    const a = (2 * Math.PI * i) / Number(values.poses)
    return [0.09, -0.018 + 0.012 * Math.cos(a), 0.02 + 0.012 * Math.sin(a)]
  })
  const rows: string[] = []
  const providers: ProviderChoice[] = ['cpu', 'auto']
  const seen = new Set<string>()
  for (const choice of providers) {
    const model = await loadSurrogate(path.resolve(values.model!), choice, values.threads ? { threads: Number(values.threads) } : {})
    if (choice === 'auto') for (const n of model.notes) console.log(`auto: ${n}`)
    if (seen.has(model.port.provider)) {
      await model.port.dispose()
      continue
    }
    seen.add(model.port.provider)
    for (const n of model.notes) console.log(n)
    const prepS: number[] = []
    const inferS: number[] = []
    const totalS: number[] = []
    const conf: number[] = []
    // One warm-up prediction (session initialisation, memory arenas) not counted.
    for (let i = -1; i < entries.length; i++) {
      const t0 = performance.now()
      const prepared = preparePlan(
        { ct, targetRasM: target, entryRasM: entries[Math.max(0, i)]!, device, ...medium, pointsPerWavelength: m.points_per_wavelength },
        seg,
      )
      const t1 = performance.now()
      const pred = await predictField(model.port, m, prepared.domain.medium, model.freeWaterPa, poseFeatures(prepared.placement))
      const t2 = performance.now()
      if (i < 0) continue
      prepS.push((t1 - t0) / 1000)
      inferS.push((t2 - t1) / 1000)
      totalS.push((t2 - t0) / 1000)
      conf.push(pred.confidence)
    }
    // The app's preview end to end: plan metrics and the pressure resampled onto the CT for the overlay.
    const engine = new PreviewEngine(path.resolve(values.model!), model.port.provider as ProviderChoice)
    const appS: number[] = []
    for (let i = -1; i < entries.length; i++) {
      const t0 = performance.now()
      await engine.predict({
        ctPath: path.resolve('resources/samples/cranium-ct.nii.gz'),
        targetRasM: target,
        entryRasM: entries[Math.max(0, i)]!,
        transducerId: m.transducer_id,
        mappingId: m.mapping_id,
        drive: { kind: 'isppa-free-water', wPerM2: 1e5 },
        pulseTiming: DEFAULT_PULSE_TIMING,
      })
      if (i >= 0) appS.push((performance.now() - t0) / 1000)
    }
    await engine.dispose()
    const cpu = os.cpus()[0]?.model ?? 'CPU'
    const dev =
      model.port.provider === 'cpu'
        ? `${cpu}, ${values.threads ?? Math.min(os.availableParallelism(), 8)} threads`
        : (model.notes.at(-1) ?? model.port.provider)
    const f = (v: number[]) => `${stats(v).median.toFixed(2)} / ${Math.max(...v).toFixed(2)}`
    rows.push(
      `| ${model.port.provider} | ${dev} | ${m.frame.grid_size.join('x')} @ ${m.frame.spacing_m * 1000} mm | ${f(prepS)} | ${f(inferS)} | ${f(totalS)} | ${f(appS)} | ${stats(conf).median.toFixed(2)} |`,
    )
    await model.port.dispose()
  }
  console.log(`\nsurrogate preview, ${entries.length} poses on the sample CT (model ${m.version}); times in s, median / max`)
  console.log('| provider | device | grid | placement + medium | network x8 + confidence | total | app preview (+ metrics, overlay on the CT) | confidence |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const r of rows) console.log(r)
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e)
  process.exit(1)
})
