/**
 * Focus correction: the skull shifts and defocuses the beam, so a device aimed at the target
 * puts its intracranial peak elsewhere. Aiming at target - shift, then repeating with the new
 * shift, is a fixed-point iteration that converges when the shift changes slowly with the aim
 * point (small moves of the transducer keep the beam's path through the same patch of bone).
 * k-Plan and BabelBrain correct the same way, by re-aiming from a simulated focus; the entry point
 * on the scalp stays where it was, so the beam keeps its path.
 *
 * `simulateAt(aim)` runs the full plan aimed at `aim` (RAS, m) and returns where the peak landed;
 * the loop keeps the best run, stops at the tolerance, after `maxIterations`, when a run refuses
 * (a pose the device cannot reach), or when an iteration does not reduce the shift.
 */
import type { Vec3 } from '../volume/types.ts'

export interface AimedRun {
  /** Intracranial peak position (RAS, m). */
  readonly peakRasM: Vec3
}

export interface FocusCorrectionOptions {
  readonly maxIterations: number
  /** Stop once the peak is this close to the target [m]. */
  readonly toleranceM: number
  /** Errors that mean "this aim cannot be placed" (the loop stops and keeps its best); others propagate. */
  readonly isRefusal?: (error: unknown) => boolean
}

export interface FocusCorrectionResult<R extends AimedRun> {
  readonly best: R
  readonly bestAimRasM: Vec3
  readonly iterations: number
  readonly initialShiftM: number
  readonly residualM: number
  /** Why the loop stopped before reaching the tolerance, if it did. */
  readonly stoppedBecause: string | null
}

const distance = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])

export async function correctFocus<R extends AimedRun>(
  targetRasM: Vec3,
  initial: R,
  simulateAt: (aimRasM: Vec3, iteration: number) => Promise<R>,
  options: FocusCorrectionOptions,
): Promise<FocusCorrectionResult<R>> {
  const initialShiftM = distance(initial.peakRasM, targetRasM)
  let best = initial
  let bestAim = targetRasM
  let bestShift = initialShiftM
  let iterations = 0
  let stoppedBecause: string | null = null
  while (bestShift > options.toleranceM) {
    if (iterations >= options.maxIterations) {
      stoppedBecause = `reached ${options.maxIterations} iteration(s)`
      break
    }
    iterations++
    const aim: Vec3 = [0, 1, 2].map((d) => bestAim[d]! - (best.peakRasM[d]! - targetRasM[d]!)) as unknown as Vec3
    let next: R
    try {
      next = await simulateAt(aim, iterations)
    } catch (e) {
      if (!options.isRefusal?.(e)) throw e
      stoppedBecause = `iteration ${iterations} could not be placed: ${e instanceof Error ? e.message : String(e)}`
      break
    }
    const shift = distance(next.peakRasM, targetRasM)
    if (shift >= bestShift) {
      stoppedBecause = `iteration ${iterations} did not reduce the shift (${(shift * 1000).toFixed(2)} mm against ${(bestShift * 1000).toFixed(2)} mm)`
      break
    }
    best = next
    bestAim = aim
    bestShift = shift
  }
  return { best, bestAimRasM: bestAim, iterations, initialShiftM, residualM: bestShift, stoppedBecause }
}
