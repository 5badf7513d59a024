/**
 * Surrogate inference around an injected runtime: pre-processing (the plan's medium on the
 * beam-aligned grid, normalised and padded as in training/tfus_surrogate/data.py), test-time
 * augmentation over the 8 lateral symmetries of the grid (exact symmetries of an axisymmetric
 * transducer on a grid centred on its axis), post-processing back to pascals on the solver grid,
 * and a confidence from the spread of the 8 predictions, calibrated on held-out data.
 */
import type { Medium } from '../solver/model.ts'
import type { Placement } from '../planning/placement.ts'
import { POSE_FEATURES, type SurrogateManifest } from './manifest.ts'

/** What a host implements with its ML runtime (onnxruntime-node in electron/adapters/onnx-runtime.ts and electron/app/surrogate-preview.ts). */
export interface InferencePort {
  /** Which execution provider ran (e.g. "cpu", "webgpu", "cuda"). */
  readonly provider: string
  /** input: (batch, 4, Z, Y, X); pose: (batch, P); returns (batch, 1, Z, Y, X), all float32. */
  run(input: Float32Array, pose: Float32Array, batch: number): Promise<Float32Array>
}

export function poseFeatures(placement: Placement): Float32Array {
  const a = placement.pose.axisRas
  const inc = placement.path.incidenceAngleDeg
  const v = [a[0], a[1], a[2], placement.pose.standoffM / 0.03, placement.path.skullThicknessM / 0.01, Number.isFinite(inc) ? inc / 30 : 0]
  if (v.length !== POSE_FEATURES.length) throw new Error('pose feature count mismatch')
  return Float32Array.from(v)
}

const valueAt = (f: number | Float32Array, i: number) => (typeof f === 'number' ? f : f[i]!)

/** (4, Z', Y', X') network input: sound speed, density, attenuation, log free-water prior. */
export function networkInput(m: SurrogateManifest, medium: Medium, freeWaterPa: Float32Array): Float32Array {
  const [nx, ny, nz] = m.frame.grid_size
  const [pz, py, px] = m.frame.padded_size_zyx
  const { y_before: yB, x_before: xB } = m.frame.padding_zyx
  const norm = m.normalisation
  const plane = py * px
  const vol = pz * plane
  const out = new Float32Array(4 * vol)
  out.fill(Math.log(norm.log_floor), 3 * vol, 4 * vol)
  const peak = m.free_water.peak_pa
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const src = i + nx * (j + ny * k)
        const dst = k * plane + (j + yB) * px + (i + xB)
        out[dst] = (valueAt(medium.soundSpeed, src) - norm.sound_speed_ref_m_s) / norm.sound_speed_ref_m_s
        out[vol + dst] = (valueAt(medium.density, src) - norm.density_ref_kg_m3) / norm.density_ref_kg_m3
        out[2 * vol + dst] = valueAt(medium.alphaNpM, src) / norm.alpha_scale_np_m
        out[3 * vol + dst] = Math.log(freeWaterPa[src]! / peak + norm.log_floor)
      }
  return out
}

/**
 * Lateral permutation of variant k (bit 0 flips x, bit 1 flips y, bit 2 swaps x and y, applied
 * in that order, as training/tfus_surrogate/data.py `dihedral`): transformed[q] = original[perm[q]].
 */
export function dihedralPermutation(k: number, py: number, px: number): Int32Array {
  if (k & 4 && py !== px) throw new Error('transposed variants need a square lateral grid')
  let p = Int32Array.from({ length: py * px }, (_, q) => q)
  const apply = (f: (y: number, x: number) => number) => {
    const next = new Int32Array(py * px)
    for (let y = 0; y < py; y++) for (let x = 0; x < px; x++) next[y * px + x] = p[f(y, x)]!
    p = next
  }
  if (k & 1) apply((y, x) => y * px + (px - 1 - x))
  if (k & 2) apply((y, x) => (py - 1 - y) * px + x)
  if (k & 4) apply((y, x) => x * px + y)
  return p
}

function permuteChannels(src: Float32Array, dst: Float32Array, dstOffset: number, channels: number, planes: number, perm: Int32Array) {
  const plane = perm.length
  for (let c = 0; c < channels * planes; c++) {
    const base = c * plane
    for (let q = 0; q < plane; q++) dst[dstOffset + base + q] = src[base + perm[q]!]!
  }
}

