/** The API contract: host-side dispatch and the renderer client over an in-memory transport. */
import { describe, expect, test } from 'vitest'
import {
  PLANNER_API,
  PLANNER_METHODS,
  apiEvent,
  createClient,
  dispatchCall,
  serializeError,
  subscribeEvents,
  type ApiImplementation,
  type PlannerApi,
  type Transport,
} from '../../../core/contracts/api.ts'
import { SimulationInputError } from '../../../core/solver/errors.ts'

const impl = {
  cancelPlan: async ({ runId }: { runId: string }) => ({ cancelled: runId.length > 0 }),
  // Breaks the contract on purpose: `cancelled` must be a boolean.
  listPlans: async () => ({ plans: [{ planId: 1 }] }),
} as unknown as ApiImplementation<PlannerApi>

describe('API contract', () => {
  test('every method has params and result schemas; binary methods say which side', () => {
    expect(PLANNER_METHODS.length).toBeGreaterThanOrEqual(12)
    for (const m of PLANNER_METHODS) {
      const spec = PLANNER_API[m]
      expect(spec.params.safeParse).toBeTypeOf('function')
      expect(spec.result.safeParse).toBeTypeOf('function')
    }
    expect(PLANNER_API.getVolume.binary).toBe('result')
    expect(PLANNER_API.importBytes.binary).toBe('params')
  })

  test('dispatch validates params and results and never throws', async () => {
    expect(await dispatchCall(PLANNER_API, impl, 'cancelPlan', { runId: 'a' })).toEqual({ ok: true, result: { cancelled: true } })
    expect(await dispatchCall(PLANNER_API, impl, 'cancelPlan', {})).toMatchObject({ ok: false, error: { code: 'bad-request', field: 'runId' } })
    expect(await dispatchCall(PLANNER_API, impl, 'listPlans', {})).toMatchObject({
      ok: false,
      error: { code: 'internal', message: expect.stringContaining('does not match the contract') },
    })
    expect(await dispatchCall(PLANNER_API, impl, 'constructor', {})).toMatchObject({ ok: false, error: { code: 'not-found' } })
    const plan = await dispatchCall(PLANNER_API, impl, 'startPlan', {
      ctImageId: 'x',
      targetRasM: [0, 0],
      transducerId: 't',
      pointsPerWavelength: 2,
      drive: { kind: 'isppa-free-water', wPerM2: 1 },
      pulseTiming: { pulseDurationS: 1, prfHz: 1, trainDutyCycle: 1 },
    })
    expect(plan).toMatchObject({ ok: false, error: { code: 'bad-request', field: 'targetRasM' } })
  })

  test('errors serialize with their field', () => {
    expect(serializeError(new SimulationInputError('--ppw', 'must be at least 1.5'))).toEqual({
      name: 'SimulationInputError',
      code: 'bad-request',
      field: '--ppw',
      message: expect.stringContaining('1.5'),
    })
    expect(serializeError('plain string')).toEqual({ name: 'Error', code: 'internal', message: 'plain string' })
  })

  test('client: params checked before sending, results parsed, errors rethrown as ApiError', async () => {
    const sent: string[] = []
    const transport: Transport = {
      call: async (method, params) => {
        sent.push(method)
        return dispatchCall(PLANNER_API, impl, method, params)
      },
      subscribe: (l) => {
        l({ type: 'log', line: 'ok' })
        l({ type: 'progress', runId: 'r' })
        return () => {}
      },
    }
    const client = createClient(PLANNER_API, transport)
    expect(await client.cancelPlan({ runId: 'r' })).toEqual({ cancelled: true })
    await expect(client.cancelPlan({ runId: '' })).rejects.toMatchObject({ code: 'bad-request', field: 'runId' })
    expect(sent).toEqual(['cancelPlan'])
    await expect(client.listPlans({})).rejects.toMatchObject({ code: 'internal' })
    const got: unknown[] = []
    const bad: string[] = []
    subscribeEvents(
      transport,
      (e) => got.push(e),
      (p) => bad.push(p),
    )
    expect(got).toEqual([{ type: 'log', line: 'ok' }])
    expect(bad).toHaveLength(1)
    expect(apiEvent.safeParse({ type: 'done', runId: 'r', wallS: -1 }).success).toBe(false)
  })
})
