/**
 * Device checks of the WebGPU backends, for a real GPU (scripts/gpu/run-device.sh runs them on
 * the lent H200) and rehearsed on SwiftShader with --tiny:
 *
 *   checks info               adapter, features and limits (JSON)
 *   checks parity [--tiny]    FFT kernels, whole solver runs and the thermal model against the
 *                             CPU reference, with the test suite's cases and bounds
 *                             (tests/helpers/webgpu-parity.ts); exits 1 if one fails
 *   checks fft [--sizes ..]   3D FFT forward + inverse time per design and tuning; writes the
 *                             fastest at the largest size to --best <file> in TFUS_FFT_TUNING's
 *                             form (tile,workgroup,unroll)
 *   checks profile [--sizes]  each dispatch of a step timed alone, summed by kernel
 *   checks sweep [--size N]   solver step time at N^3: global design, default tuning and
 *                             --candidate; setup time with the source filtered on host / device
 *
 * Times are wall clock around submissions that end in a readback, so they include the GPU work
 * and the host's encoding; the first steps (pipeline compilation) are not counted.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { cpuBackend } from '../../core/solver/cpu/backend.ts'
import { SimulationNumericalError } from '../../core/solver/errors.ts'
import { DEFAULT_SETTINGS } from '../../core/solver/model.ts'
import { runSimulation } from '../../core/solver/run.ts'
import { parseScene } from '../../core/solver/scene.ts'
import { setupSimulation, type SimulationSetup } from '../../core/solver/setup.ts'
import { createWebGpuBackend } from '../../core/solver/webgpu/backend.ts'
import { createGpuFft3d, DEFAULT_FFT_TUNING, type FftDesign, type FftTuning } from '../../core/solver/webgpu/fft.ts'
import { encodeDispatch, KernelContext } from '../../core/solver/webgpu/kernel.ts'
import { createWebGpuThermalBackend } from '../../core/thermal/webgpu/backend.ts'
import { requestNodeGpuDevice } from '../../electron/adapters/webgpu-device.ts'
import { fftTuningFromEnv, formatFftTuning } from '../../electron/adapters/solver-backends.ts'
import { planeWaveScene } from '../../tests/helpers/solver.ts'
import { benchSceneOfSize } from '../bench-scenes.ts'
import {
  complexRelativeL2,
  FFT_BOUND,
  FFT_PARITY_SIZES,
  fftParity,
  planeWaveParityScene,
  RUN_BOUND,
  RUN_PARITY_SCENES,
  runSteps,
  THERMAL_BOUND,
  thermalParity,
} from '../../tests/helpers/webgpu-parity.ts'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    tiny: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    size: { type: 'string' },
    best: { type: 'string' },
    candidate: { type: 'string' },
    steps: { type: 'string' },
  },
})
const section = positionals[0] ?? 'info'

const gpu = await requestNodeGpuDevice({ allowSoftware: true })
if ('unavailable' in gpu) {
  console.log(`no WebGPU adapter: ${gpu.unavailable}`)
  process.exit(1)
}
const { device, description, software } = gpu
/** The design the hosts pick for this adapter (solver-backends.ts). */
const hostDesign: FftDesign = software ? 'global' : 'workgroup'

async function info() {
  const limits: Record<string, number> = {}
  for (const key in device.limits) limits[key] = (device.limits as unknown as Record<string, number>)[key]!
  const features = [...(device as unknown as { features: Iterable<string> }).features]
  console.log(JSON.stringify({ description, software, hostDesign, features, limits }, null, 2))
}

interface Check {
  readonly name: string
  readonly measured: number
  readonly bound: number
  readonly note?: string
}

