/**
 * Rigid CT-MRI registration with elastix (itk-wasm): the host side of `core/registration`.
 *
 * registerRigid(fixed = CT, moving = MRI) finds the rigid map of MRI world points onto CT
 * world points (MRI -> CT). elastix itself reports the opposite map, fixed -> moving in LPS
 * millimetres (the pull-back it resamples the moving image with); `core/registration/rigid.ts`
 * inverts it and converts it to metres and RAS. Steps:
 *
 * 1. Both volumes are resampled (trilinear, our resampleTrilinear) to ~2 mm voxels in their own
 *    orientation: a rigid fit of a whole head needs no finer detail (measured on the samples:
 *    2 mm recovers the known transform to ~0.5 mm and 0.1 degree in ~10 s, 1 mm to ~0.2 mm
 *    in ~3x the time), and the worker gets ~1 M voxels per image instead of ~10 M.
 * 2. CT values below -1024 HU (padding outside the reconstruction circle) are clamped to
 *    -1024, so that the padding edge does not look like anatomy to the metric.
 * 3. Initialisation: the MRI is shifted so that the centre of mass of its head (foreground
 *    mask) sits on the CT's. Scanner coordinates of a CT and an MRI from different sessions
 *    or sites are unrelated, so starting from them would often leave no overlap.
 * 4. elastix runs in a worker thread (`RIGID_PARAMETER_MAP`): the main thread stays free for
 *    progress and cancellation (the worker is terminated on abort), and the pipeline's console
 *    output goes to the worker's captured stdout/stderr, never to the user's terminal.
 * 5. Quality: with the found transform the MRI's head outline is compared with the CT's
 *    (Dice of filled foreground masks inside the MRI's field of view) and the normalised
 *    mutual information inside the CT's head is computed; see `assessAlignment`.
 */
import { startWorker } from './app-paths.ts'
import { workerRpc } from './worker-rpc.ts'
import * as path from 'node:path'
import { itkImageFromVolume } from '../../core/io/itk-image.ts'
import { affineFromRotationTranslation, mat3Multiply, mat3MulVec, rotationAngleDeg, rotationOf, translationOf } from '../../core/math/index.ts'
import { resampleTrilinear, voxelToWorld } from '../../core/volume/index.ts'
import type { GridSpec, Vec3, Volume } from '../../core/volume/index.ts'
import {
  rigidFromElastixEuler,
  transformFileMatrices,
  TRANSFORM_FILE_FORMAT,
  withConvention,
  type ElastixEuler,
  type RigidTransform,
} from '../../core/registration/rigid.ts'

const MM_PER_M = 1000

// ---------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------

/**
 * The elastix parameter map (one rigid stage), chosen for CT-MRI of a head on ~2 mm images:
 *
 * - Transform EulerTransform: 3 rotations + 3 translations; AutomaticScalesEstimation weighs
 *   radians against millimetres from the image extent. AutomaticTransformInitialization is off
 *   because the centres of mass are aligned beforehand (CT air at -1000 HU makes elastix's own
 *   "CenterOfGravity" moments meaningless).
 * - Metric AdvancedMattesMutualInformation, 32 histogram bins: CT and T1 intensities are
 *   related by a non-monotonic mapping (bone bright in CT, dark in T1), which MI handles and
 *   correlation or mean squares do not.
 * - 3 resolutions, FixedSmoothingImagePyramid/MovingSmoothingImagePyramid with schedule
 *   4 2 1: Gaussian smoothing of sigma 4, 2, 1 mm on the 2 mm grid, no further subsampling
 *   (the images are small already); the coarse level finds the gross rotation, the fine one
 *   the last millimetre.
 * - Optimizer AdaptiveStochasticGradientDescent with AutomaticParameterEstimation (step sizes
 *   from the image gradients), 300 iterations per resolution, each on 4096 fresh random samples
 *   (RandomCoordinate, NewSamplesEveryIteration): a fixed iteration count (ASGD has no other
 *   stopping rule). On the samples 2048 samples x 200 iterations did about as well (0.4-0.6 mm)
 *   in roughly half the elastix time; the larger budget is kept as margin for real, noisier MRI.
 * - RandomSeed fixed, so the same images give the same transform.
 * - WriteResultImage false: the resampled MRI is not needed (TFUS resamples with the transform
 *   itself), which saves the final B-spline resampling.
 */
