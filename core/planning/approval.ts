/**
 * When a stored plan may be approved for treatment: one rule set, enforced by the plan database
 * itself (so the app, the CLI and any future client refuse the same plans) and read by the app to
 * explain in advance why Approve is not offered.
 *
 * Approval is a clinical act (as in k-Plan's "approve plan" step): it needs
 * - a solver result (a surrogate preview is never treatment grade);
 * - the clinical resolution, CLINICAL_POINTS_PER_WAVELENGTH in water, or an explicit override
 *   with its reason in words, recorded beside the approval;
 * - every blocking safety flag (mechanical index over the ITRUSST limit, a tissue over the ITRUSST
 *   thermal limits) acknowledged by name;
 * - the approver's name, not blank.
 */
import type { PlanMetricsRecord, PlanRecord } from '../contracts/plan.ts'
import { CLINICAL_POINTS_PER_WAVELENGTH, MECHANICAL_INDEX_LIMIT } from './limits.ts'

/** A safety flag that blocks approval until acknowledged. */
export interface BlockingFlag {
  readonly id: 'mechanical' | 'thermal'
  /** The flag as the plan's metrics state it. */
  readonly text: string
}

export interface ApprovalGrounds {
  readonly approver: string
  /** Why a plan below the clinical resolution is approved anyway; required only then. */
  readonly overrideReason?: string | null
  /** Ids of the blocking flags the approver has read and accepts. */
  readonly acknowledged?: readonly string[]
}

export interface ApprovalRefusal {
  /** The request field that is missing or wrong ('approver', 'overrideReason', 'acknowledged') or 'plan'. */
  readonly field: 'approver' | 'overrideReason' | 'acknowledged' | 'plan'
  readonly message: string
}

/** A reason shorter than this is not a reason ("x", "ok"). */
export const MIN_OVERRIDE_REASON_CHARS = 10

/** The flags of a plan that block approval until acknowledged. */
export function blockingFlags(metrics: Pick<PlanMetricsRecord, 'mi' | 'mi_tc' | 'flags'>): BlockingFlag[] {
  const flags: BlockingFlag[] = []
  if (Math.min(metrics.mi, metrics.mi_tc) > MECHANICAL_INDEX_LIMIT) flags.push({ id: 'mechanical', text: metrics.flags.mechanical })
  if (/exceeds/i.test(metrics.flags.thermal)) flags.push({ id: 'thermal', text: metrics.flags.thermal })
  return flags
}

/** True when the plan's resolution is below the clinical one (an approval then needs an override). */
export function belowClinicalResolution(record: Pick<PlanRecord, 'simulation'>): boolean {
  return record.simulation.ppw < CLINICAL_POINTS_PER_WAVELENGTH - 1e-9
}

/** Why this plan cannot be approved on these grounds, or null when it can. */
export function approvalRefusal(
  record: Pick<PlanRecord, 'simulation' | 'source'>,
  metrics: Pick<PlanMetricsRecord, 'mi' | 'mi_tc' | 'flags'>,
  grounds: ApprovalGrounds,
): ApprovalRefusal | null {
  if (record.source === 'surrogate')
    return { field: 'plan', message: 'a neural-surrogate preview cannot be approved: run the full simulation and approve its result' }
  if (grounds.approver.trim().length === 0) return { field: 'approver', message: "the approver's name is empty" }
  if (belowClinicalResolution(record)) {
    const reason = grounds.overrideReason?.trim() ?? ''
    if (reason.length < MIN_OVERRIDE_REASON_CHARS) {
      return {
        field: 'overrideReason',
        message: `this plan was computed at ${record.simulation.ppw} points per wavelength, below the clinical ${CLINICAL_POINTS_PER_WAVELENGTH}: re-run it at ${CLINICAL_POINTS_PER_WAVELENGTH} or give the reason for approving it anyway (at least ${MIN_OVERRIDE_REASON_CHARS} characters)`,
      }
    }
  }
  const acknowledged = new Set(grounds.acknowledged ?? [])
  const open = blockingFlags(metrics).filter((f) => !acknowledged.has(f.id))
  if (open.length > 0)
    return {
      field: 'acknowledged',
      message: `acknowledge the safety flag${open.length > 1 ? 's' : ''} first: ${open.map((f) => `${f.id} (${f.text})`).join('; ')}`,
    }
  return null
}
