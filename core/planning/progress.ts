/**
 * One progress figure for a whole plan run, across its stages (reading, segmenting, the head and
 * free-water simulations, resampling, writing, the thermal model), so the app shows one bar
 * with one time left instead of a bar that restarts at every stage.
 *
 * Each stage has a weight: its typical share of a plan's wall time, measured on this project's
 * CPU runs of the sample CT at 2-3 points per wavelength (e2e: ~200 s without thermal, ~265 s
 * with an 80 s theta-burst protocol; the two simulations dominate, free water stopping a little
 * earlier than the head). Within a stage the fraction reported by the stage is used (solver
 * steps against the step limit: an upper bound, so a simulation that reaches steady state early
 * makes the bar jump forward, never back).
 */

export interface RunShape {
  /** A thermal protocol follows the acoustics. */
  readonly thermal: boolean
  /** The MRI is read (and registered, unless a transform is given). */
  readonly mri: boolean
  readonly registers: boolean
}

export interface StageWeight {
  /** The stage name as the plan runner reports it (a prefix: "correcting the focus (iteration 2)"). */
  readonly stage: string
  readonly weight: number
}

export function stageWeights(shape: RunShape): StageWeight[] {
  const all: (StageWeight | false)[] = [
    { stage: 'reading the CT', weight: 1 },
    shape.mri && { stage: 'reading the MRI', weight: 1 },
    shape.registers && { stage: 'registering the MRI to the CT', weight: 5 },
    { stage: 'segmenting the head', weight: 2 },
    { stage: 'placing the transducer', weight: 1 },
    { stage: 'simulating in the head', weight: 45 },
    { stage: 'simulating in free water', weight: 35 },
    { stage: 'resampling onto the CT', weight: 2 },
    { stage: 'writing the plan folder', weight: 2 },
    shape.thermal && { stage: 'thermal model', weight: 30 },
  ]
  return all.filter((w): w is StageWeight => w !== false)
}

/** Tracks one run: feed it each progress event, read the overall fraction and time left. */
export class OverallProgress {
  private readonly total: number
  private best = 0

  constructor(private readonly weights: readonly StageWeight[]) {
    this.total = weights.reduce((s, w) => s + w.weight, 0)
  }

  /**
   * The overall fraction (0..1, never decreasing) after `stage` reached `stageFraction`, and the
   * seconds left at the rate so far (undefined until 5 % is done: too early to say).
   */
  update(stage: string, stageFraction: number | undefined, elapsedS: number): { fraction: number; etaS?: number } {
    const index = this.weights.findIndex((w) => stage.startsWith(w.stage))
    if (index >= 0) {
      const before = this.weights.slice(0, index).reduce((s, w) => s + w.weight, 0)
      const within = Math.min(1, Math.max(0, stageFraction ?? 0)) * this.weights[index]!.weight
      this.best = Math.max(this.best, (before + within) / this.total)
    }
    const fraction = Math.min(1, this.best)
    if (fraction < 0.05 || fraction >= 1 || !(elapsedS > 0)) return { fraction }
    return { fraction, etaS: (elapsedS * (1 - fraction)) / fraction }
  }
}

/** Seconds as people read a time left: "42 s", "3 min 5 s"; '' for an unknown time. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return ''
  const whole = Math.ceil(seconds)
  if (whole < 60) return `${whole} s`
  return `${Math.floor(whole / 60)} min ${whole % 60} s`
}