export const RIGID_PARAMETER_MAP: Readonly<Record<string, readonly string[]>> = {
  Registration: ['MultiResolutionRegistration'],
  FixedInternalImagePixelType: ['float'],
  MovingInternalImagePixelType: ['float'],
  UseDirectionCosines: ['true'],
  NumberOfResolutions: ['3'],
  FixedImagePyramid: ['FixedSmoothingImagePyramid'],
  MovingImagePyramid: ['MovingSmoothingImagePyramid'],
  FixedImagePyramidSchedule: ['4', '4', '4', '2', '2', '2', '1', '1', '1'],
  MovingImagePyramidSchedule: ['4', '4', '4', '2', '2', '2', '1', '1', '1'],
  Metric: ['AdvancedMattesMutualInformation'],
  NumberOfHistogramBins: ['32'],
  ImageSampler: ['RandomCoordinate'],
  NumberOfSpatialSamples: ['4096'],
  NewSamplesEveryIteration: ['true'],
  MaximumNumberOfSamplingAttempts: ['8'],
  RequiredRatioOfValidSamples: ['0.25'],
  Interpolator: ['LinearInterpolator'],
  Optimizer: ['AdaptiveStochasticGradientDescent'],
  AutomaticParameterEstimation: ['true'],
  MaximumNumberOfIterations: ['300'],
  Transform: ['EulerTransform'],
  AutomaticScalesEstimation: ['true'],
  AutomaticTransformInitialization: ['false'],
  HowToCombineTransforms: ['Compose'],
  ErodeMask: ['false'],
  RandomSeed: ['121212'],
  ResampleInterpolator: ['FinalLinearInterpolator'],
  Resampler: ['DefaultResampler'],
  DefaultPixelValue: ['0'],
  WriteResultImage: ['false'],
  ResultImagePixelType: ['float'],
}

/** Voxel size both images are resampled to before elastix (metres). */
export const DEFAULT_DOWNSAMPLE_M = 0.002

/**
 * Below this Dice overlap of the two head outlines a result is flagged. Same-subject results
 * on the samples reach 0.98 (0.94 with the centres of mass aligned but not yet rotated); the
 * Colin27 T1 (another person) against the CT ends at 0.88. A heuristic calibrated on these
 * samples only, so it flags, it does not prove.
 */
export const MIN_HEAD_DICE = 0.92
/** Below this fraction of the CT's head inside the MRI's field of view a result is flagged. */
export const MIN_COVERAGE = 0.3

// ---------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------

export type RegistrationErrorCode =
  /** An image cannot be registered at all (not 3D, constant, too small). */
  | 'bad-input'
  /** The images do not overlap enough, before or during the registration. */
  | 'no-overlap'
  /** elastix stopped or returned something unusable. */
  | 'elastix-failed'

export class RegistrationError extends Error {
  override readonly name = 'RegistrationError'
  constructor(
    readonly code: RegistrationErrorCode,
    /** The fixed (CT) and moving (MRI) images, as the user named them. */
    readonly fixedFile: string,
    readonly movingFile: string,
    /** What went wrong, in plain words (`message` adds the files). */
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`registering ${movingFile} (MRI, moving) to ${fixedFile} (CT, fixed): ${problem}`, options)
  }
}

export function isRegistrationError(e: unknown): e is RegistrationError {
  return e instanceof RegistrationError
}

export interface RegisterRigidOptions {
  readonly onProgress?: (fraction: number, message: string) => void
  readonly signal?: AbortSignal
  /** Voxel size (m) of the images handed to elastix; default 0.002; 0 keeps the original grids. */
  readonly downsampleM?: number
  /**
   * 'center-of-mass' (default): start with the heads' centres of mass aligned. 'none': start
   * from the images' world coordinates as they are (images that share a frame of reference).
   */
  readonly initialize?: 'center-of-mass' | 'none'
  /** Frame labels of the result; default { fixed: 'CT', moving: 'MRI' }. */
  readonly frames?: { readonly fixed: string; readonly moving: string }
  /** Names used in error messages; default each volume's meta.source. */
  readonly fixedName?: string
  readonly movingName?: string
  /** Entries replacing those of RIGID_PARAMETER_MAP (expert use, tests). */
  readonly parameterOverrides?: Readonly<Record<string, readonly string[]>>
}

