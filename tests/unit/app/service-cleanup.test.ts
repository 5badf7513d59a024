/**
 * The service cleans up after itself: open images are bounded (and their upload copies go with
 * them), rejected uploads are deleted at once, run folders live as long as they are of use, what
 * earlier sessions left is removed at start-up, dropped files' names are plain names, and no
 * error names the server's own folders or lists a folder's contents. Service level: a real
 * createPlannerService on a temp work folder; plan runs use a worker that only writes a folder.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { randomUUID } from 'node:crypto'
import { createPlannerService, type PlannerService, type PlannerServiceOptions } from '../../../electron/app/service.ts'
import { PLANNER_API, dispatchCall, type ApiEvent, type ImageInfo, type OpenResult, type PlanRequest } from '../../../core/contracts/api.ts'
import { writeDicomSeries } from '../../helpers/dicom-writer.ts'
import { IDENTITY3, type Volume } from '../../../core/volume/types.ts'
import { PlanStoreEngine } from '../../../electron/adapters/db/engine.ts'
import { writeNifti, writePlanFolder } from '../db/fixtures.ts'
import { rejection } from '../../helpers/rejection.ts'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tfus-service-cleanup-'))
const template = path.join(root, 'plan-template')
const savedTemplateEnv = process.env.TFUS_TEST_PLAN_TEMPLATE
/** A pid no process has (beyond Linux's pid_max and macOS's). */
const DEAD_PID = 999_999_999

let services: PlannerService[] = []
afterEach(async () => {
  await Promise.all(services.map((s) => s.dispose()))
  services = []
})
beforeAll(() => {
  writePlanFolder(template, 7)
  process.env.TFUS_TEST_PLAN_TEMPLATE = template
})
afterAll(() => {
  if (savedTemplateEnv === undefined) delete process.env.TFUS_TEST_PLAN_TEMPLATE
  else process.env.TFUS_TEST_PLAN_TEMPLATE = savedTemplateEnv
  fs.rmSync(root, { recursive: true, force: true })
})

function newWorkDir(): string {
  return fs.mkdtempSync(path.join(root, 'work-'))
}

function makeService(workDir: string, extra: Partial<PlannerServiceOptions> = {}): PlannerService {
  const service = createPlannerService({
    host: 'browser',
    workDir,
    dataDir: path.join(workDir, 'data'),
    probeWebGpu: false,
    workerUrl: new URL('./fixtures/folder-worker.mjs', import.meta.url),
    ...extra,
  })
  services.push(service)
  return service
}

/** A small NIfTI; each seed gives other voxels. */
function niftiFile(dir: string, name: string, seed: number, dims: [number, number, number] = [6, 5, 4]): string {
  const file = path.join(dir, name)
  writeNifti(file, seed, dims)
  return file
}

/** A copy of the bytes alone (a Buffer is often a view into a larger, pooled ArrayBuffer). */
function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength)
  copy.set(bytes)
  return copy.buffer
}

const entries = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [])

async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function imageOf(r: OpenResult): ImageInfo {
  if (r.kind !== 'image') throw new Error(`expected an image, got ${r.kind}`)
  return r.image
}

function planRequest(ctImageId: string, transducerId = 'ok'): PlanRequest {
  return {
    ctImageId,
    targetRasM: [0, 0, 0],
    transducerId,
    mappingId: 'kplan',
    pointsPerWavelength: 3,
    backend: 'cpu',
    drive: { kind: 'isppa-free-water', wPerM2: 1e4 },
    pulseTiming: { pulseDurationS: 0.02, prfHz: 10, trainDutyCycle: 1 },
  }
}

