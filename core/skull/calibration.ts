/**
 * Sanity checks on the CT before HU are turned into acoustic properties.
 *
 * Every mapping in `mappings.ts` assumes conventional HU (air -1000, water 0). A missing or
 * double-applied rescale intercept, raw stored values, or a pseudo-CT on another scale
 * shifts every voxel and so biases the whole skull model, often by hundreds of m/s. Such a
 * shift shows up in the two materials every head CT contains: the air around the head and
 * the brain.
 */

import type { Modality, VolumeMeta, VoxelArray } from '../volume/types.ts'

/** Optional segmentations; a non-zero byte marks the voxel as that material. */
export interface CalibrationMasks {
  readonly air?: Uint8Array
  readonly water?: Uint8Array
  readonly brain?: Uint8Array
}

export interface CalibrationTarget {
  /** HU interval searched for the peak. */
  readonly windowHu: readonly [number, number]
  /** Interval the peak should fall in. */
  readonly expectedHu: readonly [number, number]
  /** How far outside `expectedHu` the peak may be before a warning. */
  readonly toleranceHu: number
}

/**
 * Expected peaks.
 * - Air -1000 HU by definition. The Catphan 503 manual (The Phantom Laboratory,
 *   "Sensitometry", CTP404) accepts air at -1046 to -986 HU on a phantom. In a patient scan
 *   many scanners also clip air at -1024 (stored 0 with intercept -1024), so a 50 HU
 *   tolerance accepts every healthy scan while catching an intercept error (~1000 HU) or a
 *   wrong scale.
 * - Water 0 HU by definition; Catphan accepts -7 to +7 HU on a phantom. 20 HU allows for the
 *   beam hardening and cupping inside a skull.
 * - Brain 0-40 HU: CSF near 0-15 HU and parenchyma about 20-40 HU in routine head CT. The
 *   20 HU tolerance allows for noise and partial volume. Without masks, the most common
 *   value between -300 and 300 HU stands in for brain. In a head it is brain; in a water
 *   bath or phantom it is water, which lies in the same interval.
 * Search windows are wide enough that a miscalibrated peak still falls inside them, and
 * narrow enough to leave out scanner padding (-2000, -3024 HU) and bone.
 */
export const CT_CALIBRATION_TARGETS: {
  readonly air: CalibrationTarget
  readonly water: CalibrationTarget
  readonly brain: CalibrationTarget
} = {
  air: { windowHu: [-1500, -500], expectedHu: [-1000, -1000], toleranceHu: 50 },
  water: { windowHu: [-300, 300], expectedHu: [0, 0], toleranceHu: 20 },
  brain: { windowHu: [-300, 300], expectedHu: [0, 40], toleranceHu: 20 },
}

/** Histogram bin width in HU. Odd, so bins centre on integers, as stored CT values are. */
const BIN_HU = 5
/** Binomial smoothing kernel (sigma = 1 bin = 5 HU): noise then cannot make a false peak. */
const SMOOTH = [1, 4, 6, 4, 1] as const
const SMOOTH_HALF = 2

export interface CalibrationPeak {
  readonly material: 'air' | 'water' | 'brain'
  /** True when a mask restricted the search; false when the whole volume was searched. */
  readonly masked: boolean
  /** Voxels inside the search window (and mask). */
  readonly voxelsInWindow: number
  /** Mode of the smoothed histogram, HU; undefined when no peak could be found. */
  readonly peakHu: number | undefined
  readonly target: CalibrationTarget
  /** undefined when there is no peak to judge. */
  readonly withinTolerance: boolean | undefined
}

export interface CtCalibrationReport {
  readonly peaks: readonly CalibrationPeak[]
  readonly warnings: readonly string[]
}

export interface CtCalibrationOptions {
  /** Fewest voxels in a window for its peak to count; default 500. */
  readonly minVoxels?: number
}

interface Accumulator {
  readonly material: CalibrationPeak['material']
  readonly mask: Uint8Array | undefined
  readonly target: CalibrationTarget
  readonly lo: number
  readonly hist: Float64Array
  count: number
}

function accumulator(material: CalibrationPeak['material'], mask: Uint8Array | undefined, n: number): Accumulator {
  if (mask !== undefined && mask.length !== n) {
    throw new Error(`checkCtCalibration: ${material} mask has ${mask.length} entries, volume has ${n} voxels`)
  }
  const target = CT_CALIBRATION_TARGETS[material]
  const [lo, hi] = target.windowHu
  return { material, mask, target, lo, hist: new Float64Array(Math.round((hi - lo) / BIN_HU) + 1), count: 0 }
}

