/**
 * Upload folders (a dropped file written to disk so the plan worker can read it by path): each
 * lives as long as its image, but is not removed while a plan run, a registration or a preview
 * still reads the file.
 */
import { promises as fs } from 'node:fs'
import type { BackgroundWork } from './background.ts'

export class UploadFolders {
  /** Readers per folder. */
  private readonly users = new Map<string, number>()
  /** Folders whose image closed while they were read: removed when the last reader lets go. */
  private readonly closed = new Set<string>()

  constructor(private readonly background: BackgroundWork) {}

  /** Holds the folders (undefined: an image opened by path) until the returned function is called (once). */
  use(...dirs: Array<string | undefined>): () => void {
    const held = dirs.filter((d): d is string => d !== undefined)
    for (const d of held) this.users.set(d, (this.users.get(d) ?? 0) + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      for (const d of held) {
        const left = (this.users.get(d) ?? 1) - 1
        if (left > 0) this.users.set(d, left)
        else {
          this.users.delete(d)
          if (this.closed.has(d)) this.remove(d)
        }
      }
    }
  }

  /** The folder's image closed: it goes now, or when its last reader lets go. */
  imageClosed(dir: string): void {
    if (this.users.has(dir)) this.closed.add(dir)
    else this.remove(dir)
  }

  private remove(dir: string): void {
    this.closed.delete(dir)
    void this.background.run('an upload', () => fs.rm(dir, { recursive: true, force: true, maxRetries: 2 }))
  }
}
