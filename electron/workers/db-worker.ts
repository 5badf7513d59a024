/**
 * The database worker thread: owns the PlanStoreEngine (database connection and content store)
 * and answers requests from client.ts one at a time, in arrival order, so the caller's thread
 * (the app's main process, the CLI) never blocks on SQLite or on hashing files.
 */
import { PlanStoreError } from '../../core/db/errors.ts'
import { PlanStoreEngine } from '../adapters/db/engine.ts'
import { describeParamIssues, requestParams, serializeError, type DbRequest, type Method, type Params } from '../adapters/db/protocol.ts'
import { serveRpc } from '../adapters/worker-rpc.ts'

let engine: PlanStoreEngine | null = null

async function dispatch(method: Method, params: unknown): Promise<unknown> {
  switch (method) {
    case 'open': {
      const p = params as Params<'open'>
      if (engine) throw new PlanStoreError('bad-request', 'open: the store is already open')
      engine = await PlanStoreEngine.open(p.dataDir, p.actor ? { actor: p.actor } : {})
      return engine.opened
    }
    case 'close':
      engine?.close()
      engine = null
      return null
    default:
      break
  }
  if (!engine) throw new PlanStoreError('closed', `${method}: the plan store is not open`)
  switch (method) {
    case 'importSeries':
      return engine.importSeries(params as Params<'importSeries'>)
    case 'savePlanFolder':
      return engine.savePlanFolder(params as Params<'savePlanFolder'>)
    case 'listPlans':
      return engine.listPlans()
    case 'listSeries':
      return engine.listSeries()
    case 'getPlan':
      return engine.getPlan(params as Params<'getPlan'>)
    case 'materializePlanFolder':
      return engine.materializePlanFolder(params as Params<'materializePlanFolder'>)
    case 'approve':
      return engine.approve(params as Params<'approve'>)
    case 'newVersion':
      return engine.newVersion(params as Params<'newVersion'>)
    case 'auditLog':
      return engine.auditLog(params as Params<'auditLog'>)
    case 'check':
      return engine.check()
    case 'backup':
      return engine.backup(params as Params<'backup'>)
  }
}

async function handle(request: Partial<DbRequest> | null): Promise<unknown> {
  const method = request?.method
  if (typeof method !== 'string' || !Object.hasOwn(requestParams, method)) {
    throw new PlanStoreError('bad-request', `unknown method "${String(method)}"; known: ${Object.keys(requestParams).join(', ')}`)
  }
  const parsed = requestParams[method as Method].safeParse(request?.params ?? {})
  if (!parsed.success) throw new PlanStoreError('bad-request', describeParamIssues(method, parsed.error))
  return dispatch(method as Method, parsed.data)
}

// One request at a time, in order (serveRpc queues them): operations mix async image reading
// with synchronous transactions, and a second request must not interleave with the first.
serveRpc(handle, { encodeError: (e) => serializeError(e) })
