/**
 * A campaign file expanded into numbered tasks, deterministically: the same file gives the same
 * tasks in the same order (nested loops in the file's own order: subject, target, entry, then
 * transducer, drive, mapping, ppw), and each task's id is a hash of what it computes, not of
 * its position, so a marker written by a task can be checked against the task it claims to be.
 */
import { canonicalJson } from '../db/canonical.ts'
import type { CampaignFile, DriveSpec } from './campaign-file.ts'

export type Vec3Mm = readonly [number, number, number]

/** Where a task's head comes from: a subject's images, or a procedural head and a drawn placement. */
export type TaskSource =
  | {
      readonly kind: 'subject'
      readonly subject: string
      readonly target: string
      /** Absolute paths (resolved against the campaign file's folder at plan time). */
      readonly ct: string
      readonly mri?: string
      readonly registration?: string
      readonly space: 'ct' | 'mri'
      readonly target_ras_mm: Vec3Mm
      readonly entry_ras_mm: Vec3Mm | null
    }
  | {
      readonly kind: 'procedural-head'
      readonly head_seed: number
      readonly placement: number
      readonly placement_seed: number
      readonly spacing_mm: number
    }

export interface CampaignTask {
  readonly index: number
  /** Hash of the task's inputs (16 hex digits); stable across re-expansion of the same file. */
  readonly id: string
  /** Readable name: subject/target/entry/transducer/drive/mapping/ppw. */
  readonly label: string
  readonly source: TaskSource
  readonly transducer: string
  readonly drive: DriveSpec
  readonly mapping: string
  readonly ppw: number
  readonly thermal_protocol?: string
  readonly backend: 'auto' | 'webgpu' | 'cpu'
  readonly pulse_duration_ms?: number
  readonly prf_hz?: number
}

/** FNV-1a, 64 bit: a short stable id (not a security hash; ids only name tasks). */
export function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n
  const bytes = new TextEncoder().encode(text)
  for (const b of bytes) {
    h ^= BigInt(b)
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn
  }
  return h.toString(16).padStart(16, '0')
}

export function driveLabel(d: DriveSpec): string {
  if ('isppa_free_water_w_cm2' in d) return `isppa-fw-${d.isppa_free_water_w_cm2}`
  if ('isppa_target_w_cm2' in d) return `isppa-target-${d.isppa_target_w_cm2}`
  if ('device_setting' in d) return `setting-${d.device_setting}`
  return `source-${d.source_amplitude_kpa}kpa`
}

/** Joins a relative path onto the campaign file's folder (POSIX or Windows absolute paths stay). */
export type ResolvePath = (relative: string) => string

export function expandCampaign(c: CampaignFile, resolve: ResolvePath): CampaignTask[] {
  const sources: { source: TaskSource; label: string }[] = []
  if (c.kind === 'plans') {
    for (const s of c.subjects) {
      for (const t of s.targets) {
        t.entries.forEach((e, k) => {
          sources.push({
            label: `${s.id}/${t.id}/${e === 'proposed' ? 'proposed' : `entry${k}`}`,
            source: {
              kind: 'subject',
              subject: s.id,
              target: t.id,
              ct: resolve(s.ct),
              ...(s.mri ? { mri: resolve(s.mri) } : {}),
              ...(s.registration ? { registration: resolve(s.registration) } : {}),
              space: t.space,
              target_ras_mm: t.ras_mm,
              entry_ras_mm: e === 'proposed' ? null : e,
            },
          })
        })
      }
    }
  } else {
    const sw = c.scene_sweep
    for (const seed of sw.head_seeds) {
      for (let p = 0; p < sw.placements_per_head; p++) {
        sources.push({
          label: `head${seed}/placement${p}`,
          source: { kind: 'procedural-head', head_seed: seed, placement: p, placement_seed: sw.placement_seed, spacing_mm: sw.spacing_mm },
        })
      }
    }
  }
  const tasks: CampaignTask[] = []
  for (const { source, label } of sources) {
    for (const transducer of c.transducers) {
      for (const drive of c.drives) {
        for (const mapping of c.mappings) {
          for (const ppw of c.ppw) {
            const inputs = {
              source,
              transducer,
              drive,
              mapping,
              ppw,
              backend: c.backend,
              ...(c.thermal_protocol ? { thermal_protocol: resolve(c.thermal_protocol) } : {}),
              ...(c.pulse_duration_ms !== undefined ? { pulse_duration_ms: c.pulse_duration_ms } : {}),
              ...(c.prf_hz !== undefined ? { prf_hz: c.prf_hz } : {}),
            }
            tasks.push({
              index: tasks.length,
              id: fnv1a64(canonicalJson(inputs)),
              label: `${label}/${transducer}/${driveLabel(drive)}/${mapping}/ppw${ppw}`,
              ...inputs,
            })
          }
        }
      }
    }
  }
  // Two identical tasks (a target listed twice under another id is fine; the same inputs twice
  // is not) would share an id and compete for one database entry.
  const seen = new Map<string, number>()
  for (const t of tasks) {
    const before = seen.get(t.id)
    if (before !== undefined) throw new DuplicateTaskError(before, t.index)
    seen.set(t.id, t.index)
  }
  return tasks
}

export class DuplicateTaskError extends Error {
  constructor(
    readonly first: number,
    readonly second: number,
  ) {
    super(`tasks ${first} and ${second} have the same inputs`)
  }
}

/** Compact index list for `sbatch --array`: [0,1,2,5,7,8] -> "0-2,5,7-8". */
export function indexRanges(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b)
  const parts: string[] = []
  for (let i = 0; i < sorted.length;) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`)
    i = j + 1
  }
  return parts.join(',')
}