export interface AlignmentQuality {
  /** Dice overlap (0..1) of the filled head masks inside the MRI's field of view. */
  readonly headDice: number
  /** Fraction (0..1) of the CT's head mask inside the MRI's field of view. */
  readonly coverage: number
  /** Normalised mutual information (H(F) + H(M)) / H(F, M), 1..2, inside the CT's head. */
  readonly nmi: number
}

export interface RigidRegistrationResult {
  /** MRI -> CT (moving -> fixed), RAS, metres: p_ct = M p_mri. */
  readonly transform: RigidTransform
  /** The same map in LPS metres. */
  readonly transformLps: RigidTransform
  /** elastix's own answer: fixed -> moving, LPS mm, about its centre of rotation (initial shift included). */
  readonly elastix: ElastixEuler
  readonly parameterMap: Readonly<Record<string, readonly string[]>>
  /**
   * NMI inside the CT's head after registration and at the start (centres aligned). Computed by
   * TFUS on the registration grids: the itk-wasm build of elastix does not expose its log, so
   * its final Mattes MI value is not available.
   */
  readonly metric: { readonly name: 'normalized mutual information'; readonly value: number; readonly initial: number }
  readonly quality: {
    readonly final: AlignmentQuality
    readonly initial: AlignmentQuality
    /** False when the result looks wrong (e.g. different subjects); `reasons` says why. */
    readonly acceptable: boolean
    readonly reasons: readonly string[]
  }
  /** Optimiser iterations, all resolutions (ASGD always runs MaximumNumberOfIterations). */
  readonly iterations: number
  readonly iterationsPerResolution: readonly number[]
  /** Whole call, seconds; `elastixS` of which in elastix. */
  readonly wallTimeS: number
  readonly elastixS: number
  /** Shift (LPS, m) applied to the MRI before elastix: CT head centre minus MRI head centre. */
  readonly initialShiftM: Vec3
  readonly voxelSizeM: number
}

// ---------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------

