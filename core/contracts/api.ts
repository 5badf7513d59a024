/**
 * The one API contract between the planner's back end (Electron main process or the local
 * browser-fallback server) and the renderer. Every method has a zod schema for its params and
 * its result, and the event channel has one schema; the preload bridge, the Electron IPC
 * handlers, the HTTP routes and the renderer client are all derived from `PLANNER_API` through
 * `dispatchCall` (host side) and `createClient` (renderer side), so a method exists in one place.
 *
 * Units: SI (m, s, Pa, Hz, W/m2). Points named `...RasM` are patient RAS in metres; volume
 * geometry (`VolumeHeader`) is LPS in metres, as in `core/volume/types.ts`.
 *
 * Binary payloads: a method marked `binary: 'result'` returns `{ header, bytes }` where `bytes` is
 * an ArrayBuffer (structured-cloned over IPC; the body of an application/octet-stream response
 * over HTTP, with the JSON header in the `x-tfus-header` response header). A method marked
 * `binary: 'params'` takes `{ bytes, ...json }` (an octet-stream request body over HTTP, the
 * JSON fields in the `x-tfus-params` request header).
 */
import { z } from 'zod'
import { planMetricsRecord, planRecord, vec3 } from './plan.ts'
import { PLAN_POINTS_PER_WAVELENGTH } from '../solver/limits.ts'
import { ISPPA_FREE_WATER_W_PER_M2, PRF_HZ, PULSE_DURATION_S, pulseOverlapRefusal } from '../planning/input-ranges.ts'

// ---------------------------------------------------------------------------------------------
// Generic machinery

export interface MethodSpec<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly params: P
  readonly result: R
  /** Which side carries an ArrayBuffer named `bytes` (see the module comment). */
  readonly binary?: 'params' | 'result'
  /** One line for docs and error messages. */
  readonly summary: string
}

export type ApiSpec = Readonly<Record<string, MethodSpec>>

/** Identity with a type check: keeps each method's schema types. */
export function defineApi<T extends ApiSpec>(spec: T): T {
  return spec
}

export type ParamsOf<T extends ApiSpec, K extends keyof T> = z.input<T[K]['params']>
export type ResultOf<T extends ApiSpec, K extends keyof T> = z.output<T[K]['result']>

/** What a host implements: one async function per method, params already validated. */
export type ApiImplementation<T extends ApiSpec> = {
  readonly [K in keyof T]: (params: z.output<T[K]['params']>) => Promise<z.input<T[K]['result']>>
}

/** What the renderer calls. */
export type ApiClient<T extends ApiSpec> = {
  readonly [K in keyof T]: (params: ParamsOf<T, K>) => Promise<ResultOf<T, K>>
}

/** An error as it crosses a process boundary: plain data, no stack. */
export const serializedError = z.object({
  name: z.string(),
  message: z.string(),
  /** Machine-readable reason: 'bad-request', 'unavailable', 'cancelled', 'not-found', 'forbidden', 'internal', ... */
  code: z.string(),
  /** The field or file at fault, when known (SimulationInputError, ImportError). */
  field: z.string().optional(),
})
export type SerializedError = z.infer<typeof serializedError>

/** An error with a code the hosts put on the wire; the renderer gets it back as an ApiError. */
export class ApiError extends Error {
  override readonly name: string = 'ApiError'
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError
}

/**
 * Any thrown value as plain data. Known error types keep their names, and their `field` where
 * they carry one, so the renderer can say which input is wrong.
 */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof ApiError) return { name: e.name, message: e.message, code: e.code, ...(e.field ? { field: e.field } : {}) }
  if (e instanceof z.ZodError) {
    const first = e.issues[0]
    const where = first?.path.length ? first.path.map(String).join('.') : undefined
    return {
      name: 'ValidationError',
      message: first ? `${where ? `${where}: ` : ''}${first.message}` : 'invalid payload',
      code: 'bad-request',
      ...(where ? { field: where } : {}),
    }
  }
  if (e instanceof Error) {
    const field = (e as { field?: unknown }).field
    const code =
      e.name === 'AbortError'
        ? 'cancelled'
        : e.name === 'SimulationInputError' || e.name === 'ImportError' || e.name === 'TransducerDefinitionError'
          ? 'bad-request'
          : 'internal'
    return { name: e.name, message: e.message || e.name, code, ...(typeof field === 'string' ? { field } : {}) }
  }
  return { name: 'Error', message: String(e), code: 'internal' }
}