/**
 * The peak of the histogram: the bin of greatest smoothed count, refined to a fraction of a bin
 * by a parabola through it and its neighbours. A maximum within the smoothing half-width of
 * the window edge is rejected, because it only shows that the true mode lies outside the window.
 */
function findPeak(acc: Accumulator, minVoxels: number): number | undefined {
  if (acc.count < minVoxels) return undefined
  const h = acc.hist
  const nb = h.length
  const s = new Float64Array(nb)
  for (let b = 0; b < nb; b++) {
    let v = 0
    for (let k = -SMOOTH_HALF; k <= SMOOTH_HALF; k++) {
      const j = b + k
      if (j >= 0 && j < nb) v += SMOOTH[k + SMOOTH_HALF]! * h[j]!
    }
    s[b] = v
  }
  let best = 0
  for (let b = 1; b < nb; b++) if (s[b]! > s[best]!) best = b
  if (best < SMOOTH_HALF || best > nb - 1 - SMOOTH_HALF) return undefined
  const ym = s[best - 1]!
  const y0 = s[best]!
  const yp = s[best + 1]!
  const curv = ym - 2 * y0 + yp
  const delta = curv < 0 ? (0.5 * (ym - yp)) / curv : 0
  return acc.lo + (best + delta) * BIN_HU
}

function fmtRange(t: CalibrationTarget): string {
  const [a, b] = t.expectedHu
  return a === b ? `${a} ± ${t.toleranceHu} HU` : `${a} to ${b} HU (± ${t.toleranceHu} HU)`
}

/**
 * Checks that air and water / brain sit where conventional HU puts them.
 *
 * Method: for each material, a histogram of the voxels inside its search window (and its
 * mask, when one is given) with 5 HU bins, smoothed by a binomial kernel; its mode is the
 * material's measured HU. A peak outside the expected interval by more than the tolerance
 * gives a warning. So does a window with too few voxels or a mode at the window edge, since
 * the material is then missing from where it should be. Air is always searched (in the air
 * mask, or else the whole volume). Water and brain are searched in their masks. Without
 * either mask, the whole-volume mode between -300 and 300 HU is judged against the brain
 * interval. That unmasked check cannot tell brain from air moved by a ~1000 HU intercept
 * error (air then reads ~0); the air peak and the "no negative value" check catch that case.
 */
export function checkCtCalibration(
  volume: { readonly data: VoxelArray; readonly meta?: Pick<VolumeMeta, 'modality' | 'valueUnit'> },
  masks: CalibrationMasks = {},
  opts: CtCalibrationOptions = {},
): CtCalibrationReport {
  const data = volume.data
  const n = data.length
  const minVoxels = opts.minVoxels ?? 500
  const warnings: string[] = []

  const modality: Modality | undefined = volume.meta?.modality
  if (modality !== undefined && modality !== 'CT') {
    warnings.push(
      `Volume modality is ${modality}, not CT: the HU mappings assume calibrated CT numbers ` +
        '(air -1000, water 0). A pseudo-CT must be converted to that scale first.',
    )
  }
  const unit = volume.meta?.valueUnit
  if (unit !== undefined && unit.toUpperCase() !== 'HU') {
    warnings.push(`Voxel values are in '${unit}', not HU: the HU mappings would misread them.`)
  }

  const accs: Accumulator[] = [accumulator('air', masks.air, n)]
  if (masks.water !== undefined) accs.push(accumulator('water', masks.water, n))
  if (masks.brain !== undefined || masks.water === undefined) accs.push(accumulator('brain', masks.brain, n))

  let min = Infinity
  for (let i = 0; i < n; i++) {
    const v = data[i]!
    if (!Number.isFinite(v)) continue
    if (v < min) min = v
    for (const a of accs) {
      if (a.mask !== undefined && a.mask[i] === 0) continue
      const b = Math.round((v - a.lo) / BIN_HU)
      if (b < 0 || b >= a.hist.length) continue
      a.hist[b] = a.hist[b]! + 1
      a.count++
    }
  }

  const peaks: CalibrationPeak[] = []
  for (const a of accs) {
    const peakHu = findPeak(a, minVoxels)
    const t = a.target
    const within = peakHu === undefined ? undefined : peakHu >= t.expectedHu[0] - t.toleranceHu && peakHu <= t.expectedHu[1] + t.toleranceHu
    const masked = a.mask !== undefined
    peaks.push({ material: a.material, masked, voxelsInWindow: a.count, peakHu, target: t, withinTolerance: within })

    const where = masked ? `in the ${a.material} mask` : 'in the volume'
    const label = a.material === 'brain' && !masked ? 'brain / water' : a.material
    if (peakHu === undefined) {
      warnings.push(
        `No ${label} peak ${where} between ${t.windowHu[0]} and ${t.windowHu[1]} HU ` +
          `(${a.count} voxels there): where ${label} should be, the CT shows too little. ` +
          'If it is present in the scan, the HU calibration (rescale slope / intercept) is ' +
          'likely wrong, and every HU-based skull property with it.',
      )
    } else if (!within) {
      warnings.push(
        `The ${label} peak ${where} is at ${peakHu.toFixed(0)} HU; expected ${fmtRange(t)}. ` +
          'The CT may be miscalibrated (check rescale slope / intercept, or the pseudo-CT ' +
          'scale); HU-based skull properties would be biased.',
      )
    }
  }

  if (Number.isFinite(min) && min >= 0) {
    warnings.push(`No voxel is below 0 (minimum ${min}): air cannot be at -1000 HU, so these look like raw ` + 'stored values without the rescale intercept.')
  }
  return { peaks, warnings }
}

