/**
 * The planner's back end, shared by both hosts (Electron main process and the browser-fallback
 * server): the implementation of every method of `PLANNER_API` (core/contracts/api.ts) plus the
 * event channel. Hosts only move bytes; what a method does lives here, each concern in its own
 * module beside this one:
 *
 * - open images: open-images.ts (an LRU: the 4 most recently used, 2 GiB of voxels at most; the
 *   CT and MRI on screen are never evicted), their upload copies: uploads.ts (a dropped file's
 *   copy lives as long as its image, and is deleted at once when it cannot be opened);
 * - plan runs in worker threads: plan-runs.ts (the pipeline, pipeline/); their folders:
 *   run-folders.ts (a run folder lives while its run is the newest of the session; a newer run, a
 *   failure, a cancellation or the service closing removes it once nothing reads it any more,
 *   never a folder outside runs/ or one the database refers to: savePlan has copied what the
 *   database keeps into its content store by then);
 * - result, fused, preview and difference volumes: result-volumes.ts (loaded ones are an LRU);
 * - the live preview's worker: preview-client.ts; payload views of files and rows: service-views.ts;
 * - the plan database (adapters/db) is the one record of saved plans and approvals: the service
 *   keeps only which plan version each run was saved as or opened from;
 * - scratch.ts: at start-up what earlier sessions left in `uploads/` and `runs/` is removed.
 *
 * Reading a volume is itk-wasm/zlib work of about a second for a head CT and stays in the host.
 * No error leaving the service names the work or data folder.
 */
import { loadThermalProtocolLibrary } from '../adapters/thermal-protocols.ts'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { randomUUID } from 'node:crypto'
import {
  PLANNER_API,
  ApiError,
  registrationRunId,
  sessionState,
  type RegistrationResultPayload,
  type ApiEvent,
  type ApiImplementation,
  type Capabilities,
  type ImageInfo,
  type PlannerApi,
  type SessionInputs,
  type SessionState,
  type TransducerInfo,
} from '../../core/contracts/api.ts'
import { replaceFileAtomically } from '../adapters/atomic-file.ts'
import { PLAN_FILES, planMetricsRecord, planRecord, type PlanMetricsRecord, type PlanRecord } from '../../core/contracts/plan.ts'
import { CampaignList, finishedTaskPlanDir, readCampaignView } from './campaign-view.ts'
import { orientationCode } from '../../core/volume/geometry.ts'
import type { Volume } from '../../core/volume/index.ts'
import { listDicomFolder, MAX_IMAGE_FILE_BYTES, readVolume } from '../adapters/volume-io.ts'
import { isImportError } from '../../core/io/errors.ts'
import { approvalRefusal } from '../../core/planning/approval.ts'
import { notACtRefusal } from '../../core/planning/image-role.ts'
import { loadTransducerLibrary } from '../adapters/transducers.ts'
import { SOFTWARE_VERSION } from '../adapters/version.ts'
import { requestNodeGpuDevice } from '../adapters/webgpu-device.ts'
import { PlanRuns, type PlanRun, type RunState } from './plan-runs.ts'
import { DEFAULT_OPEN_IMAGE_LIMITS, OpenImages, type OpenImageLimits, type OpenedImage } from './open-images.ts'
import { pathScrubber, removeStaleScratch, startScratchSession, uploadFileName } from './scratch.ts'
import { BUNDLED_MODEL } from '../adapters/onnx-runtime.ts'
import { PreviewClient, type PreviewReply } from './preview-client.ts'
import type { PreviewRequest } from './surrogate-preview.ts'
import { BackgroundWork } from './background.ts'
import { UploadFolders } from './uploads.ts'
import { ResultVolumes } from './result-volumes.ts'
import { isInside, RunFolders } from './run-folders.ts'
import { planSummaryOf, surrogatePreviewInfoFrom, thermalSummary, withMessage } from './service-views.ts'
import { dataLayout } from '../adapters/db/data-dir.ts'

const previewNotesShown = new Set<string>()
import { toDisplayVolume, bytesOf } from './display-volume.ts'
import { isRegistrationError, registerRigid, transformFileJson } from '../adapters/registration.ts'
import { rotationAngleDeg, rotationOf, translationOf } from '../../core/math/index.ts'
import { transformFileMatrices, type RigidTransform } from '../../core/registration/rigid.ts'
import { resampleOntoFixed } from '../../core/registration/fuse.ts'
import { comparePlans as comparePlanRows, differenceRefusal, pressureDifference } from '../../core/planning/compare.ts'
import { openPlanStore } from '../adapters/db/client.ts'
import { EXPORT_FORMATS, SINGLE_FILE_FORMATS, exportPlanFolder } from './exports.ts'

export type PathPickKind = 'image-file' | 'dicom-folder' | 'export-folder' | 'campaign-folder'

export interface PlannerServiceOptions {
  readonly host: Capabilities['host']
  /** Plan runs, uploads and the database live here. */
  readonly workDir: string
  /** Where the plan database lives (electron/adapters/db); defaults to workDir/db. */
  readonly dataDir?: string
  /** Test hook: the plan worker entry. */
  readonly workerUrl?: URL
  /** The surrogate model for the live preview (default: resources/surrogate/model.json). */
  readonly surrogateModel?: string
  /** Skip probing for a WebGPU adapter (tests; the probe loads Dawn). */
  readonly probeWebGpu?: boolean
  /** The host's native picker (Electron's dialog); absent in the browser mode, which takes typed paths. */
  readonly pickPath?: (kind: PathPickKind) => Promise<string | null>
  /** How many images (and voxel bytes) stay open; default DEFAULT_OPEN_IMAGE_LIMITS. */
  readonly openImageLimits?: Partial<OpenImageLimits>
}

export interface PlannerService {
  readonly impl: ApiImplementation<PlannerApi>
  /** Subscribes to the event channel; returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void
  dispose(): Promise<void>
  /**
   * The start-up clean-up of what earlier sessions left in `uploads/` and `runs/` (it runs in the
   * background; nothing waits for it). Resolves with the entries removed.
   */
  readonly startupCleanup?: Promise<{ readonly removed: readonly string[] }>
}