async function parity() {
  const checks: Check[] = []
  const add = (c: Check) => {
    checks.push(c)
    console.log(
      `${c.measured < c.bound ? 'pass' : 'FAIL'} ${c.name}: ${c.measured.toExponential(2)} (bound ${c.bound.toExponential(0)})${c.note ? `; ${c.note}` : ''}`,
    )
  }
  const sizes: ReadonlyArray<readonly [number, number, number]> = values.tiny
    ? FFT_PARITY_SIZES
    : [...FFT_PARITY_SIZES, [64, 64, 64], [128, 96, 112], [256, 256, 256]]
  for (const design of ['workgroup', 'global'] as const)
    for (const [nx, ny, nz] of sizes) {
      const e = await fftParity(device, nx, ny, nz, design)
      add({ name: `FFT ${design} ${nx}x${ny}x${nz} forward`, measured: e.forward, bound: FFT_BOUND })
      add({ name: `FFT ${design} ${nx}x${ny}x${nz} inverse`, measured: e.inverse, bound: FFT_BOUND })
    }
  // On SwiftShader (--tiny rehearsals) the workgroup design takes seconds a step: the host's design only.
  const runDesigns: readonly FftDesign[] = values.tiny ? [hostDesign] : ['workgroup', 'global']
  for (const c of RUN_PARITY_SCENES) {
    const s = parseScene(c.scene)
    const plan = setupSimulation(s.grid, s.medium, s.source, { ...DEFAULT_SETTINGS, ...s.settings })
    const steps = plan.time.traversalEndStep
    const reference = await runSteps(cpuBackend, plan, steps, plan.time.windowSteps)
    for (const design of runDesigns) {
      const web = await runSteps(createWebGpuBackend(device, description, { fft: design }), plan, steps, plan.time.windowSteps)
      add({
        name: `run ${c.name}, ${design} FFT`,
        measured: complexRelativeL2(reference.window, web.window),
        bound: RUN_BOUND,
        note: `${plan.axes.map((a) => a.total).join('x')}, ${steps + plan.time.windowSteps} steps, ${web.msPerStep.toFixed(2)} ms/step (CPU ${reference.msPerStep.toFixed(0)})`,
      })
    }
  }
  {
    const s = parseScene(planeWaveParityScene())
    const inputs = { grid: s.grid, medium: s.medium, source: s.source, settings: s.settings }
    const reference = await runSimulation({ ...inputs, backend: cpuBackend })
    for (const design of runDesigns) {
      const r = await runSimulation({ ...inputs, backend: createWebGpuBackend(device, description, { fft: design }) })
      const toComplex = (x: typeof r) => ({
        re: x.amplitudePa.map((a, i) => a * Math.cos(x.phaseRad[i]!)),
        im: x.amplitudePa.map((a, i) => a * Math.sin(x.phaseRad[i]!)),
      })
      const sameSteps = r.steps === reference.steps && r.converged
      add({
        name: `runSimulation plane wave through a y = 1.5 slab, ${design} FFT`,
        measured: sameSteps ? complexRelativeL2(toComplex(reference), toComplex(r)) : Infinity,
        bound: RUN_BOUND,
        note: `${r.steps} steps (CPU ${reference.steps}), converged ${r.converged}`,
      })
    }
  }
  {
    const s = parseScene(
      planeWaveScene({ dx: 0.0005, lengthM: 0.02, sourceAtM: 0.01, background: { sound_speed: 1500, density: 1000, alpha_db_cm: 50, alpha_power: 2 } }),
    )
    const plan = setupSimulation(s.grid, s.medium, s.source, { ...DEFAULT_SETTINGS, ...s.settings })
    const unstable: SimulationSetup = { ...plan, time: { ...plan.time, dtS: 8 * plan.time.dtS } }
    const backend = await createWebGpuBackend(device, description, { fft: hostDesign })(unstable)
    let caught = false
    try {
      await backend.advance(120, true)
    } catch (e) {
      caught = e instanceof SimulationNumericalError
    } finally {
      backend.dispose()
    }
    add({ name: 'an unstable run throws SimulationNumericalError', measured: caught ? 0 : 1, bound: 0.5 })
  }
  {
    const r = await thermalParity(createWebGpuThermalBackend(device, description))
    for (const [name, error] of Object.entries(r.errors))
      add({ name: `thermal ${name}`, measured: error, bound: THERMAL_BOUND, note: `${r.steps} steps on ${r.voxels} voxels in ${r.gpuS.toFixed(2)} s` })
    add({ name: 'thermal probe samples', measured: r.probeSamples === r.expectedProbeSamples ? 0 : 1, bound: 0.5 })
  }
  const failed = checks.filter((c) => !(c.measured < c.bound)).length
  console.log(`parity on ${description}: ${checks.length - failed} passed, ${failed} failed`)
  process.exitCode = failed > 0 ? 1 : 0
}

