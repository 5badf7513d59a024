/**
 * CPU backend of the thermal model: the update of ./model.ts over typed arrays, one thread
 * (a 10-minute protocol on a 1 mm head grid is a few thousand steps of ~0.5 M voxels, seconds of
 * work: see `npm run bench:thermal`). Float64 throughout, so it is the reference the WebGPU
 * backend (float32) is compared against.
 */
import { abortError, totalSteps, type ThermalBackend, type ThermalRunOutput, type ThermalRunRequest } from './backend.ts'
import { cem43Linear } from './cem43.ts'
import { HELD, TRACKED_LABELS, stepWeights } from './model.ts'
import { BODY_TEMPERATURE_C } from './properties.ts'

const LN_QUARTER = Math.log(0.25)
/** Rise below which the temperature is under 43 °C. */
const BELOW_43_RISE = 43 - BODY_TEMPERATURE_C

/** Yield to the event loop this often [ms], so a cancel (SIGINT, AbortSignal) gets through. */
const YIELD_MS = 100

export function createCpuThermalBackend(): ThermalBackend {
  return { name: 'cpu', device: 'CPU (TypeScript, one thread)', run: runCpu, dispose: () => {} }
}

async function runCpu(req: ThermalRunRequest): Promise<ThermalRunOutput> {
  const p = req.problem
  const [nx, ny, nz] = p.dims
  const nxy = nx * ny
  const n = p.count
  const { labels, cx, cy, cz, invCapacity, heatingRate } = p
  let old = new Float64Array(n)
  let next = new Float64Array(n)
  if (req.initialRise) for (let v = 0; v < n; v++) old[v] = labels[v]! & HELD ? 0 : req.initialRise[v]!
  const maps = req.recordMaps
  const maxRise = maps ? Float64Array.from(old, (t) => Math.max(0, t)) : null
  const cem = maps ? new Float64Array(n) : null
  const steps = totalSteps(req.batches)
  const tracked = TRACKED_LABELS.length
  const trackedMax = new Float32Array((steps + 1) * tracked)
  const probes = req.probes
  const probeRise = new Float32Array((steps + 1) * probes.length)
  // Tracked label -> slot in the row (-1: not tracked).
  const slotOf = new Int32Array(256).fill(-1)
  TRACKED_LABELS.forEach((l, s) => (slotOf[l] = s))
  const row = new Float64Array(tracked)
  const record = (step: number, field: Float64Array) => {
    if (step === 0) {
      row.fill(0)
      for (let v = 0; v < n; v++) {
        const s = slotOf[labels[v]!]!
        if (s >= 0 && field[v]! > row[s]!) row[s] = field[v]!
      }
    }
    for (let s = 0; s < tracked; s++) trackedMax[step * tracked + s] = row[s]!
    for (let q = 0; q < probes.length; q++) probeRise[step * probes.length + q] = field[probes[q]!]!
  }
  record(0, old)

  let step = 0
  let lastYield = performance.now()
  for (const batch of req.batches) {
    const { decay, gain } = stepWeights(p.perfusionByLabel, batch.dtS)
    const level = batch.level
    const dtMin = batch.dtS / 60
    const baseDose = dtMin * Math.pow(0.25, 43 - BODY_TEMPERATURE_C)
    for (let s = 0; s < batch.steps; s++) {
      if (req.signal?.aborted) throw abortError()
      row.fill(0)
      for (let k = 1; k < nz - 1; k++) {
        for (let j = 1; j < ny - 1; j++) {
          const base = nx * j + nxy * k
          for (let v = base + 1; v < base + nx - 1; v++) {
            const label = labels[v]!
            if (label & HELD) continue
            const t = old[v]!
            const flux =
              cx[v]! * (old[v + 1]! - t) -
              cx[v - 1]! * (t - old[v - 1]!) +
              cy[v]! * (old[v + nx]! - t) -
              cy[v - nx]! * (t - old[v - nx]!) +
              cz[v]! * (old[v + nxy]! - t) -
              cz[v - nxy]! * (t - old[v - nxy]!)
            const nt = decay[label]! * t + gain[label]! * (invCapacity[v]! * flux + level * heatingRate[v]!)
            next[v] = nt
            const slot = slotOf[label]!
            if (slot >= 0 && nt > row[slot]!) row[slot] = nt
            if (maps) {
              if (nt > maxRise![v]!) maxRise![v] = nt
              // Below 43 °C at both ends (nearly every voxel): dtMin 0.25^(6 - mean rise) sinhc(...),
              // with the exponential by its Taylor series while the mean rise is small (exact to
              // ~1e-12 relative, and several times cheaper than Math.exp); otherwise the general form.
              const m = 0.5 * (t + nt)
              const half = 0.5 * (nt - t) * LN_QUARTER
              if (nt < BELOW_43_RISE && t < BELOW_43_RISE && m < 0.07 && m > -0.07 && half < 0.01 && half > -0.01) {
                const y = -LN_QUARTER * m
                const e = 1 + y * (1 + (y / 2) * (1 + (y / 3) * (1 + (y / 4) * (1 + (y / 5) * (1 + y / 6)))))
                const h2 = half * half
                cem![v] = cem![v]! + baseDose * e * (1 + (h2 / 6) * (1 + h2 / 20))
              } else cem![v] = cem![v]! + cem43Linear(BODY_TEMPERATURE_C + t, BODY_TEMPERATURE_C + nt, dtMin)
            }
          }
        }
      }
      const swap = old
      old = next
      next = swap
      step++
      record(step, old)
      const now = performance.now()
      if (now - lastYield > YIELD_MS) {
        req.onProgress?.(step, steps)
        await new Promise((resolve) => setTimeout(resolve, 0))
        lastYield = performance.now()
      }
    }
  }
  req.onProgress?.(steps, steps)
  return {
    maxRise: maxRise ? Float32Array.from(maxRise) : null,
    cem43: cem ? Float32Array.from(cem) : null,
    finalRise: Float32Array.from(old),
    trackedMax,
    probeRise,
  }
}
