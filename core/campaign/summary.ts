/**
 * The campaign's summary table (summary.csv, written by `tfus campaign collect`): one row per
 * task, in task order, with the plan's headline numbers in the units a reader expects (kPa, mm,
 * dB, W/cm2) and its plan database id once collected.
 */

export interface SummaryRow {
  readonly index: number
  readonly id: string
  readonly label: string
  readonly state: string
  readonly planId: number | null
  readonly wallS: number | null
  readonly metrics: {
    readonly peak_pressure_pa: number
    readonly focal_shift_length_m: number
    readonly insertion_loss_db: number
    readonly mi: number
    readonly isppa_w_m2: number
  } | null
  readonly error: string | null
}

export const SUMMARY_COLUMNS = [
  'index',
  'task_id',
  'label',
  'state',
  'plan_id',
  'peak_pressure_kpa',
  'focal_shift_mm',
  'insertion_loss_db',
  'mi',
  'isppa_w_cm2',
  'wall_s',
  'error',
] as const

function csvField(v: string | number | null): string {
  if (v === null) return ''
  const s = String(v)
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function summaryCsv(rows: readonly SummaryRow[]): string {
  const lines = [SUMMARY_COLUMNS.join(',')]
  for (const r of rows) {
    const m = r.metrics
    lines.push(
      [
        r.index,
        r.id,
        r.label,
        r.state,
        r.planId,
        m ? Number((m.peak_pressure_pa / 1000).toFixed(3)) : null,
        m ? Number((m.focal_shift_length_m * 1000).toFixed(3)) : null,
        m ? Number(m.insertion_loss_db.toFixed(3)) : null,
        m ? Number(m.mi.toFixed(4)) : null,
        m ? Number((m.isppa_w_m2 / 1e4).toFixed(4)) : null,
        r.wallS === null ? null : Number(r.wallS.toFixed(1)),
        r.error,
      ]
        .map(csvField)
        .join(','),
    )
  }
  return lines.join('\n') + '\n'
}

/** The note a collected plan carries in the database: the campaign and task it came from. */
export function campaignNote(campaignName: string, campaignId: string, index: number, taskId: string, label: string): string {
  return `campaign ${campaignName} [${campaignId}] task ${index} [${taskId}]: ${label}`
}

/** The (campaign id, task id) of a note written by campaignNote, else null. */
export function parseCampaignNote(note: string | null): { campaignId: string; taskId: string } | null {
  const m = note === null ? null : /^campaign \S+ \[([0-9a-f]{16})\] task \d+ \[([0-9a-f]{16})\]: /.exec(note)
  return m ? { campaignId: m[1]!, taskId: m[2]! } : null
}
