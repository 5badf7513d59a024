/**
 * The one IPC wrapper: every method of PLANNER_API becomes an `ipcMain.handle('tfus:<method>')`
 * that (1) accepts only calls from the main frame of our own window showing our own page,
 * (2) validates the payload against the method's zod schema, (3) runs the service and validates
 * its result, and (4) answers `{ ok, result }` or `{ ok: false, error }` with the error serialized
 * (name, message, code, field; never a stack) so nothing of the main process leaks and the
 * renderer always gets an answer it can show.
 */
import {
  IPC_CHANNEL_PREFIX,
  IPC_EVENT_CHANNEL,
  PLANNER_API,
  dispatchCall,
  type ApiEvent,
  type ApiImplementation,
  type CallResponse,
  type PlannerApi,
} from '../../core/contracts/api.ts'
import type { BrowserWindowConstructorLike, IpcMainInvokeEventLike, IpcMainLike } from './electron-api.ts'

export interface SenderPolicy {
  readonly BrowserWindow: Pick<BrowserWindowConstructorLike, 'fromWebContents'>
  readonly isAppUrl: (url: string) => boolean
}

/** Why a sender is refused, or null when it is our window's main frame on our page. */
export function senderProblem(event: IpcMainInvokeEventLike, policy: SenderPolicy): string | null {
  const frame = event.senderFrame
  if (!frame) return 'the sending frame is gone'
  // Sub-frames (the sandboxed report preview) never talk to the main process.
  if (frame.parent !== null) return 'not the main frame'
  if (!policy.isAppUrl(frame.url)) return `page ${frame.url} is not the app`
  // Only windows this app created (not a webview or a detached devtools page).
  if (!policy.BrowserWindow.fromWebContents(event.sender)) return 'not an app window'
  return null
}

export function ipcHandler(
  impl: ApiImplementation<PlannerApi>,
  method: string,
  policy: SenderPolicy,
): (event: IpcMainInvokeEventLike, ...args: unknown[]) => Promise<CallResponse> {
  return async (event, params) => {
    const problem = senderProblem(event, policy)
    if (problem) return { ok: false, error: { name: 'ForbiddenSender', code: 'forbidden', message: `IPC call ${method} refused: ${problem}` } }
    return dispatchCall(PLANNER_API, impl, method, params)
  }
}

/** Registers every method; returns a function that removes them (tests, reload). */
export function registerIpc(ipcMain: IpcMainLike, impl: ApiImplementation<PlannerApi>, policy: SenderPolicy): () => void {
  const channels = Object.keys(PLANNER_API).map((m) => {
    const channel = `${IPC_CHANNEL_PREFIX}${m}`
    ipcMain.handle(channel, ipcHandler(impl, m, policy))
    return channel
  })
  return () => channels.forEach((c) => ipcMain.removeHandler(c))
}

/** Sends back-end events to every app window still open. */
export function forwardEvents(getWindows: () => { webContents: { send(c: string, p: unknown): void; isDestroyed(): boolean } }[]): (event: ApiEvent) => void {
  return (event) => {
    for (const w of getWindows()) if (!w.webContents.isDestroyed()) w.webContents.send(IPC_EVENT_CHANNEL, event)
  }
}
