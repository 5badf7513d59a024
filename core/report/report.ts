/**
 * The printable plan report: one self-contained HTML page (inline CSS with a print stylesheet,
 * images as data: URIs, no script, nothing fetched), printable to PDF from the app or a browser.
 *
 * Every number comes from plan.json / metrics.json (/ thermal.json) as stored: the report only
 * changes units for reading (Pa -> kPa, m -> mm, W/m2 -> W/cm2) and keeps the stored SI value in
 * each cell's `data-si` attribute, so a reader (or a test) can check it against the files.
 */
import type { PlanMetricsRecord, PlanRecord } from '../contracts/plan.ts'
import type { SliceImage } from './slices.ts'
import { base64 } from './png.ts'
import { poseNote } from '../exports/provenance.ts'
import { CLINICAL_POINTS_PER_WAVELENGTH, MECHANICAL_INDEX_LIMIT } from '../planning/limits.ts'
import { belowClinicalResolution } from '../planning/approval.ts'

export interface ReportPatient {
  readonly name: string
  readonly id: string
  readonly birthDate: string
}

export interface ReportImage {
  readonly role: string
  readonly source: string
  readonly frameOfReferenceUid: string | null
  readonly seriesInstanceUid: string | null
}

export interface ReportInput {
  readonly plan: PlanRecord
  readonly metrics: PlanMetricsRecord
  /** thermal.json when the plan folder has one; null = thermal not assessed. */
  readonly thermal: Record<string, unknown> | null
  /**
   * `<id>@<version>` (database) or the plan folder's name, as shown; when de-identified a
   * neutral id (never a folder name), shown as "Plan <id> (de-identified)".
   */
  readonly planLabel: string
  /** Database id and version when exported from the plan database; null/absent for a plan folder. */
  readonly planRef?: { readonly id: number; readonly version: number } | null
  /** null when de-identified (the report then says so instead of showing identity). */
  readonly patient: ReportPatient | null
  readonly deidentified: boolean
  /** De-identified only: the image UIDs shown are the originals (`--retain-uids`) rather than their replacements. */
  readonly uidsRetained?: boolean
  readonly images: readonly ReportImage[]
  readonly slices: readonly SliceImage[]
  /** Why the slices look as they do (e.g. "CT not found: pressure only"), or undefined. */
  readonly sliceNote?: string
  readonly approval?: { readonly by: string; readonly at: string; readonly overrideReason?: string | null; readonly acknowledged?: readonly string[] }
  /** ISO time the report was generated. */
  readonly generatedAt: string
  /** Software name and version of the exporter. */
  readonly software: string
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

/** A display number: up to `digits` decimals, trailing zeros kept for alignment. */
const fix = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : String(v))
const mm = (m: number, digits = 1) => fix(m * 1000, digits)
const mm3 = (v: readonly number[], digits = 1) => v.map((x) => mm(x, digits)).join(', ')
/** A width that may be unmeasured (null in metrics.json): shown as "not measured", never "NaN". */
const mmOrNot = (m: number | null, digits = 1) => (m === null ? 'not measured' : mm(m, digits))
const widthsText = (w: PlanMetricsRecord['fwhm_6db_m']) => {
  const parts = [w.axial, w.lateral1, w.lateral2]
  return parts.every((x) => x === null)
    ? 'not measured (see warnings)'
    : `${parts.map((x) => mmOrNot(x)).join(' × ')} mm${parts.some((x) => x === null) ? ' (see warnings)' : ''}`
}

/** A table cell carrying its stored SI value ("null" for a value that was not measured). */
function cell(display: string, si: number | readonly (number | null)[] | string): string {
  const raw = typeof si === 'string' ? si : Array.isArray(si) ? si.map((x) => String(x)).join(' ') : String(si)
  return `<td data-si="${escapeHtml(raw)}">${escapeHtml(display)}</td>`
}

function row(label: string, value: string): string {
  return `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`
}