export async function registerRigid(fixed: Volume, moving: Volume, options: RegisterRigidOptions = {}): Promise<RigidRegistrationResult> {
  const started = performance.now()
  const fixedName = options.fixedName ?? fixed.meta.source ?? 'the CT'
  const movingName = options.movingName ?? moving.meta.source ?? 'the MRI'
  const fail = (code: RegistrationErrorCode, problem: string, cause?: unknown) =>
    new RegistrationError(code, fixedName, movingName, problem, cause === undefined ? undefined : { cause })
  const progress = options.onProgress ?? (() => {})
  const signal = options.signal
  const frames = options.frames ?? { fixed: 'CT', moving: 'MRI' }
  const voxel = options.downsampleM ?? DEFAULT_DOWNSAMPLE_M
  if (!(voxel >= 0) || !Number.isFinite(voxel)) throw fail('bad-input', `the registration voxel size must be 0 or a positive number of metres, got ${voxel}`)

  checkAborted(signal)
  progress(0.02, 'preparing images')
  checkShape(fixed, 'CT', fail)
  checkShape(moving, 'MRI', fail)
  const fixedIsCt = fixed.meta.modality === 'CT' || fixed.meta.valueUnit === 'HU'
  const movingIsCt = moving.meta.modality === 'CT' || moving.meta.valueUnit === 'HU'
  const f = prepare(fixed, voxel, fixedIsCt)
  const m = prepare(moving, voxel, movingIsCt)
  for (const [v, role] of [
    [f, 'CT'],
    [m, 'MRI'],
  ] as const) {
    const dims = v.dims
    if (dims.some((d) => d < 8))
      throw fail('bad-input', `the ${role} is only ${dims.join(' x ')} voxels at ${fmtMm(voxel)} mm: too small to register (at least 8 per axis)`)
  }
  checkAborted(signal)

  const fixedThreshold = foregroundThreshold(f, fixedIsCt)
  const movingThreshold = foregroundThreshold(m, movingIsCt)
  if (fixedThreshold === undefined) throw fail('bad-input', 'the CT has (nearly) constant intensity: nothing to register')
  if (movingThreshold === undefined) throw fail('bad-input', 'the MRI has (nearly) constant intensity: nothing to register')
  const fixedMask = headMask(f, fixedThreshold)
  const movingMask = headMask(m, movingThreshold)
  const cf = maskCentroid(f, fixedMask)
  const cm = maskCentroid(m, movingMask)
  if (!cf) throw fail('bad-input', 'no head found in the CT (no voxel above the foreground threshold)')
  if (!cm) throw fail('bad-input', 'no head found in the MRI (no voxel above the foreground threshold)')

  // The MRI is moved by `shift` before elastix: p_shifted = p_mri + shift, shift = c_ct - c_mri.
  const initialize = options.initialize ?? 'center-of-mass'
  const shift: Vec3 = initialize === 'none' ? [0, 0, 0] : [cf[0] - cm[0], cf[1] - cm[1], cf[2] - cm[2]]
  const initialLps = affineFromRotationTranslation([1, 0, 0, 0, 1, 0, 0, 0, 1], shift)
  progress(0.08, 'checking the starting overlap')
  const ctx: AssessContext = { fixed: f, fixedMask, moving: m, movingMask }
  const initial = assessAlignment(ctx, initialLps)
  if (initial.coverage === 0) {
    throw fail(
      'no-overlap',
      initialize === 'none'
        ? `the images do not overlap in world coordinates (CT head centre ${fmtPoint(cf)} mm LPS, MRI head centre ${fmtPoint(cm)} mm LPS): align their centres of mass first (the default initialisation, which --init none skips)`
        : 'the images do not overlap even with their centres of mass aligned',
    )
  }
  if (initial.coverage < 0.05) {
    throw fail(
      'no-overlap',
      `the MRI's field of view covers only ${(100 * initial.coverage).toFixed(1)}% of the CT's head at the start: too little to register`,
    )
  }

  const parameterMap: Record<string, readonly string[]> = { ...RIGID_PARAMETER_MAP, ...(options.parameterOverrides ?? {}) }
  const shiftedMoving: Volume = { ...m, originM: [m.originM[0] + shift[0], m.originM[1] + shift[1], m.originM[2] + shift[2]] }
  checkAborted(signal)
  const elastixStarted = performance.now()
  let maps: unknown
  try {
    maps = await runElastix(parameterMap, f, shiftedMoving, signal, (seconds) => {
      // elastix reports nothing while it runs: an elapsed-time tick that approaches 90%.
      progress(0.1 + 0.8 * (1 - Math.exp(-seconds / 12)), `elastix: registering (${Math.round(seconds)} s)`)
    })
  } catch (e) {
    if (isAbort(e)) throw e
    const reason = e instanceof ElastixWorkerError ? e.reason : e instanceof Error ? e.message : String(e)
    if (initial.coverage < 0.25) {
      throw fail(
        'no-overlap',
        `elastix stopped (${reason}); the MRI's field of view covers only ${(100 * initial.coverage).toFixed(0)}% of the CT's head, too little overlap for its samples`,
        e,
      )
    }
    throw fail('elastix-failed', `elastix stopped: ${reason}`, e)
  }
  const elastixS = (performance.now() - elastixStarted) / 1000
  checkAborted(signal)

  const found = parseEuler(maps, (problem) => fail('elastix-failed', problem))
  // elastix's map goes fixed -> shifted MRI; the MRI itself is `shift` away: p_mri = p_shifted - shift.
  const elastix: ElastixEuler = {
    ...found,
    parameters: [
      found.parameters[0],
      found.parameters[1],
      found.parameters[2],
      found.parameters[3] - shift[0] * MM_PER_M,
      found.parameters[4] - shift[1] * MM_PER_M,
      found.parameters[5] - shift[2] * MM_PER_M,
    ],
  }
  const transformLps = rigidFromElastixEuler(elastix, frames)
  progress(0.93, 'checking the result')
  const final = assessAlignment(ctx, transformLps.matrix)
  const reasons: string[] = []
  if (final.coverage < MIN_COVERAGE)
    reasons.push(`the MRI covers only ${(100 * final.coverage).toFixed(0)}% of the CT's head (at least ${100 * MIN_COVERAGE}% expected)`)
  if (final.headDice < MIN_HEAD_DICE) {
    reasons.push(`the head outlines agree poorly (Dice ${final.headDice.toFixed(3)} < ${MIN_HEAD_DICE}): different subjects, or a failed registration`)
  }
  const perResolution = iterationsPerResolution(parameterMap)
  progress(1, 'done')
  return {
    transform: withConvention(transformLps, 'RAS'),
    transformLps,
    elastix,
    parameterMap,
    metric: { name: 'normalized mutual information', value: final.nmi, initial: initial.nmi },
    quality: { final, initial, acceptable: reasons.length === 0, reasons },
    iterations: perResolution.reduce((a, b) => a + b, 0),
    iterationsPerResolution: perResolution,
    wallTimeS: (performance.now() - started) / 1000,
    elastixS,
    initialShiftM: shift,
    voxelSizeM: voxel,
  }
}

