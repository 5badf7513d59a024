import { describe, expect, test } from 'vitest'
import { PlanRuns } from '../../../electron/app/plan-runs.ts'
import type { ApiEvent } from '../../../core/contracts/api.ts'
import type { PlanInput } from '../../../electron/app/pipeline/index.ts'

const input = { ctPath: 'ct.nii.gz', outDir: '/nonexistent' } as unknown as PlanInput & { ignoreCancel?: boolean }
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url)

describe('plan runs in worker threads', () => {
  test('a crashing worker reports a serialized error and the host keeps going', async () => {
    const events: ApiEvent[] = []
    const runs = new PlanRuns({ emit: (e) => events.push(e), workerUrl: fixture('crash-worker.mjs') })
    const run = runs.start(input)
    const state = await run.finished
    expect(state.status).toBe('failed')
    if (state.status !== 'failed') return
    expect(state.error.code).toBe('worker-crashed')
    expect(state.error.message).toContain('simulated solver crash')
    expect(events.some((e) => e.type === 'progress' && e.step === 1 && e.maxSteps === 10)).toBe(true)
    expect(events.at(-1)).toMatchObject({ type: 'error', runId: run.runId })
    // The host still starts new runs after a crash.
    const again = runs.start(input)
    expect((await again.finished).status).toBe('failed')
  })

  test('cancel stops a run that honours it; progress carries an ETA', async () => {
    const events: ApiEvent[] = []
    const runs = new PlanRuns({ emit: (e) => events.push(e), workerUrl: fixture('slow-worker.mjs') })
    const run = runs.start(input)
    while (!events.some((e) => e.type === 'progress' && (e.step ?? 0) >= 5)) await new Promise((r) => setTimeout(r, 10))
    expect(runs.cancel(run.runId)).toBe(true)
    const state = await run.finished
    expect(state.status === 'failed' && state.error.code).toBe('cancelled')
    const withEta = events.find((e) => e.type === 'progress' && e.etaS !== undefined)
    expect(withEta).toBeDefined()
    expect(runs.cancel(run.runId)).toBe(false)
  })

  test('a worker that ignores cancel is terminated after the grace period', async () => {
    const runs = new PlanRuns({ emit: () => {}, workerUrl: fixture('slow-worker.mjs'), cancelGraceMs: 100 })
    const run = runs.start({ ...input, ignoreCancel: true } as PlanInput)
    await new Promise((r) => setTimeout(r, 100))
    const t0 = Date.now()
    runs.cancel(run.runId)
    const state = await run.finished
    expect(state.status === 'failed' && state.error.code).toBe('cancelled')
    expect(Date.now() - t0).toBeLessThan(3000)
  })
})
