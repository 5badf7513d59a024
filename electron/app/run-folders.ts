/**
 * Run folders of the planner service (`<work>/runs/<entry>`): the newest run of the session keeps
 * its folder; an older one (superseded), a failed or a cancelled one, and every one when the
 * service closes, loses it once its worker has exited and no call still reads it. What the user
 * keeps is never here: a saved plan's files were copied into the database's content store by
 * savePlan (which reads the folder as a reader, so it completes first), and exports live in
 * `exports/`. Before a folder goes, two checks: it must lie inside `runs/` (never a folder the
 * user named), and the plan database must not refer to a file inside it (an image series
 * imported from there); such a folder is kept and the reason reported.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import type { BackgroundWork } from './background.ts'
import type { PlanRun } from './plan-runs.ts'

/** Ids of removed runs remembered for a clear error (strings; bounded all the same). */
const REMOVED_RUNS_KEPT = 1000

export interface RunFoldersOptions {
  /** The service's `runs/` folder: nothing outside it is removed. */
  readonly runsDir: string
  readonly background: BackgroundWork
  /** Whether the plan database refers to a file inside this folder (it is then kept). */
  readonly referencedByDatabase: (folder: string) => Promise<boolean>
  /** The run's folder is about to go: drop what reads from it (its volumes). */
  readonly beforeRemove: (runId: string) => void
  /** A retired run is gone: forget what the service keeps about it. */
  readonly forget: (run: PlanRun) => void
  readonly report: (line: string) => void
}

/** Whether `inner` lies strictly inside `outer` (both resolved). */
export function isInside(outer: string, inner: string): boolean {
  const rel = path.relative(path.resolve(outer), path.resolve(inner))
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)
}

export class RunFolders {
  private readonly readers = new Map<string, Set<Promise<unknown>>>()
  private readonly removed = new Map<string, string>()
  private readonly removals = new Map<string, Promise<unknown>>()

  constructor(private readonly options: RunFoldersOptions) {}

  /** Runs `work` as a reader of the run's folder: the folder is not removed before it settles. */
  reading<T>(runId: string, work: () => Promise<T>): Promise<T> {
    const p = work()
    let set = this.readers.get(runId)
    if (!set) this.readers.set(runId, (set = new Set()))
    const readers = set
    readers.add(p)
    const done = () => {
      readers.delete(p)
      if (readers.size === 0 && this.readers.get(runId) === readers) this.readers.delete(runId)
    }
    p.then(done, done)
    return p
  }

  /** Why the run was retired, when it was. */
  removedReason(runId: string): string | undefined {
    return this.removed.get(runId)
  }

  /** Removes the run's folder once its worker has exited and the calls reading it have settled. */
  remove(run: PlanRun): Promise<unknown> {
    let removal = this.removals.get(run.runId)
    if (!removal) {
      removal = this.options.background.run(`plan run ${run.runId}`, async () => {
        await run.exited
        for (let readers = this.readers.get(run.runId); readers && readers.size > 0; readers = this.readers.get(run.runId))
          await Promise.allSettled([...readers])
        this.options.beforeRemove(run.runId)
        await this.removeEntry(run.input.outDir)
        // A worker stopped mid-write leaves its temporary folder beside (replaceFolderAtomically).
        const parent = path.dirname(run.input.outDir)
        const prefix = `.${path.basename(run.input.outDir)}.`
        for (const name of await fs.readdir(parent).catch(() => [] as string[])) {
          if (name.startsWith(prefix)) await this.removeEntry(path.join(parent, name))
        }
      })
      this.removals.set(run.runId, removal)
    }
    return removal
  }

  /** The run is done with (a newer one replaced it): new calls are refused, its folder goes, then the run. */
  retire(run: PlanRun, why: string): void {
    if (this.removed.has(run.runId)) return
    this.removed.set(run.runId, why)
    if (this.removed.size > REMOVED_RUNS_KEPT) this.removed.delete(this.removed.keys().next().value!)
    void this.remove(run).then(() => {
      this.options.forget(run)
      this.removals.delete(run.runId)
    })
  }

  /**
   * What else this session left in `runs/` (entries named with its scratch tag: transform files of
   * registrations, comparison folders): removed when the service closes.
   */
  removeSessionEntries(tag: string): Promise<unknown> {
    return this.options.background.run("this session's scratch files", async () => {
      for (const name of await fs.readdir(this.options.runsDir).catch(() => [] as string[])) {
        if (name.startsWith(tag) || name.startsWith(`.${tag}`)) await this.removeEntry(path.join(this.options.runsDir, name))
      }
    })
  }

  /** Removes a file or folder inside `runs/` that the database does not refer to. */
  private async removeEntry(entry: string): Promise<void> {
    if (!isInside(this.options.runsDir, entry)) {
      this.options.report(`clean-up: kept ${entry}: not a run folder of this planner`)
      return
    }
    if (
      !(await fs.lstat(entry).then(
        () => true,
        () => false,
      ))
    )
      return
    if (await this.options.referencedByDatabase(entry)) {
      this.options.report(`clean-up: kept ${entry}: the plan database refers to a file in it`)
      return
    }
    await fs.rm(entry, { recursive: true, force: true, maxRetries: 2 })
  }
}