/** Times `reps` forward + inverse pairs of an n^3 real FFT. */
async function fftPairMs(n: number, design: FftDesign, tuning: FftTuning, reps: number): Promise<number> {
  const ctx = new KernelContext(device)
  try {
    const fft = createGpuFft3d(ctx, n, n, n, design, tuning)
    const real = ctx.zeros('field', n * n * n)
    const spectrum = ctx.zeros('spectrum', 2 * fft.workLength)
    const ops = [...fft.forward(real, spectrum), ...fft.inverse(spectrum, real)]
    const run = async (count: number) => {
      const encoder = device.createCommandEncoder()
      const pass = encoder.beginComputePass()
      for (let r = 0; r < count; r++) for (const d of ops) encodeDispatch(pass, d)
      pass.end()
      device.queue.submit([encoder.finish()])
      await device.queue.onSubmittedWorkDone()
    }
    await run(2)
    const t0 = performance.now()
    await run(reps)
    return (performance.now() - t0) / reps
  } finally {
    ctx.dispose()
  }
}

/**
 * The tunings `fft` times: tiles of 512 to 4096 values, 64 to 256 threads, loops to the radix
 * with and without padded tile rows, and the constant-bound loops at the default's size (on the
 * H200, 2026-12-04, constant bounds, 64 threads and tiles above 1024 were slower; padding is new).
 */
const TUNINGS: FftTuning[] = [
  ...[512, 1024, 2048, 4096].flatMap((tileElements) =>
    [64, 128, 256].flatMap((workgroupSize) => [false, true].map((padRows) => ({ tileElements, workgroupSize, unrollRadix: false, padRows }))),
  ),
  { ...DEFAULT_FFT_TUNING, unrollRadix: true },
]

async function fftTimes() {
  const sizes = (values.sizes ?? (values.tiny ? '32' : '128,192,256')).split(',').map(Number)
  const reps = values.tiny ? 3 : 20
  console.log('| n^3 | design | tuning (tile, workgroup, unroll) | ms per forward + inverse | GB/s (48 B per point) |')
  console.log('|---|---|---|---|---|')
  let best: { tuning: FftTuning; ms: number } | undefined
  for (const n of sizes) {
    const rows: Array<{ design: FftDesign; tuning: FftTuning }> = [
      { design: 'global', tuning: DEFAULT_FFT_TUNING },
      ...(values.tiny ? TUNINGS.slice(0, 2) : TUNINGS).map((tuning) => ({ design: 'workgroup' as const, tuning })),
    ]
    best = undefined
    for (const { design, tuning } of rows) {
      try {
        const ms = await fftPairMs(n, design, tuning, reps)
        console.log(
          `| ${n} | ${design} | ${design === 'global' ? '-' : formatFftTuning(tuning)} | ${ms.toFixed(3)} | ${((48 * n ** 3) / (ms * 1e6)).toFixed(0)} |`,
        )
        if (design === 'workgroup' && (!best || ms < best.ms)) best = { tuning, ms }
      } catch (e) {
        console.log(`| ${n} | ${design} | ${formatFftTuning(tuning)} | failed: ${e instanceof Error ? e.message : String(e)} | |`)
      }
    }
  }
  // The fastest workgroup tuning at the largest size.
  if (best) {
    console.log(
      `fastest workgroup tuning at ${sizes.at(-1)}^3: ${formatFftTuning(best.tuning)}, ${best.ms.toFixed(3)} ms per pair (default ${formatFftTuning(DEFAULT_FFT_TUNING)})`,
    )
    // Only a tuning that passes the FFT parity check is handed on.
    const [nx, ny, nz] = values.tiny ? [16, 12, 10] : [64, 48, 56]
    const e = await fftParity(device, nx, ny, nz, 'workgroup', best.tuning)
    const ok = e.forward < FFT_BOUND && e.inverse < FFT_BOUND
    console.log(
      `parity of that tuning at ${nx}x${ny}x${nz}: forward ${e.forward.toExponential(2)}, inverse ${e.inverse.toExponential(2)}: ${ok ? 'pass' : 'FAIL'}`,
    )
    if (ok && values.best) writeFileSync(values.best, formatFftTuning(best.tuning))
  }
}

async function stepMs(plan: SimulationSetup, design: FftDesign, tuning: FftTuning, steps: number): Promise<{ ms: number; setupS: number }> {
  const t0 = performance.now()
  const backend = await createWebGpuBackend(device, description, { fft: design, fftTuning: tuning })(plan)
  const setupS = (performance.now() - t0) / 1000
  try {
    await backend.advance(3, false)
    const t1 = performance.now()
    await backend.advance(steps, false)
    return { ms: (performance.now() - t1) / steps, setupS }
  } finally {
    backend.dispose()
  }
}

/**
 * The solver step at n^3 with the global design, the default tuning and a candidate (the fft
 * section's fastest), and the backend's setup time with the source filtered on the host and on
 * the device.
 */