/**
 * thermal.json keys end in their unit (the project's naming rule: `_c`, `_s`, `_min`, ...);
 * the report turns that suffix into the unit shown beside the number.
 */
const KEY_UNITS: ReadonlyArray<[RegExp, string]> = [
  [/_c$/, '°C'],
  [/_min$/, 'min'],
  [/_s$/, 's'],
  [/_pa$/, 'Pa'],
  [/_m$/, 'm'],
  [/_w_m2$/, 'W/m²'],
  [/_hz$/, 'Hz'],
]

/** "max_temperature_rise_c" -> ["max temperature rise", "°C"]; a number without a unit suffix is a count or ratio. */
function keyLabel(key: string): [string, string] {
  for (const [re, unit] of KEY_UNITS) if (re.test(key)) return [key.replace(re, '').replace(/_/g, ' '), unit]
  return [key.replace(/_/g, ' '), 'dimensionless']
}

/** One thermal.json scalar as a row: the quantity, its unit in the header and beside the number. */
function thermalRow(key: string, v: number | string | boolean): string {
  if (typeof v !== 'number') return row(key.replace(/_/g, ' '), String(v))
  const [quantity, unit] = keyLabel(key)
  return `<tr><th>${escapeHtml(`${quantity} (${unit})`)}</th>${cell(unit === 'dimensionless' ? String(v) : `${v} ${unit}`, v)}</tr>`
}

function thermalSection(input: ReportInput): string {
  if (!input.thermal) {
    return `<p class="flag neutral"><strong>Thermal: not assessed.</strong> No thermal.json in the plan folder (the thermal model was not run for this plan).</p>`
  }
  const scalars = Object.entries(input.thermal).filter(
    (e): e is [string, number | string | boolean] => typeof e[1] === 'number' || typeof e[1] === 'string' || typeof e[1] === 'boolean',
  )
  // Per-tissue results as the thermal model writes them (electron/app/thermal-plan.ts thermalJsonOf).
  const tissues = input.thermal['tissues']
  const tissueRows =
    tissues !== null && typeof tissues === 'object'
      ? Object.entries(tissues as Record<string, Record<string, unknown>>)
          .map(([name, t]) => {
            const num = (k: string, digits: number, unit: string) => (typeof t[k] === 'number' ? cell(`${fix(t[k], digits)} ${unit}`, t[k]) : '<td>—</td>')
            return `<tr><th>${escapeHtml(name)}</th>${num('peak_rise_c', 2, '°C')}${num('peak_temperature_c', 2, '°C')}${num('time_of_peak_s', 1, 's')}${num('cem43_max_min', 4, 'min')}</tr>`
          })
          .join('')
      : ''
  const tissueTable = tissueRows
    ? `<table><thead><tr><th>Tissue</th><th>Peak temperature rise (°C)</th><th>Peak temperature (°C)</th><th>Time of the peak (s)</th><th>Largest thermal dose CEM43 (min)</th></tr></thead><tbody>${tissueRows}</tbody></table>`
    : ''
  return `<p class="flag"><strong>Thermal:</strong> ${escapeHtml(input.metrics.flags.thermal)}</p>
${tissueTable}<table class="kv"><tbody>${scalars.map(([k, v]) => thermalRow(k, v)).join('')}</tbody></table>`
}

