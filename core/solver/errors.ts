/** A simulation input that cannot run, with the field at fault named (e.g. "medium.sound_speed"). */
export class SimulationInputError extends Error {
  override readonly name = 'SimulationInputError'
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`)
  }
}

/** The numerics failed (instability, NaN): never returned as a field. */
export class SimulationNumericalError extends Error {
  override readonly name = 'SimulationNumericalError'
}

export function isAbortError(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError'
}

export function abortError(): Error {
  const e = new Error('simulation cancelled')
  e.name = 'AbortError'
  return e
}
