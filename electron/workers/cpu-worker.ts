/**
 * One member of the CPU team: runs the shared engine's steps on its slice of the grid and
 * meets the other members at barriers (Atomics on a shared Int32Array).
 */
import { createStepper, type Stepper, type Team } from '../../core/solver/cpu/engine.ts'
import type { CpuWorkerRequest } from '../adapters/cpu-parallel.ts'
import { serveRpc } from '../adapters/worker-rpc.ts'
import { nativeKernels } from '../adapters/native-kernels.ts'

/** Sense-reversing barrier: [arrived, generation]; spin briefly (phases are short), then sleep. */
function makeBarrier(state: Int32Array, size: number): () => void {
  return () => {
    const generation = Atomics.load(state, 1)
    if (Atomics.add(state, 0, 1) === size - 1) {
      Atomics.store(state, 0, 0)
      Atomics.add(state, 1, 1)
      Atomics.notify(state, 1)
      return
    }
    for (let spin = 0; spin < 20000; spin++) if (Atomics.load(state, 1) !== generation) return
    while (Atomics.load(state, 1) === generation) Atomics.wait(state, 1, generation, 50)
  }
}

let stepper: Stepper | undefined

serveRpc<CpuWorkerRequest, null>(
  (message) => {
    if (message.kind === 'init') {
      const team: Team = { rank: message.rank, size: message.size, barrier: makeBarrier(message.barrier, message.size) }
      const native = nativeKernels()
      stepper = createStepper(message.data, team, 'unavailable' in native ? undefined : native.kernelsFor)
      return null
    }
    if (!stepper) throw new Error('advance before init')
    for (let s = 0; s < message.steps; s++) {
      const index = message.from + s
      stepper.step(index)
      if (message.accumulate) stepper.accumulate(index)
    }
    return null
  },
  { encodeError: (e) => (e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e)) },
)