function checkShape(v: Volume, role: string, fail: (code: RegistrationErrorCode, problem: string) => Error): void {
  if (v.dims.length !== 3 || v.data.length !== v.dims[0] * v.dims[1] * v.dims[2]) {
    throw fail('bad-input', `the ${role} is not a 3D volume (dims ${v.dims.join(' x ')}, ${v.data.length} values)`)
  }
  if (v.dims.some((d) => d < 2)) throw fail('bad-input', `the ${role} is ${v.dims.join(' x ')} voxels: a 3D volume is needed, not a slice`)
}

function iterationsPerResolution(map: Record<string, readonly string[]>): number[] {
  const levels = Number(map.NumberOfResolutions?.[0] ?? '1')
  const its = map.MaximumNumberOfIterations ?? ['500']
  return Array.from({ length: levels }, (_, l) => Number(its[Math.min(l, its.length - 1)]))
}

/** The coarse float32 volume handed to elastix: own orientation, `voxel` spacing (or the original grid). */
function prepare(v: Volume, voxel: number, isCt: boolean): Volume<Float32Array> {
  let out: Volume<Float32Array>
  if (voxel > 0) {
    const spacing = v.spacingM.map((h) => Math.max(h, voxel)) as unknown as Vec3
    const dims = v.dims.map((n, a) => Math.floor(((n - 1) * v.spacingM[a]!) / spacing[a]! + 1e-9) + 1) as unknown as Vec3
    const grid: GridSpec = { dims, spacingM: spacing, originM: v.originM, direction: v.direction }
    out = resampleTrilinear(v, grid, { outputType: 'float32', fill: isCt ? -1024 : 0 }) as Volume<Float32Array>
  } else {
    out = { ...v, data: Float32Array.from(v.data) }
  }
  if (isCt) {
    const d = out.data
    for (let i = 0; i < d.length; i++) if (d[i]! < -1024) d[i] = -1024
  }
  return out
}

// ---------------------------------------------------------------------------------------
// Head masks and quality
// ---------------------------------------------------------------------------------------

/**
 * Foreground threshold: -500 HU for CT (between air and soft tissue); for MRI 10% of the
 * 99th percentile, above the noise floor and below scalp and brain. Undefined for a constant image.
 */
function foregroundThreshold(v: Volume, isCt: boolean): number | undefined {
  const d = v.data
  const stride = Math.max(1, Math.floor(d.length / 200_000))
  const sample: number[] = []
  for (let i = 0; i < d.length; i += stride) if (Number.isFinite(d[i]!)) sample.push(d[i]!)
  sample.sort((a, b) => a - b)
  const lo = sample[0]
  const p99 = sample[Math.floor(0.99 * (sample.length - 1))]
  const hi = sample[sample.length - 1]
  if (lo === undefined || p99 === undefined || hi === undefined || !(hi > lo)) return undefined
  if (isCt) return -500
  if (!(p99 > lo)) return lo + 0.1 * (hi - lo)
  return lo + 0.1 * (p99 - lo)
}

/**
 * Filled head mask: voxels above the threshold, plus every voxel that background (below it)
 * cannot reach from the volume's faces (skull, sinuses and ventricles count as head).
 */
