/**
 * Modules other parts of the project provide and that may not exist yet in a given checkout:
 * the plan database (electron/node/db), the exports (electron/node/exports), the plan report
 * (core/report) and the thermal model (core/thermal). Each is loaded by a dynamic import and
 * checked for the functions the app uses; when one is missing the app shows that step as
 * unavailable with the reason, never a stand-in.
 */
import { access } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

export type Loaded<T> = { readonly available: true; readonly module: T } | { readonly available: false; readonly reason: string }

/** The parts of a module the app calls, checked at run time (the module may change shape). */
export async function loadOptional<T>(relativeUrl: string, required: readonly string[], what: string): Promise<Loaded<T>> {
  const url = new URL(relativeUrl, import.meta.url)
  try {
    await access(fileURLToPath(url))
  } catch {
    return { available: false, reason: `${what} is not part of this build yet` }
  }
  try {
    const mod = (await import(/* @vite-ignore */ url.href)) as Record<string, unknown>
    const missing = required.filter((name) => typeof mod[name] !== 'function')
    if (missing.length > 0) return { available: false, reason: `${what} does not provide ${missing.join(', ')}` }
    return { available: true, module: mod as T }
  } catch (e) {
    return { available: false, reason: `${what} failed to load: ${e instanceof Error ? e.message : String(e)}` }
  }
}

/** What the app uses of electron/node/db/client.ts. */
export type PlanStoreModule = Pick<typeof import('../node/db/client.ts'), 'openPlanStore'>

/** What the app uses of electron/node/exports. */
export type ExportsModule = Pick<typeof import('../node/exports/index.ts'), 'exportPlanFolder' | 'EXPORT_FORMATS' | 'SINGLE_FILE_FORMATS'>
