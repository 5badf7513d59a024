/**
 * Transducer placement on the scalp. The pose is a 4x4 row-major matrix from transducer
 * coordinates (origin at the bowl apex, +z along the beam toward the focus, metres) to patient
 * RAS (metres). The beam axis passes through the target; the exit plane sits on the scalp with
 * the coupling standoff; a fixed-focus bowl puts its geometric focus on the target (the standoff
 * takes up the difference, within the coupling's range) and an annular array steers its focus to
 * the target from the minimum standoff. Refusals say why and where.
 */
import type { Vec3, Volume } from '../volume/types.ts'
import { add3, cross3, dot3, norm3, normalize3, rasToLps, scale3, sub3 } from '../math/index.ts'
import { worldToVoxel } from '../volume/geometry.ts'
import type { HeadSegmentation } from './masks.ts'
import { INCIDENCE_WARNING_DEG } from './limits.ts'

export interface PlacementDevice {
  readonly id: string
  readonly kind: 'bowl' | 'annular'
  /** Radius of curvature [m]. */
  readonly rocM: number
  /** Outer aperture diameter [m]. */
  readonly apertureM: number
  /** Apex to exit plane (housing face) along the axis [m]. */
  readonly exitPlaneOffsetM: number
  /** Thinnest coupling between exit plane and scalp [m]. */
  readonly minStandoffM: number
  /** Thickest coupling the device can be used with [m]. */
  readonly maxStandoffM: number
  /** Steerable focal depth measured from the exit plane (annular arrays) [m]. */
  readonly focalRangeM?: readonly [number, number]
}

export type PlacementErrorCode =
  'target-outside-head' | 'too-deep' | 'too-shallow' | 'intersects-head' | 'air-on-path' | 'orbit' | 'no-skull-crossing' | 'field-of-view' | 'no-entry-found'

/** What a planner can do about each refusal, in words (shown after the refusal's own message). */
export const PLACEMENT_ADVICE: Readonly<Record<PlacementErrorCode, string>> = {
  'target-outside-head': 'place the target in the brain (Place target, then click inside the head)',
  'too-deep': 'choose an entry closer to the target, or a transducer with a longer focal distance',
  'too-shallow': 'choose an entry farther from the target, or a transducer with a shorter focal distance',
  'intersects-head': 'choose an entry where the scalp is flatter (a few millimetres away), or clear the entry to let the planner propose one',
  'air-on-path': 'choose an entry whose path avoids the sinuses and mastoid air cells',
  orbit: 'choose an entry on the scalp, away from the eye',
  'no-skull-crossing': 'choose an entry on the skull vault (temporal or parietal bone), not through the face, neck or a foramen',
  'field-of-view': 'choose an entry inside the imaged part of the head, or import a CT that covers it',
  'no-entry-found': 'choose an entry yourself (Place entry), or another transducer',
}

/** The code of a placement refusal from an API error field `placement (<code>)`, or null. */
export function placementCodeOfField(field: string | undefined): PlacementErrorCode | null {
  const m = field ? /^placement \(([a-z-]+)\)$/.exec(field) : null
  return m && m[1]! in PLACEMENT_ADVICE ? (m[1] as PlacementErrorCode) : null
}