export function headMask(v: Volume, threshold: number): Uint8Array {
  const [nx, ny, nz] = v.dims
  const n = nx * ny * nz
  const d = v.data
  const outside = new Uint8Array(n)
  const stack = new Int32Array(n)
  let top = 0
  const push = (idx: number) => {
    if (outside[idx] === 0 && !(d[idx]! > threshold)) {
      outside[idx] = 1
      stack[top++] = idx
    }
  }
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) if (i === 0 || j === 0 || k === 0 || i === nx - 1 || j === ny - 1 || k === nz - 1) push(i + nx * (j + ny * k))
  const nxy = nx * ny
  while (top > 0) {
    const idx = stack[--top]!
    const i = idx % nx
    const j = Math.floor(idx / nx) % ny
    const k = Math.floor(idx / nxy)
    if (i > 0) push(idx - 1)
    if (i < nx - 1) push(idx + 1)
    if (j > 0) push(idx - nx)
    if (j < ny - 1) push(idx + nx)
    if (k > 0) push(idx - nxy)
    if (k < nz - 1) push(idx + nxy)
  }
  for (let idx = 0; idx < n; idx++) outside[idx] = outside[idx] ? 0 : 1
  return outside
}

function maskCentroid(v: Volume, mask: Uint8Array): Vec3 | undefined {
  const [nx, ny] = v.dims
  let count = 0
  let si = 0
  let sj = 0
  let sk = 0
  for (let idx = 0; idx < mask.length; idx++) {
    if (!mask[idx]) continue
    count++
    si += idx % nx
    sj += Math.floor(idx / nx) % ny
    sk += Math.floor(idx / (nx * ny))
  }
  if (count === 0) return undefined
  return voxelToWorld(v, [si / count, sj / count, sk / count])
}

interface AssessContext {
  readonly fixed: Volume<Float32Array>
  readonly fixedMask: Uint8Array
  readonly moving: Volume<Float32Array>
  readonly movingMask: Uint8Array
}

/** `v` with its geometry carried by the LPS metre affine `m` (rigid): same voxels, new place. */
function placed<T extends Volume>(v: T, m: readonly number[]): T {
  const r = rotationOf(m)
  const t = translationOf(m)
  const o = mat3MulVec(r, v.originM)
  return { ...v, originM: [o[0] + t[0], o[1] + t[1], o[2] + t[2]], direction: mat3Multiply(r, v.direction) }
}

const OUTSIDE = 255

/**
 * How well the MRI sits on the CT under `movingToFixedLps` (LPS metres), on the CT's
 * registration grid: head-outline Dice and NMI (32 x 32 bins over the 0.5-99.5 percentile
 * range of each image) inside the CT's head, both restricted to the MRI's field of view.
 */
function assessAlignment(ctx: AssessContext, movingToFixedLps: readonly number[]): AlignmentQuality {
  const { fixed, fixedMask } = ctx
  const movingValues = resampleTrilinear(placed(ctx.moving, movingToFixedLps), fixed, { fill: Number.NaN, outputType: 'float32' }).data
  const maskVolume: Volume<Uint8Array> = { ...ctx.moving, data: ctx.movingMask }
  const movingMask = resampleTrilinear(placed(maskVolume, movingToFixedLps), fixed, { interpolation: 'nearest', fill: OUTSIDE }).data
  let fixedHead = 0
  let covered = 0
  let fixedIn = 0
  let movingIn = 0
  let both = 0
  for (let i = 0; i < fixedMask.length; i++) {
    const inside = movingMask[i] !== OUTSIDE
    if (fixedMask[i]) fixedHead++
    if (!inside) continue
    if (fixedMask[i]) {
      covered++
      fixedIn++
      if (movingMask[i]) both++
    }
    if (movingMask[i]) movingIn++
  }
  const select = (i: number) => fixedMask[i] === 1 && movingMask[i] !== OUTSIDE && Number.isFinite(movingValues[i]!)
  return {
    headDice: fixedIn + movingIn > 0 ? (2 * both) / (fixedIn + movingIn) : 0,
    coverage: fixedHead > 0 ? covered / fixedHead : 0,
    nmi: normalizedMutualInformation(fixed.data, movingValues, select),
  }
}

