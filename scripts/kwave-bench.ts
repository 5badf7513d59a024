/**
 * k-Wave's C++ OpenMP binary (kspaceFirstOrder-OMP) on a bench scene, for bench:solver's
 * side-by-side (`--kwave <binary>`): the scene goes through our own exporter (the file
 * `tfus export-kwave` writes), the binary runs it in a temporary folder, and the per-step time and
 * peak memory are read from what the binary itself prints.
 *
 * Timing: k-Wave prints an "Elapsed time" after each phase (data loading, pre-processing with the
 * FFTW plans, the simulation loop, post-processing; KSpaceFirstOrderSolver::compute). Only the
 * simulation loop's counts: the first "Elapsed time" after the progress table, divided by Nt (the
 * "Simulation time steps" it prints). It samples only the last step (`-s Nt --p_max`), so the loop
 * is stepping, as bench:solver times our backends (advance without the window accumulation).
 * Memory: the binary's peak resident set. Its own "Peak memory in use" (getrusage's ru_maxrss)
 * is not that when Node starts it: Linux keeps a process's ru_maxrss across exec, so a child forked
 * from this Node process reports at least Node's own peak (a 64^3 run printed 108 MB where GNU
 * time measured 44 MB). GNU time (/usr/bin/time -v) forks the binary from its own small process,
 * so its "Maximum resident set size" is the binary's; without it the binary's figure is given, marked.
 */
import { execFile } from 'node:child_process'
import { constants as fsConstants, promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { setupSimulation } from '../core/solver/setup.ts'
import { buildKwaveExport, type KwaveFormat } from '../core/solver/kwave-export.ts'
import { writeKwaveInputFile } from '../electron/adapters/kwave-hdf5.ts'
import { benchSceneOfSize } from './bench-scenes.ts'

export interface KwaveTiming {
  /** The binary's banner, e.g. "kspaceFirstOrder-OMP v1.3". */
  readonly version: string
  readonly steps: number
  /** The simulation loop's elapsed time [s]. */
  readonly loopS: number
  readonly peakMiB: number
}

/** The figures of one run from kspaceFirstOrder-OMP's standard output (basic verbosity). */
export function parseKwaveOutput(text: string): KwaveTiming {
  const version = /(kspaceFirstOrder-\w+ v[\d.]+)/.exec(text)?.[1]
  const steps = /Simulation time steps:\s+(\d+)/.exec(text)?.[1]
  // The progress table's header ends with "Est. finish time"; the loop's own elapsed time follows the table.
  const table = text.indexOf('Est. finish time')
  const loop = table < 0 ? undefined : /Elapsed time:\s+([\d.]+)s/.exec(text.slice(table))?.[1]
  const peak = /Peak memory in use:\s+(\d+)MB/.exec(text)?.[1]
  const missing = [
    version === undefined && 'the version banner',
    steps === undefined && '"Simulation time steps"',
    loop === undefined && 'the simulation loop\'s "Elapsed time"',
    peak === undefined && '"Peak memory in use"',
  ].filter(Boolean)
  if (missing.length > 0) throw new Error(`k-Wave's output lacks ${missing.join(', ')} (did the run finish?)`)
  return { version: version!, steps: Number(steps), loopS: Number(loop), peakMiB: Number(peak) }
}

const run = promisify(execFile)

const GNU_TIME = '/usr/bin/time'

/** GNU time's "Maximum resident set size (kbytes)" in MiB, from its -v report. */
export function parseGnuTimeMaxRss(text: string): number | undefined {
  const kb = /Maximum resident set size \(kbytes\):\s+(\d+)/.exec(text)?.[1]
  return kb === undefined ? undefined : Number(kb) / 1024
}

export interface KwaveBenchRun extends KwaveTiming {
  readonly grid: string
  /** Peak resident set [MiB]: GNU time's where present, else the binary's own (see the header). */
  readonly rssMiB: number
  readonly rssSource: 'GNU time' | 'k-Wave'
}

/**
 * Exports benchSceneOfSize(n) with Nt = one recording window (the exporter's shortest run) and runs
 * it with `threads` OpenMP threads in a temporary folder, removed afterwards.
 */
export async function runKwaveBench(binary: string, n: number, threads: number, format: KwaveFormat): Promise<KwaveBenchRun> {
  const scene = benchSceneOfSize(n)
  const plan = setupSimulation(scene.grid, scene.medium, scene.source, scene.settings)
  // The recorded window starts before steady state (the exporter warns); only the speed is measured.
  const exported = buildKwaveExport(plan, { format, steps: plan.time.windowSteps })
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-bench-kwave-'))
  try {
    const input = path.join(dir, 'input.h5')
    await writeKwaveInputFile(input, exported, { description: `tfus bench:solver scene ${n}^3` })
    const args = ['-i', input, '-o', path.join(dir, 'output.h5'), '-t', String(threads), '-s', String(exported.nt), '--p_max']
    const gnuTime = await fs
      .access(GNU_TIME, fsConstants.X_OK)
      .then(() => true)
      .catch(() => false)
    const [file, argv] = gnuTime ? [GNU_TIME, ['-v', binary, ...args]] : [binary, args]
    let stdout: string
    let stderr: string
    try {
      ;({ stdout, stderr } = await run(file, argv, { cwd: dir, env: { ...process.env, OMP_NUM_THREADS: String(threads) }, maxBuffer: 16 * 2 ** 20 }))
    } catch (e) {
      const out = e as { stdout?: string; stderr?: string; message?: string }
      const tail = `${out.stdout ?? ''}${out.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n')
      throw new Error(`${binary} ${args.join(' ')} failed: ${out.message?.split('\n')[0] ?? ''}\n${tail}`)
    }
    const timing = parseKwaveOutput(stdout)
    if (timing.steps !== exported.nt) throw new Error(`k-Wave ran ${timing.steps} steps, the exported file has Nt = ${exported.nt}`)
    const measured = gnuTime ? parseGnuTimeMaxRss(stderr) : undefined
    if (gnuTime && measured === undefined) throw new Error(`${GNU_TIME} -v printed no "Maximum resident set size" (not GNU time?)`)
    return {
      ...timing,
      grid: exported.gridSize.join('x'),
      rssMiB: measured ?? timing.peakMiB,
      rssSource: measured === undefined ? 'k-Wave' : 'GNU time',
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}
