// Experiment: record 1-period windows far past convergence, then evaluate stopping rules post hoc.
import { readFileSync } from 'node:fs'
import { parseScene } from '../core/solver/scene.ts'
import { setupSimulation } from '../core/solver/setup.ts'
import { cpuParallelBackend } from '../electron/adapters/cpu-parallel.ts'
const file = process.argv[2]!
const traversalsTotal = Number(process.argv[3] ?? 2)
const s = parseScene(JSON.parse(readFileSync(file, 'utf8')))
const plan = setupSimulation(s.grid, s.medium, s.source, s.settings)
const t = plan.time
const ppp = t.pointsPerPeriod
const backend = await cpuParallelBackend(2)(plan)
await backend.advance(t.rampSteps, false)
let step = t.rampSteps
const wins: { step: number; re: Float32Array; im: Float32Array }[] = []
const end = t.rampSteps + Math.ceil((traversalsTotal * t.traversalS) / t.dtS)
const t0 = performance.now()
while (step < end) {
  await backend.advance(ppp, true)
  step += ppp
  const w = await backend.takeWindow(ppp)
  wins.push({ step, re: w.re, im: w.im })
}
backend.dispose()
console.log(file, 'grid', plan.axes.map((a) => a.total), 'ppp', ppp, 'ramp', t.rampSteps, 'traversal steps', Math.ceil(t.traversalS / t.dtS), 'current first window', t.firstWindowStartStep, 'ran', step, 'in', ((performance.now() - t0) / 1000).toFixed(0), 's')
const amp = (ws: typeof wins) => {
  const n = ws[0]!.re.length
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    let r = 0, m = 0
    for (const w of ws) { r += w.re[i]!; m += w.im[i]! }
    out[i] = Math.hypot(r / ws.length, m / ws.length)
  }
  return out
}
const ref = amp(wins.slice(-2))
let refPeak = 0, refIdx = 0
for (let i = 0; i < ref.length; i++) if (ref[i]! > refPeak) { refPeak = ref[i]!; refIdx = i }
const rel = (a: Float32Array, b: Float32Array) => { let e = 0, n = 0; for (let i = 0; i < a.length; i++) { e += (a[i]! - b[i]!) ** 2; n += b[i]! ** 2 } return Math.sqrt(e / n) }
const tol = 1e-3
for (const periods of [1, 2]) for (const startFrac of [0.25, 0.5, 0.75, 1]) for (const consecutive of [1, 2]) {
  const start = t.rampSteps + Math.ceil((startFrac * t.traversalS) / t.dtS)
  // windows of `periods` periods beginning at the first 1-period window boundary >= start
  const first = wins.findIndex((w) => w.step - ppp >= start)
  let prev: Float32Array | undefined, ok = 0, stopStep = -1, res = NaN, stopAmp: Float32Array | undefined
  for (let k = first; k + periods <= wins.length; k += periods) {
    const a = amp(wins.slice(k, k + periods))
    if (prev) { res = rel(a, prev); ok = res < tol ? ok + 1 : 0; if (ok >= consecutive) { stopStep = wins[k + periods - 1]!.step; stopAmp = a; break } }
    prev = a
  }
  if (!stopAmp) { console.log(`periods ${periods} start ${startFrac} consec ${consecutive}: no stop`); continue }
  let peak = 0, idx = 0
  for (let i = 0; i < stopAmp.length; i++) if (stopAmp[i]! > peak) { peak = stopAmp[i]!; idx = i }
  console.log(`periods ${periods} start ${startFrac} consec ${consecutive}: stop at ${stopStep} (residual ${res.toExponential(1)}), rel L2 to ref ${(rel(stopAmp, ref) * 100).toFixed(3)} %, peak ${((peak / refPeak - 1) * 100).toFixed(3)} %, peak index moved ${idx !== refIdx}`)
}
