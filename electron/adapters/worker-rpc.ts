/**
 * The one request/reply protocol between a worker thread and its parent, for every worker in
 * electron/workers: the parent's `workerRpc` numbers each call and matches the reply to it, the
 * worker's `serveRpc` answers calls one at a time in arrival order. A call may stream events
 * (progress) before its reply and may be cancelled (its AbortSignal aborts inside the worker).
 * Errors cross as data: the worker encodes them, the parent decodes them back into the typed
 * errors its callers expect (exit codes 2 and 3 depend on the class and code surviving), and a
 * worker that crashes or exits fails every call still waiting, with an error the parent chooses.
 *
 * Messages are structured-cloned as usual: SharedArrayBuffers stay shared, and a transfer list
 * moves buffers instead of copying them.
 */
import { parentPort, type Transferable, type Worker } from 'node:worker_threads'

/** Parent -> worker. */
export type RpcToWorker<Req> = { readonly rpc: 'call'; readonly id: number; readonly request: Req } | { readonly rpc: 'cancel'; readonly id: number }

/** Worker -> parent. */
export type RpcToParent<Res, Ev> =
  | { readonly rpc: 'event'; readonly id: number; readonly event: Ev }
  | { readonly rpc: 'reply'; readonly id: number; readonly ok: true; readonly result: Res }
  | { readonly rpc: 'reply'; readonly id: number; readonly ok: false; readonly error: unknown }

// ---------------------------------------------------------------------------------------
// Parent side
// ---------------------------------------------------------------------------------------

export interface WorkerRpcOptions {
  /** The worker's encoded error back as the error the caller expects. */
  readonly decodeError: (encoded: unknown) => Error
  /** What every waiting (and every later) call fails with once the worker has crashed or exited. */
  readonly workerFailed: (why: { readonly error: Error } | { readonly exitCode: number }) => Error
  /** Let the process exit while no call is waiting (the worker is ref'd only during calls). */
  readonly unrefWhenIdle?: boolean
}

export interface CallOptions<Ev> {
  /** Buffers moved, not copied, to the worker. */
  readonly transfer?: readonly Transferable[]
  /** Aborting sends a cancel to the worker; the call still settles with the worker's answer. */
  readonly signal?: AbortSignal
  /** Events the worker emits while it works on this call. */
  readonly onEvent?: (event: Ev) => void
}

export interface WorkerRpc<Req, Res, Ev = never> {
  readonly worker: Worker
  call(request: Req, options?: CallOptions<Ev>): Promise<Res>
  /** Calls still waiting for their reply. */
  readonly pending: number
}

interface Pending<Res, Ev> {
  readonly resolve: (result: Res) => void
  readonly reject: (error: Error) => void
  readonly onEvent: ((event: Ev) => void) | undefined
}

export function workerRpc<Req, Res, Ev = never>(worker: Worker, options: WorkerRpcOptions): WorkerRpc<Req, Res, Ev> {
  const pending = new Map<number, Pending<Res, Ev>>()
  let nextId = 1
  let failure: Error | undefined
  if (options.unrefWhenIdle) worker.unref()

  const fail = (error: Error) => {
    failure ??= error
    for (const p of pending.values()) p.reject(failure)
    pending.clear()
  }
  worker.on('message', (message: RpcToParent<Res, Ev>) => {
    const p = pending.get(message.id)
    if (!p) return
    if (message.rpc === 'event') {
      p.onEvent?.(message.event)
      return
    }
    pending.delete(message.id)
    if (options.unrefWhenIdle && pending.size === 0) worker.unref()
    if (message.ok) p.resolve(message.result)
    else p.reject(options.decodeError(message.error))
  })
  worker.on('error', (error) => fail(options.workerFailed({ error })))
  worker.on('exit', (exitCode) => fail(options.workerFailed({ exitCode })))

  return {
    worker,
    get pending() {
      return pending.size
    },
    call(request, callOptions = {}) {
      if (failure) return Promise.reject(failure)
      const id = nextId++
      return new Promise<Res>((resolve, reject) => {
        const { signal } = callOptions
        const onAbort = () => worker.postMessage({ rpc: 'cancel', id } satisfies RpcToWorker<Req>)
        const done = () => signal?.removeEventListener('abort', onAbort)
        pending.set(id, {
          resolve: (r) => (done(), resolve(r)),
          reject: (e) => (done(), reject(e)),
          onEvent: callOptions.onEvent,
        })
        if (options.unrefWhenIdle) worker.ref()
        worker.postMessage({ rpc: 'call', id, request } satisfies RpcToWorker<Req>, callOptions.transfer ? [...callOptions.transfer] : undefined)
        if (signal?.aborted) onAbort()
        else signal?.addEventListener('abort', onAbort, { once: true })
      })
    },
  }
}

// ---------------------------------------------------------------------------------------
// Worker side
// ---------------------------------------------------------------------------------------

export interface CallContext<Ev> {
  /** Aborted when the parent cancels this call. */
  readonly signal: AbortSignal
  emit(event: Ev): void
  /** Buffers to move (not copy) with the reply. */
  transferWithReply(list: readonly Transferable[]): void
}

export interface ServeOptions {
  /** A thrown value as data for the parent's `decodeError`; `cancelled` is true after a cancel. */
  readonly encodeError: (error: unknown, cancelled: boolean) => unknown
  /** Answer one call, then close the port so the thread can end (one-shot workers). */
  readonly once?: boolean
}

/** Answers the parent's calls with `handler`, one at a time in arrival order. */
export function serveRpc<Req, Res, Ev = never>(handler: (request: Req, context: CallContext<Ev>) => Promise<Res> | Res, options: ServeOptions): void {
  const port = parentPort
  if (!port) throw new Error('serveRpc runs in a worker thread')
  const controllers = new Map<number, AbortController>()
  const post = (message: RpcToParent<Res, Ev>, transfer?: readonly Transferable[]) => port.postMessage(message, transfer ? [...transfer] : undefined)

  const answer = async (id: number, request: Req) => {
    const controller = controllers.get(id)!
    let transfer: readonly Transferable[] | undefined
    try {
      const result = await handler(request, {
        signal: controller.signal,
        emit: (event) => post({ rpc: 'event', id, event }),
        transferWithReply: (list) => (transfer = list),
      })
      post({ rpc: 'reply', id, ok: true, result }, transfer)
    } catch (e) {
      post({ rpc: 'reply', id, ok: false, error: options.encodeError(e, controller.signal.aborted) })
    } finally {
      controllers.delete(id)
    }
  }

  // One call at a time: handlers mix async IO with synchronous work that must not interleave.
  let queue: Promise<void> = Promise.resolve()
  port.on('message', (message: RpcToWorker<Req>) => {
    if (message.rpc === 'cancel') {
      controllers.get(message.id)?.abort()
      return
    }
    if (message.rpc !== 'call') return
    controllers.set(message.id, new AbortController())
    queue = queue.then(async () => {
      await answer(message.id, message.request)
      if (options.once) port.close()
    })
  })
}
