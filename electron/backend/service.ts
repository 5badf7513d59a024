/**
 * The planner's back end, shared by both hosts (Electron main process and the browser-fallback
 * server): the implementation of every method of `PLANNER_API` (core/contracts/api.ts) plus the
 * event channel. Hosts only move bytes; what a method does lives here.
 *
 * Heavy work runs off the host's main thread: plan runs in worker threads (plan-runs.ts). Reading
 * a volume is itk-wasm/zlib work of about a second for a head CT and stays in the host.
 */
import { loadProtocolLibrary } from '../node/protocols.ts'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { randomUUID } from 'node:crypto'
import { PLANNER_API, ApiError, type ApiEvent, type ApiImplementation, type Capabilities, type ImageInfo, type PlannerApi, type TransducerInfo } from '../../core/contracts/api.ts'
import { PLAN_FILES } from '../../core/contracts/plan.ts'
import { orientationCode } from '../../core/volume/geometry.ts'
import type { Volume } from '../../core/volume/index.ts'
import { listDicomFolder, readVolume } from '../node/volume-io.ts'
import { loadTransducerLibrary } from '../node/transducers.ts'
import { SOFTWARE_VERSION } from '../node/plan-runner.ts'
import { requestNodeGpuDevice } from '../node/webgpu-device.ts'
import { PlanRuns } from './plan-runs.ts'
import { Worker } from 'node:worker_threads'
import { BUNDLED_MODEL } from '../node/surrogate/runtime.ts'
import type { PreviewRequest } from '../node/surrogate/preview.ts'
import { deserializeError, type SerializedError } from '../../core/contracts/api.ts'
import type { PlanMetricsRecord, PlanRecord } from '../../core/contracts/plan.ts'

type PreviewReply = { ok: true; plan: PlanRecord; metrics: PlanMetricsRecord; pressureCt: Float32Array; notes: string[] } | { ok: false; error: SerializedError }
const previewNotesShown = new Set<string>()
import { toDisplayVolume, bytesOf } from './display-volume.ts'
import { loadOptional, type ExportsModule, type PlanStoreModule } from './optional-modules.ts'

export interface PlannerServiceOptions {
  readonly host: Capabilities['host']
  /** Plan runs, uploads and the database live here. */
  readonly workDir: string
  /** Where the plan database lives (electron/node/db); defaults to workDir/db. */
  readonly dataDir?: string
  /** Test hook: the plan worker entry. */
  readonly workerUrl?: URL
  /** The surrogate model for the live preview (default: resources/surrogate/model.json). */
  readonly surrogateModel?: string
  /** Skip probing for a WebGPU adapter (tests; the probe loads Dawn). */
  readonly probeWebGpu?: boolean
}

export interface PlannerService {
  readonly impl: ApiImplementation<PlannerApi>
  /** Subscribes to the event channel; returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void
  dispose(): Promise<void>
}

interface OpenedImage {
  readonly info: ImageInfo
  readonly volume: Volume
  /** A file the plan worker can read (uploads are written to disk first). */
  readonly path: string
}

/** The thermal model's verdict from a plan folder's thermal.json, or null when it has not run. */
async function thermalSummary(planDir: string): Promise<{ summary: string } | null> {
  let doc: unknown
  try {
    doc = JSON.parse(await fs.readFile(path.join(planDir, PLAN_FILES.thermal), 'utf8'))
  } catch {
    return null
  }
  const text = (doc as { flags?: { thermal?: unknown } } | null)?.flags?.thermal
  return typeof text === 'string' && text.length > 0 ? { summary: `thermal: ${text}` } : null
}