describe('open images are bounded', () => {
  test('the least recently used image closes beyond 4; the CT and MRI on screen stay; a closed id says so', async () => {
    const dir = newWorkDir()
    const s = makeService(dir)
    const mri = imageOf(await s.impl.openImage({ path: niftiFile(dir, 'mri.nii', 100), role: 'mri' }))
    const cts: ImageInfo[] = []
    for (let i = 0; i < 6; i++) cts.push(imageOf(await s.impl.openImage({ path: niftiFile(dir, `ct${i}.nii`, i + 1), role: 'ct' })))
    // Open: the MRI (newest of its role, though least recently used) and the 3 newest CTs.
    const open = async (image: ImageInfo) =>
      await s.impl.getVolume({ volumeId: image.volumeId, stride: 1 }).then(
        () => true,
        () => false,
      )
    expect(await open(mri)).toBe(true)
    expect(await Promise.all(cts.map(open))).toEqual([false, false, false, true, true, true])
    const closed = await rejection(s.impl.getVolume({ volumeId: cts[0]!.volumeId, stride: 1 }))
    expect(closed.code).toBe('not-found')
    expect(closed.message).toMatch(/closed.*open it again/)
    const plan = await rejection(s.impl.startPlan(planRequest(cts[1]!.imageId)))
    expect(plan).toMatchObject({ code: 'not-found', field: 'ctImageId' })
    expect(plan.message).toMatch(/the CT \(image .*\) was closed.*open it again/)
    // Using an image makes it recent: after touching ct3, the next open closes ct4 instead.
    await s.impl.getVolume({ volumeId: cts[3]!.volumeId, stride: 2 })
    const ct6 = imageOf(await s.impl.openImage({ path: niftiFile(dir, 'ct6.nii', 7), role: 'ct' }))
    expect(await Promise.all([...cts, ct6].map(open))).toEqual([false, false, false, true, false, true, true])
    expect(await open(mri)).toBe(true)
  })

  test('the byte bound applies too; the newest CT stays even when it alone is over it', async () => {
    const dir = newWorkDir()
    // 6x5x4 int16 = 240 bytes: at most two fit in 500 bytes.
    const s = makeService(dir, { openImageLimits: { maxBytes: 500 } })
    const a = imageOf(await s.impl.openImage({ path: niftiFile(dir, 'a.nii', 1), role: 'ct' }))
    const b = imageOf(await s.impl.openImage({ path: niftiFile(dir, 'b.nii', 2), role: 'ct' }))
    const c = imageOf(await s.impl.openImage({ path: niftiFile(dir, 'c.nii', 3), role: 'ct' }))
    const open = async (image: ImageInfo) =>
      await s.impl.getVolume({ volumeId: image.volumeId, stride: 1 }).then(
        () => true,
        () => false,
      )
    expect(await Promise.all([a, b, c].map(open))).toEqual([false, true, true])
    const big = imageOf(await s.impl.openImage({ path: niftiFile(dir, 'big.nii', 4, [20, 20, 20]), role: 'ct' }))
    expect(await Promise.all([a, b, c, big].map(open))).toEqual([false, false, false, true])
  })

  test('an upload goes when its image closes, when the service stops, and not while a run reads it', async () => {
    const dir = newWorkDir()
    const uploads = path.join(dir, 'uploads')
    const s = makeService(dir)
    const bytes = (seed: number) => arrayBufferOf(fs.readFileSync(niftiFile(root, `up-${seed}.nii`, seed)))
    const first = imageOf(await s.impl.importBytes({ name: 'first.nii', role: 'ct', bytes: bytes(1) }))
    expect(entries(uploads)).toHaveLength(1)
    const [firstUpload] = entries(uploads)
    // A run (that waits to be cancelled) reads the upload.
    const { runId } = await s.impl.startPlan(planRequest(first.imageId, 'slow'))
    for (let i = 2; i <= 5; i++) await s.impl.importBytes({ name: `ct-${i}.nii`, role: 'ct', bytes: bytes(i) })
    expect((await rejection(s.impl.getVolume({ volumeId: first.volumeId, stride: 1 }))).code).toBe('not-found')
    // Closed, but the run still reads it.
    await new Promise((r) => setTimeout(r, 200))
    expect(entries(uploads)).toContain(firstUpload)
    expect(entries(uploads)).toHaveLength(5)
    await s.impl.importBytes({ name: 'ct-6.nii', role: 'ct', bytes: bytes(6) })
    // ct-2 closed and not in use: gone.
    await until('the upload of ct-2 is removed', () => entries(uploads).length === 5)
    expect(await s.impl.cancelPlan({ runId })).toEqual({ cancelled: true })
    await until('the cancelled run no longer holds the first upload', () => !entries(uploads).includes(firstUpload!))
    expect(entries(uploads)).toHaveLength(4)
    await s.dispose()
    expect(entries(uploads)).toEqual([])
  })
})

