/**
 * Durability, for real (issue 5 acceptance): a writer process (kill-writer.ts) imports series,
 * saves plan folders, approves and adds versions in a loop and is SIGKILLed at random moments,
 * at least 200 times (TFUS_KILLS overrides): a fifth during start-up (open, WAL recovery), the
 * rest 0 to 100 ms after its 0th to 3rd commit, i.e. inside an import, a save (blob writes,
 * fsyncs, the transaction), an approval or a new version. After every kill the database is reopened through
 * the normal open path (WAL recovery included) and checked:
 *   - PRAGMA integrity_check is 'ok' (else: a corrupt database);
 *   - every plan version and series the writer reported (it reports only after the commit) is
 *     there with the same record, metrics and files, and each file's blob re-hashes to its name
 *     (else: a lost plan);
 *   - every 25 kills and at the end, the full `check`: no row references a missing or damaged
 *     blob, no foreign-key violation, every stored record valid.
 * SIGKILL stops the process, not the machine: this shows the write path never leaves a
 * half-finished state for a process crash; the power-cut half rests on fsync before rename and
 * synchronous=FULL (see blob-store.ts and open.ts), which a process kill cannot exercise.
 *
 * Speed: the writer is bundled once with esbuild (tsx's own dependency), so a start costs
 * ~0.2 s instead of ~0.5 s under tsx, and writers start two kills ahead (then wait for "go"), so
 * start-up overlaps the kills before them; payloads are 0.5 to 48 KB per file, 7 files per plan.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { canonicalJson } from '../../../core/db/canonical.ts'
import { findSeries } from '../../../core/db/plan-store.ts'
import { PlanStoreEngine, contentHash, probeSeries, type SeriesProbe } from '../../../electron/adapters/db/engine.ts'
import { hashBytes } from '../../../electron/adapters/db/blob-store.ts'
import { writeNifti } from '../../unit/db/fixtures.ts'
import { seededRandom } from '../../../core/math/random.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const WRITER_TS = path.join(ROOT, 'tests/integration/db/kill-writer.ts')
const KILLS = Number(process.env.TFUS_KILLS ?? 200)
/** Every FULL_EVERY-th start runs the writer under tsx with the real image reader (importSeries end to end). */
const FULL_EVERY = 50
/** How many writers wait, loaded, for their turn. */
const PRESTART = 2

let tmp: string
let bundled: string | null = null

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfus-kill-'))
  try {
    const esbuild = await import('esbuild')
    const outfile = path.join(ROOT, 'node_modules/.cache/tfus-db-kill', `writer-${process.pid}.mjs`)
    await esbuild.build({
      entryPoints: [WRITER_TS],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      // The image readers load itk-wasm; probed-mode writers never call them.
      external: ['*/volume-io.ts'],
      outfile,
      logLevel: 'error',
    })
    bundled = outfile
  } catch {
    bundled = null // no esbuild: every start runs under tsx (slower, same code)
  }
})

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true })
  if (bundled) fs.rmSync(bundled, { force: true })
})

interface Reported {
  record: string
  metrics: string
  files: string
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Writer {
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  stdout: string
  stderr: string
}

/** Starts a writer; it loads its code and waits for "go" (so its start-up overlaps the parent's checks). */
function startWriter(args: string[], full: boolean): Writer {
  const command = full || !bundled ? ['--import', 'tsx', WRITER_TS] : [bundled]
  const child = spawn(process.execPath, [...command, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  const writer: Writer = { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))), stdout: '', stderr: '' }
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (writer.stdout += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (writer.stderr += d))
  child.stdin!.on('error', () => {}) // a writer that died early closes its stdin
  return writer
}

/** Lines a writer has completed (each after a commit), without the 'loaded' and 'ready' markers. */
function committedLines(writer: Writer): string[] {
  const complete = writer.stdout.slice(0, writer.stdout.lastIndexOf('\n') + 1)
  return complete.split('\n').filter((l) => l.length > 0 && l !== 'loaded' && l !== 'ready')
}

function waitFor(condition: () => boolean, exited: Promise<unknown>): Promise<'met' | 'exit'> {
  return Promise.race([
    new Promise<'met'>((resolve) => {
      const poll = () => (condition() ? resolve('met') : setTimeout(poll, 1))
      poll()
    }),
    exited.then(() => 'exit' as const),
  ])
}