export function deserializeError(s: SerializedError): ApiError {
  const err = new ApiError(s.code, s.message, s.field)
  Object.defineProperty(err, 'name', { value: s.name })
  return err
}

/** The envelope every transport returns for a JSON call. */
export const callResponse = z.union([z.object({ ok: z.literal(true), result: z.unknown() }), z.object({ ok: z.literal(false), error: serializedError })])
export type CallResponse = z.infer<typeof callResponse>

/**
 * Host side: validate the method name and params, run the implementation, validate the result.
 * Never throws: failures come back as `{ ok: false, error }`.
 */
export async function dispatchCall<T extends ApiSpec>(spec: T, impl: ApiImplementation<T>, method: string, rawParams: unknown): Promise<CallResponse> {
  try {
    if (!Object.hasOwn(spec, method)) throw new ApiError('not-found', `unknown method "${method}"`)
    const m = spec[method]!
    const params = m.params.parse(rawParams ?? {})
    const fn = impl[method as keyof T] as (p: unknown) => Promise<unknown>
    const out = await fn(params)
    const result = m.result.safeParse(out)
    // A result that breaks the contract is the host's bug, not the caller's: say so.
    if (!result.success)
      throw new ApiError(
        'internal',
        `${method}: result does not match the contract (${result.error.issues[0]?.path.join('.')}: ${result.error.issues[0]?.message})`,
      )
    return { ok: true, result: result.data }
  } catch (e) {
    return { ok: false, error: serializeError(e) }
  }
}

/** How the renderer reaches the host: IPC through the preload bridge, or HTTP + SSE. */
export interface Transport {
  call(method: string, params: unknown, binary: MethodSpec['binary']): Promise<CallResponse>
  /** Subscribes to the event channel; returns the unsubscribe function. */
  subscribe(listener: (event: unknown) => void): () => void
}

/** Renderer side: typed methods over a transport; params validated before they leave, results after they arrive. */
export function createClient<T extends ApiSpec>(spec: T, transport: Transport): ApiClient<T> {
  const client: Record<string, (params: unknown) => Promise<unknown>> = {}
  for (const [name, m] of Object.entries(spec)) {
    client[name] = async (params: unknown) => {
      const checked = m.params.safeParse(params ?? {})
      if (!checked.success) throw deserializeError(serializeError(checked.error))
      const response = callResponse.parse(await transport.call(name, checked.data, m.binary))
      if (!response.ok) throw deserializeError(response.error)
      return m.result.parse(response.result)
    }
  }
  return client as ApiClient<T>
}

/** Subscribes with validation: events that do not match the schema are dropped (and reported once). */
export function subscribeEvents(transport: Transport, listener: (event: ApiEvent) => void, onInvalid?: (problem: string) => void): () => void {
  return transport.subscribe((raw) => {
    const parsed = apiEvent.safeParse(raw)
    if (parsed.success) listener(parsed.data)
    else onInvalid?.(parsed.error.issues[0]?.message ?? 'invalid event')
  })
}

// ---------------------------------------------------------------------------------------------
// Payloads

const arrayBuffer = z.instanceof(ArrayBuffer)
const id = z.string().min(1).max(200)
const mat3 = z.tuple([z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number()])

export const VOXEL_TYPES = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'] as const
export const voxelType = z.enum(VOXEL_TYPES)
export type VoxelType = z.infer<typeof voxelType>

/** Geometry of a display volume (LPS, metres; `direction` row-major, column k = voxel axis k). */
export const volumeHeader = z.object({
  volumeId: id,
  dims: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
  spacingM: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  originM: z.tuple([z.number(), z.number(), z.number()]),
  direction: mat3,
  dataType: voxelType,
  /** Value range of the data (after any decimation). */
  range: z.tuple([z.number(), z.number()]),
  /** 1 for full resolution; n when every n-th voxel along each axis was kept. */
  stride: z.number().int().positive(),
})
export type VolumeHeader = z.infer<typeof volumeHeader>

export const dicomSeries = z.object({
  seriesInstanceUid: z.string(),
  description: z.string(),
  modality: z.string(),
  sliceCount: z.number().int().nonnegative(),
})

