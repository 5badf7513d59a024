/**
 * Solver speed, per backend and grid size: milliseconds per step, million cell-steps per
 * second, an effective memory bandwidth, memory, and (unless --quick) steps and wall time to
 * steady state for ITRUSST BM1 at 0.5 mm. Prints a table; runs unchanged on a GPU machine.
 *   npm run bench:solver [-- --backend cpu|webgpu|all] [--sizes 96,128,192] [--quick] [--steps N]
 *                        [--kwave <kspaceFirstOrder-OMP>] [--kwave-format 1.2|1.1] [--rounds R]
 *
 * The CPU backend is timed twice, with the native kernels (when built) and with the TypeScript
 * kernels (TFUS_CPU_KERNELS=ts), each run in a process of its own, so that its peak resident set
 * (VmHWM) is that run's alone and the kernel choice is made as the app makes it. WebGPU runs in
 * this process (one device for all sizes).
 *
 * --kwave adds k-Wave's C++ OpenMP binary on the same scene (scripts/kwave-bench.ts: exported by
 * our exporter, run with as many threads as our CPU team has) and a column with each row's time
 * per step over k-Wave's. Runs are interleaved per size (ours, k-Wave, ours, k-Wave, ... for
 * --rounds rounds, 2 by default with --kwave, else 1) so that load from other jobs hits both; the
 * table gives the fastest round (the least disturbed) and lists every round.
 *
 * Effective bandwidth counts the float32 array passes of one lossless heterogeneous step in
 * the CPU engine: 10 real FFTs (4N accesses each: xy and z stages, read and write), 6
 * derivative products (2.5N), 3 velocity and 3 density updates (4N each), the pressure update
 * (5N): about 84 accesses of 4 bytes per cell, 336 B per cell per step. A GPU implementation
 * (or k-Wave) with other passes moves a different amount; the figure is a common yardstick, not a trace.
 */
import * as os from 'node:os'
import { execFile } from 'node:child_process'
import { accessSync, constants as fsConstants, readFileSync } from 'node:fs'
import { parseArgs, promisify } from 'node:util'
import { parseScene } from '../core/solver/scene.ts'
import { benchSceneOfSize } from './bench-scenes.ts'
import { setupSimulation } from '../core/solver/setup.ts'
import { runSimulation, type BackendFactory } from '../core/solver/run.ts'
import { focalMetrics } from '../core/solver/metrics.ts'
import { KWAVE_FORMATS, type KwaveFormat } from '../core/solver/kwave-export.ts'
import { selectBackend } from '../electron/adapters/solver-backends.ts'
import { defaultCpuThreads } from '../electron/adapters/cpu-parallel.ts'
import { nativeKernels } from '../electron/adapters/native-kernels.ts'

const BYTES_PER_CELL_STEP = 336
/** Marks the line a measuring child process prints its result on. */
const CHILD_RESULT = 'bench-solver child result: '

/** Bad input: one line naming the option, exit status 2. */
function usageError(option: string, why: string): never {
  console.error(`bench:solver: ${option} ${why}`)
  process.exit(2)
}

function parseOptions() {
  try {
    return parseArgs({
      strict: true,
      allowPositionals: false,
      options: {
        backend: { type: 'string', default: 'all' },
        sizes: { type: 'string', default: '96,128,192' },
        quick: { type: 'boolean', default: false },
        steps: { type: 'string' },
        kwave: { type: 'string' },
        'kwave-format': { type: 'string', default: '1.2' },
        rounds: { type: 'string' },
        // Internal: time the CPU backend at one size in this process and print the result (see measureCpu).
        child: { type: 'string' },
      },
    }).values
  } catch (e) {
    usageError('usage:', e instanceof Error ? e.message : String(e))
  }
}

function positiveInteger(option: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value) || Number(value) < min) usageError(`--${option}`, `must be a whole number of at least ${min}, got "${value}"`)
  return Number(value)
}

