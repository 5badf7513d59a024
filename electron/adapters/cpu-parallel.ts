/**
 * Multi-threaded CPU backend: the engine's arrays live in SharedArrayBuffers and a team of
 * worker threads (one per core) steps them together. The main thread only schedules, so it
 * stays free for progress, cancellation and the UI's IPC.
 */
import { startWorker } from './app-paths.ts'
import * as os from 'node:os'
import type { BackendFactory, SolverBackend } from '../../core/solver/run.ts'
import { buildEngineData } from '../../core/solver/cpu/engine.ts'
import { windowAmplitude } from '../../core/solver/cpu/backend.ts'
import { SimulationNumericalError } from '../../core/solver/errors.ts'
import { hostMemoryBudget } from './host-memory.ts'

const shared32 = (n: number) => new Float32Array(new SharedArrayBuffer(4 * Math.max(1, n)), 0, n)
const shared64 = (n: number) => new Float64Array(new SharedArrayBuffer(8 * Math.max(1, n)), 0, n)

type Reply = { kind: 'ready' } | { kind: 'done' } | { kind: 'error'; message: string }

export function cpuParallelBackend(threads = Math.max(1, Math.min(os.availableParallelism(), 16))): BackendFactory {
  // The engine lives in this process's memory: runSimulation checks its estimate against the
  // machine's budget (host-memory.ts) before this factory allocates anything.
  const factory = async (plan: Parameters<BackendFactory>[0]) => {
    const data = buildEngineData(plan, shared32, shared64)
    const barrier = new Int32Array(new SharedArrayBuffer(8))
    const workers = Array.from({ length: threads }, () => startWorker('cpu-worker'))
    let failure: Error | undefined
    const waitAll = () =>
      Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve, reject) => {
              const onMessage = (reply: Reply) => {
                cleanup()
                if (reply.kind === 'error') reject(new SimulationNumericalError(`CPU worker failed: ${reply.message}`))
                else resolve()
              }
              const onError = (e: Error) => {
                cleanup()
                reject(e)
              }
              const onExit = (code: number) => {
                cleanup()
                reject(new SimulationNumericalError(`CPU worker exited with code ${code}`))
              }
              const cleanup = () => {
                w.off('message', onMessage)
                w.off('error', onError)
                w.off('exit', onExit)
              }
              w.on('message', onMessage)
              w.on('error', onError)
              w.on('exit', onExit)
            }),
        ),
      ).catch((e: unknown) => {
        failure = e instanceof Error ? e : new Error(String(e))
        throw failure
      })
    const ready = waitAll()
    workers.forEach((w, rank) => w.postMessage({ kind: 'init', data, rank, size: threads, barrier }))
    try {
      await ready
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()))
      throw e
    }
    let step = 0
    const backend: SolverBackend = {
      name: 'cpu',
      device: `CPU (TypeScript, ${threads} thread${threads > 1 ? 's' : ''}, ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'})`,
      async advance(steps, accumulate) {
        if (failure) throw failure
        const done = waitAll()
        for (const w of workers) w.postMessage({ kind: 'advance', from: step + 1, steps, accumulate })
        await done
        step += steps
      },
      async takeWindow(windowSteps) {
        return windowAmplitude(data, windowSteps)
      },
      dispose() {
        for (const w of workers) void w.terminate()
      },
    }
    return backend
  }
  return Object.assign(factory, { memoryBudget: () => hostMemoryBudget(), threads })
}