export const imageInfo = z.object({
  imageId: id,
  /** What to pass to `getVolume`. */
  volumeId: id,
  name: z.string(),
  source: z.string(),
  role: z.enum(['ct', 'mri']),
  modality: z.string(),
  dims: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  spacingM: vec3,
  originM: vec3,
  direction: mat3,
  /** nibabel-style code of the stored axes, e.g. "LAS" (core/volume/geometry.ts orientationCode). */
  orientation: z.string(),
  range: z.tuple([z.number(), z.number()]),
  valueUnit: z.string(),
  /** Identity as the image records it (DICOM); null where it records none (NIfTI, NRRD, MHA). Dates DICOM DA (YYYYMMDD). */
  patient: z.object({ name: z.string().nullable(), id: z.string().nullable(), birthDate: z.string().nullable(), studyDate: z.string().nullable() }).nullable(),
  warnings: z.array(z.string()),
})
export type ImageInfo = z.infer<typeof imageInfo>

export const openResult = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('image'), image: imageInfo }),
  /** A DICOM folder with several series: call `openImage` again with `seriesInstanceUid`. */
  z.object({ kind: z.literal('series'), folder: z.string(), series: z.array(dicomSeries) }),
])
export type OpenResult = z.infer<typeof openResult>

export const transducerInfo = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(['bowl', 'annular', 'disc']),
  frequencyHz: z.number().positive(),
  /** Radius of curvature [m]; null for a flat disc. */
  rocM: z.number().positive().nullable(),
  /** Outer aperture diameter [m]. */
  apertureM: z.number().positive(),
  /** Inner hole diameter [m] (0 without a hole). */
  innerApertureM: z.number().nonnegative(),
  /** Annular rings as [inner, outer] DIAMETERS [m]. */
  rings: z.array(z.tuple([z.number(), z.number()])),
  exitPlaneOffsetM: z.number().nonnegative(),
  focalRangeM: z.tuple([z.number(), z.number()]).nullable(),
  text: z.string(),
  /** The live preview (neural surrogate) for this transducer, with its measured error where the model card gives one. */
  preview: z.object({
    available: z.boolean(),
    /** Median peak-pressure error [%] and focus position error [mm] on `measuredOn`; null when unmeasured. */
    peakErrorPct: z.number().nullable(),
    focalErrorMm: z.number().nullable(),
    /** What the error was measured on, in words ("3 held-out cases on a real CT"). */
    measuredOn: z.string().nullable(),
  }),
})
export type TransducerInfo = z.infer<typeof transducerInfo>

export const BACKEND_CHOICES = ['auto', 'webgpu', 'cpu'] as const

/** Pulse timing, within the plausible ranges of core/planning/input-ranges.ts, pulses not overlapping. */
const pulseTiming = z
  .object({
    pulseDurationS: z.number().min(PULSE_DURATION_S.min).max(PULSE_DURATION_S.max),
    prfHz: z.number().min(PRF_HZ.min).max(PRF_HZ.max),
    trainDutyCycle: z.number().gt(0).lte(1),
  })
  .superRefine((p, ctx) => {
    const refusal = pulseOverlapRefusal(p.pulseDurationS, p.prfHz)
    if (refusal) ctx.addIssue({ code: 'custom', message: refusal, path: ['prfHz'] })
  })

export const planRequest = z.object({
  /** The CT, as returned by openImage. */
  ctImageId: id,
  /**
   * The MRI the target was picked on, registered to the CT in the app (registerMri, acceptable
   * quality): the target and entry are then in the MRI's RAS, and the plan records the map.
   */
  mriImageId: id.optional(),
  targetRasM: vec3,
  entryRasM: vec3.optional(),
  transducerId: z.string().min(1),
  mappingId: z.string().min(1).default('kplan'),
  /** In water; the solver's range (core/solver/limits.ts), shared with `tfus plan --ppw`. */
  pointsPerWavelength: z.number().min(PLAN_POINTS_PER_WAVELENGTH.min).max(PLAN_POINTS_PER_WAVELENGTH.max),
  backend: z.enum(BACKEND_CHOICES).default('auto'),
  drive: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('isppa-free-water'), wPerM2: z.number().min(ISPPA_FREE_WATER_W_PER_M2.min).max(ISPPA_FREE_WATER_W_PER_M2.max) }),
    z.object({ kind: z.literal('isppa-target'), wPerM2: z.number().min(ISPPA_FREE_WATER_W_PER_M2.min).max(ISPPA_FREE_WATER_W_PER_M2.max) }),
    z.object({ kind: z.literal('source'), amplitudePa: z.number().positive() }),
  ]),
  pulseTiming,
  /** A sonication protocol of the library (listThermalProtocols): the thermal model runs after the acoustics. */
  thermalProtocolId: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/)
    .optional(),
})
export type PlanRequest = z.infer<typeof planRequest>

