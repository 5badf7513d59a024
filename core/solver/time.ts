/**
 * The time axis of a continuous-wave run. An integer number of points per period (PPP) puts
 * the drive frequency exactly on a DFT bin of any whole-period window, so the steady-state
 * amplitude is a single-bin DFT (as the ITRUSST k-wave-python examples do with integer PPP).
 */
import { SimulationInputError } from './errors.ts'

export interface TimeAxis {
  /** Time step [s]. */
  readonly dtS: number
  readonly pointsPerPeriod: number
  /** Steps of the (1 - cos)/2 start-up ramp. */
  readonly rampSteps: number
  /** Steps per amplitude-extraction window (whole periods). */
  readonly windowSteps: number
  /** Domain traversal time at the slowest sound speed [s] (k-Wave makeTime's t_end). */
  readonly traversalS: number
  /** Earliest step at which the first window may start: the ramp plus windowStartTraversals traversals. */
  readonly firstWindowStartStep: number
  /** The ramp plus one whole traversal: when a fixed-length run (k-Wave's) has settled. */
  readonly traversalEndStep: number
  /** Upper bound on the run length [steps]. */
  readonly maxSteps: number
  /** Courant number actually used, c_max dt / dx. */
  readonly cfl: number
}

export interface TimeAxisInput {
  readonly frequencyHz: number
  readonly spacingM: number
  readonly domainLengthsM: readonly [number, number, number]
  readonly cMin: number
  readonly cMax: number
  readonly cfl: number
  /** Largest stable step [s] (Infinity when unconditionally stable). */
  readonly dtStabilityLimitS: number
  readonly rampPeriods: number
  readonly windowPeriods: number
  readonly windowStartTraversals: number
  readonly maxTraversals: number
}

export function makeTimeAxis(input: TimeAxisInput): TimeAxis {
  const { frequencyHz, spacingM, cMin, cMax } = input
  if (!(input.cfl > 0 && input.cfl <= 1)) throw new SimulationInputError('solver.cfl', `must be in (0, 1], got ${input.cfl}`)
  const dtCfl = Math.min((input.cfl * spacingM) / cMax, input.dtStabilityLimitS)
  const pointsPerPeriod = Math.ceil(1 / (frequencyHz * dtCfl) - 1e-9)
  const dtS = 1 / (pointsPerPeriod * frequencyHz)
  const traversalS = Math.hypot(...input.domainLengthsM) / cMin
  const rampSteps = Math.round(input.rampPeriods * pointsPerPeriod)
  const windowSteps = Math.max(1, Math.round(input.windowPeriods)) * pointsPerPeriod
  const traversalEndStep = rampSteps + Math.ceil(traversalS / dtS)
  const firstWindowStartStep = rampSteps + Math.ceil((input.windowStartTraversals * traversalS) / dtS - 1e-9)
  const maxSteps = Math.max(traversalEndStep + 3 * windowSteps, rampSteps + Math.ceil((input.maxTraversals * traversalS) / dtS))
  return { dtS, pointsPerPeriod, rampSteps, windowSteps, traversalS, firstWindowStartStep, traversalEndStep, maxSteps, cfl: (cMax * dtS) / spacingM }
}

/**
 * Largest stable time step of the k-space scheme, after k-Wave's checkStability (B. Cox 2014;
 * Tabei, Mast & Waag 2002 for the k-space corrected leap-frog): unconditionally stable when
 * lossless with c_ref >= c_max; 2/(c_ref k_max) asin(c_ref/c_max) when lossless with a smaller
 * c_ref; with absorption, the fixed point of
 *   dt = (t3 + sqrt(t3^2 + 4 t2)) / (t2 k_max kappa(dt) c_max),
 *   t3 = c_max min(tau) kappa(dt) k_max^(y-1),  t2 = 1 - min(eta) k_max^(y-1),
 *   kappa(dt) = sinc(c_ref k_max dt / 2).
 */
export function stabilityLimitS(args: {
  readonly kMax: number
  readonly cRef: number
  readonly cMax: number
  readonly minTau: number
  readonly minEta: number
  readonly alphaPower: number
  readonly absorbing: boolean
}): number {
  const { kMax, cRef, cMax, minTau, minEta, alphaPower: y } = args
  if (!args.absorbing) {
    return cRef >= cMax ? Infinity : (2 / (cRef * kMax)) * Math.asin(cRef / cMax)
  }
  const sinc = (x: number) => (x === 0 ? 1 : Math.sin(x) / x)
  const kPow = Math.pow(kMax, y - 1)
  const t2 = 1 - minEta * kPow
  const solve = (kappa: number) => {
    const t3 = cMax * minTau * kappa * kPow
    return (t3 + Math.sqrt(t3 * t3 + 4 * t2)) / (t2 * kMax * kappa * cMax)
  }
  let dt = solve(1)
  for (let iteration = 0; iteration < 200; iteration++) {
    const next = solve(sinc((cRef * kMax * dt) / 2))
    if (Math.abs(next - dt) < 1e-15) return next
    dt = next
  }
  return dt
}