const options = parseOptions()
const which = options.backend
if (which !== 'cpu' && which !== 'webgpu' && which !== 'all') usageError('--backend', `must be cpu, webgpu or all, got "${which}"`)
// The bench scene's grid is n - 20 user points plus the PML (bench-scenes.ts).
const sizes = options.sizes.split(',').map((s) => positiveInteger('sizes', s.trim(), 24)!)
const fixedSteps = positiveInteger('steps', options.steps)
const kwaveFormat = options['kwave-format'] as KwaveFormat
if (!KWAVE_FORMATS.includes(kwaveFormat)) usageError('--kwave-format', `must be ${KWAVE_FORMATS.join(' or ')}, got "${kwaveFormat}"`)
const kwaveBinary = options.kwave
if (kwaveBinary !== undefined) {
  try {
    accessSync(kwaveBinary, fsConstants.X_OK)
  } catch {
    usageError('--kwave', `${kwaveBinary} is not an executable file (give the path of kspaceFirstOrder-OMP)`)
  }
}
const rounds = positiveInteger('rounds', options.rounds) ?? (kwaveBinary ? 2 : 1)

/** ITRUSST BM1 at 0.5 mm, as the bundled scene file defines it. */
function bm1Scene() {
  return parseScene(JSON.parse(readFileSync(new URL('../resources/scenes/itrusst-bm1.json', import.meta.url), 'utf8')))
}

interface Run {
  readonly device: string
  readonly grid: string
  readonly msPerStep: number
  readonly rssMb: number
}

/** This process's peak resident set [MiB]: VmHWM (Linux), which exec starts afresh, else getrusage's. */
function peakRssMb(): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]
    if (kb !== undefined) return Number(kb) / 1024
  } catch {
    // No procfs (macOS, Windows): getrusage's peak, which a forked process inherits from its parent.
  }
  return process.resourceUsage().maxRSS / 1024
}

async function timeSteps(factory: BackendFactory, n: number, label: string): Promise<Run> {
  const scene = benchSceneOfSize(n)
  const plan = setupSimulation(scene.grid, scene.medium, scene.source, scene.settings)
  const total = plan.axes.map((a) => a.total)
  const backend = await factory(plan)
  try {
    // Warm-up: pipeline compilation, first touches and (on a GPU) the clocks' ramp from idle.
    const warm = performance.now()
    do await backend.advance(3, false)
    while (label === 'webgpu' && performance.now() - warm < 1000)
    const steps = fixedSteps ?? (n >= 192 ? 10 : 20)
    const t0 = performance.now()
    await backend.advance(steps, false)
    return { device: backend.device, grid: total.join('x'), msPerStep: (performance.now() - t0) / steps, rssMb: peakRssMb() }
  } finally {
    backend.dispose()
  }
}

const run = promisify(execFile)

/** The CPU backend at size n with the given kernels, timed in a fresh process (this script with --child). */
async function measureCpu(n: number, kernels: 'native' | 'ts'): Promise<Run> {
  const args = [...process.execArgv, process.argv[1]!, '--child', String(n), ...(fixedSteps ? ['--steps', String(fixedSteps)] : [])]
  let stdout: string
  try {
    ;({ stdout } = await run(process.execPath, args, { env: { ...process.env, TFUS_CPU_KERNELS: kernels }, maxBuffer: 16 * 2 ** 20 }))
  } catch (e) {
    const out = e as { stderr?: string; message?: string }
    throw new Error(`the CPU run at ${n}^3 (TFUS_CPU_KERNELS=${kernels}) failed: ${out.stderr?.trim() || out.message}`)
  }
  const line = stdout.split('\n').find((l) => l.startsWith(CHILD_RESULT))
  if (!line) throw new Error(`the CPU run at ${n}^3 (TFUS_CPU_KERNELS=${kernels}) printed no result:\n${stdout}`)
  return JSON.parse(line.slice(CHILD_RESULT.length)) as Run
}

interface Variant {
  readonly label: string
  measure(n: number): Promise<Run>
}