export const planResult = z.object({
  runId: id,
  planDir: z.string(),
  plan: planRecord,
  metrics: planMetricsRecord,
  /** Pressure amplitude [Pa] on the CT grid (overlays the CT). */
  pressureVolumeId: id,
  /** The same pressure with everything outside the brain set to 0 (the overlay masked to the brain); null for a preview. */
  brainPressureVolumeId: id.nullable().default(null),
  /** Peak temperature rise [°C] of the thermal run on the CT grid; null without one. */
  temperatureRiseVolumeId: id.nullable().default(null),
  /** Thermal assessment, when a thermal model ran; null means "thermal: not assessed". */
  thermal: z
    .object({
      summary: z.string(),
      /** Per tissue: peak rise and temperature [°C], CEM43 [min], and the ITRUSST verdict. */
      tissues: z.array(
        z.object({ tissue: z.string(), peakRiseC: z.number(), peakTemperatureC: z.number(), cem43Min: z.number(), within: z.boolean(), text: z.string() }),
      ),
      /** Temperature over time at the hottest voxel of the hottest tissue (thermal.json time_courses). */
      curve: z.object({ tissue: z.string(), tS: z.array(z.number()), temperatureC: z.array(z.number()) }).nullable(),
    })
    .nullable(),
})
export type PlanResultPayload = z.infer<typeof planResult>

/** An MRI registered to a CT in the app (the same elastix rigid registration as `tfus register`). */
export const registrationResult = z.object({
  registrationId: id,
  ctImageId: id,
  mriImageId: id,
  /** MRI -> CT, patient RAS, metres, row-major 4x4: p_ct = M p_mri (a plan's mri_ras_to_ct_ras). */
  mriToCtRas: z.array(z.number()).length(16),
  rotationDeg: z.number(),
  /** Translation part of the map, RAS millimetres. */
  translationMm: vec3,
  quality: z.object({
    /** False when the result looks wrong (another person, too little overlap): the MRI cannot then be used to plan. */
    acceptable: z.boolean(),
    reasons: z.array(z.string()),
    /** Dice of the two head outlines after registration, and with only the centres aligned. */
    headDice: z.number(),
    headDiceInitial: z.number(),
    /** Fraction of the CT's head inside the MRI's field of view. */
    coverage: z.number(),
    /** Normalised mutual information inside the CT's head (1..2). */
    nmi: z.number(),
  }),
  wallS: z.number().nonnegative(),
  /** The MRI resampled onto the CT's grid through the map (getVolume): the fused view. */
  fusedVolumeId: id,
})
export type RegistrationResultPayload = z.infer<typeof registrationResult>

/** The progress events of a registration carry this as their runId. */
export function registrationRunId(mriImageId: string): string {
  return `registration-${mriImageId}`
}

const availability = z.object({ available: z.boolean(), reason: z.string().optional() })

export const capabilities = z.object({
  host: z.enum(['electron', 'browser']),
  version: z.string(),
  cpuCores: z.number().int().positive(),
  webgpu: availability.extend({ description: z.string().optional() }),
  database: availability,
  exports: availability.extend({ formats: z.array(z.string()) }),
  report: availability,
  thermal: availability,
  /** Native file and folder pickers (the Electron host); the browser mode takes typed paths. */
  pickers: availability.default({ available: false, reason: 'not offered by this host' }),
})
export type Capabilities = z.infer<typeof capabilities>

export const storedPlanSummary = z.object({
  planId: z.string(),
  label: z.string(),
  createdAt: z.string(),
  /** When the latest version was stored. */
  updatedAt: z.string(),
  version: z.number().int().positive(),
  /** Whether the latest version is approved. */
  approved: z.boolean(),
  patient: z.string().optional(),
  /** Of the latest version: points per wavelength, the engine, and the CT's file name. */
  ppw: z.number(),
  source: z.enum(['solver', 'surrogate']),
  ct: z.string(),
})