describe('uploads', () => {
  test('a rejected upload is deleted before the call answers; its error names the file as the user did', async () => {
    const dir = newWorkDir()
    const s = makeService(dir)
    const uploads = path.join(dir, 'uploads')
    const cases: Array<[string, Uint8Array]> = [
      ['garbage.nii', new Uint8Array(2048).fill(7)],
      ['empty.nii.gz', new Uint8Array(0)],
      ['notes.txt', new TextEncoder().encode('not an image')],
      ['cut.nii.gz', fs.readFileSync(path.resolve(import.meta.dirname, '../../../resources/samples/cranium-ct.nii.gz')).subarray(0, 5000)],
    ]
    for (const [name, content] of cases) {
      const e = await rejection(s.impl.importBytes({ name, role: 'ct', bytes: arrayBufferOf(content) }))
      expect(e.code, name).not.toBe('internal')
      expect(e.message, name).toMatch(new RegExp(`^${name.replace(/\./g, '\\.')}: `))
      expect(e.message, name).not.toContain(dir)
      expect(entries(uploads), `${name} left behind`).toEqual([])
    }
    // Through the host dispatcher too: a client error (HTTP 400), not an internal one.
    const r = await dispatchCall(PLANNER_API, s.impl, 'importBytes', { name: 'garbage.nii', role: 'ct', bytes: new Uint8Array(64).buffer })
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error.code).toBe('bad-request')
    expect(entries(uploads)).toEqual([])
  })

  test('a dropped file keeps its name as given; odd characters are replaced only on disk', async () => {
    const dir = newWorkDir()
    const s = makeService(dir)
    const name = 'scan (1) é.nii'
    const image = imageOf(await s.impl.importBytes({ name, role: 'ct', bytes: arrayBufferOf(fs.readFileSync(niftiFile(root, 'odd.nii', 9))) }))
    expect(image.name).toBe(name)
    const [upload] = entries(path.join(dir, 'uploads'))
    expect(entries(path.join(dir, 'uploads', upload!))).toEqual(['scan__1___.nii'])
  })

  test('names that are not plain file names are a bad request for the field name, and nothing is written', async () => {
    const dir = newWorkDir()
    const s = makeService(dir)
    const bytes = () => arrayBufferOf(fs.readFileSync(niftiFile(root, 'named.nii', 3)))
    for (const name of [
      '..',
      '.',
      '../../escape.nii',
      'a/b.nii',
      '/etc/passwd',
      '..\\evil.nii',
      'a\0b.nii',
      'é'.repeat(130) + '.nii',
      '   ',
      'bell\u0007.nii',
    ]) {
      const r = await dispatchCall(PLANNER_API, s.impl, 'importBytes', { name, role: 'ct', bytes: bytes() })
      expect(r.ok, JSON.stringify(name)).toBe(false)
      if (r.ok) continue
      expect(r.error, JSON.stringify(name)).toMatchObject({ code: 'bad-request', field: 'name' })
      expect(r.error.message).toContain('not a plain file name')
      expect(r.error.message).not.toContain(dir)
    }
    expect(entries(path.join(dir, 'uploads'))).toEqual([])
    expect(entries(dir).filter((n) => n !== 'data' && n !== 'uploads')).toEqual([])
  })
})