async function sweep() {
  const n = Number(values.size ?? (values.tiny ? 48 : 256))
  const steps = Number(values.steps ?? (values.tiny ? 4 : 40))
  const scene = benchSceneOfSize(n)
  const plan = setupSimulation(scene.grid, scene.medium, scene.source, scene.settings)
  const cells = plan.axes.reduce((a, x) => a * x.total, 1)
  console.log(`solver step, ${plan.axes.map((a) => a.total).join('x')} (${cells} cells), ${steps} steps each, on ${description}`)
  console.log('| design | tuning (tile, workgroup, unroll) | ms/step | effective GB/s (336 B per cell) | setup s |')
  console.log('|---|---|---|---|---|')
  const candidate = values.candidate ? fftTuningFromEnv(values.candidate) : undefined
  const rows: Array<{ design: FftDesign; tuning: FftTuning }> = [
    { design: 'global', tuning: DEFAULT_FFT_TUNING },
    { design: 'workgroup', tuning: DEFAULT_FFT_TUNING },
    ...(candidate ? [{ design: 'workgroup' as const, tuning: candidate }] : []),
  ]
  for (const { design, tuning } of rows) {
    try {
      const r = await stepMs(plan, design, tuning, steps)
      console.log(
        `| ${design} | ${design === 'global' ? '-' : formatFftTuning(tuning)} | ${r.ms.toFixed(3)} | ${((cells * 336) / (r.ms * 1e6)).toFixed(0)} | ${r.setupS.toFixed(2)} |`,
      )
    } catch (e) {
      console.log(`| ${design} | ${formatFftTuning(tuning)} | failed: ${e instanceof Error ? e.message : String(e)} | | |`)
    }
  }
  for (const sourceFilter of ['host', 'device'] as const) {
    const t0 = performance.now()
    const backend = await createWebGpuBackend(device, description, { fft: hostDesign, sourceFilter })(plan)
    backend.dispose()
    console.log(`setup with the source filtered on the ${sourceFilter}: ${((performance.now() - t0) / 1000).toFixed(2)} s`)
  }
}

/**
 * Where a step's time goes at each size: every dispatch of a step timed on its own (reps
 * replays), summed by kernel, against the step timed whole.
 */
async function profile() {
  const sizes = (values.sizes ?? (values.tiny ? '40' : '192,256')).split(',').map(Number)
  const reps = values.tiny ? 2 : 20
  const tuning = values.candidate ? fftTuningFromEnv(values.candidate) : undefined
  for (const n of sizes) {
    const scene = benchSceneOfSize(n)
    const plan = setupSimulation(scene.grid, scene.medium, scene.source, scene.settings)
    const cells = plan.axes.reduce((a, x) => a * x.total, 1)
    const backend = await createWebGpuBackend(device, description, { fft: hostDesign, fftTuning: tuning })(plan)
    try {
      await backend.advance(3, true)
      const steps = values.tiny ? 2 : 40
      const t0 = performance.now()
      await backend.advance(steps, true)
      const stepMs = (performance.now() - t0) / steps
      const times = await backend.profile(reps)
      const byLabel = new Map<string, { count: number; ms: number }>()
      for (const t of times) {
        const e = byLabel.get(t.label) ?? { count: 0, ms: 0 }
        e.count++
        e.ms += t.ms
        byLabel.set(t.label, e)
      }
      const sum = times.reduce((a, t) => a + t.ms, 0)
      console.log(
        `\n${plan.axes.map((a) => a.total).join('x')} (${cells} cells), tuning ${tuning ? formatFftTuning(tuning) : 'default'}: step ${stepMs.toFixed(3)} ms whole, ${sum.toFixed(3)} ms as the sum of ${times.length} dispatches timed alone`,
      )
      console.log('| kernel | dispatches per step | ms per step | share | ms per dispatch |')
      console.log('|---|---|---|---|---|')
      for (const [label, e] of [...byLabel].sort((a, b) => b[1].ms - a[1].ms))
        console.log(`| ${label} | ${e.count} | ${e.ms.toFixed(3)} | ${((100 * e.ms) / sum).toFixed(0)} % | ${(e.ms / e.count).toFixed(4)} |`)
    } finally {
      backend.dispose()
    }
  }
}

try {
  if (section === 'info') await info()
  else if (section === 'profile') await profile()
  else if (section === 'parity') await parity()
  else if (section === 'fft') await fftTimes()
  else if (section === 'sweep') await sweep()
  else {
    console.error(`unknown section ${section}: info, parity, fft or sweep`)
    process.exitCode = 2
  }
} finally {
  device.destroy()
}
