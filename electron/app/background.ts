/**
 * The planner service's background housekeeping (file removals): nothing waits for it but the
 * service's dispose; a failure is reported as a line, never thrown at a caller.
 */
export class BackgroundWork {
  private readonly pending = new Set<Promise<unknown>>()

  constructor(private readonly report: (line: string) => void) {}

  run(what: string, work: () => Promise<unknown>): Promise<unknown> {
    const p = work().catch((e) => this.report(`clean-up: ${what}: ${e instanceof Error ? e.message : String(e)}`))
    this.pending.add(p)
    void p.finally(() => this.pending.delete(p))
    return p
  }

  /** Resolves when everything started so far, and whatever that started, has settled. */
  async settle(): Promise<void> {
    for (let pending = [...this.pending]; pending.length > 0; pending = [...this.pending]) await Promise.allSettled(pending)
  }
}
