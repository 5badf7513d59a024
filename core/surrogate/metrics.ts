/**
 * How a predicted field compares with the solver's, as DeepTFUS reports it (Srivastav et al.
 * 2025; metric definitions per its reproduction's eval.py): focal position error = distance
 * between the argmax voxels; peak error = |max pred - max true| / max true; relative L2 =
 * ||pred - true|| / ||true||, here both on amplitudes in Pa and on the paper's normalised
 * log1p(p / max p) fields.
 */
/** Soft tissue of the planner's medium (core/skull/tissues.ts BRAIN) and coupling water. */
const SOFT_TISSUE = [1560, 1040] as const
const WATER = [1500, 1000] as const

/**
 * Intracranial voxels from a beam-aligned medium: soft tissue past bone along +z in its column
 * (training/tfus_surrogate/data.py `intracranial_mask`, the planner's brain mask). The focus a
 * planner cares about is here; in front of the skull the bowl's near field and the skull's
 * reflection can be stronger, and a whole-grid argmax would land there.
 */
export function intracranialMask(soundSpeed: Float32Array, density: Float32Array, size: readonly [number, number, number]): Uint8Array {
  const [nx, ny, nz] = size
  const plane = nx * ny
  const out = new Uint8Array(plane * nz)
  const seen = new Uint8Array(plane)
  for (let k = 0; k < nz; k++)
    for (let q = 0; q < plane; q++) {
      const v = k * plane + q
      const c = soundSpeed[v]!
      const r = density[v]!
      const soft = Math.abs(c - SOFT_TISSUE[0]) < 0.5 && Math.abs(r - SOFT_TISSUE[1]) < 0.5
      const water = Math.abs(c - WATER[0]) < 0.5 && Math.abs(r - WATER[1]) < 0.5
      if (!soft && !water) seen[q] = 1
      else if (soft && seen[q]) out[v] = 1
    }
  return out
}

/** The field with everything outside the mask set to zero. */
export function masked(field: Float32Array, mask: Uint8Array): Float32Array {
  return field.map((v, i) => (mask[i] ? v : 0))
}

export interface FieldComparison {
  readonly focalErrorM: number
  readonly peakError: number
  readonly relL2Pa: number
  readonly relL2Log1p: number
}

function argmax(a: Float32Array): number {
  let best = -Infinity
  let idx = 0
  for (let i = 0; i < a.length; i++)
    if (a[i]! > best) {
      best = a[i]!
      idx = i
    }
  return idx
}

export function compareFields(pred: Float32Array, truth: Float32Array, size: readonly [number, number, number], spacingM: number): FieldComparison {
  if (pred.length !== truth.length || pred.length !== size[0] * size[1] * size[2])
    throw new Error(`compareFields: ${pred.length} and ${truth.length} values for a ${size.join('x')} grid`)
  const [nx, ny] = size
  const ip = argmax(pred)
  const it = argmax(truth)
  const xyz = (v: number) => [v % nx, Math.floor(v / nx) % ny, Math.floor(v / (nx * ny))]
  const a = xyz(ip)
  const b = xyz(it)
  const focalErrorM = Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!) * spacingM
  const maxP = pred[ip]!
  const maxT = truth[it]!
  let d2 = 0
  let t2 = 0
  let dl2 = 0
  let tl2 = 0
  for (let i = 0; i < pred.length; i++) {
    d2 += (pred[i]! - truth[i]!) ** 2
    t2 += truth[i]! ** 2
    const lp = Math.log1p(Math.max(0, pred[i]!) / maxP)
    const lt = Math.log1p(Math.max(0, truth[i]!) / maxT)
    dl2 += (lp - lt) ** 2
    tl2 += lt * lt
  }
  return { focalErrorM, peakError: Math.abs(maxP - maxT) / maxT, relL2Pa: Math.sqrt(d2 / t2), relL2Log1p: Math.sqrt(dl2 / tl2) }
}

export interface Stats {
  readonly median: number
  readonly mean: number
  readonly sd: number
}

export function stats(values: readonly number[]): Stats {
  if (values.length === 0) return { median: Number.NaN, mean: Number.NaN, sd: Number.NaN }
  const s = [...values].sort((x, y) => x - y)
  const mid = s.length >> 1
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
  const mean = values.reduce((x, y) => x + y, 0) / values.length
  const sd = Math.sqrt(values.reduce((x, y) => x + (y - mean) ** 2, 0) / Math.max(1, values.length - 1))
  return { median, mean, sd }
}

/** Spearman rank correlation (ties get their mean rank). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  const rank = (v: readonly number[]) => {
    const order = v.map((value, i) => ({ value, i })).sort((a, b) => a.value - b.value)
    const r = new Array<number>(v.length)
    for (let s = 0; s < order.length;) {
      let e = s
      while (e + 1 < order.length && order[e + 1]!.value === order[s]!.value) e++
      for (let q = s; q <= e; q++) r[order[q]!.i] = (s + e) / 2
      s = e + 1
    }
    return r
  }
  const rx = rank(x)
  const ry = rank(y)
  const mx = rx.reduce((a, b) => a + b, 0) / rx.length
  const my = ry.reduce((a, b) => a + b, 0) / ry.length
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (let i = 0; i < rx.length; i++) {
    sxy += (rx[i]! - mx) * (ry[i]! - my)
    sxx += (rx[i]! - mx) ** 2
    syy += (ry[i]! - my) ** 2
  }
  return sxy / Math.sqrt(sxx * syy)
}