export function normalizedMutualInformation(a: ArrayLike<number>, b: ArrayLike<number>, select: (i: number) => boolean, bins = 32): number {
  const idx: number[] = []
  for (let i = 0; i < a.length; i++) if (select(i)) idx.push(i)
  if (idx.length < 100) return 1
  const range = (v: ArrayLike<number>) => {
    const s = idx
      .filter((_, n) => n % Math.max(1, Math.floor(idx.length / 100_000)) === 0)
      .map((i) => v[i]!)
      .sort((x, y) => x - y)
    const lo = s[Math.floor(0.005 * (s.length - 1))]!
    const hi = s[Math.floor(0.995 * (s.length - 1))]!
    return [lo, hi > lo ? hi : lo + 1] as const
  }
  const [alo, ahi] = range(a)
  const [blo, bhi] = range(b)
  const bin = (v: number, lo: number, hi: number) => Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)))
  const joint = new Float64Array(bins * bins)
  for (const i of idx) joint[bin(a[i]!, alo, ahi) * bins + bin(b[i]!, blo, bhi)]!++
  const pa = new Float64Array(bins)
  const pb = new Float64Array(bins)
  const n = idx.length
  for (let x = 0; x < bins; x++)
    for (let y = 0; y < bins; y++) {
      const p = joint[x * bins + y]! / n
      pa[x]! += p
      pb[y]! += p
    }
  const entropy = (p: ArrayLike<number>) => {
    let h = 0
    for (let i = 0; i < p.length; i++) if (p[i]! > 0) h -= p[i]! * Math.log(p[i]!)
    return h
  }
  const hab = entropy(joint.map((v) => v / n))
  return hab > 0 ? (entropy(pa) + entropy(pb)) / hab : 1
}

// ---------------------------------------------------------------------------------------
// elastix in a worker thread
// ---------------------------------------------------------------------------------------

class ElastixWorkerError extends Error {
  constructor(
    readonly reason: string,
    readonly log: string,
  ) {
    super(reason)
  }
}

/**
 * The worker: plain JavaScript (no TypeScript loader needed), importing the elastix package by
 * the URL the host resolved. A failing itk-wasm release pipeline rejects with a bare number
 * (an Emscripten exception pointer) and prints only "Exception while running pipeline".
 */

/** What elastix-worker.ts is asked to run: itk-wasm images, structured-cloned (not transferred: they share the volumes' voxels). */
export interface ElastixRequest {
  readonly parameterObject: unknown
  readonly fixed: unknown
  readonly moving: unknown
}

async function runElastix(
  parameterMap: Record<string, readonly string[]>,
  fixed: Volume,
  moving: Volume,
  signal: AbortSignal | undefined,
  onTick: (seconds: number) => void,
): Promise<unknown> {
  const worker = startWorker('elastix-worker', { stdout: true, stderr: true })
  // Captured, never echoed: the pipeline's chatter stays out of the user's terminal.
  const log: string[] = []
  worker.stdout.on('data', (chunk: Buffer) => log.push(chunk.toString()))
  worker.stderr.on('data', (chunk: Buffer) => log.push(chunk.toString()))
  const started = performance.now()
  const ticker = setInterval(() => onTick((performance.now() - started) / 1000), 1000)
  let onAbort: (() => void) | undefined
  try {
    const rpc = workerRpc<ElastixRequest, unknown>(worker, {
      decodeError: (reason) => new ElastixWorkerError(String(reason), log.join('')),
      workerFailed: (why) =>
        new ElastixWorkerError('error' in why ? why.error.message : `the elastix worker exited (code ${why.exitCode}) without an answer`, log.join('')),
    })
    // The WebAssembly cannot be interrupted: a cancel rejects at once and the worker is terminated.
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(abortError())
      if (signal?.aborted) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    return await Promise.race([aborted, rpc.call({ parameterObject: [parameterMap], fixed: itkImageFromVolume(fixed), moving: itkImageFromVolume(moving) })])
  } finally {
    clearInterval(ticker)
    if (onAbort) signal?.removeEventListener('abort', onAbort)
    await worker.terminate()
  }
}

