/**
 * The single-threaded CPU backend behind runSimulation (the reference; the Node host adds a
 * multi-threaded one on the same engine, electron/adapters/cpu-parallel.ts).
 */
import type { BackendFactory, SolverBackend } from '../run.ts'
import { buildEngineData, createStepper, SOLO, type EngineData } from './engine.ts'

/** Complex amplitude of the window from the DFT sums: p = A cos(omega t + phi). */
export function windowAmplitude(d: EngineData, windowSteps: number): { re: Float32Array; im: Float32Array } {
  // sum p cos = (W/2) A cos phi, sum p sin = -(W/2) A sin phi.
  const n = d.sumCos.length
  const re = new Float32Array(n)
  const im = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    re[i] = (2 / windowSteps) * d.sumCos[i]!
    im[i] = (-2 / windowSteps) * d.sumSin[i]!
  }
  d.sumCos.fill(0)
  d.sumSin.fill(0)
  return { re, im }
}

export const cpuBackend: BackendFactory = async (plan) => {
  const data = buildEngineData(plan)
  const stepper = createStepper(data, SOLO)
  let step = 0
  const backend: SolverBackend = {
    name: 'cpu',
    device: 'CPU (TypeScript, 1 thread)',
    async advance(steps, accumulate) {
      for (let s = 0; s < steps; s++) {
        step++
        stepper.step(step)
        if (accumulate) stepper.accumulate(step)
      }
    },
    async takeWindow(windowSteps) {
      return windowAmplitude(data, windowSteps)
    },
    dispose() {},
  }
  return backend
}
