/**
 * What the planner service shows of its sources, as the API's payloads: a plan-database error in
 * the API's words, the surrogate preview's measured error per transducer, a plan folder's thermal
 * verdict and a stored plan's row in the plan browser. Pure reads; no state.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { z } from 'zod'
import { deserializeError, serializeError, type PlanResultPayload, type TransducerInfo } from '../../core/contracts/api.ts'
import { PLAN_FILES } from '../../core/contracts/plan.ts'
import { isPlanStoreError } from '../../core/db/errors.ts'
import type { PlanSummary } from '../../core/db/plan-store.ts'
import { parseSurrogateManifest, type SurrogateManifest } from '../../core/surrogate/manifest.ts'

/** The API code of a plan-database error the caller can act on (the rest stay 'internal'). */
const PLAN_STORE_CODES: Readonly<Record<string, string>> = {
  'not-found': 'not-found',
  'bad-request': 'bad-request',
  'invalid-record': 'bad-request',
  'already-approved': 'conflict',
  'not-approvable': 'bad-request',
  conflict: 'conflict',
}

/**
 * `e` with its message rewritten (name and field kept) and a plan-database error's code mapped to
 * the API's; `e` itself when nothing changes.
 */
export function withMessage(e: unknown, rewrite: (message: string) => string): unknown {
  const s = serializeError(e)
  const storeCode = isPlanStoreError(e) ? PLAN_STORE_CODES[e.code] : undefined
  const message = rewrite(s.message)
  if (message === s.message && storeCode === undefined) return e
  return deserializeError({ ...s, message, ...(storeCode !== undefined ? { code: storeCode } : {}) })
}

/**
 * Which transducer the surrogate model serves, and its measured error as the model card states it:
 * on real CTs (the 'sample-ct' cases) when it was measured there, else on all held-out cases. A
 * missing or unreadable model means no preview, not an error.
 */
export async function surrogatePreviewInfoFrom(modelFile: string): Promise<(transducerId: string) => TransducerInfo['preview']> {
  const none = { available: false, peakErrorPct: null, focalErrorMm: null, measuredOn: null }
  let manifest: SurrogateManifest
  try {
    manifest = parseSurrogateManifest(JSON.parse(await fs.readFile(modelFile, 'utf8')), modelFile)
  } catch {
    return () => none
  }
  const realCt = manifest.evaluation?.by_source?.['sample-ct']
  const measured = realCt ?? manifest.evaluation?.held_out
  const info = {
    available: true,
    peakErrorPct: measured ? measured.peak_error_pct.median : null,
    focalErrorMm: measured ? measured.focal_error_mm.median : null,
    measuredOn: measured ? `${measured.n} held-out case${measured.n === 1 ? '' : 's'}${realCt ? ' on a real CT' : ''}` : null,
  }
  return (id) => (id === manifest.transducer_id ? info : none)
}

/** The thermal model's verdict from a plan folder's thermal.json, or null when it has not run. */
const thermalJsonView = z.object({
  flags: z.object({ thermal: z.string().min(1) }),
  tissues: z
    .record(
      z.string(),
      z.object({
        peak_rise_c: z.number(),
        peak_temperature_c: z.number(),
        cem43_max_min: z.number(),
        flag: z.object({ within: z.boolean(), text: z.string() }),
      }),
    )
    .default({}),
  time_courses: z
    .object({ t_s: z.array(z.number()) })
    .catchall(z.unknown())
    .optional(),
})

export async function thermalSummary(planDir: string): Promise<PlanResultPayload['thermal']> {
  let doc: unknown
  try {
    doc = JSON.parse(await fs.readFile(path.join(planDir, PLAN_FILES.thermal), 'utf8'))
  } catch {
    return null
  }
  const parsed = thermalJsonView.safeParse(doc)
  if (!parsed.success) return null
  const t = parsed.data
  const tissues = Object.entries(t.tissues).map(([tissue, v]) => ({
    tissue,
    peakRiseC: v.peak_rise_c,
    peakTemperatureC: v.peak_temperature_c,
    cem43Min: v.cem43_max_min,
    within: v.flag.within,
    text: v.flag.text,
  }))
  // The curve of the tissue that got hottest, at its hottest voxel (else the hottest voxel over time).
  const hottest = [...tissues].sort((a, b) => b.peakTemperatureC - a.peakTemperatureC)[0]
  const course =
    hottest && t.time_courses ? (t.time_courses[hottest.tissue] as { hottest_voxel_c?: number[] | null; max_over_tissue_c?: number[] } | undefined) : undefined
  const temperatureC = course?.hottest_voxel_c ?? course?.max_over_tissue_c
  const curve =
    hottest && t.time_courses && temperatureC && temperatureC.length === t.time_courses.t_s.length
      ? { tissue: hottest.tissue, tS: t.time_courses.t_s, temperatureC }
      : null
  return { summary: `thermal: ${t.flags.thermal}`, tissues, curve }
}

/** A plan of the database as the plan browser lists it. */
export function planSummaryOf(r: PlanSummary) {
  return {
    planId: String(r.planId),
    label: `${r.note ?? r.transducerId} (v${r.latestVersion})`,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    version: r.latestVersion,
    approved: r.approvedVersions.includes(r.latestVersion),
    ...(r.patientName || r.patientId ? { patient: [r.patientName, r.patientId].filter(Boolean).join(' · ') } : {}),
    ppw: r.ppw,
    source: r.source,
    ct: path.basename(r.ctSource),
  }
}
