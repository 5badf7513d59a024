/**
 * The writer process of the kill test (kill.test.ts): opens the plan store and imports series,
 * saves plan folders, approves and adds versions in a loop until it is SIGKILLed. It writes one
 * line to stdout (fd 1, synchronously) only after each transaction has committed, so every line
 * the parent reads names something the database promised to keep.
 *
 * It loads its modules, then waits for "go" on stdin before it opens the database: the parent
 * starts the next writer while it verifies the previous kill.
 *
 * argv: <dataDir> <workDir> <probes.json> <seed> <full|probed>
 *   full:   imports a freshly written NIfTI through importSeries (image reader included);
 *   probed: registers series probed by the parent (same writing path, skips loading the image readers).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { canonicalJson } from '../../../core/db/canonical.ts'
import { PlanStoreEngine, contentHash, type SeriesProbe } from '../../../electron/adapters/db/engine.ts'
import { hashBytes, hashFile } from '../../../electron/adapters/db/blob-store.ts'
import { PLAN_FILES } from '../../../core/contracts/plan.ts'
import { seededRandom } from '../../../core/math/random.ts'
import { VOLUME_FILES, metricsFixture, planRecordFixture, seededBytes, writeNifti } from '../../unit/db/fixtures.ts'

const [dataDir, workDir, probesFile, seedText, mode] = process.argv.slice(2)
if (!dataDir || !workDir || !probesFile || !seedText || (mode !== 'full' && mode !== 'probed'))
  throw new Error('usage: kill-writer <dataDir> <workDir> <probes.json> <seed> <full|probed>')
const seed = Number(seedText)
const say = (line: string) => fs.writeSync(1, line + '\n')

const random = seededRandom(seed)

const probes = JSON.parse(fs.readFileSync(probesFile, 'utf8')) as SeriesProbe[]
// Started ahead of time by the parent (while it checks the previous kill): wait for "go".
say('loaded')
await new Promise<void>((resolve) => {
  let input = ''
  process.stdin.setEncoding('utf8').on('data', (d: string) => {
    input += d
    if (input.includes('go\n')) resolve()
  })
})
const engine = await PlanStoreEngine.open(dataDir, { actor: 'kill-writer' })
say('ready')

const ownPlans: number[] = []
for (let i = 0; ; i++) {
  const n = seed * 10000 + i
  // 1. Import a series.
  if (mode === 'full' && i === 0) {
    const file = path.join(workDir, `ct-${n}.nii`)
    writeNifti(file, n)
    const r = await engine.importSeries({ imagePath: file })
    say(`series ${r.series.seriesInstanceUid} ${r.series.contentSha256}`)
  } else {
    const probe = probes[Math.floor(random() * probes.length)]!
    const r = engine.registerProbedSeries(probe)
    say(`series ${r.series.seriesInstanceUid} ${r.series.contentSha256}`)
  }
  // 2. Save a plan folder with fresh contents (so new blobs are written).
  const dir = path.join(workDir, `plan-${n}`)
  const record = planRecordFixture(n, probes[n % probes.length]!.seriesInstanceUid)
  const metrics = metricsFixture(n)
  fs.mkdirSync(path.join(dir, 'medium'), { recursive: true })
  fs.writeFileSync(path.join(dir, PLAN_FILES.plan), JSON.stringify(record))
  fs.writeFileSync(path.join(dir, PLAN_FILES.metrics), JSON.stringify(metrics))
  const files = VOLUME_FILES.map((rel, k) => {
    fs.writeFileSync(path.join(dir, rel), seededBytes(n * 13 + k + 1, 512 + Math.floor(random() * 48 * 1024)))
    return { path: rel, ...hashFile(path.join(dir, rel)) }
  })
  const ref = engine.savePlanFolder({ planDir: dir, note: `kill-writer ${n}` })
  say(`plan ${ref.planId} ${ref.version} ${hashBytes(canonicalJson(record))} ${hashBytes(canonicalJson(metrics))} ${contentHash(files)}`)
  ownPlans.push(ref.planId)
  fs.rmSync(dir, { recursive: true, force: true })
  // 3. Now and then approve a plan, or edit one into a new version.
  const pick = ownPlans[Math.floor(random() * ownPlans.length)]!
  if (i % 3 === 1) {
    const latest = engine.getPlan({ planId: pick }).version
    try {
      const a = engine.approve({ planId: pick, version: latest, approver: 'Dr. Kill' })
      say(`approve ${a.planId} ${a.version}`)
    } catch {
      // already approved: fine
    }
  } else if (i % 3 === 2) {
    const base = engine.getPlan({ planId: pick })
    const edited = {
      ...base.record,
      target_ras_m: [base.record.target_ras_m[0] + 1e-4, base.record.target_ras_m[1], base.record.target_ras_m[2]] as [number, number, number],
    }
    const v = engine.newVersion({ planId: pick, changes: { record: edited, note: `edit ${n}` } })
    say(`plan ${v.planId} ${v.version} ${hashBytes(canonicalJson(edited))} ${hashBytes(canonicalJson(base.metrics))} ${contentHash(base.files)}`)
  }
}
