/**
 * The campaign file (`tfus campaign plan <file>`, issue 18): many plans as one resumable
 * campaign. JSON or YAML (by extension: .yaml/.yml; both validated here, the same way), strict
 * (an unknown key, such as a misspelt "transducer" for "transducers", is refused, never ignored). Millimetres and W/cm2 at this edge, as on the `tfus plan` command
 * line; the expansion (expand.ts) carries them to the task, and the task runner converts to SI.
 *
 * Two kinds:
 *   "plans"        subjects (a CT, optional MRI and registration), targets per subject (RAS mm, on
 *                  the CT or on the MRI), entries per target (given, or "proposed")
 *   "scene-sweep"  the surrogate data generator's scenes: procedural heads (seeds) times drawn
 *                  placements, each planned like a subject (core/surrogate/procedural-head.ts)
 * and for both: transducers x drives x mappings x resolutions (ppw), one optional thermal protocol.
 * Relative paths are relative to the campaign file's folder.
 */
import { z } from 'zod'
import { SimulationInputError } from '../solver/errors.ts'

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only (it names folders and CSV rows)')
const pointMm = z.tuple([z.number(), z.number(), z.number()])

/** One drive level, as `tfus plan` takes it: exactly one key. */
export const driveSpec = z.union([
  z.strictObject({ isppa_free_water_w_cm2: z.number().positive() }),
  z.strictObject({ isppa_target_w_cm2: z.number().positive() }),
  z.strictObject({ device_setting: z.number().positive() }),
  z.strictObject({ source_amplitude_kpa: z.number().positive() }),
])
export type DriveSpec = z.infer<typeof driveSpec>

const entry = z.union([z.literal('proposed'), pointMm])

const target = z.strictObject({
  id,
  ras_mm: pointMm,
  /** Where `ras_mm` (and the entries) were picked: the CT, or the subject's MRI (carried over by registration). */
  space: z.enum(['ct', 'mri']).default('ct'),
  /** Given entries (scalp points, RAS mm, same space as the target) or "proposed"; default: proposed. */
  entries: z.array(entry).min(1).default(['proposed']),
})

const subject = z
  .strictObject({
    id,
    ct: z.string().min(1),
    mri: z.string().min(1).optional(),
    /** A `tfus register` transform file (MRI -> CT); without it the MRI is registered in each task. */
    registration: z.string().min(1).optional(),
    targets: z.array(target).min(1),
  })
  .superRefine((s, ctx) => {
    if (s.registration && !s.mri)
      ctx.addIssue({ code: 'custom', path: ['registration'], message: 'only applies with "mri" (the transform maps the MRI onto the CT)' })
    s.targets.forEach((t, i) => {
      if (t.space === 'mri' && !s.mri) ctx.addIssue({ code: 'custom', path: ['targets', i, 'space'], message: '"mri" needs the subject\'s "mri" image' })
    })
  })

const sceneSweep = z.strictObject({
  /** Procedural head seeds (the surrogate generator uses 1000 + n). */
  head_seeds: z.array(z.number().int().nonnegative()).min(1),
  /** Placements drawn per head (core/surrogate/placements.ts), numbered 0..n-1. */
  placements_per_head: z.number().int().positive().max(1000),
  /** Seed of the placement draws; a task's draw depends only on (head seed, placement, this). */
  placement_seed: z.number().int().nonnegative().default(1),
  /** Voxel size of the generated CT [mm]; 1 mm is the generator's, 2 mm is quick. */
  spacing_mm: z.number().min(0.5).max(4).default(1),
})

const common = {
  name: id,
  transducers: z.array(z.string().min(1)).min(1),
  drives: z
    .array(driveSpec)
    .min(1)
    .default([{ source_amplitude_kpa: 60 }]),
  mappings: z.array(z.string().min(1)).min(1).default(['kplan']),
  ppw: z.array(z.number().positive()).min(1).default([6]),
  /** A sonication protocol file (resources/protocols/): every task then runs the thermal model. */
  thermal_protocol: z.string().min(1).optional(),
  backend: z.enum(['auto', 'webgpu', 'cpu']).default('auto'),
  /** Pulse timing for the safety indices (as tfus plan --pulse-duration-ms / --prf-hz). */
  pulse_duration_ms: z.number().positive().optional(),
  prf_hz: z.number().positive().optional(),
}

export const campaignFile = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('plans'), subjects: z.array(subject).min(1), ...common }),
  z.strictObject({ kind: z.literal('scene-sweep'), scene_sweep: sceneSweep, ...common }),
])
export type CampaignFile = z.infer<typeof campaignFile>

/** Validates a parsed campaign file; a fault is one SimulationInputError naming the file and the field. */
export function parseCampaignFile(json: unknown, file: string): CampaignFile {
  const parsed = campaignFile.safeParse(json)
  if (parsed.success) {
    const c = parsed.data
    const ids = new Set<string>()
    if (c.kind === 'plans') {
      c.subjects.forEach((s, i) => {
        if (ids.has(s.id)) throw new SimulationInputError(`${file}: subjects.${i}.id`, `"${s.id}" is used twice`)
        ids.add(s.id)
        const targets = new Set<string>()
        s.targets.forEach((t, j) => {
          if (targets.has(t.id)) throw new SimulationInputError(`${file}: subjects.${i}.targets.${j}.id`, `"${t.id}" is used twice for subject ${s.id}`)
          targets.add(t.id)
        })
      })
    }
    return c
  }
  const issue = parsed.error.issues[0]!
  const where = issue.path.join('.') || '(top level)'
  throw new SimulationInputError(`${file}: ${where}`, issue.message)
}