/**
 * Says "go", then SIGKILLs the writer: after `afterCommits` commits plus `delayMs` (so the kill
 * lands inside the next operation, at a point that does not depend on the machine's speed), or,
 * with afterCommits < 0, `delayMs` after "go" (during open, WAL recovery or the first writes).
 */
async function goAndKill(writer: Writer, afterCommits: number, delayMs: number): Promise<{ lines: string[]; exitedByItself: boolean }> {
  if ((await waitFor(() => writer.stdout.includes('loaded\n'), writer.exited)) === 'exit') return { lines: [], exitedByItself: true }
  writer.child.stdin!.write('go\n')
  let first: 'met' | 'exit' = 'met'
  if (afterCommits >= 0) first = await waitFor(() => writer.stdout.includes('ready\n') && committedLines(writer).length >= afterCommits, writer.exited)
  if (first === 'met') first = await Promise.race([sleep(delayMs).then(() => 'met' as const), writer.exited.then(() => 'exit' as const)])
  if (first === 'met') writer.child.kill('SIGKILL')
  const code = await writer.exited
  // Only complete lines: a line cut by the kill was not fully reported.
  return { lines: committedLines(writer), exitedByItself: first === 'exit' || code !== null }
}

describe('plan store durability under SIGKILL', () => {
  it(`survives ${KILLS} kills of the writer with no corrupt database and no lost committed plan`, async () => {
    const t0 = performance.now()
    const dataDir = path.join(tmp, 'data')
    const workDir = path.join(tmp, 'work')
    fs.mkdirSync(workDir, { recursive: true })
    // Series probed once here (read-only), registered by the writers (the writing half of importSeries).
    const probes: SeriesProbe[] = []
    for (let i = 0; i < 40; i++) {
      const file = path.join(tmp, 'series', `s${i}.nii`)
      writeNifti(file, 7000 + i)
      probes.push(await probeSeries(file))
    }
    const probesFile = path.join(tmp, 'probes.json')
    fs.writeFileSync(probesFile, JSON.stringify(probes))

    const plans = new Map<string, Reported>() // 'id@version' -> what the writer committed
    const approvals = new Set<string>()
    const series = new Map<string, string>() // uid -> content hash
    let corruptDatabases = 0
    let lostPlans = 0
    let lostSeries = 0
    let fullChecks = 0
    let orphanBlobs = 0
    let danglingReferences = 0
    let tempFiles = 0
    let exitedEarly = 0
    const failures: string[] = []
    let verifiedCommits = 0
    let writerStarts = 0
    let killsAtStart = 0
    let killsAfterCommits = 0

    const verify = async (full: boolean, fresh: Array<[string, Reported]>, freshApprovals: string[], freshSeries: Array<[string, string]>) => {
      const engine = await PlanStoreEngine.open(dataDir, { actor: 'kill-test' })
      try {
        const integrity = engine.db.pragma('integrity_check', { simple: true })
        if (integrity !== 'ok') {
          corruptDatabases++
          failures.push(`integrity_check: ${String(integrity)}`)
        }
        for (const [key, expected] of fresh) {
          const [id, version] = key.split('@').map(Number) as [number, number]
          try {
            const p = engine.getPlan({ planId: id, version })
            const intact =
              hashBytes(canonicalJson(p.record)) === expected.record &&
              hashBytes(canonicalJson(p.metrics)) === expected.metrics &&
              contentHash(p.files) === expected.files &&
              p.files.every((f) => engine.blobs.verify(f.sha256) === 'ok')
            if (!intact) throw new Error('content differs from what was committed')
            verifiedCommits++
          } catch (e) {
            lostPlans++
            failures.push(`plan ${key}: ${e instanceof Error ? e.message : String(e)}`)
          }
        }
        for (const key of freshApprovals) {
          const [id, version] = key.split('@').map(Number) as [number, number]
          if (engine.getPlan({ planId: id, version }).approval === null) {
            lostPlans++
            failures.push(`approval of ${key} lost`)
          } else verifiedCommits++
        }
        for (const [uid, sha] of freshSeries) {
          const row = findSeries(engine.db, uid)
          if (!row || row.contentSha256 !== sha || !row.files.every((f) => engine.blobs.verify(f.sha256) === 'ok')) {
            lostSeries++
            failures.push(`series ${uid} lost or changed`)
          } else verifiedCommits++
        }
        if (full) {
          fullChecks++
          const report = engine.check()
          orphanBlobs = report.orphans.length
          tempFiles = report.tempFiles
          if (report.integrity.join() !== 'ok') corruptDatabases++
          danglingReferences = report.missing.length + report.corrupt.length
          if (!report.ok) {
            failures.push(
              `check: ${JSON.stringify({ integrity: report.integrity, fk: report.foreignKeyViolations, invalid: report.invalidRecords, missing: report.missing, corrupt: report.corrupt })}`,
            )
          }
        }
      } finally {
        engine.close()
      }
    }

    const random = seededRandom(0x2545f491)
    const writerArgs = (kill: number) => [dataDir, workDir, probesFile, String(kill), kill % FULL_EVERY === 0 ? 'full' : 'probed']
    // Writers are started PRESTART kills ahead, so their start-up overlaps the kills before them.
    const waiting: Writer[] = []
    for (let k = 1; k <= Math.min(PRESTART, KILLS); k++) waiting.push(startWriter(writerArgs(k), k % FULL_EVERY === 0))
    for (let kill = 1; kill <= KILLS; kill++) {
      const writer = waiting.shift()!
      writerStarts++
      // -1: kill during start-up; 0..3: after that many commits, inside the next operation.
      const afterCommits = Math.floor(random() * 5) - 1
      const run = await goAndKill(writer, afterCommits, afterCommits < 0 ? random() * 40 : random() * 100)
      if (afterCommits < 0) killsAtStart++
      else if (run.lines.length > 0) killsAfterCommits++
      if (kill + PRESTART <= KILLS) waiting.push(startWriter(writerArgs(kill + PRESTART), (kill + PRESTART) % FULL_EVERY === 0))
      if (run.exitedByItself) {
        exitedEarly++
        failures.push(`writer ${kill} exited by itself: ${writer.stderr.slice(0, 500)}`)
      }
      const fresh: Array<[string, Reported]> = []
      const freshApprovals: string[] = []
      const freshSeries: Array<[string, string]> = []
      for (const line of run.lines) {
        const [kind, a, b, c, d, e] = line.split(' ')
        if (kind === 'plan') {
          const entry: Reported = { record: c!, metrics: d!, files: e! }
          plans.set(`${a}@${b}`, entry)
          fresh.push([`${a}@${b}`, entry])
        } else if (kind === 'approve') {
          approvals.add(`${a}@${b}`)
          freshApprovals.push(`${a}@${b}`)
        } else if (kind === 'series') {
          series.set(a!, b!)
          freshSeries.push([a!, b!])
        }
      }
      await verify(kill % 25 === 0, fresh, freshApprovals, freshSeries)
    }
    // Finally, everything ever reported, once more.
    const verifiedAfterKills = verifiedCommits
    await verify(true, [...plans], [...approvals], [...series])
    const verifiedAtEnd = verifiedCommits - verifiedAfterKills
    const seconds = (performance.now() - t0) / 1000

    console.log(
      `kill test: ${KILLS} SIGKILLs of ${writerStarts} writer starts in ${seconds.toFixed(1)} s ` +
        `(${killsAtStart} during start-up, ${killsAfterCommits} after 1-3 commits, the rest before the first commit); ` +
        `commits verified after their kill: ${verifiedAfterKills} and all again at the end: ${verifiedAtEnd} (${plans.size} plan versions, ${approvals.size} approvals, ${series.size} series reported committed); ` +
        `corrupt databases: ${corruptDatabases}; lost plans: ${lostPlans}; lost series: ${lostSeries}; ` +
        `rows referencing a missing or damaged blob: ${danglingReferences} (${fullChecks} full checks); ` +
        `unreferenced blobs left by interrupted saves: ${orphanBlobs}; temp files: ${tempFiles}`,
    )
    expect(failures).toEqual([])
    expect(exitedEarly).toBe(0)
    expect(corruptDatabases).toBe(0)
    expect(lostPlans).toBe(0)
    expect(lostSeries).toBe(0)
    expect(danglingReferences).toBe(0)
    // Most kills landed while work was being committed, not only at start-up.
    expect(killsAfterCommits).toBeGreaterThanOrEqual(KILLS / 2)
  })
})