/** One row of the comparison table (core/planning/compare.ts), values in `unit`. */
/** One task of a campaign folder (`tfus campaign plan`), as the app lists it. */
export const campaignTaskRow = z.object({
  index: z.number().int().nonnegative(),
  label: z.string(),
  /** Subject/target (or procedural head): the rows the campaign's plots group by. */
  group: z.string(),
  state: z.enum(['done', 'failed', 'missing']),
  wallS: z.number().nonnegative().nullable(),
  /** The task's error in one line (failed tasks). */
  error: z.string().nullable(),
  /** In-brain peak [Pa] of a done task; null otherwise. */
  peakPressurePa: z.number().nullable(),
})

/** A campaign folder's progress: the task counts by state, from its done-markers and error records. */
export const campaignSummary = z.object({
  /** The campaign folder (absolute): the campaign's identity in the app. */
  dir: z.string(),
  name: z.string(),
  kind: z.enum(['plans', 'scene-sweep']),
  total: z.number().int().nonnegative(),
  done: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  missing: z.number().int().nonnegative(),
})
export type CampaignSummary = z.infer<typeof campaignSummary>

export const comparisonRow = z.object({
  key: z.string(),
  label: z.string(),
  unit: z.string(),
  a: z.union([z.number(), z.string()]).nullable(),
  b: z.union([z.number(), z.string()]).nullable(),
  difference: z.number().nullable(),
})

// ---------------------------------------------------------------------------------------------
// Events (one channel; the renderer filters by runId)

export const progressEvent = z.object({
  type: z.literal('progress'),
  runId: id,
  stage: z.string(),
  /** Solver step in the current stage and its upper bound (the run usually stops earlier). */
  step: z.number().int().nonnegative().optional(),
  maxSteps: z.number().int().positive().optional(),
  fraction: z.number().min(0).max(1).optional(),
  /** Seconds left in this stage at the current rate, against maxSteps (an upper bound). */
  etaS: z.number().nonnegative().optional(),
  elapsedS: z.number().nonnegative(),
  /** The whole run across its stages (core/planning/progress.ts): fraction done and seconds left. */
  overall: z.object({ fraction: z.number().min(0).max(1), etaS: z.number().nonnegative().optional() }).optional(),
})

export const apiEvent = z.discriminatedUnion('type', [
  progressEvent,
  z.object({ type: z.literal('log'), runId: id.optional(), line: z.string() }),
  z.object({ type: z.literal('done'), runId: id, wallS: z.number().nonnegative() }),
  z.object({ type: z.literal('error'), runId: id, error: serializedError }),
])
export type ApiEvent = z.infer<typeof apiEvent>

// ---------------------------------------------------------------------------------------------
// The session: what the app restores after a reload (or a restart of the back end)

/** The plan inputs as the renderer's plan store holds them (SI, RAS). */
export const sessionInputs = z.object({
  targetRasM: vec3.nullable(),
  entryRasM: vec3.nullable(),
  transducerId: z.string().max(200),
  pointsPerWavelength: z.number(),
  mappingId: z.string().max(200),
  isppaFreeWaterWPerM2: z.number(),
  pulseDurationS: z.number(),
  prfHz: z.number(),
  trainDutyCycle: z.number(),
  thermalProtocolId: z.string().max(200),
})
export type SessionInputs = z.infer<typeof sessionInputs>

export const sessionState = z.object({
  ctImageId: id.nullable(),
  inputs: sessionInputs,
  /** The run on screen, and the inputs it was started with (so staleness survives the reload). */
  runId: id.nullable(),
  runInputs: sessionInputs.nullable(),
  /** The stored plan the run on screen was saved as, and whether that is approved. */
  savedPlanId: z.string().max(40).nullable(),
})
export type SessionState = z.infer<typeof sessionState>

// ---------------------------------------------------------------------------------------------
// The methods

const empty = z.object({}).strict()
const ok = z.object({ ok: z.literal(true) })