export function createPlannerService(options: PlannerServiceOptions): PlannerService {
  const listeners = new Set<(e: ApiEvent) => void>()
  const workDir = path.resolve(options.workDir)
  const dataDir = path.resolve(options.dataDir ?? path.join(workDir, 'db'))
  const scrubPaths = pathScrubber([
    { path: dataDir, label: '<data folder>' },
    { path: workDir, label: '<work folder>' },
  ])
  /** The latest progress of each run, so a reloaded page shows where a run is at once. */
  const lastProgress = new Map<string, Extract<ApiEvent, { type: 'progress' }>>()
  const emit = (raw: ApiEvent) => {
    if (raw.type === 'progress') lastProgress.set(raw.runId, raw)
    // Run errors and log lines come from the plan worker: they may name the run folder or an upload.
    const e: ApiEvent =
      raw.type === 'error'
        ? { ...raw, error: { ...raw.error, message: scrubPaths(raw.error.message) } }
        : raw.type === 'log'
          ? { ...raw, line: scrubPaths(raw.line) }
          : raw
    for (const l of listeners) {
      try {
        l(e)
      } catch {
        // One broken subscriber (a closed SSE stream) must not stop the others.
      }
    }
  }
  const runs = new PlanRuns({ emit, ...(options.workerUrl ? { workerUrl: options.workerUrl } : {}) })
  const scratch = startScratchSession()

  // Background housekeeping (file removals): dispose waits for it; failures are only logged.
  const background = new BackgroundWork((line) => emit({ type: 'log', line }))
  const inBackground = (what: string, work: () => Promise<unknown>) => background.run(what, work)
  const startupCleanup = removeStaleScratch(workDir)
  void inBackground("earlier sessions' scratch files", () => startupCleanup)
  const uploads = new UploadFolders(background)
  const useUploads = (...dirs: Array<string | undefined>) => uploads.use(...dirs)
  const limits: OpenImageLimits = { ...DEFAULT_OPEN_IMAGE_LIMITS, ...options.openImageLimits }
  let previewInfo: Promise<(transducerId: string) => TransducerInfo['preview']> | undefined
  const surrogatePreviewInfo = () => (previewInfo ??= surrogatePreviewInfoFrom(options.surrogateModel ?? BUNDLED_MODEL))
  const sessionFile = path.join(workDir, 'session.json')
  const campaignList = new CampaignList(path.join(workDir, 'campaigns.json'))
  let session: { state: SessionState; ctPath: string | null } | null = null
  const images = new OpenImages(limits, (image: OpenedImage) => {
    if (image.uploadDir) uploads.imageClosed(image.uploadDir)
  })
  /** Plan-result, fused, preview and difference volumes by id. */
  const volumes = new ResultVolumes()

  let store: ReturnType<typeof openPlanStore> | undefined
  const openStore = async () => {
    store ??= openPlanStore(dataDir)
    store.catch(() => (store = undefined))
    return store
  }
  /** Single-file formats get a file name with the extension the navigation systems expect. */
  const exportTarget = (runId: string, format: string, single: boolean) => {
    const names: Record<string, string> = {
      brainsight: 'plan-brainsight.txt',
      localite: 'InstrumentMarker.xml',
      kplan: 'transducer.kps',
      report: 'plan-report.html',
    }
    return path.join(workDir, 'exports', runId, single ? (names[format] ?? `plan-${format}`) : format)
  }
  /**
   * MRI-to-CT registrations made in the app, by `${ctImageId}/${mriImageId}`: the answer, the
   * transform file a plan run reads (in runs/, scratch), and how it was made, for plan.json.
   */
  const registrations = new Map<string, { payload: RegistrationResultPayload; transform: RigidTransform; file: string; method: string }>()
  const registrationKey = (ctImageId: string, mriImageId: string) => `${ctImageId}/${mriImageId}`
  /** The registration under way, per MRI: cancelRegistration and a new request stop it. */
  const registering = new Map<string, AbortController>()
  /** The difference volume of the comparison on screen (one at a time: it is held in memory). */
  let comparisonVolumeId: string | null = null
  /** Run id -> the database plan id and version it was saved as or opened from (names exports and reports). */
  const savedPlans = new Map<string, { planId: number; version: number }>()
  /**
   * The approval of the plan version a run was saved as or opened from, as the database has it
   * (the one record of approvals: a restart, another window or the CLI approving are all seen).
   */
  const approvalOf = async (runId: string) => {
    const ref = savedPlans.get(runId)
    if (!ref) return undefined
    const a = (await (await openStore()).getPlan(ref.planId, ref.version)).approval
    return a ? { by: a.approver, at: a.approvedAt, overrideReason: a.overrideReason, acknowledged: a.acknowledged } : undefined
  }

  const runsDir = path.join(workDir, 'runs')
  /** Whether the plan database refers to a file inside `folder` (an image series imported from there). */
  const referencedByDatabase = async (folder: string): Promise<boolean> => {
    // No database yet: nothing can refer to anything (and none is made for the question).
    if (
      !store &&
      !(await fs.stat(dataLayout(dataDir).database).then(
        () => true,
        () => false,
      ))
    )
      return false
    const series = await (await openStore()).listSeries()
    return series.some((s) => isInside(folder, path.resolve(s.source)) || path.resolve(s.source) === path.resolve(folder))
  }
  const runFolders = new RunFolders({
    runsDir,
    background,
    referencedByDatabase,
    beforeRemove: (runId) => volumes.dropRun(runId),
    forget: (run) => {
      runs.forget(run.runId)
      savedPlans.delete(run.runId)
      lastProgress.delete(run.runId)
    },
    report: (line) => emit({ type: 'log', line }),
  })
  const readingRun = <T>(runId: string, work: () => Promise<T>): Promise<T> => runFolders.reading(runId, work)
  const retireRun = (run: PlanRun, why: string) => runFolders.retire(run, why)
  const registerRunVolumes = (runId: string, outDir: string) => volumes.addRun(runId, outDir, (work) => readingRun(runId, work))

  /** The CT a finished plan was planned on, from where it was planned: the views need it under the overlay. */
  const openPlanCt = async (record: PlanRecord, what: string, field: string): Promise<ImageInfo> => {
    const opened = await openPath(path.resolve(record.ct.source), 'ct', undefined).catch((e: unknown) => {
      throw new ApiError(
        'not-found',
        `the CT of ${what} (${path.basename(record.ct.source)}) cannot be opened: ${e instanceof Error ? scrubPaths(e.message) : String(e)}; open it, then the plan again`,
        field,
      )
    })
    if (opened.kind !== 'image') throw new ApiError('not-found', `the CT of ${what} is a folder of several series: open it first`, field)
    return opened.image
  }

  /** A finished plan folder (a stored plan materialized, a campaign task's copy) as the finished run on screen. */
  const adoptFinishedPlan = (ct: ImageInfo, record: PlanRecord, metrics: PlanMetricsRecord, files: readonly string[], outDir: string) => {
    const drive =
      record.drive.kind === 'isppa-free-water' || record.drive.kind === 'isppa-target'
        ? { kind: record.drive.kind, wPerM2: record.drive.isppa_w_m2 }
        : { kind: 'source' as const, amplitudePa: record.drive.source_amplitude_pa }
    const earlier = runs.list()
    const run = runs.adopt(
      {
        ctPath: ct.source,
        targetRasM: record.target_ras_m,
        ...(record.entry_ras_m && !record.entry_proposed ? { entryRasM: record.entry_ras_m } : {}),
        transducerId: record.transducer.id,
        mappingId: record.mapping.id,
        pointsPerWavelength: record.simulation.ppw,
        backend: 'cpu',
        drive,
        pulseTiming: {
          pulseDurationS: record.pulse_timing.pulse_duration_s,
          prfHz: record.pulse_timing.prf_hz,
          trainDutyCycle: record.pulse_timing.train_duty_cycle,
        },
        outDir,
      },
      { status: 'done', plan: record, metrics, files },
    )
    for (const old of earlier) if (old.state.status !== 'running') retireRun(old, 'another plan was opened')
    registerRunVolumes(run.runId, outDir)
    const inputs: SessionInputs = {
      targetRasM: record.target_ras_m,
      entryRasM: record.entry_ras_m && !record.entry_proposed ? record.entry_ras_m : null,
      transducerId: record.transducer.id,
      pointsPerWavelength: record.simulation.ppw,
      mappingId: record.mapping.id,
      isppaFreeWaterWPerM2: record.drive.kind === 'isppa-free-water' ? record.drive.isppa_w_m2 : 1e5,
      pulseDurationS: record.pulse_timing.pulse_duration_s,
      prfHz: record.pulse_timing.prf_hz,
      trainDutyCycle: record.pulse_timing.train_duty_cycle,
      thermalProtocolId: '',
    }
    return { run, inputs }
  }

  const volumeFor = (volumeId: string): Promise<Volume> => {
    const loaded = volumes.get(volumeId)
    if (loaded) return loaded
    const closed = images.closedReason(volumeId)
    if (closed !== undefined) throw new ApiError('not-found', `volume "${volumeId}" belongs to an image that was closed: ${closed}; open it again`, 'volumeId')
    const runId = volumeId.startsWith('pressure-') ? volumeId.slice('pressure-'.length) : undefined
    const removed = runId !== undefined ? runFolders.removedReason(runId) : undefined
    if (removed !== undefined)
      throw new ApiError('not-found', `volume "${volumeId}" belongs to plan run ${runId}, whose files were removed (${removed})`, 'volumeId')
    throw new ApiError('not-found', `no volume "${volumeId}"`, 'volumeId')
  }

  const register = (volume: Volume, source: string, role: 'ct' | 'mri', filePath: string, uploadDir?: string): ImageInfo => {
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
      patient:
        volume.meta.patientName || volume.meta.patientId || volume.meta.patientBirthDate || volume.meta.studyDate
          ? {
              name: volume.meta.patientName ?? null,
              id: volume.meta.patientId ?? null,
              birthDate: volume.meta.patientBirthDate ?? null,
              studyDate: volume.meta.studyDate ?? null,
            }
          : null,
      warnings: [...volume.warnings],
    }
    images.add({ info, volume, path: filePath, bytes: volume.data.byteLength, ...(uploadDir ? { uploadDir } : {}) })
    return info
  }

  const openPath = async (target: string, role: 'ct' | 'mri', seriesInstanceUid: string | undefined, source = target, uploadDir?: string) => {
    const st = await fs.stat(target).catch(() => {
      throw new ApiError('not-found', `${target}: no such file or folder`, 'path')
    })
    if (st.isDirectory()) {
      // A folder is an input only as a DICOM series folder; anything else is one line, never a
      // list of what the folder holds.
      const notAnImage = (detail: string) => new ApiError('bad-request', `${source}: is a folder, not an image file (${detail})`, 'path')
      const folderError = (e: unknown) => {
        if (!isImportError(e)) return e
        if (e.file !== target)
          return notAnImage(
            `and not a readable DICOM series folder: a file in it is ${e.code === 'not-a-file' ? 'not a regular file' : e.code === 'too-large' ? 'too large' : 'unreadable'}`,
          )
        if (e.code === 'empty-folder') return notAnImage('it is empty')
        if (e.code === 'not-an-image') return notAnImage('it holds no DICOM image series')
        return e
      }
      if (!seriesInstanceUid) {
        const listing = await listDicomFolder(target).catch((e: unknown) => {
          throw folderError(e)
        })
        if (listing.series.length === 0) throw notAnImage('it holds no DICOM image series')
        if (listing.series.length > 1)
          return {
            kind: 'series' as const,
            folder: target,
            series: listing.series.map((s) => ({
              seriesInstanceUid: s.seriesInstanceUid,
              description: s.description ?? '',
              modality: s.modality,
              sliceCount: s.sliceCount,
            })),
          }
      }
      const volume = await readVolume(target, { modality: role === 'ct' ? 'CT' : 'MR', ...(seriesInstanceUid ? { seriesUid: seriesInstanceUid } : {}) }).catch(
        (e: unknown) => {
          throw folderError(e)
        },
      )
      return { kind: 'image' as const, image: register(volume, source, role, target, uploadDir) }
    }
    // A file format without a modality (NIfTI, NRRD, MHA): its intensities decide, not the button it
    // was opened with, so an MRI opened as the CT is known as an MRI (and refused for Simulate).
    // The inference is only worth a warning when it disagrees with the role.
    const read = await readVolume(target, seriesInstanceUid ? { seriesUid: seriesInstanceUid } : {})
    const asExpected = read.meta.modality === (role === 'ct' ? 'CT' : 'MR')
    const volume = asExpected ? { ...read, warnings: read.warnings.filter((w) => !/^modality \w+ inferred from the intensity range/.test(w)) } : read
    return { kind: 'image' as const, image: register(volume, source, role, target, uploadDir) }
  }

  const finishedRun = (runId: string) => {
    const removed = runFolders.removedReason(runId)
    if (removed !== undefined) throw new ApiError('not-found', `plan run ${runId} was removed (${removed})`, 'runId')
    const run = runs.get(runId)
    if (!run) throw new ApiError('not-found', `no plan run "${runId}"`, 'runId')
    if (run.state.status === 'running') throw new ApiError('busy', 'the plan is still running')
    if (run.state.status === 'failed') throw new ApiError('failed', `the plan run failed: ${run.state.error.message}`)
    return { run, state: run.state }
  }

  // The live preview: one long-lived worker (model and CT stay loaded); calls queue behind it.
  const previewClient = new PreviewClient(options.surrogateModel ?? BUNDLED_MODEL)
  const previewCall = (request: PreviewRequest): Promise<PreviewReply> => previewClient.call(request)
  let previewCount = 0

  let capabilityCache: Promise<Capabilities> | undefined
  const impl: ApiImplementation<PlannerApi> = {
    async capabilities() {
      capabilityCache ??= (async () => {
        let webgpu: Capabilities['webgpu'] = { available: false, reason: 'not probed' }
        if (options.probeWebGpu !== false) {
          try {
            const gpu = await requestNodeGpuDevice({ allowSoftware: false })
            webgpu = 'unavailable' in gpu ? { available: false, reason: gpu.unavailable } : { available: true, description: gpu.description }
          } catch (e) {
            webgpu = { available: false, reason: e instanceof Error ? e.message : String(e) }
          }
        }
        return {
          host: options.host,
          version: SOFTWARE_VERSION,
          cpuCores: Math.max(1, os.availableParallelism()),
          webgpu,
          // Built in (static imports): the database opens on first use and reports its own errors.
          database: { available: true },
          exports: { available: true, formats: [...EXPORT_FORMATS] },
          report: { available: true },
          // The plan worker runs the thermal model after the acoustics when a protocol is chosen.
          thermal: { available: true },
          pickers: options.pickPath ? { available: true } : { available: false, reason: 'the browser mode has no native picker: type the path' },
        }
      })()
      return capabilityCache
    },

    async listThermalProtocols() {
      const lib = await loadThermalProtocolLibrary()
      return { thermalProtocols: lib.protocols.map((p) => ({ id: p.id, name: p.protocol.name ?? p.id, totalS: p.totalS, source: p.protocol.source ?? '' })) }
    },

    async listTransducers() {
      const lib = await loadTransducerLibrary()
      const previewOf = await surrogatePreviewInfo()
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
          text: `${d.name} (${(d.frequency_hz / 1e3).toFixed(0)} kHz)${previewOf(d.id).available ? ' · live preview' : ''}`,
          preview: previewOf(d.id),
        }
      })
      return { transducers, warnings: [...lib.warnings] }
    },

    async openImage({ path: target, role, seriesInstanceUid }) {
      return openPath(path.resolve(target), role, seriesInstanceUid)
    },

    async importBytes({ name, role, bytes }) {
      // The worker reads the CT by path, so dropped files go to disk first: a folder of their own
      // that lives as long as the image (removed at once when the file cannot be opened).
      const safeName = uploadFileName(name)
      if (bytes.byteLength > MAX_IMAGE_FILE_BYTES)
        throw new ApiError(
          'bad-request',
          `${safeName}: is ${(bytes.byteLength / 2 ** 30).toFixed(1)} GiB, larger than the ${(MAX_IMAGE_FILE_BYTES / 2 ** 30).toFixed(0)} GiB an image file may have`,
          'bytes',
        )
      const dir = path.join(workDir, 'uploads', scratch.entryName())
      const file = path.join(dir, safeName)
      let result: Awaited<ReturnType<typeof openPath>> | undefined
      try {
        await fs.mkdir(dir, { recursive: true })
        await fs.writeFile(file, new Uint8Array(bytes))
        result = await openPath(file, role, undefined, name, dir)
        return result
      } catch (e) {
        // The reader names the file it read: that is the user's file, under the name they gave.
        throw withMessage(e, (m) => m.split(file).join(name).split(dir).join('<upload>'))
      } finally {
        if (result?.kind !== 'image') await fs.rm(dir, { recursive: true, force: true, maxRetries: 2 }).catch(() => undefined)
      }
    },

    async getVolume({ volumeId, stride }) {
      const image = images.getByVolumeId(volumeId)
      const volume = image ? image.volume : await volumeFor(volumeId)
      const display = toDisplayVolume(volume, stride)
      return { header: { volumeId, ...display.header }, bytes: bytesOf(display.data) }
    },

    async pickPath({ kind }) {
      if (!options.pickPath) throw new ApiError('unavailable', 'the browser mode has no native picker: type the path', 'kind')
      return { path: await options.pickPath(kind) }
    },

    async registerMri({ ctImageId, mriImageId }) {
      const ct = images.require(ctImageId, 'the CT', 'ctImageId')
      const notCt = notACtRefusal(ct.info.name, ct.info.modality)
      if (notCt) throw new ApiError('bad-request', notCt, 'ctImageId')
      const mri = images.require(mriImageId, 'the MRI', 'mriImageId')
      if (mri.info.modality === 'CT')
        throw new ApiError(
          'bad-request',
          `${mri.info.name} is a CT (its values are in Hounsfield units), not an MRI: open the T1-weighted MRI to register`,
          'mriImageId',
        )
      registering.get(mriImageId)?.abort()
      const controller = new AbortController()
      registering.set(mriImageId, controller)
      const runId = registrationRunId(mriImageId)
      const started = performance.now()
      const release = useUploads(ct.uploadDir, mri.uploadDir)
      let result: Awaited<ReturnType<typeof registerRigid>>
      try {
        result = await registerRigid(ct.volume, mri.volume, {
          signal: controller.signal,
          fixedName: ct.info.name,
          movingName: mri.info.name,
          onProgress: (fraction, message) =>
            emit({
              type: 'progress',
              runId,
              stage: `registering the MRI to the CT: ${message}`,
              fraction: Math.min(1, Math.max(0, fraction)),
              elapsedS: (performance.now() - started) / 1000,
            }),
        })
      } catch (e) {
        if (controller.signal.aborted) throw new ApiError('cancelled', 'the registration was cancelled')
        if (isRegistrationError(e)) throw new ApiError(e.code === 'elastix-failed' ? 'failed' : 'bad-request', e.message, 'mriImageId')
        throw e
      } finally {
        release()
        if (registering.get(mriImageId) === controller) registering.delete(mriImageId)
      }
      const registrationId = randomUUID()
      const file = path.join(workDir, 'runs', `${scratch.entryName()}.registration.json`)
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
      await replaceFileAtomically(file, (tmp) =>
        fs.writeFile(tmp, JSON.stringify(transformFileJson(result, ct.info.name, mri.info.name), null, 2) + '\n', { mode: 0o600 }),
      )
      const q = result.quality
      const method = `elastix rigid (Euler) in the planner, normalized mutual information ${result.metric.value.toFixed(3)}, head outline Dice ${q.final.headDice.toFixed(3)}`
      const fusedVolumeId = `fused-${registrationId}`
      // Lazily, from the images by id: the fused volume never keeps a closed image's voxels alive.
      volumes.set(fusedVolumeId, async () => {
        const fixed = images.get(ctImageId)
        const moving = images.get(mriImageId)
        if (!fixed || !moving) throw new ApiError('not-found', 'the CT or the MRI of this registration was closed: open both and register again', 'volumeId')
        return resampleOntoFixed(moving.volume, fixed.volume, result.transform)
      })
      const payload: RegistrationResultPayload = {
        registrationId,
        ctImageId,
        mriImageId,
        mriToCtRas: transformFileMatrices(result.transform).matrix_ras_m.flat(),
        rotationDeg: rotationAngleDeg(rotationOf(result.transform.matrix)),
        translationMm: translationOf(result.transform.matrix).map((v) => v * 1000) as [number, number, number],
        quality: {
          acceptable: q.acceptable,
          reasons: [...q.reasons],
          headDice: q.final.headDice,
          headDiceInitial: q.initial.headDice,
          coverage: q.final.coverage,
          nmi: result.metric.value,
        },
        wallS: result.wallTimeS,
        fusedVolumeId,
      }
      const key = registrationKey(ctImageId, mriImageId)
      const previous = registrations.get(key)
      if (previous) {
        volumes.delete(previous.payload.fusedVolumeId)
        // Its transform file stays (a few kB): a plan run started with it may not have read it yet.
        // The runs/ scratch folder is cleared at the next start-up.
      }
      registrations.set(key, { payload, transform: result.transform, file, method })
      emit({ type: 'done', runId, wallS: result.wallTimeS })
      return payload
    },

    async cancelRegistration({ mriImageId }) {
      const controller = registering.get(mriImageId)
      if (!controller) return { cancelled: false }
      controller.abort()
      return { cancelled: true }
    },

    async startPlan(req) {
      const ct = images.require(req.ctImageId, 'the CT', 'ctImageId')
      const notCt = notACtRefusal(ct.info.name, ct.info.modality)
      if (notCt) throw new ApiError('bad-request', notCt, 'ctImageId')
      const mri = req.mriImageId ? images.require(req.mriImageId, 'the MRI', 'mriImageId') : undefined
      // A target picked on the MRI needs the MRI registered to this CT in the app, with a result that looks right.
      const registration = mri ? registrations.get(registrationKey(ct.info.imageId, mri.info.imageId)) : undefined
      if (mri && !registration)
        throw new ApiError('bad-request', `${mri.info.name} is not registered to ${ct.info.name}: register the MRI to the CT first`, 'mriImageId')
      if (registration && !registration.payload.quality.acceptable)
        throw new ApiError(
          'bad-request',
          `the registration of ${mri!.info.name} to ${ct.info.name} looks wrong (${registration.payload.quality.reasons.join('; ')}): a target picked on this MRI cannot be trusted`,
          'mriImageId',
        )
      let thermalProtocolFile: string | undefined
      if (req.thermalProtocolId) {
        const found = (await loadThermalProtocolLibrary()).protocols.find((p) => p.id === req.thermalProtocolId)
        if (!found) throw new ApiError('not-found', `no sonication protocol "${req.thermalProtocolId}" in the library`, 'thermalProtocolId')
        thermalProtocolFile = found.file
      }
      const outDir = path.join(workDir, 'runs', scratch.entryName())
      const earlier = runs.list()
      const run = runs.start({
        ...(thermalProtocolFile ? { thermalProtocolFile } : {}),
        ctPath: ct.path,
        ...(mri && registration ? { mriPath: mri.path, registrationPath: registration.file, registrationMethod: registration.method } : {}),
        targetRasM: req.targetRasM,
        ...(req.entryRasM ? { entryRasM: req.entryRasM } : {}),
        transducerId: req.transducerId,
        mappingId: req.mappingId,
        pointsPerWavelength: req.pointsPerWavelength,
        backend: req.backend,
        drive: req.drive,
        pulseTiming: req.pulseTiming,
        outDir,
      })
      // The worker reads dropped files by path: they stay until it has stopped.
      void run.exited.then(useUploads(ct.uploadDir, mri?.uploadDir))
      // What a failed or cancelled run wrote is of no use: its folder goes once the worker has stopped.
      void run.finished.then((state: RunState) => {
        if (state.status === 'failed') void runFolders.remove(run)
      })
      // The renderer shows one run: the previous ones of this session are done with.
      for (const old of earlier) retireRun(old, 'a newer plan run replaced it')
      registerRunVolumes(run.runId, outDir)
      return { runId: run.runId }
    },

    async previewPose(req) {
      const ct = images.require(req.ctImageId, 'the CT', 'ctImageId')
      const notCt = notACtRefusal(ct.info.name, ct.info.modality)
      if (notCt) throw new ApiError('bad-request', notCt, 'ctImageId')
      const release = useUploads(ct.uploadDir)
      let reply: PreviewReply
      try {
        reply = await previewCall({
          ctPath: ct.path,
          targetRasM: req.targetRasM,
          ...(req.entryRasM ? { entryRasM: req.entryRasM } : {}),
          transducerId: req.transducerId,
          mappingId: req.mappingId,
          drive: req.drive,
          pulseTiming: req.pulseTiming,
        })
      } finally {
        release()
      }
      for (const line of reply.notes) {
        if (previewNotesShown.has(line)) continue
        previewNotesShown.add(line)
        emit({ type: 'log', line })
      }
      // Each preview is its own volume id (the views reload on a new id); older ones are dropped.
      const volumeId = `preview-${++previewCount}`
      const old = `preview-${previewCount - 2}`
      volumes.delete(old)
      // Built now: the CT's voxels must not stay reachable through the preview once the CT closes.
      const preview: Volume = {
        ...ct.volume,
        data: reply.pressureCt,
        meta: { ...ct.volume.meta, modality: 'OT', seriesDescription: 'surrogate preview: pressure amplitude [Pa]', valueUnit: 'Pa' },
        warnings: [],
      }
      volumes.set(volumeId, async () => preview)
      return { runId: 'preview', planDir: '', plan: reply.plan, metrics: reply.metrics, pressureVolumeId: volumeId, thermal: null }
    },

    async cancelPlan({ runId }) {
      if (!runs.get(runId)) {
        const removed = runFolders.removedReason(runId)
        throw new ApiError('not-found', removed !== undefined ? `plan run ${runId} was removed (${removed})` : `no plan run "${runId}"`, 'runId')
      }
      // false: the run has already ended (done, failed or cancelled).
      return { cancelled: runs.cancel(runId) }
    },

    async getPlanResult({ runId }) {
      const { run, state } = finishedRun(runId)
      return readingRun(runId, async () => ({
        runId,
        planDir: run.input.outDir,
        plan: state.plan,
        metrics: state.metrics,
        pressureVolumeId: `pressure-${runId}`,
        brainPressureVolumeId: `brain-pressure-${runId}`,
        // Only a thermal.json written by the thermal model counts; without it the UI says "thermal: not assessed".
        ...(await (async () => {
          const thermal = await thermalSummary(run.input.outDir)
          const hasRise =
            thermal !== null &&
            (await fs.stat(path.join(run.input.outDir, PLAN_FILES.temperatureRiseMax)).then(
              () => true,
              () => false,
            ))
          return { thermal, temperatureRiseVolumeId: hasRise ? `temperature-rise-${runId}` : null }
        })()),
      }))
    },

    async saveSession(state) {
      const ct = state.ctImageId ? images.get(state.ctImageId) : undefined
      // An uploaded CT cannot be reopened after a restart (its copy goes with the session): only a file the user opened by path is remembered.
      session = { state, ctPath: ct && !ct.uploadDir ? ct.path : null }
      // Target coordinates and a CT path are patient data: readable by the user only, whatever the umask.
      await replaceFileAtomically(sessionFile, (tmp) => fs.writeFile(tmp, JSON.stringify(session), { mode: 0o600 }))
      return { ok: true as const }
    },

    async restoreSession() {
      if (!session) {
        try {
          const raw = JSON.parse(await fs.readFile(sessionFile, 'utf8')) as { state: unknown; ctPath: unknown }
          session = { state: sessionState.parse(raw.state), ctPath: typeof raw.ctPath === 'string' ? raw.ctPath : null }
        } catch {
          return { state: null, ct: null, run: null, note: null }
        }
      }
      let { state } = session
      let ct = state.ctImageId ? (images.get(state.ctImageId)?.info ?? null) : null
      let note: string | null = null
      if (state.ctImageId && !ct) {
        // The back end restarted: reopen the CT from its file when it is still there.
        const reopened = session.ctPath ? await openPath(session.ctPath, 'ct', undefined).catch(() => null) : null
        if (reopened?.kind === 'image') {
          ct = reopened.image
          state = { ...state, ctImageId: reopened.image.imageId }
        } else {
          note = session.ctPath ? `the CT ${path.basename(session.ctPath)} could not be reopened: open it again` : 'the CT was a dropped file: open it again'
          state = { ...state, ctImageId: null }
        }
      }
      const run = state.runId ? runs.get(state.runId) : undefined
      if (state.runId && (!run || runFolders.removedReason(state.runId) !== undefined)) {
        note = note ?? 'the simulation on screen before the restart is gone: simulate again'
        state = { ...state, runId: null, runInputs: null, savedPlanId: null }
      }
      return {
        state,
        ct,
        run:
          run && runFolders.removedReason(run.runId) === undefined
            ? {
                runId: run.runId,
                status: run.state.status,
                progress: lastProgress.get(run.runId) ?? null,
                error: run.state.status === 'failed' ? scrubPaths(run.state.error.message) : null,
              }
            : null,
        note,
      }
    },

    async openStoredPlan({ planId }) {
      const id = Number(planId)
      if (!Number.isInteger(id) || id <= 0) throw new ApiError('bad-request', `"${planId}" is not a plan id`, 'planId')
      const store = await openStore()
      const stored = await store.getPlan(id)
      const ct = await openPlanCt(stored.record, `plan ${id}`, 'planId')
      const outDir = path.join(workDir, 'runs', scratch.entryName())
      const written = await store.materializePlanFolder(id, undefined, outDir)
      const { run, inputs } = adoptFinishedPlan(ct, stored.record, stored.metrics, written.files, outDir)
      savedPlans.set(run.runId, { planId: id, version: stored.version })
      return { runId: run.runId, planId: String(id), ct, inputs, approved: stored.approval !== null }
    },

    async listCampaigns() {
      const dirs = await campaignList.list()
      return {
        campaigns: await Promise.all(
          dirs.map(async (dir) => {
            try {
              return { dir, summary: (await readCampaignView(dir)).summary, note: null }
            } catch (e) {
              return { dir, summary: null, note: e instanceof Error ? e.message : String(e) }
            }
          }),
        ),
      }
    },

    async openCampaign({ dir }) {
      if (!path.isAbsolute(dir)) throw new ApiError('bad-request', `${dir}: give the campaign folder's full path`, 'dir')
      const view = await readCampaignView(dir).catch((e: unknown) => {
        throw new ApiError('not-found', e instanceof Error ? e.message : String(e), 'dir')
      })
      await campaignList.add(dir)
      return view
    },

    async forgetCampaign({ dir }) {
      await campaignList.remove(dir)
      return { ok: true as const }
    },

    async openCampaignTask({ dir, index }) {
      const { planDir, label } = await finishedTaskPlanDir(dir, index).catch((e: unknown) => {
        throw new ApiError('not-found', e instanceof Error ? e.message : String(e), 'index')
      })
      const record = planRecord.parse(JSON.parse(await fs.readFile(path.join(planDir, PLAN_FILES.plan), 'utf8')))
      const metrics = planMetricsRecord.parse(JSON.parse(await fs.readFile(path.join(planDir, PLAN_FILES.metrics), 'utf8')))
      const ct = await openPlanCt(record, `campaign task ${index} (${label})`, 'index')
      // A copy in runs/: the run on screen is retired (its folder removed) like any other, and the
      // campaign folder is never written by the app.
      const outDir = path.join(workDir, 'runs', scratch.entryName())
      await fs.cp(planDir, outDir, { recursive: true })
      const files = (await fs.readdir(outDir, { recursive: true, withFileTypes: true }))
        .filter((f) => f.isFile())
        .map((f) => path.relative(outDir, path.join(f.parentPath, f.name)).split(path.sep).join('/'))
      const { run, inputs } = adoptFinishedPlan(ct, record, metrics, files, outDir)
      return { runId: run.runId, ct, inputs }
    },

    async savePlan({ runId, label, patient, asVersionOf }) {
      const { run } = finishedRun(runId)
      if (asVersionOf !== undefined) {
        // A saved version never changes: editing a stored plan adds version N+1 (same patient, same plan id).
        const id = Number(asVersionOf)
        if (!Number.isInteger(id) || id <= 0) throw new ApiError('bad-request', `"${asVersionOf}" is not a plan id`, 'asVersionOf')
        const next = await readingRun(runId, async () => (await openStore()).newVersion(id, { planDir: run.input.outDir, ...(label ? { note: label } : {}) }))
        savedPlans.set(runId, { planId: next.planId, version: next.version })
        return { planId: String(next.planId), version: next.version }
      }
      // The store copies every file of the folder into its content store before it records the
      // plan, so the run folder may go afterwards (readingRun holds it until then). Typed identity
      // is for images that carry none: the CT's own DICOM identity is never overridden.
      const ref = await readingRun(runId, async () => {
        const record = planRecord.parse(JSON.parse(await fs.readFile(path.join(run.input.outDir, PLAN_FILES.plan), 'utf8')))
        const p = record.patient
        const fromImage = p && (p.name || p.id) ? { patientId: p.id ?? null, name: p.name ?? null, birthDate: p.birth_date ?? null } : null
        const typed = patient ? { patientId: patient.id ?? null, name: patient.name ?? null, birthDate: patient.birthDate ?? null } : null
        const chosen = fromImage ?? typed
        return (await openStore()).savePlanFolder(run.input.outDir, { ...(label ? { note: label } : {}), ...(chosen ? { patient: chosen } : {}) })
      })
      savedPlans.set(runId, { planId: ref.planId, version: ref.version })
      return { planId: String(ref.planId), version: ref.version }
    },

    async listPlans() {
      const rows = await (await openStore()).listPlans()
      return { plans: rows.map(planSummaryOf) }
    },

    async comparePlans({ planIdA, planIdB }) {
      const ids = [planIdA, planIdB].map((planId) => {
        const n = Number(planId)
        if (!Number.isInteger(n) || n <= 0) throw new ApiError('bad-request', `"${planId}" is not a plan id`, planId === planIdA ? 'planIdA' : 'planIdB')
        return n
      }) as [number, number]
      if (ids[0] === ids[1]) throw new ApiError('bad-request', 'choose two different plans to compare', 'planIdB')
      const store = await openStore()
      const [a, b] = await Promise.all(ids.map((id) => store.getPlan(id)))
      const rows = await store.listPlans()
      const summary = (id: number) => planSummaryOf(rows.find((r) => r.planId === id)!)
      // The pressure fields, from the content store (hashes checked), into scratch folders removed at once.
      const folders = ids.map(() => path.join(workDir, 'runs', scratch.entryName()))
      let differenceVolumeId: string | null = null
      let differenceNote: string | null = null
      let differenceMaxPa = 0
      try {
        const fields = await Promise.all(
          ids.map(async (id, i) => {
            await store.materializePlanFolder(id, undefined, folders[i]!)
            return readVolume(path.join(folders[i]!, PLAN_FILES.pressureCt))
          }),
        )
        differenceNote = differenceRefusal(fields[0]!, fields[1]!)
        if (!differenceNote) {
          const difference = pressureDifference(fields[0]!, fields[1]!)
          for (const v of difference.data) differenceMaxPa = Math.max(differenceMaxPa, Math.abs(v))
          if (comparisonVolumeId) {
            volumes.delete(comparisonVolumeId)
          }
          differenceVolumeId = comparisonVolumeId = `difference-${randomUUID()}`
          volumes.set(differenceVolumeId, async () => difference)
        }
      } finally {
        for (const f of folders) void inBackground('a comparison folder', () => fs.rm(f, { recursive: true, force: true, maxRetries: 2 }))
      }
      const differenceScalePa = Math.max(a!.metrics.peak_pressure_pa, b!.metrics.peak_pressure_pa, 1e-9)
      return { a: summary(ids[0]), b: summary(ids[1]), rows: comparePlanRows(a!, b!), differenceVolumeId, differenceMaxPa, differenceScalePa, differenceNote }
    },

    async approvePlan({ planId, approver, overrideReason, acknowledged }) {
      const id = Number(planId)
      if (!Number.isInteger(id) || id <= 0) throw new ApiError('bad-request', `"${planId}" is not a plan id`, 'planId')
      if (approver.trim().length === 0) throw new ApiError('bad-request', "the approver's name is empty", 'approver')
      const store = await openStore()
      // The store enforces the rules; asking first gives the app the field to point at.
      const stored = await store.getPlan(id)
      const grounds = { approver, ...(overrideReason !== undefined ? { overrideReason } : {}), ...(acknowledged ? { acknowledged } : {}) }
      const refusal = approvalRefusal(stored.record, stored.metrics, grounds)
      if (refusal) throw new ApiError('bad-request', `plan ${id} cannot be approved: ${refusal.message}`, refusal.field)
      await store.approve(id, undefined, approver, grounds)
      return { ok: true as const }
    },

    async exportPlan({ runId, format, deidentify, destinationDir }) {
      const { run } = finishedRun(runId)
      if (!(EXPORT_FORMATS as readonly string[]).includes(format))
        throw new ApiError('bad-request', `unknown export format "${format}"; choose one of ${EXPORT_FORMATS.join(', ')}`, 'format')
      const fmt = format as (typeof EXPORT_FORMATS)[number]
      let outPath = exportTarget(runId, format, SINGLE_FILE_FORMATS.has(fmt))
      if (destinationDir !== undefined) {
        // The user's folder: it must exist already (no folder is made on a mistyped path), and nothing there is overwritten.
        if (!path.isAbsolute(destinationDir))
          throw new ApiError('bad-request', `${destinationDir}: give the export folder as an absolute path`, 'destinationDir')
        const st = await fs.stat(destinationDir).catch(() => undefined)
        if (!st) throw new ApiError('not-found', `${destinationDir}: no such folder`, 'destinationDir')
        if (!st.isDirectory()) throw new ApiError('bad-request', `${destinationDir}: is not a folder`, 'destinationDir')
        outPath = path.join(destinationDir, path.basename(outPath))
        if (
          await fs.lstat(outPath).then(
            () => true,
            () => false,
          )
        )
          throw new ApiError('conflict', `${outPath} exists already: nothing was overwritten; choose another folder or move it away`, 'destinationDir')
      }
      await fs.mkdir(path.dirname(outPath), { recursive: true })
      const approval = await approvalOf(runId)
      const stored = savedPlans.get(runId)
      const options = {
        ...(approval ? { approval } : {}),
        ...(stored !== undefined ? { planRef: { id: stored.planId, version: stored.version } } : {}),
        ...(deidentify ? { deidentify: true } : {}),
      }
      const result = await readingRun(runId, () => exportPlanFolder(run.input.outDir, fmt, outPath, options))
      let bytes = 0
      for (const f of result.files) bytes += (await fs.stat(f).catch(() => null))?.size ?? 0
      return { path: outPath, bytes }
    },

    async reportHtml({ runId }) {
      const { run } = finishedRun(runId)
      const outPath = exportTarget(runId, 'report', true)
      await fs.mkdir(path.dirname(outPath), { recursive: true })
      const approval = await approvalOf(runId)
      const stored = savedPlans.get(runId)
      await readingRun(runId, () =>
        exportPlanFolder(run.input.outDir, 'report', outPath, {
          ...(approval ? { approval } : {}),
          ...(stored !== undefined ? { planRef: { id: stored.planId, version: stored.version } } : {}),
        }),
      )
      return { html: await fs.readFile(outPath, 'utf8') }
    },
  }
  // Every method the contract names is implemented (a compile-time check as well via the type).
  for (const name of Object.keys(PLANNER_API))
    if (typeof (impl as Record<string, unknown>)[name] !== 'function') throw new Error(`service: ${name} is not implemented`)
  // No error leaves the service naming its own folders (a missing run folder, a database path).
  const scrubbed = Object.fromEntries(
    Object.entries(impl).map(([name, fn]) => [
      name,
      async (params: unknown) => {
        try {
          return await (fn as (p: unknown) => Promise<unknown>)(params)
        } catch (e) {
          throw withMessage(e, scrubPaths)
        }
      },
    ]),
  ) as unknown as ApiImplementation<PlannerApi>

  let disposed: Promise<void> | undefined
  return {
    impl: scrubbed,
    startupCleanup: startupCleanup.then(
      ({ removed }) => ({ removed }),
      () => ({ removed: [] }),
    ),
    onEvent(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    dispose() {
      disposed ??= (async () => {
        for (const c of registering.values()) c.abort()
        await runs.dispose()
        await previewClient.close()
        // Let the stopped runs' exit handlers release the uploads they held.
        await new Promise((resolve) => setImmediate(resolve))
        // The images go, and with them their upload copies (the runs reading them have stopped).
        images.closeAll('the planner was shut down')
        // Every run folder of this session goes (a saved plan's files are in the database), then
        // what else the session left in runs/ (transform files, comparison folders).
        for (const run of runs.list()) retireRun(run, 'the planner was shut down')
        await background.settle()
        await runFolders.removeSessionEntries(scratch.tag)
        await background.settle()
        scratch.end()
        if (store) await (await store.catch(() => null))?.close()
      })()
      return disposed
    },
  }
}