export interface SurrogatePrediction {
  /** Mean of the variants' amplitudes [Pa] on the solver grid, at the reference source amplitude. */
  readonly amplitudePa: Float32Array
  /** Peak of each variant [Pa] and its flat index on the solver grid. */
  readonly variantPeaksPa: readonly number[]
  readonly variantPeakIndices: readonly number[]
  /** Relative SD of the variants' peaks, and RMS distance of their peaks from the mean's [m]. */
  readonly peakSpread: number
  readonly focusSpreadM: number
  /** In [0, 1]; see SurrogateManifest.confidence. */
  readonly confidence: number
  readonly expectedPeakError: number
  readonly low: boolean
  readonly calibrated: boolean
  readonly provider: string
  readonly inferenceS: number
}

export async function predictField(
  port: InferencePort,
  m: SurrogateManifest,
  medium: Medium,
  freeWaterPa: Float32Array,
  pose: Float32Array,
  variants = 8,
): Promise<SurrogatePrediction> {
  const started = performance.now()
  const [nx, ny, nz] = m.frame.grid_size
  const [pz, py, px] = m.frame.padded_size_zyx
  const { y_before: yB, x_before: xB } = m.frame.padding_zyx
  const plane = py * px
  const vol = pz * plane
  const base = networkInput(m, medium, freeWaterPa)
  const batch = Math.max(1, Math.min(8, variants))
  const input = new Float32Array(batch * 4 * vol)
  const poses = new Float32Array(batch * pose.length)
  const perms: Int32Array[] = []
  for (let k = 0; k < batch; k++) {
    const perm = dihedralPermutation(k, py, px)
    perms.push(perm)
    permuteChannels(base, input, k * 4 * vol, 4, pz, perm)
    poses.set(pose, k * pose.length)
  }
  const output = await port.run(input, poses, batch)
  if (output.length !== batch * vol) throw new Error(`the model returned ${output.length} values, expected ${batch * vol}`)
  const floor = m.normalisation.log_floor
  const peakPa = m.free_water.peak_pa
  const n = nx * ny * nz
  const sum = new Float32Array(n)
  const variantPeaksPa: number[] = []
  const variantPeakIndices: number[] = []
  const back = new Float32Array(vol)
  for (let k = 0; k < batch; k++) {
    // Undo the permutation: original[perm[q]] = transformed[q].
    const perm = perms[k]!
    for (let z = 0; z < pz; z++) {
      const o = k * vol + z * plane
      for (let q = 0; q < plane; q++) back[z * plane + perm[q]!] = output[o + q]!
    }
    let best = -1
    let bestIdx = 0
    for (let kz = 0; kz < nz; kz++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          const v = i + nx * (j + ny * kz)
          const a = Math.max(0, (Math.exp(back[kz * plane + (j + yB) * px + (i + xB)]!) - floor) * peakPa)
          sum[v] = sum[v]! + a / batch
          if (a > best) {
            best = a
            bestIdx = v
          }
        }
    variantPeaksPa.push(best)
    variantPeakIndices.push(bestIdx)
  }
  let meanPeak = 0
  let meanIdx = 0
  for (let v = 0; v < n; v++)
    if (sum[v]! > meanPeak) {
      meanPeak = sum[v]!
      meanIdx = v
    }
  const mu = variantPeaksPa.reduce((a, b) => a + b, 0) / batch
  const peakSpread = Math.sqrt(variantPeaksPa.reduce((a, b) => a + (b - mu) ** 2, 0) / batch) / mu
  const coords = (v: number) => [v % nx, Math.floor(v / nx) % ny, Math.floor(v / (nx * ny))]
  const c0 = coords(meanIdx)
  const focusSpreadM =
    Math.sqrt(variantPeakIndices.reduce((acc, v) => acc + coords(v).reduce((s, c, d) => s + (c - c0[d]!) ** 2, 0), 0) / batch) * m.frame.spacing_m
  const cal = m.confidence
  const expectedPeakError = (cal?.slope ?? 1) * peakSpread
  const confidence = Math.max(0, 1 - Math.min(1, expectedPeakError / (cal?.error_at_zero_confidence ?? 0.2)))
  return {
    amplitudePa: sum,
    variantPeaksPa,
    variantPeakIndices,
    peakSpread,
    focusSpreadM,
    confidence,
    expectedPeakError,
    low: confidence < (cal?.low_below ?? 0.5),
    calibrated: cal !== undefined,
    provider: port.provider,
    inferenceS: (performance.now() - started) / 1000,
  }
}
