/**
 * Renderer entry: connect the API client over the transport this page has (preload IPC or HTTP),
 * subscribe to run events, mount the app. Any failure before mounting is shown as text.
 */
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import { PLANNER_API, createClient, subscribeEvents } from '../../core/contracts/api.ts'
import { setApiClient } from './api/index.ts'
import { detectTransport } from './api/detect.ts'
import { usePlanStore } from './stores/plan.ts'
import { useCapabilitiesStore } from './stores/capabilities.ts'
import { useMessagesStore } from './stores/messages.ts'
import { useViewStore } from './stores/view.ts'
import { useImagesStore } from './stores/images.ts'
import { useRegistrationStore } from './stores/registration.ts'
import { rasToLps } from '../../core/math/index.ts'
import App from './App.vue'
import './style.css'

function fatal(text: string): void {
  const el = document.getElementById('app')
  if (el) {
    el.textContent = ''
    const p = document.createElement('p')
    p.className = 'fatal'
    p.dataset.testid = 'fatal'
    p.textContent = text
    el.appendChild(p)
  }
}

try {
  const transport = detectTransport()
  setApiClient(createClient(PLANNER_API, transport))
  const app = createApp(App)
  const pinia = createPinia()
  app.use(pinia)
  app.config.errorHandler = (e) => useMessagesStore().error('Unexpected error', e)
  const plan = usePlanStore()
  const registration = useRegistrationStore()
  subscribeEvents(
    transport,
    (e) => {
      plan.handleEvent(e)
      registration.handleEvent(e)
    },
    (problem) => useMessagesStore().push('warning', `ignored a malformed event from the back end: ${problem}`),
  )
  // A new CT: put the crosshair at its centre. A result: move the crosshair to the focus.
  const images = useImagesStore()
  const view = useViewStore()
  images.$subscribe(() => {
    const ct = images.ct
    if (!ct || lastCt === ct.imageId) return
    lastCt = ct.imageId
    const c = [0, 1, 2].map((r) => ct.originM[r]! + [0, 1, 2].reduce((s, k) => s + ct.direction[3 * r + k]! * ct.spacingM[k]! * ((ct.dims[k]! - 1) / 2), 0))
    view.crosshairLps = [c[0]!, c[1]!, c[2]!]
  })
  let lastCt = ''
  let lastRun = ''
  plan.$subscribe(() => {
    const r = plan.result
    if (!r || r.runId === lastRun) return
    lastRun = r.runId
    view.crosshairLps = rasToLps(r.metrics.peak_position_ras_m)
  })
  app.mount('#app')
  const caps = useCapabilitiesStore()
  void caps.load().then(() => (caps.capabilities?.database.available ? plan.loadPlans() : undefined))
  void plan.loadTransducers()
  void plan.loadProtocols()
  // After a reload: the CT, the inputs and the run on screen (still computing, or its result).
  void plan.restoreSession()
  window.addEventListener('unhandledrejection', (ev) => useMessagesStore().error('Unexpected error', ev.reason))
} catch (e) {
  fatal(e instanceof Error ? e.message : String(e))
}
