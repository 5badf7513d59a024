/**
 * Plan database commands of `tfus` (all take `--data-dir <dir>`; default `$TFUS_DATA_DIR`, else
 * the platform's user-data folder):
 *   tfus db init | check | backup <dest>
 *   tfus plans list | show <id>[@version] | approve <id>[@version] --by <name>
 *   tfus import <image-or-dicom-folder> [--series <uid>]
 *   tfus plan-save <plan-dir> [--note <text>] [--patient-id <id>] [--patient-name <name>]
 * Exit codes: 0 done, 2 bad input or a failed check (one line on stderr naming the file, plan or field).
 */
import { isPlanStoreError } from '../../core/db/errors.ts'
import type { PlanRef } from '../../core/db/plan-store.ts'
import { openPlanStore, type PlanStore } from '../adapters/db/client.ts'
import { resolveDataDir } from '../adapters/db/data-dir.ts'

interface CliArgs {
  readonly positional: string[]
  readonly flags: Map<string, string | true>
}
type Out = (line: string) => void

const EXIT_OK = 0
const EXIT_BAD_INPUT = 2

class DbUsageError extends Error {}

function flag(args: CliArgs, name: string): string | undefined {
  const v = args.flags.get(name)
  if (v === true) throw new DbUsageError(`--${name} needs a value`)
  return v
}

function dataDirOf(args: CliArgs): string {
  return resolveDataDir(flag(args, 'data-dir'))
}

/** `12` or `12@3` -> plan 12 (version 3; undefined = latest). */
export function parsePlanSpec(spec: string | undefined): { planId: number; version: number | undefined } {
  const m = spec === undefined ? null : /^(\d+)(?:@(\d+))?$/.exec(spec)
  if (!m) throw new DbUsageError(`expected a plan as <id> or <id>@<version>, got "${spec ?? ''}"`)
  const planId = Number(m[1])
  const version = m[2] === undefined ? undefined : Number(m[2])
  if (planId < 1 || (version !== undefined && version < 1)) throw new DbUsageError(`plan ids and versions start at 1, got "${spec}"`)
  return { planId, version }
}

/** Opens the store, runs `body`, closes; database errors become one stderr line and exit 2. */
async function withStore(command: string, args: CliArgs, err: Out, body: (store: PlanStore) => Promise<number>): Promise<number> {
  let store: PlanStore | null = null
  try {
    store = await openPlanStore(dataDirOf(args))
    return await body(store)
  } catch (e) {
    if (e instanceof DbUsageError) {
      err(`tfus: ${e.message} (tfus ${command} --help for usage)`)
      return EXIT_BAD_INPUT
    }
    if (isPlanStoreError(e)) {
      err(`tfus: error: ${e.message}`)
      return EXIT_BAD_INPUT
    }
    throw e
  } finally {
    await store?.close()
  }
}

const mm = (v: readonly number[]) => v.map((x) => (x * 1000).toFixed(2)).join(', ')

export async function commandDb(args: CliArgs, out: Out, err: Out): Promise<number> {
  const [sub, ...rest] = args.positional
  return withStore('db', args, err, async (store) => {
    switch (sub) {
      case 'init': {
        if (rest.length > 0) throw new DbUsageError('db init takes no arguments')
        const o = store.opened
        out(`plan database ready: ${o.database} (schema version ${o.schemaVersion})`)
        if (o.applied.length > 0) out(`applied migrations: ${o.applied.join(', ')}`)
        if (o.backupFile) out(`backup taken before migrating: ${o.backupFile}`)
        return EXIT_OK
      }
      case 'check': {
        if (rest.length > 0) throw new DbUsageError('db check takes no arguments')
        const r = await store.check()
        out(`database: ${store.opened.database}`)
        out(`integrity: ${r.integrity.join('; ')}`)
        out(`foreign key violations: ${r.foreignKeyViolations}`)
        out(`plans: ${r.plans} (${r.planVersions} versions), invalid records: ${r.invalidRecords.length}`)
        for (const line of r.invalidRecords) out(`  invalid: ${line}`)
        out(`blobs: ${r.referencedBlobs} referenced, ${r.verifiedBlobs} verified, ${r.missing.length} missing, ${r.corrupt.length} corrupt`)
        for (const m of r.missing) out(`  missing: ${m.sha256} (${m.usedBy})`)
        for (const c of r.corrupt) out(`  corrupt: ${c.sha256} (${c.usedBy})`)
        out(`unreferenced blobs: ${r.orphans.length}, leftover temp files: ${r.tempFiles} (harmless: from interrupted saves)`)
        if (!r.ok) {
          err(`tfus: error: ${store.opened.database}: check failed`)
          return EXIT_BAD_INPUT
        }
        out('ok')
        return EXIT_OK
      }
      case 'backup': {
        const dest = rest[0]
        if (!dest || rest.length > 1) throw new DbUsageError('db backup takes one destination folder')
        const b = await store.backup(dest)
        out(`backed up ${b.database} and ${b.blobs} blobs (${(b.bytes / 1e6).toFixed(1)} MB)`)
        return EXIT_OK
      }
      default:
        throw new DbUsageError(sub === undefined ? 'db needs a subcommand' : `unknown db subcommand "${sub}"`)
    }
  })
}