/** The report page. */
export function buildReportHtml(input: ReportInput): string {
  const { plan, metrics } = input
  const pose = plan.pose
  const t = pose.transducer_to_ras
  const axes = [0, 1, 2].map((c) => [t[c]!, t[4 + c]!, t[8 + c]!])
  const duty = plan.pulse_timing.pulse_duration_s * plan.pulse_timing.prf_hz
  const totalDuty = duty * plan.pulse_timing.train_duty_cycle
  const drive = plan.drive
  const driveText =
    drive.kind === 'source'
      ? `source pressure ${fix(drive.amplitude_pa / 1000, 1)} kPa`
      : drive.kind === 'isppa-free-water'
        ? `Isppa ${fix(drive.isppa_w_m2 / 1e4, 2)} W/cm² in free water`
        : drive.kind === 'isppa-target'
          ? `Isppa ${fix(drive.isppa_w_m2 / 1e4, 2)} W/cm² at the target`
          : `console setting ${drive.setting} ${drive.setting_unit} x ${drive.pa_per_unit} Pa/unit (${drive.calibration_source})`

  // Preview grade: a surrogate field, or a solver run below the clinical resolution.
  const notForTreatment =
    plan.source === 'surrogate'
      ? 'neural-surrogate preview, not a full-wave simulation'
      : belowClinicalResolution(plan)
        ? `preview resolution: ${plan.simulation.ppw} points per wavelength, below the clinical ${CLINICAL_POINTS_PER_WAVELENGTH}`
        : null
  // An approval below the clinical resolution was given with a stated reason: the banner says that instead.
  const bannerText =
    notForTreatment && input.approval?.overrideReason
      ? `BELOW THE CLINICAL RESOLUTION · ${notForTreatment}; approved by override, reason in Approval`
      : notForTreatment
        ? `NOT FOR TREATMENT · ${notForTreatment}`
        : null
  const planTitle = input.deidentified ? `Plan ${input.planLabel} (de-identified)` : input.planLabel
  const uidText = input.uidsRetained
    ? "The image UIDs below are the originals (retained on request, so navigation systems can match the planning scan's Frame of Reference)."
    : "The image UIDs below are replacements, the same as in this plan's de-identified DICOM export; the originals are not shown."
  const patientBlock =
    input.patient && !input.deidentified
      ? `<table class="kv"><tbody>${row('Patient name', input.patient.name || '(not recorded)')}${row('Patient ID', input.patient.id || '(not recorded)')}${row('Birth date', input.patient.birthDate || '(not recorded)')}</tbody></table>`
      : `<p><strong>De-identified:</strong> patient name, ID and birth date, file paths and the plan folder name removed from this report. ${escapeHtml(uidText)}</p>`

  // The database id and version are not identifying: shown in de-identified reports too.
  const planRows = input.planRef
    ? `${row('Plan ID', String(input.planRef.id))}${row('Plan version', String(input.planRef.version))}`
    : `${row('Plan', planTitle)}${row('Plan ID and version', 'none: exported from a plan folder, not from the plan database')}`

  const imagesRows = input.images
    .map(
      (im) =>
        `<tr><td>${escapeHtml(im.role)}</td><td class="path">${escapeHtml(im.source)}</td><td class="uid">${escapeHtml(im.frameOfReferenceUid ?? '—')}</td><td class="uid">${escapeHtml(im.seriesInstanceUid ?? '—')}</td></tr>`,
    )
    .join('')

  const metricRows: Array<[string, string, number | readonly (number | null)[] | string, string]> = [
    ['Peak pressure in the brain', `${fix(metrics.peak_pressure_pa / 1000, 1)} kPa`, metrics.peak_pressure_pa, ''],
    ['Peak position (RAS)', `${mm3(metrics.peak_position_ras_m)} mm`, metrics.peak_position_ras_m, ''],
    [
      'Focal shift (peak − target)',
      `${mm(metrics.focal_shift_length_m)} mm (RAS components ${mm3(metrics.focal_shift_m)} mm)`,
      metrics.focal_shift_length_m,
      '',
    ],
    [
      '−3 dB size (axial × lateral × lateral)',
      widthsText(metrics.fwhm_3db_m),
      [metrics.fwhm_3db_m.axial, metrics.fwhm_3db_m.lateral1, metrics.fwhm_3db_m.lateral2],
      '',
    ],
    [
      '−6 dB size (axial × lateral × lateral)',
      widthsText(metrics.fwhm_6db_m),
      [metrics.fwhm_6db_m.axial, metrics.fwhm_6db_m.lateral1, metrics.fwhm_6db_m.lateral2],
      '',
    ],
    ['−6 dB volume', `${fix(metrics.volume_6db_m3 * 1e9, 1)} mm³`, metrics.volume_6db_m3, ''],
    ['Isppa (in situ)', `${fix(metrics.isppa_w_m2 / 1e4, 2)} W/cm²`, metrics.isppa_w_m2, ''],
    ['Ispta (in situ)', `${fix(metrics.ispta_w_m2 / 1e4, 3)} W/cm²`, metrics.ispta_w_m2, ''],
    ['Duty cycle', `${fix(metrics.duty_cycle * 100, 2)} %`, metrics.duty_cycle, ''],
    // Indices defined as ratios (IEC 62359): dimensionless, said so rather than left bare.
    ['Mechanical index MI (dimensionless)', fix(metrics.mi, 2), metrics.mi, `≤ ${MECHANICAL_INDEX_LIMIT} (MI or MI_tc)`],
    ['Transcranial mechanical index MI_tc (dimensionless)', fix(metrics.mi_tc, 2), metrics.mi_tc, `≤ ${MECHANICAL_INDEX_LIMIT} (MI or MI_tc)`],
    ['Cranial thermal index TIC (dimensionless)', fix(metrics.tic, 2), metrics.tic, 'see thermal'],
    ['Free-water peak', `${fix(metrics.free_water_peak_pa / 1000, 1)} kPa`, metrics.free_water_peak_pa, ''],
    ['Insertion loss', `${fix(metrics.insertion_loss_db, 1)} dB`, metrics.insertion_loss_db, ''],
    ['Skull thickness on the axis', `${mm(metrics.skull_thickness_m)} mm`, metrics.skull_thickness_m, ''],
    ['Incidence angle', `${fix(metrics.incidence_angle_deg, 1)}°`, metrics.incidence_angle_deg, ''],
    ['Exit plane to target', `${mm(metrics.exit_plane_to_target_m)} mm`, metrics.exit_plane_to_target_m, ''],
    ['Source amplitude', `${fix(metrics.source_amplitude_pa / 1000, 2)} kPa`, metrics.source_amplitude_pa, ''],
  ]
  const metricsTable = metricRows
    .map(([label, display, si, limit]) => `<tr><th>${escapeHtml(label)}</th>${cell(display, si)}<td class="limit">${escapeHtml(limit)}</td></tr>`)
    .join('')
  const mechanicalPass = /^pass/i.test(metrics.flags.mechanical)

  const slices = input.slices
    .map(
      (s) => `<figure class="slice">
  <div class="frame"><img alt="${s.plane} slice" src="data:image/png;base64,${base64(s.png)}" width="${s.widthPx}" height="${s.heightPx}">
    <span class="lab top">${s.labels.top}</span><span class="lab bottom">${s.labels.bottom}</span><span class="lab left">${s.labels.left}</span><span class="lab right">${s.labels.right}</span></div>
  <figcaption>${s.plane} through (${mm3(s.centreRasM)}) mm RAS, ${fix(s.fieldOfViewM * 1000, 0)} mm field of view</figcaption>
</figure>`,
    )
    .join('\n')

  const warnings = metrics.warnings.length === 0 ? '<p>None.</p>' : `<ul>${metrics.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`
  const approval = input.approval
    ? `<table class="kv"><tbody>${row('Approved by', input.approval.by)}${row('Approved at', input.approval.at)}${input.approval.overrideReason ? row(`Approved below ${CLINICAL_POINTS_PER_WAVELENGTH} points per wavelength, for the reason`, input.approval.overrideReason) : ''}${input.approval.acknowledged?.length ? row('Safety flags acknowledged', input.approval.acknowledged.join(', ')) : ''}</tbody></table>`
    : `<p>Not approved in the planning software. Sign below after review.</p>
<div class="sign"><div>Approved by (name)<span></span></div><div>Signature<span></span></div><div>Date and time<span></span></div></div>`

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="${escapeHtml(input.software)}">
<title>TFUS plan report: ${escapeHtml(planTitle)}</title>
<style>
  :root { color-scheme: light; }
  body { font: 10.5pt/1.35 "Helvetica Neue", Arial, sans-serif; color: #111; margin: 18mm; }
  h1 { font-size: 16pt; margin: 0 0 2mm; } h2 { font-size: 12pt; margin: 6mm 0 2mm; border-bottom: 1px solid #999; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 1mm 2mm; border-bottom: 1px solid #ddd; vertical-align: top; }
  table.kv th { width: 38%; font-weight: 600; } td.path, td.uid { font-family: monospace; font-size: 8.5pt; word-break: break-all; }
  td.limit { color: #555; font-size: 9pt; } .flag { padding: 1.5mm 2mm; border-left: 4px solid #888; background: #f4f4f4; }
  .flag.pass { border-color: #2a7d2a; } .flag.fail { border-color: #b00020; background: #fbeaea; }
  .slices { display: flex; gap: 4mm; flex-wrap: wrap; } figure.slice { margin: 0; width: 58mm; }
  .frame { position: relative; } .frame img { width: 100%; height: auto; display: block; }
  .lab { position: absolute; color: #fff; font-weight: 700; text-shadow: 0 0 2px #000; font-size: 9pt; }
  .lab.top { top: 1mm; left: 50%; } .lab.bottom { bottom: 1mm; left: 50%; } .lab.left { left: 1mm; top: 45%; } .lab.right { right: 1mm; top: 45%; }
  figcaption { font-size: 8.5pt; color: #333; } .note { font-size: 9pt; color: #444; }
  .sign { display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 6mm; margin-top: 8mm; } .sign span { display: block; border-bottom: 1px solid #000; height: 12mm; }
  .not-for-treatment { font-weight: 700; color: #fff; background: #b00020; padding: 2mm 3mm; margin-bottom: 4mm; font-size: 11pt; }
  /* A fixed element is printed at the top of every page, so no page of a preview-grade plan can pass for a treatment plan. */
  @media print { .not-for-treatment { position: fixed; top: 0; left: 0; right: 0; margin: 0; } body.preview { padding-top: 12mm; } }
  @media print { body { margin: 0; } @page { size: A4; margin: 14mm; } h2 { break-after: avoid; } table, figure, .sign { break-inside: avoid; } }
</style>
</head>
<body${notForTreatment ? ' class="preview"' : ''}>
${bannerText ? `<div class="not-for-treatment" data-testid="not-for-treatment">${escapeHtml(bannerText)}</div>` : ''}
<h1>Transcranial focused ultrasound plan</h1>
<p class="note">${input.deidentified ? '' : 'Plan '}${escapeHtml(planTitle)} · generated ${escapeHtml(input.generatedAt)} by ${escapeHtml(input.software)} (plan computed by ${escapeHtml(plan.software)})</p>

<h2>Plan</h2>
<table class="kv"><tbody>${planRows}</tbody></table>

<h2>Patient</h2>
${patientBlock}

<h2>Images</h2>
<table><thead><tr><th>Role</th><th>Source</th><th>FrameOfReferenceUID</th><th>SeriesInstanceUID</th></tr></thead><tbody>${imagesRows}</tbody></table>

<h2>Target and transducer pose</h2>
<p class="flag">${escapeHtml(poseNote(plan))}</p>
<table class="kv"><tbody>
<tr><th>Target (RAS)</th>${cell(`${mm3(plan.target_ras_m)} mm`, plan.target_ras_m)}</tr>
<tr><th>Entry (RAS)</th>${plan.entry_ras_m ? cell(`${mm3(plan.entry_ras_m)} mm${plan.entry_proposed ? ' (proposed by the planner)' : ''}`, plan.entry_ras_m) : `<td>${plan.entry_proposed ? 'proposed by the planner (not stored)' : '—'}</td>`}</tr>
<tr><th>Transducer apex (RAS)</th>${cell(`${mm3(pose.apex_ras_m, 2)} mm`, pose.apex_ras_m)}</tr>
<tr><th>Beam axis (RAS unit vector, dimensionless)</th>${cell(pose.axis_ras.map((v) => fix(v, 4)).join(', '), pose.axis_ras)}</tr>
<tr><th>Transducer x, y axes (RAS unit vectors, dimensionless)</th><td>${axes
    .slice(0, 2)
    .map((a) => `(${a.map((v) => fix(v, 4)).join(', ')})`)
    .join(' · ')}</td></tr>
<tr><th>Standoff (apex to skin along the axis)</th>${cell(`${mm(pose.standoff_m)} mm`, pose.standoff_m)}</tr>
<tr><th>Focal distance from the apex</th>${cell(`${mm(pose.focal_distance_from_apex_m)} mm`, pose.focal_distance_from_apex_m)}</tr>
<tr><th>Pose matrix (transducer → RAS; rotation dimensionless, last column translation in mm)</th><td class="uid">${[0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => fix(t[4 * r + c]! * (c === 3 ? 1000 : 1), c === 3 ? 3 : 6)).join(' ')).join('<br>')}</td></tr>
</tbody></table>

<h2>Transducer and pulse timing</h2>
<table class="kv"><tbody>
${row('Transducer', `${plan.transducer.id} (${plan.transducer.source_file})`)}
<tr><th>Frequency</th>${cell(`${fix(plan.transducer.frequency_hz / 1e3, 1)} kHz`, plan.transducer.frequency_hz)}</tr>
${row('Drive', driveText)}
<tr><th>Pulse duration</th>${cell(`${fix(plan.pulse_timing.pulse_duration_s * 1e3, 3)} ms`, plan.pulse_timing.pulse_duration_s)}</tr>
<tr><th>Pulse repetition frequency</th>${cell(`${fix(plan.pulse_timing.prf_hz, 1)} Hz`, plan.pulse_timing.prf_hz)}</tr>
<tr><th>Pulse-train duty cycle</th>${cell(`${fix(plan.pulse_timing.train_duty_cycle * 100, 1)} %`, plan.pulse_timing.train_duty_cycle)}</tr>
${row('Overall duty cycle (pulse duration × PRF × train duty cycle)', `${fix(totalDuty * 100, 2)} %`)}
</tbody></table>

<h2>Simulation</h2>
<table class="kv"><tbody>
${row('CT to acoustic properties', `${plan.mapping.id}: ${plan.mapping.citation}`)}
<tr><th>Resolution</th>${cell(`${fix(plan.simulation.ppw, 1)} points per wavelength in water, ${mm(plan.simulation.spacing_m, 3)} mm grid spacing`, plan.simulation.spacing_m)}</tr>
${row('Grid size', `${plan.simulation.grid_size.join(' × ')} voxels`)}
${row('Solver version', plan.software)}
${row('Backend and device', `${plan.simulation.backend} on ${plan.simulation.device}`)}
<tr><th>Wall time</th>${cell(`${fix(plan.wall_s, 0)} s`, plan.wall_s)}</tr>
</tbody></table>

<h2>Results and safety (ITRUSST)</h2>
<table><thead><tr><th>Quantity</th><th>Value</th><th>ITRUSST limit</th></tr></thead><tbody>${metricsTable}</tbody></table>
<p class="flag ${mechanicalPass ? 'pass' : 'fail'}"><strong>Mechanical:</strong> ${escapeHtml(metrics.flags.mechanical)}</p>
${thermalSection(input)}

<h2>Slices through the focus</h2>
<p class="note">CT (grey, window level 300 HU, width 1800 HU; sampled with trilinear interpolation at ${input.slices[0] ? `${fix((input.slices[0].fieldOfViewM / input.slices[0].widthPx) * 1000, 2)} mm per pixel` : 'the image pixel size'}) with the simulated pressure amplitude from 20 % of its peak (hot colours); green cross: target. Letters give the patient direction at each edge.${input.sliceNote ? ` ${escapeHtml(input.sliceNote)}` : ''}</p>
<div class="slices">
${slices}
</div>

<h2>Warnings</h2>
${warnings}

<h2>Approval</h2>
${approval}
</body>
</html>
`
}
