/**
 * How much memory a solver or thermal run may allocate on this machine: core estimates a run's
 * peak (core/solver/limits.ts, core/thermal/limits.ts) but cannot read the machine, so the Node
 * hosts measure it here and pass it in.
 *
 * The budget is min(0.8 x total, available + 0.1 x total):
 *  - 0.8 x total: the estimate counts the run's typed arrays only; the rest of the process (the
 *    CT and the plan domain, the JS heap, the app's window) and the operating system need the
 *    other fifth, and a run that needs nearly all of a machine's memory pushes it into swap or
 *    the OOM killer even when the memory is "free" at the start;
 *  - available + 0.1 x total: os.freemem() (MemAvailable on Linux: free pages plus the page cache
 *    the kernel can drop) is a snapshot that undercounts what frees up (idle processes' pages,
 *    buffers), and the estimate is itself an upper bound (it counts the source-building
 *    temporaries and the full sparse source list), so a tenth of the machine is allowed on top;
 *    a run clearly beyond what is available is refused instead of dying part way at 6 GB.
 * "total" is the container's limit when there is one (process.constrainedMemory).
 * TFUS_MEMORY_LIMIT_BYTES lowers the budget (never raises it): for tests and shared machines.
 */
import * as os from 'node:os'
import type { MemoryBudget } from '../../core/solver/limits.ts'

export function hostMemoryBudget(env: NodeJS.ProcessEnv = process.env): MemoryBudget {
  let total = os.totalmem()
  const constrained = typeof process.constrainedMemory === 'function' ? Number(process.constrainedMemory()) : 0
  if (constrained > 0 && constrained < total) total = constrained
  let available = os.freemem()
  const processAvailable = (process as { availableMemory?: () => number }).availableMemory
  if (typeof processAvailable === 'function') available = Math.min(available, processAvailable.call(process))
  let budget = Math.min(0.8 * total, available + 0.1 * total)
  const limit = Number(env.TFUS_MEMORY_LIMIT_BYTES)
  if (env.TFUS_MEMORY_LIMIT_BYTES && Number.isFinite(limit) && limit > 0) budget = Math.min(budget, limit)
  return { availableBytes: budget, totalBytes: total }
}