export async function commandPlans(args: CliArgs, out: Out, err: Out): Promise<number> {
  const [sub, spec, ...rest] = args.positional
  return withStore('plans', args, err, async (store) => {
    if (rest.length > 0) throw new DbUsageError(`unexpected argument "${rest[0]}"`)
    switch (sub) {
      case 'list': {
        if (spec !== undefined) throw new DbUsageError('plans list takes no arguments')
        const plans = await store.listPlans()
        if (args.flags.has('json')) {
          out(JSON.stringify(plans, null, 2))
          return EXIT_OK
        }
        if (plans.length === 0) out('no plans')
        for (const p of plans) {
          const approved = p.approvedVersions.length > 0 ? `approved v${p.approvedVersions.join(',v')}` : 'not approved'
          out(
            `${p.planId}@${p.latestVersion}  ${p.patientName ?? p.patientId ?? '(no patient)'}  ${p.transducerId}  target RAS [${mm(p.targetRasM)}] mm  ${approved}  ${p.updatedAt}${p.note ? `  "${p.note}"` : ''}`,
          )
        }
        return EXIT_OK
      }
      case 'show': {
        const { planId, version } = parsePlanSpec(spec)
        const p = await store.getPlan(planId, version)
        if (args.flags.has('json')) {
          out(JSON.stringify(p, null, 2))
          return EXIT_OK
        }
        out(`plan ${p.planId} version ${p.version} of ${p.latestVersion}${p.basedOnVersion ? ` (based on version ${p.basedOnVersion})` : ''}`)
        out(`created: ${p.createdAt} by ${p.createdBy}${p.note ? `; note: ${p.note}` : ''}`)
        out(`patient: ${p.patient ? `${p.patient.name ?? ''} ${p.patient.patientId ?? ''}`.trim() : '(none)'}`)
        out(`CT: ${p.record.ct.source} (series ${p.record.ct.series_instance_uid ?? 'none'}${p.ctSeries ? ', imported' : ''})`)
        out(`target RAS: [${mm(p.record.target_ras_m)}] mm; transducer ${p.record.transducer.id} at ${p.record.transducer.frequency_hz / 1e6} MHz`)
        out(
          `apex RAS: [${mm(p.record.pose.apex_ras_m)}] mm; beam axis RAS: [${p.record.pose.axis_ras.map((v) => v.toFixed(4)).join(', ')}]${p.record.focus_correction ? ' (focus-corrected pose)' : ''}`,
        )
        out(
          `pulse timing: pulse ${p.record.pulse_timing.pulse_duration_s * 1000} ms, PRF ${p.record.pulse_timing.prf_hz} Hz, train duty ${p.record.pulse_timing.train_duty_cycle}, duty cycle ${p.metrics.duty_cycle}`,
        )
        out(`run: ${p.run.solverVersion}, ${p.run.backend} (${p.run.device}), ${p.run.wallS.toFixed(1)} s, inputs ${p.run.inputsSha256.slice(0, 16)}`)
        out(
          `peak ${(p.metrics.peak_pressure_pa / 1000).toFixed(1)} kPa, Isppa ${(p.metrics.isppa_w_m2 / 1e4).toFixed(3)} W/cm2, MI ${p.metrics.mi.toFixed(2)}; ${p.metrics.flags.mechanical}; thermal: ${p.metrics.flags.thermal}`,
        )
        out(`files: ${p.files.length}`)
        for (const f of p.files) out(`  ${f.path}  ${f.sha256.slice(0, 16)}  ${f.sizeBytes} B`)
        out(
          p.approval
            ? `approved by ${p.approval.approver} at ${p.approval.approvedAt}${p.approval.overrideReason ? `; below the clinical resolution, reason: ${p.approval.overrideReason}` : ''}${p.approval.acknowledged.length ? `; flags acknowledged: ${p.approval.acknowledged.join(', ')}` : ''}`
            : 'not approved',
        )
        return EXIT_OK
      }
      case 'approve': {
        const { planId, version } = parsePlanSpec(spec)
        const by = flag(args, 'by')
        if (!by?.trim()) throw new DbUsageError('plans approve needs --by <name>')
        const overrideReason = flag(args, 'override-reason')
        const acknowledge = flag(args, 'acknowledge')
        const acknowledged =
          acknowledge === undefined
            ? []
            : acknowledge
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean)
        const unknown = acknowledged.filter((f) => f !== 'mechanical' && f !== 'thermal')
        if (unknown.length > 0) throw new DbUsageError(`--acknowledge takes mechanical and/or thermal, not "${unknown.join(',')}"`)
        const a = await store.approve(planId, version, by, { ...(overrideReason !== undefined ? { overrideReason } : {}), acknowledged })
        out(`plan ${a.planId} version ${a.version} approved by ${a.approver} at ${a.approvedAt}`)
        if (a.overrideReason) out(`below the clinical resolution, approved for the stated reason: ${a.overrideReason}`)
        if (a.acknowledged.length > 0) out(`safety flags acknowledged: ${a.acknowledged.join(', ')}`)
        return EXIT_OK
      }
      default:
        throw new DbUsageError(sub === undefined ? 'plans needs a subcommand: list, show or approve' : `unknown plans subcommand "${sub}"`)
    }
  })
}