/** The Euler transform in elastix's returned transform parameter object. */
function parseEuler(maps: unknown, fail: (problem: string) => Error): ElastixEuler {
  const map = Array.isArray(maps) ? (maps[maps.length - 1] as Record<string, unknown> | undefined) : undefined
  if (!map || typeof map !== 'object') throw fail('elastix returned no transform parameter map')
  const numbers = (key: string): number[] => {
    const v = map[key]
    return Array.isArray(v) ? v.map((x) => Number(x)) : []
  }
  const transform = Array.isArray(map.Transform) ? String(map.Transform[0]) : undefined
  if (transform !== 'EulerTransform') throw fail(`elastix returned a ${transform ?? 'missing'} transform, an EulerTransform was expected`)
  const p = numbers('TransformParameters')
  const c = numbers('CenterOfRotationPoint')
  if (p.length !== 6 || c.length !== 3 || ![...p, ...c].every(Number.isFinite)) {
    throw fail(`elastix returned unusable Euler parameters [${p.join(', ')}] about [${c.join(', ')}] (the optimiser diverged?)`)
  }
  const zyx = Array.isArray(map.ComputeZYX) && String(map.ComputeZYX[0]) === 'true'
  return { parameters: [p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!], centerOfRotationMm: [c[0]!, c[1]!, c[2]!], computeZYX: zyx }
}

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

function abortError(): Error {
  return new DOMException('registration cancelled', 'AbortError')
}

function isAbort(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError'
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError()
}

function fmtMm(m: number): string {
  return String(Number((m * MM_PER_M).toFixed(3)))
}

function fmtPoint(p: Vec3): string {
  return `(${p.map((v) => (v * MM_PER_M).toFixed(1)).join(', ')})`
}

// ---------------------------------------------------------------------------------------
// The transform file (tfus register, the app)
// ---------------------------------------------------------------------------------------

const r6 = (v: number) => Number(v.toPrecision(12))

/** The transform file: everything a plan, Slicer or ITK needs, with the directions spelled out. */
export function transformFileJson(result: RigidRegistrationResult, ctFile: string, mriFile: string) {
  const t = result.transform
  const matrices = transformFileMatrices(t)
  const round = (rows: number[][]) => rows.map((row) => row.map(r6))
  const q = result.quality
  return {
    format: TRANSFORM_FILE_FORMAT,
    version: 1,
    description: `Rigid registration of ${path.basename(mriFile)} (MRI, moving) to ${path.basename(ctFile)} (CT, fixed): maps a point of the MRI's world space to the CT's world space.`,
    from: t.from,
    to: t.to,
    from_file: mriFile,
    to_file: ctFile,
    convention: 'p_ct = M * p_mri, homogeneous column vectors; matrix_ras_m in metres, the others in millimetres',
    matrix_ras_m: round(matrices.matrix_ras_m),
    matrix_ras_mm: round(matrices.matrix_ras_mm),
    matrix_lps_mm: round(matrices.matrix_lps_mm),
    rotation_deg: r6(rotationAngleDeg(rotationOf(t.matrix))),
    translation_mm_ras: translationOf(t.matrix).map((v) => r6(v * 1000)),
    elastix: {
      transform: 'EulerTransform',
      direction: 'fixed (CT) -> moving (MRI) physical points, LPS mm (ITK convention): the inverse of matrix_lps_mm',
      transform_parameters: [...result.elastix.parameters],
      center_of_rotation_lps_mm: [...result.elastix.centerOfRotationMm],
      compute_zyx: result.elastix.computeZYX,
      parameter_map: result.parameterMap,
    },
    registration_voxel_mm: result.voxelSizeM * 1000,
    initial_shift_lps_mm: result.initialShiftM.map((v) => r6(v * 1000)),
    metric: { name: result.metric.name, value: r6(result.metric.value), initial: r6(result.metric.initial) },
    quality: {
      acceptable: q.acceptable,
      reasons: q.reasons,
      head_dice: r6(q.final.headDice),
      head_dice_initial: r6(q.initial.headDice),
      coverage: r6(q.final.coverage),
    },
    iterations: result.iterations,
    iterations_per_resolution: result.iterationsPerResolution,
    wall_time_s: r6(result.wallTimeS),
    elastix_time_s: r6(result.elastixS),
  }
}