export function createPlannerService(options: PlannerServiceOptions): PlannerService {
  const listeners = new Set<(e: ApiEvent) => void>()
  const emit = (e: ApiEvent) => {
    for (const l of listeners) {
      try {
        l(e)
      } catch {
        // One broken subscriber (a closed SSE stream) must not stop the others.
      }
    }
  }
  const runs = new PlanRuns({ emit, ...(options.workerUrl ? { workerUrl: options.workerUrl } : {}) })
  const images = new Map<string, OpenedImage>()
  const volumes = new Map<string, () => Promise<Volume>>()
  const volumeCache = new Map<string, Promise<Volume>>()
  const dataDir = options.dataDir ?? path.join(options.workDir, 'db')

  const dbModule = loadOptional<PlanStoreModule>('../node/db/client.ts', ['openPlanStore'], 'the plan database (electron/node/db)')
  const exportsModule = loadOptional<ExportsModule>('../node/exports/index.ts', ['exportPlanFolder'], 'plan export (electron/node/exports)')
  const thermalModule = loadOptional<Record<string, unknown>>('../node/thermal-plan.ts', ['runThermalOnPlanFolder'], 'the thermal model (electron/node/thermal-plan.ts)')
  let store: ReturnType<PlanStoreModule['openPlanStore']> | undefined
  const openStore = async () => {
    const db = await dbModule
    if (!db.available) throw new ApiError('unavailable', db.reason)
    store ??= db.module.openPlanStore(dataDir)
    store.catch(() => (store = undefined))
    return store
  }
  const exportsOrThrow = async () => {
    const ex = await exportsModule
    if (!ex.available) throw new ApiError('unavailable', ex.reason)
    return ex.module
  }
  /** Single-file formats get a file name with the extension the navigation systems expect. */
  const exportTarget = (runId: string, format: string, single: boolean) => {
    const names: Record<string, string> = { brainsight: 'plan-brainsight.txt', localite: 'InstrumentMarker.xml', kplan: 'transducer.kps', report: 'plan-report.html' }
    return path.join(options.workDir, 'exports', runId, single ? (names[format] ?? `plan-${format}`) : format)
  }
  const approvals = new Map<string, { by: string; at: string }>()
  const savedPlans = new Map<string, number>()

  const volumeFor = (volumeId: string): Promise<Volume> => {
    let cached = volumeCache.get(volumeId)
    if (!cached) {
      const load = volumes.get(volumeId)
      if (!load) throw new ApiError('not-found', `no volume "${volumeId}"`)
      cached = load()
      volumeCache.set(volumeId, cached)
      cached.catch(() => volumeCache.delete(volumeId))
    }
    return cached
  }

  const register = (volume: Volume, source: string, role: 'ct' | 'mri', filePath: string): ImageInfo => {
    const imageId = randomUUID()
    const volumeId = `image-${imageId}`
    let lo = Infinity
    let hi = -Infinity
    for (const v of volume.data) {
      if (v < lo) lo = v
      if (v > hi) hi = v
    }
    const info: ImageInfo = {
      imageId,
      volumeId,
      name: path.basename(source),
      source,
      role,
      modality: volume.meta.modality,
      dims: [...volume.dims] as [number, number, number],
      spacingM: volume.spacingM,
      originM: volume.originM,
      direction: [...volume.direction] as ImageInfo['direction'],
      orientation: orientationCode(volume.direction),
      range: [lo, hi],
      valueUnit: volume.meta.valueUnit ?? '',
      warnings: [...volume.warnings],
    }
    images.set(imageId, { info, volume, path: filePath })
    volumes.set(volumeId, async () => volume)
    return info
  }

  const openPath = async (target: string, role: 'ct' | 'mri', seriesInstanceUid: string | undefined, source = target) => {
    const st = await fs.stat(target).catch(() => {
      throw new ApiError('not-found', `${target}: no such file or folder`)
    })
    if (st.isDirectory() && !seriesInstanceUid) {
      const listing = await listDicomFolder(target)
      if (listing.series.length > 1)
        return {
          kind: 'series' as const,
          folder: target,
          series: listing.series.map((s) => ({ seriesInstanceUid: s.seriesInstanceUid, description: s.description ?? '', modality: s.modality, sliceCount: s.sliceCount })),
        }
    }
    const volume = await readVolume(target, { modality: role === 'ct' ? 'CT' : 'MR', ...(seriesInstanceUid ? { seriesUid: seriesInstanceUid } : {}) })
    return { kind: 'image' as const, image: register(volume, source, role, target) }
  }

  const finishedRun = (runId: string) => {
    const run = runs.get(runId)
    if (!run) throw new ApiError('not-found', `no plan run "${runId}"`)
    if (run.state.status === 'running') throw new ApiError('busy', 'the plan is still running')
    if (run.state.status === 'failed') throw new ApiError('failed', `the plan run failed: ${run.state.error.message}`)
    return { run, state: run.state }
  }

  // The live preview: one long-lived worker (model and CT stay loaded); calls queue behind it.
  let previewWorker: Worker | undefined
  let previewSeq = 0
  const previewPending = new Map<number, { resolve: (v: PreviewReply) => void; reject: (e: unknown) => void }>()
  const previewCall = (request: PreviewRequest): Promise<PreviewReply> => {
    if (!previewWorker) {
      const w = new Worker(new URL('./preview-worker-bootstrap.mjs', import.meta.url), { workerData: { modelFile: options.surrogateModel ?? BUNDLED_MODEL, provider: 'auto' } })
      w.on('message', (m: PreviewReply & { id: number }) => {
        const p = previewPending.get(m.id)
        previewPending.delete(m.id)
        if (!p) return
        if (m.ok) p.resolve(m)
        else p.reject(deserializeError(m.error))
      })
      const fail = (e: unknown) => {
        for (const p of previewPending.values()) p.reject(new ApiError('internal', `the preview worker stopped: ${e instanceof Error ? e.message : String(e)}`))
        previewPending.clear()
        previewWorker = undefined
      }
      w.on('error', fail)
      w.on('exit', (code) => fail(new Error(`exit code ${code}`)))
      previewWorker = w
    }
    const id = ++previewSeq
    return new Promise((resolve, reject) => {
      previewPending.set(id, { resolve, reject })
      previewWorker!.postMessage({ id, request })
    })
  }
  let previewCount = 0

  let capabilityCache: Promise<Capabilities> | undefined
  const impl: ApiImplementation<PlannerApi> = {
    async capabilities() {
      capabilityCache ??= (async () => {
        const [db, ex, th] = await Promise.all([dbModule, exportsModule, thermalModule])
        const hasReport = ex.available && (ex.module.EXPORT_FORMATS as readonly string[]).includes('report')
        let webgpu: Capabilities['webgpu'] = { available: false, reason: 'not probed' }
        if (options.probeWebGpu !== false) {
          try {
            const gpu = await requestNodeGpuDevice({ allowSoftware: false })
            webgpu = 'unavailable' in gpu ? { available: false, reason: gpu.unavailable } : { available: true, description: gpu.description }
          } catch (e) {
            webgpu = { available: false, reason: e instanceof Error ? e.message : String(e) }
          }
        }
        const formats = ex.available ? [...(ex.module.EXPORT_FORMATS ?? [])] : []
        return {
          host: options.host,
          version: SOFTWARE_VERSION,
          cpuCores: Math.max(1, os.availableParallelism()),
          webgpu,
          database: db.available ? { available: true } : { available: false, reason: db.reason },
          exports: ex.available ? (formats.length > 0 ? { available: true, formats } : { available: false, formats, reason: 'the export module lists no formats (EXPORT_FORMATS)' }) : { available: false, formats, reason: ex.reason },
          report: hasReport ? { available: true } : { available: false, reason: ex.available ? 'the export module has no report format' : ex.reason },
          // The plan worker runs the thermal model after the acoustics when a protocol is chosen.
          thermal: th.available ? { available: true } : { available: false, reason: th.reason },
        }
      })()
      return capabilityCache
    },

    async listProtocols() {
      const lib = await loadProtocolLibrary()
      return { protocols: lib.protocols.map((p) => ({ id: p.id, name: p.protocol.name ?? p.id, totalS: p.totalS, source: p.protocol.source ?? '' })) }
    },

    async listTransducers() {
      const lib = await loadTransducerLibrary()
      const transducers: TransducerInfo[] = lib.transducers.map(({ definition: d }) => {
        const apertureM = d.type === 'bowl' ? d.aperture_m : d.type === 'annular' ? Math.max(...d.rings.map((r) => r.outer_m)) : d.diameter_m
        const range = d.type === 'bowl' ? (d.focal_range_m ?? [d.roc_m - d.exit_plane_offset_m, d.roc_m - d.exit_plane_offset_m]) : (d.focal_range_m ?? null)
        return {
          id: d.id,
          name: d.name,
          type: d.type,
          frequencyHz: d.frequency_hz,
          rocM: d.type === 'disc' ? null : d.roc_m,
          apertureM,
          innerApertureM: d.type === 'bowl' ? (d.inner_aperture_m ?? 0) : d.type === 'annular' ? Math.min(...d.rings.map((r) => r.inner_m)) : 0,
          rings: d.type === 'annular' ? d.rings.map((r) => [r.inner_m, r.outer_m] as [number, number]) : [],
          exitPlaneOffsetM: d.exit_plane_offset_m,
          focalRangeM: range ? [range[0], range[1]] : null,
          text: `${d.name} (${(d.frequency_hz / 1e3).toFixed(0)} kHz)`,
        }
      })
      return { transducers, warnings: [...lib.warnings] }
    },

    async openImage({ path: target, role, seriesInstanceUid }) {
      return openPath(path.resolve(target), role, seriesInstanceUid)
    },

    async importBytes({ name, role, bytes }) {
      // The worker reads the CT by path, so dropped files go to disk first.
      const safeName = path.basename(name).replace(/[^A-Za-z0-9._-]/g, '_')
      const dir = path.join(options.workDir, 'uploads', randomUUID())
      await fs.mkdir(dir, { recursive: true })
      const file = path.join(dir, safeName)
      await fs.writeFile(file, new Uint8Array(bytes))
      return openPath(file, role, undefined, name)
    },

    async getVolume({ volumeId, stride }) {
      const volume = await volumeFor(volumeId)
      const display = toDisplayVolume(volume, stride)
      return { header: { volumeId, ...display.header }, bytes: bytesOf(display.data) }
    },

    async startPlan(req) {
      const ct = images.get(req.ctImageId)
      if (!ct) throw new ApiError('not-found', 'the CT is no longer open: import it again', 'ctImageId')
      const mri = req.mriImageId ? images.get(req.mriImageId) : undefined
      if (req.mriImageId && !mri) throw new ApiError('not-found', 'the MRI is no longer open: import it again', 'mriImageId')
      let thermalProtocolFile: string | undefined
      if (req.thermalProtocolId) {
        const found = (await loadProtocolLibrary()).protocols.find((p) => p.id === req.thermalProtocolId)
        if (!found) throw new ApiError('not-found', `no sonication protocol "${req.thermalProtocolId}" in the library`, 'thermalProtocolId')
        thermalProtocolFile = found.file
      }
      const outDir = path.join(options.workDir, 'runs', randomUUID())
      const run = runs.start({
        ...(thermalProtocolFile ? { thermalProtocolFile } : {}),
        ctPath: ct.path,
        ...(mri ? { mriPath: mri.path } : {}),
        targetRasM: req.targetRasM,
        ...(req.entryRasM ? { entryRasM: req.entryRasM } : {}),
        transducerId: req.transducerId,
        mappingId: req.mappingId,
        pointsPerWavelength: req.pointsPerWavelength,
        backend: req.backend,
        drive: req.drive,
        protocol: req.protocol,
        outDir,
      })
      const pressureId = `pressure-${run.runId}`
      volumes.set(pressureId, () => readVolume(path.join(outDir, PLAN_FILES.pressureCt)))
      return { runId: run.runId }
    },

    async previewPose(req) {
      const ct = images.get(req.ctImageId)
      if (!ct) throw new ApiError('not-found', 'the CT is no longer open: import it again', 'ctImageId')
      const reply = await previewCall({ ctPath: ct.path, targetRasM: req.targetRasM, ...(req.entryRasM ? { entryRasM: req.entryRasM } : {}), transducerId: req.transducerId, mappingId: req.mappingId, drive: req.drive, protocol: req.protocol })
      if (!reply.ok) throw new ApiError('internal', 'preview failed')
      for (const line of reply.notes) {
        if (previewNotesShown.has(line)) continue
        previewNotesShown.add(line)
        emit({ type: 'log', line })
      }
      // Each preview is its own volume id (the views reload on a new id); older ones are dropped.
      const volumeId = `preview-${++previewCount}`
      const old = `preview-${previewCount - 2}`
      volumes.delete(old)
      volumeCache.delete(old)
      const data = reply.pressureCt
      volumes.set(volumeId, async () => ({ ...ct.volume, data, meta: { ...ct.volume.meta, modality: 'OT', seriesDescription: 'surrogate preview: pressure amplitude [Pa]', valueUnit: 'Pa' }, warnings: [] }))
      return { runId: 'preview', planDir: '', plan: reply.plan, metrics: reply.metrics, pressureVolumeId: volumeId, thermal: null }
    },

    async cancelPlan({ runId }) {
      return { cancelled: runs.cancel(runId) }
    },

    async getPlanResult({ runId }) {
      const { run, state } = finishedRun(runId)
      return {
        runId,
        planDir: run.input.outDir,
        plan: state.plan,
        metrics: state.metrics,
        pressureVolumeId: `pressure-${runId}`,
        // Only a thermal.json written by the thermal model counts; without it the UI says "thermal: not assessed".
        thermal: await thermalSummary(run.input.outDir),
      }
    },

    async savePlan({ runId, label }) {
      const { run } = finishedRun(runId)
      const ref = await (await openStore()).savePlanFolder(run.input.outDir, label ? { note: label } : {})
      savedPlans.set(runId, ref.planId)
      return { planId: String(ref.planId) }
    },

    async listPlans() {
      const rows = await (await openStore()).listPlans()
      return {
        plans: rows.map((r) => ({
          planId: String(r.planId),
          label: `${r.note ?? r.transducerId} (v${r.latestVersion})`,
          createdAt: r.createdAt,
          approved: r.approvedVersions.includes(r.latestVersion),
          ...(r.patientName || r.patientId ? { patient: [r.patientName, r.patientId].filter(Boolean).join(' · ') } : {}),
        })),
      }
    },

    async approvePlan({ planId, approver }) {
      const id = Number(planId)
      if (!Number.isInteger(id) || id <= 0) throw new ApiError('bad-request', `"${planId}" is not a plan id`, 'planId')
      const r = await (await openStore()).approve(id, undefined, approver)
      for (const [runId, stored] of savedPlans) if (stored === id) approvals.set(runId, { by: r.approver, at: r.approvedAt })
      return { ok: true as const }
    },

    async exportPlan({ runId, format }) {
      const { run } = finishedRun(runId)
      const ex = await exportsOrThrow()
      if (!(ex.EXPORT_FORMATS as readonly string[]).includes(format)) throw new ApiError('bad-request', `unknown export format "${format}"; choose one of ${ex.EXPORT_FORMATS.join(', ')}`, 'format')
      const fmt = format as (typeof ex.EXPORT_FORMATS)[number]
      const outPath = exportTarget(runId, format, ex.SINGLE_FILE_FORMATS.has(fmt))
      await fs.mkdir(path.dirname(outPath), { recursive: true })
      const approval = approvals.get(runId)
      const result = await ex.exportPlanFolder(run.input.outDir, fmt, outPath, approval ? { approval } : {})
      let bytes = 0
      for (const f of result.files) bytes += (await fs.stat(f).catch(() => null))?.size ?? 0
      return { path: outPath, bytes }
    },

    async reportHtml({ runId }) {
      const { run } = finishedRun(runId)
      const ex = await exportsOrThrow()
      const outPath = exportTarget(runId, 'report', true)
      await fs.mkdir(path.dirname(outPath), { recursive: true })
      const approval = approvals.get(runId)
      await ex.exportPlanFolder(run.input.outDir, 'report', outPath, approval ? { approval } : {})
      return { html: await fs.readFile(outPath, 'utf8') }
    },
  }
  // Every method the contract names is implemented (a compile-time check as well via the type).
  for (const name of Object.keys(PLANNER_API)) if (typeof (impl as Record<string, unknown>)[name] !== 'function') throw new Error(`service: ${name} is not implemented`)

  return {
    impl,
    onEvent(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async dispose() {
      await runs.dispose()
      if (previewWorker) await previewWorker.terminate()
      if (store) await (await store.catch(() => null))?.close()
    },
  }
}