export async function commandImport(args: CliArgs, out: Out, err: Out): Promise<number> {
  const [image, ...rest] = args.positional
  return withStore('import', args, err, async (store) => {
    if (!image || rest.length > 0) throw new DbUsageError('import takes one image file or DICOM folder')
    const seriesUid = flag(args, 'series')
    const { series, alreadyPresent } = await store.importSeries(image, seriesUid ? { seriesUid } : {})
    const what = `${series.modality} series ${series.seriesInstanceUid} (${series.dims.join('x')}, ${series.files.length} file${series.files.length === 1 ? '' : 's'})`
    out(alreadyPresent ? `already there: ${what}, imported ${series.importedAt} from ${series.source}` : `imported ${what}`)
    return EXIT_OK
  })
}

/**
 * Stores a plan folder written by `tfus plan --out` and returns its id; for `tfus plan --save`
 * (which passes its --data-dir flag value, or nothing for the default folder).
 */
export async function savePlanToStore(
  planDir: string,
  options: { dataDir?: string; note?: string; patient?: { patientId?: string; name?: string } } = {},
): Promise<PlanRef> {
  const store = await openPlanStore(resolveDataDir(options.dataDir))
  try {
    return await store.savePlanFolder(planDir, { ...(options.note ? { note: options.note } : {}), ...(options.patient ? { patient: options.patient } : {}) })
  } finally {
    await store.close()
  }
}

export async function commandPlanSave(args: CliArgs, out: Out, err: Out): Promise<number> {
  const [planDir, ...rest] = args.positional
  return withStore('plan-save', args, err, async (store) => {
    if (!planDir || rest.length > 0) throw new DbUsageError('plan-save takes one plan folder (written by tfus plan --out)')
    const note = flag(args, 'note')
    const patientId = flag(args, 'patient-id')
    const patientName = flag(args, 'patient-name')
    const patient = patientId || patientName ? { ...(patientId ? { patientId } : {}), ...(patientName ? { name: patientName } : {}) } : undefined
    const ref = await store.savePlanFolder(planDir, { ...(note ? { note } : {}), ...(patient ? { patient } : {}) })
    out(`plan id: ${ref.planId} (version ${ref.version})`)
    return EXIT_OK
  })
}