// ---------------------------------------------------------------------------------------
// CT protocol of the Webb fits
// ---------------------------------------------------------------------------------------

const WEBB_REF = 'Webb et al. 2018 (speed) and 2021 (attenuation) fitted GE scanners at 120 kVp with the ' + 'BonePlus kernel'

/** GE writes "GE MEDICAL SYSTEMS" or "GE Healthcare" in Manufacturer (0008,0070). */
function isGe(manufacturer: string): boolean {
  return /\bGE\b|GENERAL ELECTRIC/i.test(manufacturer)
}

/**
 * GE's kernel is "BONEPLUS" (sometimes "BONE+"/"Bone Plus"). ConvolutionKernel (0018,1210)
 * may be multi-valued, so any value counts. GE's plain "BONE" kernel does not match: the fits
 * change with the kernel.
 */
function isBonePlus(kernel: string): boolean {
  return kernel.split('\\').some((k) => {
    const s = k.toUpperCase().replace(/[^A-Z+]/g, '')
    return s === 'BONEPLUS' || s === 'BONE+'
  })
}

/**
 * Warning text when the CT protocol in the DICOM tags is not the one the `webb-ge120-bone`
 * fits were measured on (GE, 120 kVp, BonePlus), or when the tags are missing (NIfTI and
 * other non-DICOM files carry none); undefined when all three match. The Webb speed slope
 * changes from 0.75 to 0.98 with GE's standard kernel and to 0.81 on Siemens at 120 kVp
 * (docs/physics.md §4.6), so a mismatched protocol biases the skull's speed by hundreds of m/s.
 */
export function webbProtocolWarning(meta: Pick<VolumeMeta, 'manufacturer' | 'kvp' | 'convolutionKernel'>): string | undefined {
  const mismatched: string[] = []
  const unknown: string[] = []

  const man = meta.manufacturer?.trim()
  if (man === undefined || man === '') unknown.push('manufacturer')
  else if (!isGe(man)) mismatched.push(`manufacturer '${man}' (expected GE)`)

  const kvp = meta.kvp
  if (kvp === undefined || !Number.isFinite(kvp)) unknown.push('kVp')
  else if (Math.abs(kvp - 120) > 0.5) mismatched.push(`${kvp} kVp (expected 120)`)

  const kernel = meta.convolutionKernel?.trim()
  if (kernel === undefined || kernel === '') unknown.push('convolution kernel')
  else if (!isBonePlus(kernel)) mismatched.push(`kernel '${kernel}' (expected BonePlus)`)

  if (mismatched.length === 0 && unknown.length === 0) return undefined
  const parts: string[] = []
  if (mismatched.length > 0) parts.push(`this CT has ${mismatched.join(', ')}`)
  if (unknown.length > 0) {
    parts.push(`its ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} unknown (not in the ` + 'file, e.g. NIfTI)')
  }
  return `${WEBB_REF}; ${parts.join('; ')}. The Webb speed and attenuation may not hold: confirm ` + 'the acquisition protocol or choose another HU mapping.'
}