async function main() {
  if (options.child !== undefined) {
    const n = positiveInteger('child', options.child, 24)!
    const { factory } = await selectBackend('cpu')
    console.log(CHILD_RESULT + JSON.stringify(await timeSteps(factory, n, 'cpu')))
    return
  }
  const threads = defaultCpuThreads()
  const cpuModel = os.cpus()[0]?.model.trim() ?? 'unknown CPU'
  const backends: Array<{ label: string; factory: BackendFactory }> = []
  const variants: Variant[] = []
  for (const choice of ['cpu', 'webgpu'] as const) {
    if (which !== 'all' && which !== choice) continue
    try {
      const selected = await selectBackend(choice)
      for (const note of selected.notes) console.error(`${choice}: ${note}`)
      backends.push({ label: choice, factory: selected.factory })
      if (choice === 'webgpu') {
        variants.push({ label: 'webgpu', measure: (n) => timeSteps(selected.factory, n, 'webgpu') })
        continue
      }
      const native = nativeKernels()
      if ('unavailable' in native) console.error(`cpu: no native kernels row (${native.unavailable})`)
      else variants.push({ label: `cpu (native ${native.simd})`, measure: (n) => measureCpu(n, 'native') })
      variants.push({ label: 'cpu (TypeScript)', measure: (n) => measureCpu(n, 'ts') })
    } catch (e) {
      console.error(`${choice}: not available (${e instanceof Error ? e.message : String(e)})`)
    }
  }
  let rssFromKwave = false
  if (kwaveBinary) {
    variants.push({
      label: 'k-Wave OMP',
      async measure(n) {
        // Imported here: h5wasm's heap would otherwise count in every run's peak memory.
        const { runKwaveBench } = await import('./kwave-bench.ts')
        const k = await runKwaveBench(kwaveBinary, n, threads, kwaveFormat)
        rssFromKwave ||= k.rssSource === 'k-Wave'
        return {
          device: `${k.version} (C++/FFTW, ${threads} thread${threads > 1 ? 's' : ''}, ${cpuModel}), ${k.steps} steps`,
          grid: k.grid,
          msPerStep: (k.loopS * 1000) / k.steps,
          rssMb: k.rssMiB,
        }
      },
    })
  }
  console.log(
    `machine: ${os.cpus().length} cores (${cpuModel}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
  const header = ['backend', 'device', 'grid', 'ms/step', ...(rounds > 1 ? ['rounds [ms/step]'] : []), 'Mcell-steps/s', 'effective GB/s', 'peak RSS MB']
  if (kwaveBinary) header.push('ms/step / k-Wave')
  console.log(`| ${header.join(' | ')} |`)
  console.log(`|${header.map(() => '---').join('|')}|`)
  for (const n of sizes) {
    const runs = new Map<Variant, Run[]>(variants.map((v) => [v, []]))
    for (let r = 0; r < rounds; r++) for (const v of variants) runs.get(v)!.push(await v.measure(n))
    const best = (v: Variant) => Math.min(...runs.get(v)!.map((x) => x.msPerStep))
    const kwave = variants.find((v) => v.label === 'k-Wave OMP')
    for (const v of variants) {
      const all = runs.get(v)!
      const ms = best(v)
      const [gx, gy, gz] = all[0]!.grid.split('x').map(Number) as [number, number, number]
      const cells = gx * gy * gz
      const cols = [
        v.label,
        all[0]!.device,
        all[0]!.grid,
        ms.toFixed(1),
        ...(rounds > 1 ? [all.map((x) => x.msPerStep.toFixed(1)).join(' / ')] : []),
        (cells / ms / 1e3).toFixed(1),
        ((cells * BYTES_PER_CELL_STEP) / (ms * 1e6)).toFixed(1),
        Math.max(...all.map((x) => x.rssMb)).toFixed(0),
      ]
      if (kwave) cols.push((ms / best(kwave)).toFixed(2))
      console.log(`| ${cols.join(' | ')} |`)
    }
  }
  console.log(
    `(load average after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})`,
  )
  if (kwaveBinary) {
    console.log(
      `k-Wave: its own timing of the simulation loop over Nt steps (one exported recording window, only the last step sampled); peak RSS ${rssFromKwave ? "as k-Wave prints it (no GNU time: includes this process's footprint)" : 'by GNU time'}; ours: each run's own process (VmHWM)`,
    )
  }
  if (options.quick) return
  console.log('')
  console.log('| backend | BM1 0.5 mm grid | steps to steady state | residual | wall time to solution [s] | ms/step | peak [kPa] | peak RSS MB |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const { label, factory } of backends) {
    const scene = bm1Scene()
    const result = await runSimulation({ grid: scene.grid, medium: scene.medium, source: scene.source, settings: scene.settings, backend: factory })
    const m = focalMetrics(result.amplitudePa, scene.grid, scene.source.elements)
    console.log(
      `| ${label} | ${result.plan.axes.map((a) => a.total).join('x')} | ${result.steps} | ${result.steadyStateResidual.toExponential(2)} | ${result.wallS.toFixed(0)} | ${((result.wallS * 1000) / result.steps).toFixed(0)} | ${(m.peakPa / 1e3).toFixed(1)} | ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} |`,
    )
  }
}

await main()
