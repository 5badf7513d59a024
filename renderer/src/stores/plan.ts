/**
 * The planning workflow: target, transducer and pulse timing; the run (progress, cancel) and its
 * result; save, approve, export, report. Units: SI inside (m, Hz, W/m2); the panel converts
 * mm and W/cm2 at its edge. Targets are patient RAS in metres, as `tfus plan` takes them.
 */
import { defineStore } from 'pinia'
import { computed, nextTick, ref, watch } from 'vue'
import { approvalRefusal, blockingFlags, type ApprovalGrounds } from '../../../core/planning/approval.ts'
import { PLACEMENT_ADVICE, placementCodeOfField } from '../../../core/planning/placement.ts'
import { notACtRefusal } from '../../../core/planning/image-role.ts'
import type { ApiEvent, ImageInfo, PlannerClient, PlanResultPayload, SessionInputs, TransducerInfo } from '../../../core/contracts/api.ts'
import { api } from '../api/index.ts'
import { useImagesStore } from './images.ts'
import { useRegistrationStore } from './registration.ts'
import { useMessagesStore, describeError } from './messages.ts'
import { type Vec3 } from '../../../core/math/index.ts'

export type RunStatus = 'idle' | 'starting' | 'running' | 'cancelling' | 'done' | 'failed' | 'cancelled'

export interface RunProgress {
  readonly stage: string
  readonly step?: number
  readonly maxSteps?: number
  readonly fraction?: number
  readonly etaS?: number
  readonly elapsedS: number
  /** The whole run: fraction done across all stages and seconds left. */
  readonly overall?: { readonly fraction: number; readonly etaS?: number }
}

/** What a left click does in the views: navigate (crosshair only), place the target / the entry once, or measure (two clicks). */
export type InteractionMode = 'navigate' | 'target' | 'entry' | 'measure'

/** Everything a result depends on, as a run was started with it (SI, RAS). */
export interface PlanInputs {
  readonly ctImageId: string | null
  /** The MRI registration the target is planned through (in the app), null for a CT-only plan. */
  readonly registrationId: string | null
  readonly targetRasM: Vec3 | null
  readonly entryRasM: Vec3 | null
  readonly transducerId: string
  readonly pointsPerWavelength: number
  readonly mappingId: string
  readonly isppaFreeWaterWPerM2: number
  readonly pulseDurationS: number
  readonly prfHz: number
  readonly trainDutyCycle: number
  readonly thermalProtocolId: string
}

/** The words for each input in "out of date: target, Isppa changed". */
export const INPUT_NAMES: Readonly<Record<keyof PlanInputs, string>> = {
  ctImageId: 'image',
  registrationId: 'MRI registration',
  targetRasM: 'target',
  entryRasM: 'entry',
  transducerId: 'transducer',
  pointsPerWavelength: 'resolution',
  mappingId: 'CT mapping',
  isppaFreeWaterWPerM2: 'Isppa',
  pulseDurationS: 'pulse duration',
  prfHz: 'PRF',
  trainDutyCycle: 'train duty cycle',
  thermalProtocolId: 'thermal protocol',
}

/** The inputs that differ between two snapshots (in INPUT_NAMES order). */
export function changedInputs(a: PlanInputs, b: PlanInputs): (keyof PlanInputs)[] {
  return (Object.keys(INPUT_NAMES) as (keyof PlanInputs)[]).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
}

export const RESOLUTIONS = [
  { ppw: 2, label: 'Preview (2 points per wavelength, a few minutes on a CPU)' },
  { ppw: 3, label: 'Coarse (3 ppw)' },
  { ppw: 6, label: 'Planning (6 ppw, minimum for treatment decisions)' },
  { ppw: 8, label: 'Fine (8 ppw)' },
] as const