export const PLANNER_API = defineApi({
  capabilities: { summary: 'What this host can do: backend devices, database, exports, thermal model', params: empty, result: capabilities },
  listThermalProtocols: {
    summary: 'The sonication protocols the thermal model can run (resources/protocols and the user folder)',
    params: empty,
    result: z.object({ thermalProtocols: z.array(z.object({ id: z.string(), name: z.string(), totalS: z.number(), source: z.string() })) }),
  },
  listTransducers: {
    summary: 'The transducer library with the geometry to draw each device',
    params: empty,
    result: z.object({ transducers: z.array(transducerInfo), warnings: z.array(z.string()) }),
  },
  openImage: {
    summary: 'Open a NIfTI/NRRD/MHA file or a DICOM folder by path (a folder with several series returns the series list)',
    params: z.object({ path: z.string().min(1).max(4096), role: z.enum(['ct', 'mri']).default('ct'), seriesInstanceUid: z.string().optional() }),
    result: openResult,
  },
  importBytes: {
    summary: 'Open a dropped or picked file from its bytes (the browser has no paths)',
    params: z.object({ name: z.string().min(1).max(255), role: z.enum(['ct', 'mri']).default('ct'), bytes: arrayBuffer }),
    result: openResult,
    binary: 'params',
  },
  getVolume: {
    summary: 'Voxels of an opened image or a plan result, resampled onto LPS-aligned axes for display',
    params: z.object({ volumeId: id, stride: z.number().int().min(1).max(8).default(1) }),
    result: z.object({ header: volumeHeader, bytes: arrayBuffer }),
    binary: 'result',
  },
  registerMri: {
    summary: 'Register an opened MRI (moving) to the CT (fixed) with elastix; progress events carry registrationRunId(mriImageId)',
    params: z.object({ ctImageId: id, mriImageId: id }),
    result: registrationResult,
  },
  cancelRegistration: { summary: 'Stop the registration of this MRI', params: z.object({ mriImageId: id }), result: z.object({ cancelled: z.boolean() }) },
  pickPath: {
    summary: "The host's native picker: an image file, a DICOM folder, a folder to export into or a campaign folder; null when the planner cancels",
    params: z.object({ kind: z.enum(['image-file', 'dicom-folder', 'export-folder', 'campaign-folder']) }),
    result: z.object({ path: z.string().nullable() }),
  },
  startPlan: { summary: 'Start a plan run in a worker; progress, log, done and error arrive as events', params: planRequest, result: z.object({ runId: id }) },
  previewPose: {
    summary: 'The neural surrogate at a pose (live preview while the transducer moves): plan, metrics with a confidence, and the pressure on the CT grid',
    params: z.object({
      ctImageId: id,
      targetRasM: vec3,
      entryRasM: vec3.optional(),
      transducerId: z.string().min(1),
      mappingId: z.string().min(1).default('kplan'),
      drive: z.object({ kind: z.literal('isppa-free-water'), wPerM2: z.number().min(ISPPA_FREE_WATER_W_PER_M2.min).max(ISPPA_FREE_WATER_W_PER_M2.max) }),
      pulseTiming,
    }),
    result: planResult.extend({ runId: z.string() }),
  },
  cancelPlan: { summary: 'Cancel a running plan', params: z.object({ runId: id }), result: z.object({ cancelled: z.boolean() }) },
  getPlanResult: { summary: 'The plan and metrics of a finished run, and the id of its pressure volume', params: z.object({ runId: id }), result: planResult },
  saveSession: { summary: 'Remember the app state (images, plan inputs, the run on screen) for a reload or restart', params: sessionState, result: ok },
  restoreSession: {
    summary: 'The app state to restore: the CT (reopened from its file after a restart), the inputs, and the run with its latest progress',
    params: empty,
    result: z.object({
      state: sessionState.nullable(),
      ct: imageInfo.nullable(),
      run: z.object({ runId: id, status: z.enum(['running', 'done', 'failed']), progress: progressEvent.nullable(), error: z.string().nullable() }).nullable(),
      /** Why part of the state could not be restored, in words. */
      note: z.string().nullable(),
    }),
  },
  openStoredPlan: {
    summary: 'Open a stored plan in the views: its CT, its inputs and its result as a finished run',
    params: z.object({ planId: z.string().min(1).max(40) }),
    result: z.object({ runId: id, planId: z.string(), ct: imageInfo, inputs: sessionInputs, approved: z.boolean() }),
  },
  savePlan: {
    summary: 'Store a finished run in the plan database',
    params: z.object({
      runId: id,
      label: z.string().max(200).optional(),
      /** Identity typed by the planner for an image that records none (NIfTI); a DICOM image's own identity wins. */
      patient: z
        .object({
          name: z.string().trim().min(1).max(200).optional(),
          id: z.string().trim().min(1).max(64).optional(),
          birthDate: z
            .string()
            .regex(/^\d{8}$/, 'birth date as YYYYMMDD')
            .optional(),
        })
        .optional(),
      /** A stored plan this run re-plans (opened, edited, simulated again): the run becomes its next version instead of a new plan. */
      asVersionOf: z.string().min(1).max(40).optional(),
    }),
    result: z.object({ planId: z.string(), version: z.number().int().positive() }),
  },
  listPlans: { summary: 'Plans in the database', params: empty, result: z.object({ plans: z.array(storedPlanSummary) }) },
  comparePlans: {
    summary: 'Two stored plans side by side: the metrics table (B - A) and the pressure difference B - A on the CT grid when both were planned on one CT',
    params: z.object({ planIdA: z.string().min(1).max(40), planIdB: z.string().min(1).max(40) }),
    result: z.object({
      a: storedPlanSummary,
      b: storedPlanSummary,
      rows: z.array(comparisonRow),
      /** Pressure B - A [Pa] (getVolume); null with `differenceNote` saying why there is none. */
      differenceVolumeId: id.nullable(),
      /** The largest |B - A| [Pa] anywhere (the near field in scalp and skull included). */
      differenceMaxPa: z.number().nonnegative(),
      /** The overlay's scale [Pa]: the larger of the two in-brain peaks; larger differences saturate. */
      differenceScalePa: z.number().positive(),
      differenceNote: z.string().nullable(),
    }),
  },
  approvePlan: {
    summary: 'Approve a stored plan (rules: core/planning/approval.ts)',
    params: z.object({
      planId: z.string().min(1),
      approver: z.string().min(1).max(200),
      /** Required below the clinical resolution: why this plan is approved anyway. */
      overrideReason: z.string().max(2000).optional(),
      /** Blocking safety flags ('mechanical', 'thermal') the approver has read and accepts. */
      acknowledged: z
        .array(z.enum(['mechanical', 'thermal']))
        .max(2)
        .optional(),
    }),
    result: ok,
  },
  exportPlan: {
    summary: 'Export a finished run for neuronavigation or analysis',
    params: z.object({
      runId: id,
      format: z.string().min(1),
      /** No patient identity, paths, plan folder name or original UIDs in the files (new UIDs, declared in DICOM). */
      deidentify: z.boolean().default(false),
      /** An existing folder (absolute path) to write into; default: the app's exports folder. Never overwrites. */
      destinationDir: z.string().min(1).max(4096).optional(),
    }),
    result: z.object({ path: z.string(), bytes: z.number().int().nonnegative() }),
  },
  listCampaigns: {
    summary: "The campaign folders opened in this app (remembered across restarts) with each one's progress; a folder gone or unreadable carries a note",
    params: empty,
    result: z.object({ campaigns: z.array(z.object({ dir: z.string(), summary: campaignSummary.nullable(), note: z.string().nullable() })) }),
  },
  openCampaign: {
    summary: 'Open a campaign folder (`tfus campaign plan --dir`): remembered for the list; its progress and every task with its state',
    params: z.object({ dir: z.string().min(1).max(4096) }),
    result: z.object({ summary: campaignSummary, tasks: z.array(campaignTaskRow) }),
  },
  forgetCampaign: {
    summary: 'Drop a campaign folder from the list (the folder itself is left as it is)',
    params: z.object({ dir: z.string().min(1).max(4096) }),
    result: ok,
  },
  openCampaignTask: {
    summary: "Open a finished campaign task's plan in the views (its CT, inputs and result, as a finished run; Save stores it like any run)",
    params: z.object({ dir: z.string().min(1).max(4096), index: z.number().int().nonnegative() }),
    result: z.object({ runId: id, ct: imageInfo, inputs: sessionInputs }),
  },
  reportHtml: { summary: 'The plan report as HTML (rendered in a sandboxed frame)', params: z.object({ runId: id }), result: z.object({ html: z.string() }) },
})

export type PlannerApi = typeof PLANNER_API
export type PlannerClient = ApiClient<PlannerApi>
export const PLANNER_METHODS = Object.keys(PLANNER_API) as readonly (keyof PlannerApi)[]
/** Electron IPC channel names, one per method plus the event channel. */
export const IPC_CHANNEL_PREFIX = 'tfus:'
export const IPC_EVENT_CHANNEL = 'tfus:event'