export class PlacementError extends Error {
  override readonly name = 'PlacementError'
  constructor(
    readonly code: PlacementErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export interface Pose {
  /** Transducer coordinates (m) to patient RAS (m), row-major 4x4. */
  readonly transducerToRas: readonly number[]
  readonly apexRasM: Vec3
  /** Unit beam direction in RAS. */
  readonly axisRas: Vec3
  /** Where the device focuses, measured from the apex [m] (ROC for a fixed bowl). */
  readonly focalDistanceFromApexM: number
  readonly standoffM: number
}

export interface PathReport {
  /** Where the axis leaves the head toward the transducer (RAS, m). */
  readonly scalpPointRasM: Vec3
  /** Scalp point to target along the axis [m]. */
  readonly scalpToTargetM: number
  /** Exit plane to target along the axis [m]. */
  readonly exitPlaneToTargetM: number
  /** Bone crossed along the axis [m]. */
  readonly skullThicknessM: number
  /** Angle between the beam and the outer skull surface normal at entry [deg]. */
  readonly incidenceAngleDeg: number
}

export interface Placement {
  readonly pose: Pose
  readonly path: PathReport
  readonly warnings: readonly string[]
}

const STEP_M = 0.00025

const mm = (v: number) => `${(v * 1000).toFixed(1)} mm`
const fmtPoint = (p: Vec3) => `(${p.map((v) => (v * 1000).toFixed(1)).join(', ')}) mm RAS`

/** CT lookups at RAS points: nearest voxel for masks and HU (fast, adequate at 0.25 mm steps). */
export class CtSampler {
  constructor(
    readonly ct: Volume,
    readonly seg: HeadSegmentation,
  ) {}

  private index(ras: Vec3): number {
    const q = worldToVoxel(this.ct, rasToLps(ras))
    const [nx, ny, nz] = this.ct.dims
    const i = Math.round(q[0])
    const j = Math.round(q[1])
    const k = Math.round(q[2])
    if (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz) return -1
    return i + nx * (j + ny * k)
  }
  inVolume(ras: Vec3): boolean {
    return this.index(ras) >= 0
  }
  head(ras: Vec3): boolean {
    const v = this.index(ras)
    return v >= 0 && this.seg.head[v] === 1
  }
  skull(ras: Vec3): boolean {
    const v = this.index(ras)
    return v >= 0 && this.seg.skull[v] === 1
  }
  hu(ras: Vec3): number {
    const v = this.index(ras)
    return v >= 0 ? this.ct.data[v]! : -1000
  }
}

/**
 * Walks from the target against the beam to the edge of the CT; the last head point on the way
 * is the scalp. (Stopping at the first gap would stop inside an air cavity open to the nose,
 * such as a frontal sinus, which the filled head mask does not contain.)
 */
function scalpAlong(sampler: CtSampler, target: Vec3, towardTransducer: Vec3): { scalp: Vec3; leftVolume: boolean } {
  let last = target
  let gap = 0
  for (let s = STEP_M; s < 0.4; s += STEP_M) {
    const p = add3(target, scale3(towardTransducer, s))
    if (!sampler.inVolume(p)) return { scalp: last, leftVolume: gap * STEP_M < 0.005 }
    if (sampler.head(p)) {
      last = p
      gap = 0
    } else gap++
  }
  return { scalp: last, leftVolume: false }
}

interface PathFindings {
  skullThicknessM: number
  firstBone?: Vec3
  airRuns: Array<{ atM: number; lengthM: number }>
  fatBeforeBoneM: number
}

/** Scans the path scalp -> target: bone crossed, air inside the head, fat/soft tissue before bone. */
function scanPath(sampler: CtSampler, scalp: Vec3, target: Vec3): PathFindings {
  const d = normalize3(sub3(target, scalp))
  const length = norm3(sub3(target, scalp))
  let skull = 0
  let firstBone: Vec3 | undefined
  const airRuns: Array<{ atM: number; lengthM: number }> = []
  let airStart = -1
  let fatRun = 0
  let longestFatBeforeBone = 0
  for (let s = 0; s <= length; s += STEP_M) {
    const p = add3(scalp, scale3(d, s))
    const hu = sampler.hu(p)
    if (sampler.skull(p)) {
      skull += STEP_M
      if (!firstBone) firstBone = p
    }
    // Air between the scalp and the target is inside the head (sinus, mastoid cells), whether or
    // not the cavity opens to the airway.
    if (hu < -300) {
      if (airStart < 0) airStart = s
    } else if (airStart >= 0) {
      airRuns.push({ atM: airStart, lengthM: s - airStart })
      airStart = -1
    }
    // Orbital fat (-200..-30 HU) in front of the first bone: scalp fat is a few mm at most.
    if (!firstBone) {
      if (hu > -200 && hu < -30) fatRun += STEP_M
      else fatRun = 0
      longestFatBeforeBone = Math.max(longestFatBeforeBone, fatRun)
    }
  }
  if (airStart >= 0) airRuns.push({ atM: airStart, lengthM: length - airStart })
  return {
    skullThicknessM: skull,
    ...(firstBone ? { firstBone } : {}),
    airRuns: airRuns.filter((r) => r.lengthM >= 0.001),
    fatBeforeBoneM: longestFatBeforeBone,
  }
}

/** Outward skull normal at a bone point from the HU gradient (central differences over 1 mm). */
function skullNormal(sampler: CtSampler, p: Vec3): Vec3 | undefined {
  const h = 0.001
  const g: Vec3 = [
    sampler.hu(add3(p, [h, 0, 0])) - sampler.hu(add3(p, [-h, 0, 0])),
    sampler.hu(add3(p, [0, h, 0])) - sampler.hu(add3(p, [0, -h, 0])),
    sampler.hu(add3(p, [0, 0, h])) - sampler.hu(add3(p, [0, 0, -h])),
  ]
  const n = norm3(g)
  // HU rises into bone, so the outward normal points down the gradient.
  return n > 0 ? scale3(g, -1 / n) : undefined
}

/** Rigid pose with +z along `axis` and x chosen perpendicular to it and to RAS superior when possible. */
export function poseMatrix(apexRas: Vec3, axis: Vec3): number[] {
  const z = normalize3(axis)
  const helper: Vec3 = Math.abs(z[2]) < 0.9 ? [0, 0, 1] : [0, 1, 0]
  const x = normalize3(cross3(helper, z))
  const y = cross3(z, x)
  return [x[0], y[0], z[0], apexRas[0], x[1], y[1], z[1], apexRas[1], x[2], y[2], z[2], apexRas[2], 0, 0, 0, 1]
}

/** Points on the transducer's emitting surface and rim, in RAS, for the head-intersection check. */
function devicePoints(device: PlacementDevice, pose: readonly number[]): Vec3[] {
  const points: Vec3[] = []
  const r = device.rocM
  const sinMax = device.apertureM / (2 * r)
  for (let a = 0; a <= 8; a++) {
    const sinT = (sinMax * a) / 8
    const cosT = Math.sqrt(1 - sinT * sinT)
    for (let b = 0; b < (a === 0 ? 1 : 24); b++) {
      const phi = (2 * Math.PI * b) / 24
      const local: Vec3 = [r * sinT * Math.cos(phi), r * sinT * Math.sin(phi), r - r * cosT]
      points.push([
        pose[0]! * local[0] + pose[1]! * local[1] + pose[2]! * local[2] + pose[3]!,
        pose[4]! * local[0] + pose[5]! * local[1] + pose[6]! * local[2] + pose[7]!,
        pose[8]! * local[0] + pose[9]! * local[1] + pose[10]! * local[2] + pose[11]!,
      ])
    }
  }
  // The housing face (exit plane disc) too.
  for (let b = 0; b < 24; b++) {
    const phi = (2 * Math.PI * b) / 24
    for (const rr of [0, device.apertureM / 4, device.apertureM / 2]) {
      const local: Vec3 = [rr * Math.cos(phi), rr * Math.sin(phi), device.exitPlaneOffsetM]
      points.push([
        pose[0]! * local[0] + pose[1]! * local[1] + pose[2]! * local[2] + pose[3]!,
        pose[4]! * local[0] + pose[5]! * local[1] + pose[6]! * local[2] + pose[7]!,
        pose[8]! * local[0] + pose[9]! * local[1] + pose[10]! * local[2] + pose[11]!,
      ])
    }
  }
  return points
}

/** Places the device for a target along the direction from `entryRasM` (or the scalp point it names). */
export function placeTransducer(sampler: CtSampler, device: PlacementDevice, targetRasM: Vec3, entryRasM: Vec3): Placement {
  const warnings: string[] = []
  if (!sampler.head(targetRasM)) throw new PlacementError('target-outside-head', `the target ${fmtPoint(targetRasM)} is not inside the head`)
  if (sampler.skull(targetRasM)) throw new PlacementError('target-outside-head', `the target ${fmtPoint(targetRasM)} lies in bone, not in the brain`)
  const beam = normalize3(sub3(targetRasM, entryRasM))
  if (!Number.isFinite(beam[0])) throw new PlacementError('no-entry-found', 'the entry point equals the target')
  const { scalp, leftVolume } = scalpAlong(sampler, targetRasM, scale3(beam, -1))
  if (leftVolume)
    throw new PlacementError(
      'field-of-view',
      `the beam toward ${fmtPoint(entryRasM)} leaves the CT's field of view before leaving the head: the skull there is not imaged`,
    )
  const scalpToTarget = norm3(sub3(targetRasM, scalp))
  const findings = scanPath(sampler, scalp, targetRasM)
  if (findings.skullThicknessM < 0.001)
    throw new PlacementError(
      'no-skull-crossing',
      `the path from the scalp at ${fmtPoint(scalp)} to the target crosses no skull (through a foramen, the orbit or the neck?)`,
    )
  if (findings.fatBeforeBoneM > 0.006) {
    throw new PlacementError(
      'orbit',
      `the beam crosses ${mm(findings.fatBeforeBoneM)} of fat-density tissue before reaching bone, as through the orbit: choose another entry (scalp point ${fmtPoint(scalp)})`,
    )
  }
  if (findings.airRuns.length > 0) {
    const r = findings.airRuns[0]!
    throw new PlacementError(
      'air-on-path',
      `air inside the head on the beam path (${mm(r.lengthM)} at ${mm(r.atM)} from the scalp point ${fmtPoint(scalp)}; a sinus or mastoid cells): the skull model cannot stand in for it`,
    )
  }
  let incidence = Number.NaN
  if (findings.firstBone) {
    const n = skullNormal(sampler, findings.firstBone)
    if (n) incidence = (Math.acos(Math.min(1, Math.abs(dot3(n, beam)))) * 180) / Math.PI
  }
  if (incidence > INCIDENCE_WARNING_DEG)
    warnings.push(`the beam meets the skull at ${incidence.toFixed(0)} degrees from its normal: expect strong refraction and a lower transmission`)

  let standoff: number
  let focalFromApex: number
  if (device.kind === 'bowl') {
    standoff = device.rocM - device.exitPlaneOffsetM - scalpToTarget
    if (standoff < device.minStandoffM - 1e-9) {
      throw new PlacementError(
        'too-deep',
        `the target is ${mm(scalpToTarget)} below the scalp; ${device.id} focuses at most ${mm(device.rocM - device.exitPlaneOffsetM - device.minStandoffM)} below the scalp (ROC ${mm(device.rocM)}, exit plane ${mm(device.exitPlaneOffsetM)}, coupling ${mm(device.minStandoffM)})`,
      )
    }
    if (standoff > device.maxStandoffM + 1e-9) {
      throw new PlacementError(
        'too-shallow',
        `the target is only ${mm(scalpToTarget)} below the scalp; ${device.id} would need ${mm(standoff)} of coupling (at most ${mm(device.maxStandoffM)})`,
      )
    }
    focalFromApex = device.rocM
  } else {
    standoff = device.minStandoffM
    const depth = standoff + scalpToTarget
    const [lo, hi] = device.focalRangeM ?? [0, Infinity]
    if (depth > hi) throw new PlacementError('too-deep', `the target is ${mm(depth)} from the exit plane; ${device.id} steers to at most ${mm(hi)}`)
    if (depth < lo) {
      standoff = lo - scalpToTarget
      if (standoff > device.maxStandoffM)
        throw new PlacementError(
          'too-shallow',
          `the target is ${mm(depth)} from the exit plane; ${device.id} steers no closer than ${mm(lo)} and would need ${mm(standoff)} of coupling`,
        )
    }
    focalFromApex = device.exitPlaneOffsetM + standoff + scalpToTarget
  }
  const exitCenter = sub3(scalp, scale3(beam, standoff))
  const apex = sub3(exitCenter, scale3(beam, device.exitPlaneOffsetM))
  const matrix = poseMatrix(apex, beam)
  const inside = devicePoints(device, matrix).filter((p) => sampler.head(p))
  if (inside.length > 0) {
    throw new PlacementError(
      'intersects-head',
      `the transducer would cut into the head (${inside.length} points of its surface, e.g. ${fmtPoint(inside[0]!)}): the scalp is too curved under it for this entry`,
    )
  }
  return {
    pose: { transducerToRas: matrix, apexRasM: apex, axisRas: beam, focalDistanceFromApexM: focalFromApex, standoffM: standoff },
    path: {
      scalpPointRasM: scalp,
      scalpToTargetM: scalpToTarget,
      exitPlaneToTargetM: standoff + scalpToTarget,
      skullThicknessM: findings.skullThicknessM,
      incidenceAngleDeg: incidence,
    },
    warnings,
  }
}

/**
 * No entry given: tries directions on a sphere around the target and keeps the feasible
 * placement with the shortest path and the smallest incidence angle (score = path / 60 mm +
 * incidence / 30 deg, both "costs" of about one at typical limits).
 */
export function proposeEntry(sampler: CtSampler, device: PlacementDevice, targetRasM: Vec3, samples = 600): Placement {
  if (!sampler.head(targetRasM)) throw new PlacementError('target-outside-head', `the target ${fmtPoint(targetRasM)} is not inside the head`)
  let best: { placement: Placement; score: number } | undefined
  const reasons = new Map<PlacementErrorCode, number>()
  const golden = Math.PI * (3 - Math.sqrt(5))
  for (let s = 0; s < samples; s++) {
    const zc = 1 - (2 * (s + 0.5)) / samples
    const r = Math.sqrt(1 - zc * zc)
    const direction: Vec3 = [r * Math.cos(s * golden), r * Math.sin(s * golden), zc]
    const entry = add3(targetRasM, scale3(direction, 0.05))
    try {
      const placement = placeTransducer(sampler, device, targetRasM, entry)
      const incidence = Number.isFinite(placement.path.incidenceAngleDeg) ? placement.path.incidenceAngleDeg : 45
      const score = placement.path.scalpToTargetM / 0.06 + incidence / 30
      if (!best || score < best.score) best = { placement, score }
    } catch (e) {
      if (e instanceof PlacementError) reasons.set(e.code, (reasons.get(e.code) ?? 0) + 1)
      else throw e
    }
  }
  if (!best) {
    const summary = [...reasons.entries()].map(([code, n]) => `${code}: ${n}`).join(', ')
    throw new PlacementError('no-entry-found', `no feasible entry for ${device.id} at ${fmtPoint(targetRasM)} among ${samples} directions (${summary})`)
  }
  return best.placement
}