export const usePlanStore = defineStore('plan', () => {
  const transducers = ref<TransducerInfo[]>([])
  const transducerId = ref<string>('')
  const targetRasM = ref<Vec3 | null>(null)
  /** Entry on the scalp (RAS, m), picked in the 3D view; null lets the planner propose one. */
  const entryRasM = ref<Vec3 | null>(null)
  const pointsPerWavelength = ref<number>(2)
  const backend = ref<'auto' | 'webgpu' | 'cpu'>('auto')
  const mappingId = ref('kplan')
  /** Free-water spatial-peak pulse-average intensity [W/m2]. */
  const isppaFreeWaterWPerM2 = ref(1e5)
  const pulseDurationS = ref(0.02)
  const prfHz = ref(5)
  const trainDutyCycle = ref(1)
  /** Sonication protocols for the thermal model; '' runs no thermal model ("thermal: not assessed"). */
  const thermalProtocols = ref<{ id: string; name: string; totalS: number; source: string }[]>([])
  const thermalProtocolId = ref('')

  const interactionMode = ref<InteractionMode>('navigate')
  /** Why the last target placed (typed or clicked) was refused, in words; null when it was taken. */
  const targetError = ref<string | null>(null)

  const runId = ref<string | null>(null)
  const status = ref<RunStatus>('idle')
  const progress = ref<RunProgress | null>(null)
  const log = ref<string[]>([])
  const failure = ref<string | null>(null)
  const result = ref<PlanResultPayload | null>(null)
  const savedPlanId = ref<string | null>(null)
  const approved = ref(false)
  const exported = ref<{ format: string; path: string }[]>([])
  const reportHtml = ref<string | null>(null)
  const early: ApiEvent[] = []
  /** The stored plan the current inputs come from (opened or saved): Save adds a version to it. */
  const lineagePlanId = ref<string | null>(null)
  const savedVersion = ref<number | null>(null)
  /** Identity typed for an image that records none (NIfTI), stored with the plan on Save. */
  const typedPatient = ref<{ name: string; id: string; birthDate: string }>({ name: '', id: '', birthDate: '' })
  const storedPlans = ref<Awaited<ReturnType<PlannerClient['listPlans']>>['plans']>([])
  /** Two stored plans side by side (table and B - A overlay); null when not comparing. */
  const comparison = ref<Awaited<ReturnType<PlannerClient['comparePlans']>> | null>(null)

  /** Live preview: the neural surrogate follows every target or entry change. */
  const livePreview = ref(false)
  const preview = ref<PlanResultPayload | null>(null)
  const previewBusy = ref(false)
  const previewError = ref<string | null>(null)
  /** Previews answered since the toggle went on (the e2e test watches it grow while dragging). */
  const previewCount = ref(0)
  /** The inputs the shown result was computed from (set when its run starts). */
  const resultInputs = ref<PlanInputs | null>(null)

  function snapshot(): PlanInputs {
    return {
      ctImageId: useImagesStore().ct?.imageId ?? null,
      registrationId: useRegistrationStore().usable?.registrationId ?? null,
      targetRasM: targetRasM.value ? [...targetRasM.value] : null,
      entryRasM: entryRasM.value ? [...entryRasM.value] : null,
      transducerId: transducerId.value,
      pointsPerWavelength: pointsPerWavelength.value,
      mappingId: mappingId.value,
      isppaFreeWaterWPerM2: isppaFreeWaterWPerM2.value,
      pulseDurationS: pulseDurationS.value,
      prfHz: prfHz.value,
      trainDutyCycle: trainDutyCycle.value,
      thermalProtocolId: thermalProtocolId.value,
    }
  }
  const inputs = computed(snapshot)
  /** The inputs changed since the result's run started (empty while it matches them). */
  const staleBecause = computed(() => (result.value && resultInputs.value ? changedInputs(resultInputs.value, inputs.value).map((k) => INPUT_NAMES[k]) : []))
  /** The result no longer matches the inputs: it stays visible, marked, and cannot be saved, approved or exported. */
  const stale = computed(() => staleBecause.value.length > 0)

  // Undo / redo over every plan input (the image excepted: a new image starts a new history).
  const past = ref<PlanInputs[]>([])
  const future = ref<PlanInputs[]>([])
  let committed = snapshot()
  let applying = false
  /** The drag gesture the current change belongs to (setEntry's `gesture`), else null. */
  let gesture: number | null = null
  let lastChange: { keys: string; gesture: number | null } | null = null
  watch(
    () => JSON.stringify({ ...inputs.value, ctImageId: null, registrationId: null }),
    () => {
      const now = snapshot()
      if (applying) return
      const keys = changedInputs(committed, now).join(',')
      if (keys === '') return
      // A drag moves the entry dozens of times a second: one step to undo, not dozens.
      const coalesce = gesture !== null && lastChange !== null && lastChange.gesture === gesture
      if (!coalesce) past.value.push(committed)
      lastChange = { keys, gesture }
      future.value = []
      committed = now
    },
    { flush: 'sync' },
  )
  function applyInputs(s: PlanInputs): void {
    applying = true
    try {
      targetRasM.value = s.targetRasM ? [...s.targetRasM] : null
      entryRasM.value = s.entryRasM ? [...s.entryRasM] : null
      transducerId.value = s.transducerId
      pointsPerWavelength.value = s.pointsPerWavelength
      mappingId.value = s.mappingId
      isppaFreeWaterWPerM2.value = s.isppaFreeWaterWPerM2
      pulseDurationS.value = s.pulseDurationS
      prfHz.value = s.prfHz
      trainDutyCycle.value = s.trainDutyCycle
      thermalProtocolId.value = s.thermalProtocolId
    } finally {
      applying = false
    }
    committed = snapshot()
    lastChange = null
    targetError.value = null
  }
  /** A change that is not the planner's edit (a default, a restored session): no undo step. */
  function withoutHistory(change: () => void): void {
    applying = true
    try {
      change()
    } finally {
      applying = false
    }
    committed = snapshot()
    lastChange = null
  }
  function setInputs(s: SessionInputs): void {
    applyInputs({ ...s, ctImageId: null, registrationId: null })
    past.value = []
    future.value = []
  }
  const stripImage = (p: PlanInputs): SessionInputs => {
    const { ctImageId: _image, registrationId: _registration, ...rest } = p
    return rest
  }

  // The session survives a reload (and, for a CT opened from a file, a restart of the back end):
  // the back end keeps what the views show, the run keeps computing and is picked up again.
  let restored = false
  let saveTimer: ReturnType<typeof setTimeout> | undefined
  watch(
    () => JSON.stringify([useImagesStore().ct?.imageId ?? null, inputs.value, runId.value, resultInputs.value, savedPlanId.value]),
    () => {
      if (!restored) return
      clearTimeout(saveTimer)
      saveTimer = setTimeout(() => {
        const runInputs = resultInputs.value
        void api()
          .saveSession({
            ctImageId: useImagesStore().ct?.imageId ?? null,
            inputs: stripImage(snapshot()),
            runId: runId.value,
            runInputs: runInputs ? stripImage(runInputs) : null,
            savedPlanId: savedPlanId.value,
          })
          .catch(() => undefined)
      }, 250)
    },
  )
  async function restoreSession(): Promise<void> {
    try {
      const r = await api().restoreSession({})
      if (r.ct) useImagesStore().accept({ kind: 'image', image: r.ct }, 'ct')
      await nextTick()
      if (r.state) {
        setInputs(r.state.inputs)
        if (r.run && r.state.runId === r.run.runId) {
          runId.value = r.run.runId
          resultInputs.value = r.state.runInputs ? { ...r.state.runInputs, ctImageId: r.state.ctImageId, registrationId: null } : null
          savedPlanId.value = r.state.savedPlanId
          if (r.run.status === 'running') {
            status.value = 'running'
            if (r.run.progress) handleEvent(r.run.progress)
          } else if (r.run.status === 'done') {
            await fetchResult(r.run.runId)
            if (savedPlanId.value) {
              await loadPlans()
              approved.value = storedPlans.value.some((p) => p.planId === savedPlanId.value && p.approved)
            }
          } else if (/cancel/i.test(r.run.error ?? '')) status.value = 'cancelled'
          else {
            status.value = 'failed'
            failure.value = `The simulation failed: ${r.run.error ?? 'unknown error'}`
          }
        }
      }
      if (r.note) useMessagesStore().push('warning', `Restoring the previous session: ${r.note}`)
    } catch (e) {
      useMessagesStore().error('Restoring the previous session', e)
    } finally {
      restored = true
    }
  }

  /** Opens a stored plan: its CT, its inputs and its result (the plan browser's Open). */
  async function openStored(planId: string): Promise<void> {
    await showOpened(`Opening plan ${planId}`, async () => {
      const r = await api().openStoredPlan({ planId })
      return { ...r, planId: r.planId as string | null }
    })
  }

  /** Opens a finished campaign task's plan (the campaign browser's Open); Save stores it as a new plan. */
  async function openCampaignTask(dir: string, index: number): Promise<boolean> {
    return showOpened(`Opening campaign task ${index}`, async () => ({ ...(await api().openCampaignTask({ dir, index })), planId: null, approved: false }))
  }

  /** Shows an opened finished plan: its CT (the image watcher clears the previous patient first), inputs and result. */
  async function showOpened(
    what: string,
    open: () => Promise<{ runId: string; ct: ImageInfo; inputs: SessionInputs; planId: string | null; approved: boolean }>,
  ): Promise<boolean> {
    if (running.value) {
      useMessagesStore().push('error', `${what}: a simulation is running; cancel it first`)
      return false
    }
    try {
      const r = await open()
      useImagesStore().accept({ kind: 'image', image: r.ct }, 'ct')
      await nextTick()
      setInputs(r.inputs)
      runId.value = r.runId
      resultInputs.value = snapshot()
      await fetchResult(r.runId)
      savedPlanId.value = r.planId
      lineagePlanId.value = r.planId
      savedVersion.value = null
      approved.value = r.approved
      return true
    } catch (e) {
      useMessagesStore().error(what, e)
      return false
    }
  }

  /** Compares two stored plans: plan A opens in the views (its CT under the overlay), the table and the B - A overlay follow. */
  async function compare(planIdA: string, planIdB: string): Promise<boolean> {
    await openStored(planIdA)
    if (savedPlanId.value !== planIdA) return false
    try {
      comparison.value = await api().comparePlans({ planIdA, planIdB })
      return true
    } catch (e) {
      useMessagesStore().error(`Comparing plans ${planIdA} and ${planIdB}`, e)
      return false
    }
  }
  function closeComparison(): void {
    comparison.value = null
  }

  const canUndo = computed(() => !running.value && past.value.length > 0)
  const canRedo = computed(() => !running.value && future.value.length > 0)
  function undo(): void {
    if (!canUndo.value) return
    future.value.push(snapshot())
    applyInputs(past.value.pop()!)
  }
  function redo(): void {
    if (!canRedo.value) return
    past.value.push(snapshot())
    applyInputs(future.value.pop()!)
  }

  // A new image is a new patient or study: nothing of the previous one may carry over.
  watch(
    () => useImagesStore().ct?.imageId,
    (now, before) => {
      if (!before || now === before) return
      if (running.value) void cancel()
      applying = true
      targetRasM.value = null
      entryRasM.value = null
      applying = false
      committed = snapshot()
      past.value = []
      future.value = []
      lastChange = null
      targetError.value = null
      typedPatient.value = { name: '', id: '', birthDate: '' }
      lineagePlanId.value = null
      savedVersion.value = null
      interactionMode.value = 'navigate'
      runId.value = null
      status.value = 'idle'
      resultInputs.value = null
      preview.value = null
      comparison.value = null
      clearRunOutcome()
    },
  )

  /** What the views show: the live preview while it is on, else the last full simulation. */
  const shown = computed(() => (livePreview.value && preview.value ? preview.value : result.value))

  const transducer = computed(() => transducers.value.find((t) => t.id === transducerId.value) ?? null)
  const running = computed(() => status.value === 'starting' || status.value === 'running' || status.value === 'cancelling')
  const canStart = computed(() => blockedBecause.value === null)
  /** Why the simulate button is disabled, in words. */
  const blockedBecause = computed(() => {
    if (running.value) return 'a simulation is running'
    const ct = useImagesStore().ct
    if (!ct) return 'import a CT first'
    const notCt = notACtRefusal(ct.name, ct.modality)
    if (notCt) return notCt
    if (!targetRasM.value) return 'set a target (click in a view or type coordinates)'
    if (!transducer.value) return 'choose a transducer'
    return null
  })

  async function loadTransducers(): Promise<void> {
    try {
      const lib = await api().listTransducers({})
      transducers.value = lib.transducers
      // A default is not an edit: it is not an undo step.
      if (!transducerId.value && lib.transducers.length > 0) withoutHistory(() => (transducerId.value = lib.transducers[0]!.id))
      for (const w of lib.warnings) useMessagesStore().push('warning', w)
    } catch (e) {
      useMessagesStore().error('Loading the transducer library', e)
    }
  }

  async function loadProtocols(): Promise<void> {
    try {
      thermalProtocols.value = (await api().listThermalProtocols({})).thermalProtocols
    } catch (e) {
      useMessagesStore().error('Loading the sonication protocols', e)
    }
  }

  function setTarget(p: Vec3 | null): void {
    // The running plan keeps the target it started with; a new one applies to the next run.
    targetRasM.value = p ? [p[0], p[1], p[2]] : null
  }

  /** `dragGesture`: moves of one drag share an id and undo as one step. */
  function setEntry(p: Vec3 | null, dragGesture?: number): void {
    gesture = dragGesture ?? null
    try {
      entryRasM.value = p ? [p[0], p[1], p[2]] : null
    } finally {
      gesture = null
    }
  }

  /**
   * Keeps the entry the planner proposed for the result on screen as the chosen entry. The result
   * was computed from exactly that entry, so it stays current.
   */
  function adoptProposedEntry(): void {
    const r = result.value
    if (!r || !r.plan.entry_proposed || !r.plan.entry_ras_m || running.value) return
    const entry: Vec3 = [...r.plan.entry_ras_m]
    setEntry(entry)
    if (resultInputs.value && !resultInputs.value.entryRasM) resultInputs.value = { ...resultInputs.value, entryRasM: entry }
  }

  /** Forgets what the previous run produced and what was done with it (before a new run, or for another image). */
  function clearRunOutcome(): void {
    progress.value = null
    failure.value = null
    result.value = null
    savedPlanId.value = null
    approved.value = false
    exported.value = []
    reportHtml.value = null
    log.value = []
  }

  async function start(): Promise<boolean> {
    const ct = useImagesStore().ct
    if (!canStart.value || !ct || !targetRasM.value) {
      useMessagesStore().push('error', `Cannot simulate yet: ${blockedBecause.value}`)
      return false
    }
    // With a usable MRI registration the target was picked on the MRI: the plan gets it (and the
    // entry) in the MRI's RAS and records the map, as `tfus plan --mri --registration` does.
    const registration = useRegistrationStore()
    const mri = registration.usable ? useImagesStore().mri : null
    const toPlan = (p: Vec3): Vec3 => (mri ? registration.ctToMri(p)! : p)
    status.value = 'starting'
    comparison.value = null
    resultInputs.value = snapshot()
    early.length = 0
    clearRunOutcome()
    try {
      const r = await api().startPlan({
        ctImageId: ct.imageId,
        ...(mri ? { mriImageId: mri.imageId } : {}),
        targetRasM: toPlan(targetRasM.value),
        ...(entryRasM.value ? { entryRasM: toPlan(entryRasM.value) } : {}),
        transducerId: transducerId.value,
        mappingId: mappingId.value,
        pointsPerWavelength: pointsPerWavelength.value,
        backend: backend.value,
        drive: { kind: 'isppa-free-water', wPerM2: isppaFreeWaterWPerM2.value },
        pulseTiming: { pulseDurationS: pulseDurationS.value, prfHz: prfHz.value, trainDutyCycle: trainDutyCycle.value },
        ...(thermalProtocolId.value ? { thermalProtocolId: thermalProtocolId.value } : {}),
      })
      runId.value = r.runId
      if (status.value === 'starting') status.value = 'running'
      for (const e of early.splice(0)) handleEvent(e)
      return true
    } catch (e) {
      status.value = 'failed'
      failure.value = describeError('Starting the simulation', e)
      useMessagesStore().push('error', failure.value)
      return false
    }
  }

  async function cancel(): Promise<void> {
    if (!runId.value || !running.value) return
    status.value = 'cancelling'
    try {
      await api().cancelPlan({ runId: runId.value })
    } catch (e) {
      useMessagesStore().error('Cancelling the simulation', e)
    }
  }

  async function fetchResult(id: string): Promise<void> {
    try {
      result.value = await api().getPlanResult({ runId: id })
      status.value = 'done'
    } catch (e) {
      status.value = 'failed'
      failure.value = describeError('Reading the plan result', e)
      useMessagesStore().push('error', failure.value)
    }
  }

  /** Events from the back end (progress, log, done, error); other runs' events are ignored. */
  function handleEvent(e: ApiEvent): void {
    if ('runId' in e && e.runId !== undefined && e.runId !== runId.value) {
      // Until startPlan has answered we do not know our id: keep the events and replay them then.
      if (status.value === 'starting') early.push(e)
      return
    }
    switch (e.type) {
      case 'progress':
        if (status.value === 'starting') status.value = 'running'
        progress.value = {
          stage: e.stage,
          elapsedS: e.elapsedS,
          ...(e.step !== undefined ? { step: e.step } : {}),
          ...(e.maxSteps ? { maxSteps: e.maxSteps } : {}),
          ...(e.fraction !== undefined ? { fraction: e.fraction } : {}),
          ...(e.etaS !== undefined ? { etaS: e.etaS } : {}),
          ...(e.overall ? { overall: e.overall } : {}),
        }
        break
      case 'log':
        log.value.push(e.line)
        break
      case 'done':
        void fetchResult(e.runId)
        break
      case 'error':
        if (e.error.code === 'cancelled') {
          status.value = 'cancelled'
          failure.value = null
        } else {
          status.value = 'failed'
          const placement = placementCodeOfField(e.error.field)
          failure.value = placement
            ? `The transducer cannot be placed for this target: ${e.error.message}. Try: ${PLACEMENT_ADVICE[placement]}.`
            : `The simulation failed: ${e.error.field ? `${e.error.field}: ` : ''}${e.error.message}`
          useMessagesStore().push('error', failure.value)
        }
        break
    }
  }

  /** Refuses (with a message) to act on a result whose inputs have changed. */
  function refuseStale(action: string): boolean {
    if (!stale.value) return false
    useMessagesStore().push(
      'error',
      `${action}: the results are out of date (${staleBecause.value.join(', ')} changed since the run). Simulate again, or undo the change.`,
    )
    return true
  }

  async function save(label?: string): Promise<void> {
    if (!runId.value || !result.value || refuseStale('Saving the plan')) return
    try {
      const t = typedPatient.value
      const patient = {
        ...(t.name.trim() ? { name: t.name.trim() } : {}),
        ...(t.id.trim() ? { id: t.id.trim() } : {}),
        ...(t.birthDate ? { birthDate: t.birthDate.replace(/-/g, '') } : {}),
      }
      const saved = await api().savePlan({
        runId: runId.value,
        ...(label ? { label } : {}),
        ...(Object.keys(patient).length ? { patient } : {}),
        ...(lineagePlanId.value ? { asVersionOf: lineagePlanId.value } : {}),
      })
      savedPlanId.value = saved.planId
      savedVersion.value = saved.version
      lineagePlanId.value = saved.planId
      void loadPlans()
    } catch (e) {
      useMessagesStore().error('Saving the plan', e)
    }
  }

  /** Why Approve cannot be offered on these grounds (the database's own rule), or null. */
  function approvalBlockedBecause(grounds: ApprovalGrounds): string | null {
    if (!result.value) return 'no result'
    if (stale.value) return `the results are out of date (${staleBecause.value.join(', ')} changed)`
    if (!savedPlanId.value) return 'save the plan first'
    if (approved.value) return 'already approved'
    return approvalRefusal(result.value.plan, result.value.metrics, grounds)?.message ?? null
  }
  const approvalFlags = computed(() => (result.value ? blockingFlags(result.value.metrics) : []))

  async function approve(approver: string, grounds: { overrideReason?: string; acknowledged?: ('mechanical' | 'thermal')[] } = {}): Promise<void> {
    if (!savedPlanId.value || refuseStale('Approving the plan')) return
    try {
      await api().approvePlan({
        planId: savedPlanId.value,
        approver,
        ...(grounds.overrideReason ? { overrideReason: grounds.overrideReason } : {}),
        ...(grounds.acknowledged?.length ? { acknowledged: grounds.acknowledged } : {}),
      })
      approved.value = true
      void loadPlans()
    } catch (e) {
      useMessagesStore().error('Approving the plan', e)
    }
  }

  /** `destinationDir`: a folder the planner typed (absolute); blank uses the app's exports folder. */
  async function exportAs(format: string, deidentify = false, destinationDir = ''): Promise<void> {
    if (!runId.value || !result.value || refuseStale(`Exporting as ${format}`)) return
    try {
      const r = await api().exportPlan({ runId: runId.value, format, deidentify, ...(destinationDir.trim() ? { destinationDir: destinationDir.trim() } : {}) })
      exported.value.push({ format, path: r.path })
    } catch (e) {
      useMessagesStore().error(`Exporting as ${format}`, e)
    }
  }

  // One preview in flight; moves during it collapse into one more request with the latest pose.
  let previewAgain = false
  async function requestPreview(): Promise<void> {
    const ct = useImagesStore().ct
    if (!livePreview.value || !ct || !targetRasM.value || !transducer.value) return
    if (previewBusy.value) {
      previewAgain = true
      return
    }
    previewBusy.value = true
    previewAgain = false
    try {
      preview.value = await api().previewPose({
        ctImageId: ct.imageId,
        targetRasM: targetRasM.value,
        ...(entryRasM.value ? { entryRasM: entryRasM.value } : {}),
        transducerId: transducerId.value,
        mappingId: mappingId.value,
        drive: { kind: 'isppa-free-water', wPerM2: isppaFreeWaterWPerM2.value },
        pulseTiming: { pulseDurationS: pulseDurationS.value, prfHz: prfHz.value, trainDutyCycle: trainDutyCycle.value },
      })
      previewError.value = null
      previewCount.value++
    } catch (e) {
      // The previous field belongs to the previous pose: never leave it on screen under an error.
      preview.value = null
      const placement = placementCodeOfField((e as { field?: string }).field)
      previewError.value = placement ? `No preview at this pose: ${(e as Error).message}. Try: ${PLACEMENT_ADVICE[placement]}.` : describeError('Preview', e)
    } finally {
      previewBusy.value = false
    }
    if (previewAgain) void requestPreview()
  }

  watch([livePreview, targetRasM, entryRasM, transducerId, isppaFreeWaterWPerM2], () => {
    if (livePreview.value) void requestPreview()
    else previewError.value = null
  })

  async function loadPlans(): Promise<void> {
    try {
      storedPlans.value = (await api().listPlans({})).plans
    } catch (e) {
      useMessagesStore().error('Listing the stored plans', e)
    }
  }

  async function loadReport(): Promise<void> {
    if (!runId.value || !result.value || refuseStale('Building the report')) return
    try {
      reportHtml.value = (await api().reportHtml({ runId: runId.value })).html
    } catch (e) {
      useMessagesStore().error('Building the report', e)
    }
  }

  return {
    transducers,
    transducerId,
    transducer,
    targetRasM,
    entryRasM,
    setEntry,
    pointsPerWavelength,
    backend,
    mappingId,
    isppaFreeWaterWPerM2,
    pulseDurationS,
    prfHz,
    trainDutyCycle,
    thermalProtocols,
    thermalProtocolId,
    loadProtocols,
    runId,
    status,
    progress,
    log,
    failure,
    result,
    savedPlanId,
    storedPlans,
    loadPlans,
    approved,
    exported,
    reportHtml,
    running,
    canStart,
    blockedBecause,
    livePreview,
    preview,
    previewBusy,
    previewError,
    previewCount,
    shown,
    requestPreview,
    interactionMode,
    targetError,
    typedPatient,
    lineagePlanId,
    savedVersion,
    restoreSession,
    openStored,
    openCampaignTask,
    inputs,
    resultInputs,
    stale,
    staleBecause,
    canUndo,
    canRedo,
    undo,
    redo,
    approvalBlockedBecause,
    approvalFlags,
    loadTransducers,
    setTarget,
    start,
    cancel,
    handleEvent,
    save,
    approve,
    exportAs,
    loadReport,
    comparison,
    compare,
    closeComparison,
    adoptProposedEntry,
  }
})