describe('errors', () => {
  test('no error names the work or data folder', async () => {
    const dir = newWorkDir()
    const s = makeService(dir)
    for (const p of [path.join(dir, 'nope.nii.gz'), path.join(dir, 'data', 'nope.nii'), path.join(dir, 'runs')]) {
      const r = await dispatchCall(PLANNER_API, s.impl, 'openImage', { path: p, role: 'ct' })
      expect(r.ok).toBe(false)
      if (r.ok) continue
      expect(r.error.message, p).not.toContain(dir)
      expect(r.error.code, p).not.toBe('internal')
    }
    const missing = await rejection(s.impl.openImage({ path: path.join(dir, 'data', 'nope.nii'), role: 'ct' }))
    expect(missing.message).toBe('<data folder>/nope.nii: no such file or folder')
    // Run failures arrive as events: the run folder is not named either.
    const events: ApiEvent[] = []
    s.onEvent((e) => events.push(e))
    const ct = imageOf(await s.impl.openImage({ path: niftiFile(dir, 'ct.nii', 5), role: 'ct' }))
    const { runId } = await s.impl.startPlan(planRequest(ct.imageId, 'fail'))
    await until('the run fails', () => events.some((e) => e.type === 'error' && e.runId === runId))
    const failure = events.find((e) => e.type === 'error')
    expect(failure?.type === 'error' && failure.error.message).toMatch(/^simulated failure in <work folder>\/runs\//)
  })

  test('unknown runs and plans are client errors (not-found, bad-request), not internal ones', async () => {
    const s = makeService(newWorkDir())
    const call = async (method: string, params: unknown) => {
      const r = await dispatchCall(PLANNER_API, s.impl, method, params)
      return r.ok ? null : r.error
    }
    expect(await call('cancelPlan', { runId: 'nope' })).toMatchObject({ code: 'not-found', field: 'runId' })
    expect(await call('approvePlan', { planId: '1', approver: '   ' })).toMatchObject({ code: 'bad-request', field: 'approver' })
    expect(await call('approvePlan', { planId: '424242', approver: 'Dr A' })).toMatchObject({ code: 'not-found' })
  })

  test('a folder that is not a DICOM series is one line, without its contents; a DICOM folder opens', async () => {
    const dir = newWorkDir()
    const s = makeService(dir)
    const plain = path.join(root, 'plain-folder')
    fs.mkdirSync(path.join(plain, 'sub'), { recursive: true })
    fs.writeFileSync(path.join(plain, 'secret-letter.txt'), 'hello')
    fs.writeFileSync(path.join(plain, 'sub', 'tax-return.pdf'), '%PDF-1.4')
    const empty = path.join(root, 'empty-folder')
    fs.mkdirSync(empty, { recursive: true })
    for (const folder of [plain, empty]) {
      const r = await dispatchCall(PLANNER_API, s.impl, 'openImage', { path: folder, role: 'ct' })
      expect(r.ok).toBe(false)
      if (r.ok) continue
      expect(r.error).toMatchObject({ code: 'bad-request', field: 'path' })
      expect(r.error.message).toMatch(/: is a folder, not an image file/)
      expect(r.error.message).not.toMatch(/secret-letter|tax-return|\n/)
    }
    // With a series uid as well.
    const withUid = await rejection(s.impl.openImage({ path: plain, role: 'ct', seriesInstanceUid: '2.25.1' }))
    expect(withUid.message).not.toMatch(/secret-letter|tax-return/)

    // DICOM series folders are an input: one series opens, two ask which.
    const volume = (nz: number): Volume => ({
      data: new Int16Array(4 * 3 * nz).map((_, i) => (i % 200) - 100),
      dims: [4, 3, nz],
      spacingM: [1e-3, 1e-3, 2e-3],
      originM: [0, 0, 0],
      direction: IDENTITY3,
      meta: { modality: 'CT' },
      warnings: [],
    })
    const common = { patientName: 'DOE^JANE', patientId: 'P-77', studyInstanceUid: '2.25.1111', frameOfReferenceUid: '2.25.2222', modality: 'CT' as const }
    const one = path.join(root, 'dicom-one')
    const two = path.join(root, 'dicom-two')
    fs.mkdirSync(one, { recursive: true })
    fs.mkdirSync(two, { recursive: true })
    for (const f of writeDicomSeries(volume(4), { ...common, seriesInstanceUid: '2.25.31' })) {
      fs.writeFileSync(path.join(one, f.name), f.bytes)
      fs.writeFileSync(path.join(two, `a-${f.name}`), f.bytes)
    }
    for (const f of writeDicomSeries(volume(3), { ...common, seriesInstanceUid: '2.25.32' })) fs.writeFileSync(path.join(two, `b-${f.name}`), f.bytes)
    expect(imageOf(await s.impl.openImage({ path: one, role: 'ct' })).dims).toEqual([4, 3, 4])
    const choice = await s.impl.openImage({ path: two, role: 'ct' })
    expect(choice.kind).toBe('series')
    expect(imageOf(await s.impl.openImage({ path: two, role: 'ct', seriesInstanceUid: '2.25.32' })).dims).toEqual([4, 3, 3])
  })
})

describe('run folders', () => {
  test('the newest run keeps its folder; superseded, failed and cancelled runs lose theirs; a saved plan keeps its files', async () => {
    const dir = newWorkDir()
    const runsDir = path.join(dir, 'runs')
    const s = makeService(dir)
    const events: ApiEvent[] = []
    s.onEvent((e) => events.push(e))
    const ended = (runId: string) => until(`run ${runId} ends`, () => events.some((e) => (e.type === 'done' || e.type === 'error') && e.runId === runId))
    const folderOf = async (runId: string) => (await s.impl.getPlanResult({ runId })).planDir
    const ct = imageOf(await s.impl.openImage({ path: niftiFile(dir, 'ct.nii', 5), role: 'ct' }))

    const a = (await s.impl.startPlan(planRequest(ct.imageId))).runId
    await ended(a)
    const aDir = await folderOf(a)
    expect(fs.existsSync(path.join(aDir, 'plan.json'))).toBe(true)
    // Saving and a newer run at once: the save completes from the folder before it goes.
    const saving = s.impl.savePlan({ runId: a, label: 'first' })
    const b = (await s.impl.startPlan(planRequest(ct.imageId, 'slow'))).runId
    const { planId } = await saving
    await until('the superseded run folder is removed', () => !fs.existsSync(aDir))
    expect(await rejection(s.impl.getPlanResult({ runId: a }))).toMatchObject({ code: 'not-found' })
    expect((await rejection(s.impl.getPlanResult({ runId: a }))).message).toMatch(/removed \(a newer plan run replaced it\)/)
    // The running one keeps its folder.
    await until('the running run has written its folder', () => entries(runsDir).length === 1)
    const [bName] = entries(runsDir)
    await new Promise((r) => setTimeout(r, 200))
    expect(entries(runsDir)).toEqual([bName])
    // Cancelled: gone once its worker has stopped (the failure itself is still reported).
    await s.impl.cancelPlan({ runId: b })
    await ended(b)
    await until('the cancelled run folder is removed', () => entries(runsDir).length === 0)
    expect((await rejection(s.impl.getPlanResult({ runId: b }))).code).toBe('failed')
    // Failed: gone too.
    const c = (await s.impl.startPlan(planRequest(ct.imageId, 'fail'))).runId
    await ended(c)
    await until('the failed run folder is removed', () => entries(runsDir).length === 0)
    // The newest finished run stays (it is on screen, saved or not).
    const d = (await s.impl.startPlan(planRequest(ct.imageId))).runId
    await ended(d)
    const dDir = await folderOf(d)
    await new Promise((r) => setTimeout(r, 300))
    expect(fs.existsSync(path.join(dDir, 'plan.json'))).toBe(true)
    expect(entries(runsDir)).toEqual([path.basename(dDir)])

    // The saved plan is whole without its run folder: every file is in the content store.
    expect((await s.impl.listPlans({})).plans.map((p) => p.planId)).toContain(planId)
    const engine = await PlanStoreEngine.open(path.join(dir, 'data'))
    try {
      const stored = engine.getPlan({ planId: Number(planId) })
      expect(stored.files.length).toBeGreaterThan(0)
      expect(stored.files.every((f) => engine.blobs.verify(f.sha256) === 'ok')).toBe(true)
      const out = path.join(root, `materialized-${randomUUID()}`)
      expect(engine.materializePlanFolder({ planId: Number(planId), outDir: out }).files).toContain('plan.json')
    } finally {
      engine.close()
    }
  })
})

describe('closing the service', () => {
  test("removes this session's run folders, the newest included; the saved plan stays whole in the database", async () => {
    const dir = newWorkDir()
    const s = makeService(dir)
    const events: ApiEvent[] = []
    s.onEvent((e) => events.push(e))
    const ct = imageOf(await s.impl.openImage({ path: niftiFile(dir, 'ct.nii', 5), role: 'ct' }))
    const { runId } = await s.impl.startPlan(planRequest(ct.imageId))
    await until(`run ${runId} ends`, () => events.some((e) => e.type === 'done' && e.runId === runId))
    const { planId } = await s.impl.savePlan({ runId })
    expect(fs.existsSync(path.join((await s.impl.getPlanResult({ runId })).planDir, 'plan.json'))).toBe(true)
    await s.dispose()
    expect(entries(path.join(dir, 'runs'))).toEqual([])
    const engine = await PlanStoreEngine.open(path.join(dir, 'data'))
    try {
      expect(engine.materializePlanFolder({ planId: Number(planId), outDir: path.join(root, `closed-${randomUUID()}`) }).files).toContain('plan.json')
    } finally {
      engine.close()
    }
  })
})

describe('start-up', () => {
  test('what ended sessions left in uploads/ and runs/ is removed; live sessions and exports stay', async () => {
    const dir = newWorkDir()
    const put = (rel: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
      fs.writeFileSync(path.join(dir, rel), 'x')
    }
    const dead = `s${DEAD_PID}-deadbeef-${randomUUID()}`
    const ownEnded = `s${process.pid}-0badc0de-${randomUUID()}`
    const neighbour = `s1-0123abcd-${randomUUID()}` // pid 1 runs: another live app instance
    put(`uploads/${randomUUID()}/ct.nii.gz`) // an older version's layout
    put(`uploads/${dead}/ct.nii`)
    put(`uploads/${ownEnded}/ct.nii`)
    put(`uploads/${neighbour}/ct.nii`)
    put(`runs/${randomUUID()}/plan.json`)
    put(`runs/${dead}/plan.json`)
    put(`runs/.${dead}.partial-123/plan.json`)
    put(`runs/${neighbour}/plan.json`)
    put(`exports/${randomUUID()}/plan-report.html`)
    const s = makeService(dir)
    const { removed } = await s.startupCleanup!
    expect(removed).toHaveLength(6)
    expect(entries(path.join(dir, 'uploads'))).toEqual([neighbour])
    expect(entries(path.join(dir, 'runs'))).toEqual([neighbour])
    expect(entries(path.join(dir, 'exports'))).toHaveLength(1)
  })

  test("a second service on the same work folder leaves the first one's files alone", async () => {
    const dir = newWorkDir()
    const first = makeService(dir)
    await first.startupCleanup
    const image = imageOf(await first.impl.importBytes({ name: 'ct.nii', role: 'ct', bytes: arrayBufferOf(fs.readFileSync(niftiFile(root, 'shared.nii', 4))) }))
    expect(entries(path.join(dir, 'uploads'))).toHaveLength(1)
    const second = makeService(dir)
    await second.startupCleanup
    expect(entries(path.join(dir, 'uploads'))).toHaveLength(1)
    expect((await first.impl.getVolume({ volumeId: image.volumeId, stride: 1 })).header.dims).toEqual([6, 5, 4])
    await first.dispose()
    expect(entries(path.join(dir, 'uploads'))).toEqual([])
  })
})
