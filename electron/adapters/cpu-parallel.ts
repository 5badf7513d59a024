/**
 * Multi-threaded CPU backend: the engine's arrays live in SharedArrayBuffers and a team of
 * worker threads (one per core) steps them together. The main thread only schedules, so it
 * stays free for progress, cancellation and the UI's IPC.
 */
import { startWorker } from './app-paths.ts'
import * as os from 'node:os'
import type { BackendFactory, SolverBackend } from '../../core/solver/run.ts'
import { buildEngineData, type EngineData } from '../../core/solver/cpu/engine.ts'
import { workerRpc } from './worker-rpc.ts'
import { windowAmplitude } from '../../core/solver/cpu/backend.ts'
import { SimulationNumericalError } from '../../core/solver/errors.ts'
import { hostMemoryBudget } from './host-memory.ts'
import { nativeKernels } from './native-kernels.ts'

const shared32 = (n: number) => new Float32Array(new SharedArrayBuffer(4 * Math.max(1, n)), 0, n)
const shared64 = (n: number) => new Float64Array(new SharedArrayBuffer(8 * Math.max(1, n)), 0, n)

/** One call to a team member (cpu-worker.ts): build its stepper, or advance it. */
export type CpuWorkerRequest =
  | { readonly kind: 'init'; readonly data: EngineData; readonly rank: number; readonly size: number; readonly barrier: Int32Array }
  | { readonly kind: 'advance'; readonly from: number; readonly steps: number; readonly accumulate: boolean }

/** Which kernels the team runs (the workers make the same choice: native-kernels.ts). */
function kernelsLabel(): string {
  const native = nativeKernels()
  return 'unavailable' in native ? 'TypeScript' : `native ${native.simd}`
}

/** The team size cpuParallelBackend uses by default: one worker per core, at most 16. */
export function defaultCpuThreads(): number {
  return Math.max(1, Math.min(os.availableParallelism(), 16))
}

export function cpuParallelBackend(threads = defaultCpuThreads()): BackendFactory {
  // The engine lives in this process's memory: runSimulation checks its estimate against the
  // machine's budget (host-memory.ts) before this factory allocates anything.
  const factory = async (plan: Parameters<BackendFactory>[0]) => {
    // The native kernels update inside the inverse FFT and need no grid-sized gradient scratch.
    const data = buildEngineData(plan, shared32, shared64, { gradScratch: 'unavailable' in nativeKernels() })
    const barrier = new Int32Array(new SharedArrayBuffer(8))
    const workers = Array.from({ length: threads }, () =>
      workerRpc<CpuWorkerRequest, null>(startWorker('cpu-worker'), {
        decodeError: (message) => new SimulationNumericalError(`CPU worker failed: ${String(message)}`),
        workerFailed: (why) => ('error' in why ? why.error : new SimulationNumericalError(`CPU worker exited with code ${why.exitCode}`)),
      }),
    )
    let failure: Error | undefined
    // Every member gets the same call; the shared arrays (SharedArrayBuffer) are not copied.
    const allDo = (request: (rank: number) => CpuWorkerRequest) =>
      Promise.all(workers.map((w, rank) => w.call(request(rank)))).catch((e: unknown) => {
        failure = e instanceof Error ? e : new Error(String(e))
        throw failure
      })
    try {
      await allDo((rank) => ({ kind: 'init', data, rank, size: threads, barrier }))
    } catch (e) {
      await Promise.all(workers.map((w) => w.worker.terminate()))
      throw e
    }
    let step = 0
    const backend: SolverBackend = {
      name: 'cpu',
      device: `CPU (${kernelsLabel()}, ${threads} thread${threads > 1 ? 's' : ''}, ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'})`,
      async advance(steps, accumulate) {
        if (failure) throw failure
        await allDo(() => ({ kind: 'advance', from: step + 1, steps, accumulate }))
        step += steps
      },
      async takeWindow(windowSteps) {
        return windowAmplitude(data, windowSteps)
      },
      dispose() {
        for (const w of workers) void w.worker.terminate()
      },
    }
    return backend
  }
  return Object.assign(factory, { memoryBudget: () => hostMemoryBudget(), threads })
}
