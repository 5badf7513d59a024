/**
 * The thermal model's caps: what a protocol may ask for and what a run may allocate, with the
 * reason for each (README "Limits"). The protocol contract (core/contracts/thermal-protocol.ts) checks
 * the caps that need no grid when a file is read; the schedule (./schedule.ts) counts its
 * segments and steps before it expands anything; runThermal (./run.ts) checks the grid, the
 * memory and the scaled pressure before it builds the problem. Refusals are
 * SimulationInputError naming the field, as the solver's.
 */
import { SimulationInputError } from '../solver/errors.ts'
import { formatBytes, formatCount, MAX_GRID_CELLS, type MemoryBudget, type MemoryEstimate } from '../solver/limits.ts'

/**
 * Total simulated time of a protocol (sonications, gaps, cooling) [s]. A TUS session is minutes
 * (ITRUSST: sonications of seconds to tens of minutes; the bundled protocols are 200 s and
 * 780 s); 4 hours covers a long session with its cooling, and keeps a mistyped duration (1e9 s,
 * 31 years) from becoming millions of time steps.
 */
export const MAX_PROTOCOL_DURATION_S = 4 * 3600
/**
 * Time steps of one thermal run (each a sweep of the grid, run twice: maps, then the hottest
 * voxels' time courses). 2 million steps of a 1 mm head grid is hours of CPU time, and the
 * per-step time courses alone are ~100 MB.
 */
export const MAX_THERMAL_STEPS = 2_000_000
/**
 * Pulse trains in a protocol, all sonications together: every train is at least an on and an
 * off segment of one step each, so more than half the step cap can never run.
 */
export const MAX_TRAINS = MAX_THERMAL_STEPS / 2
/**
 * A sonication's pressure multiplier on the plan's drive level. The heating goes with its
 * square: 100 is 10^4 times the planned power. A plan's in-situ pressure is ~0.1-1 MPa, so a
 * larger factor takes any plan past the ~25 MPa intrinsic cavitation threshold below, where the
 * linear acoustic field and the heat source Q = alpha p^2 / (rho c) no longer describe anything;
 * re-plan at the intended drive level instead.
 */
export const MAX_DRIVE_SCALE = 100
/**
 * Peak pressure amplitude beyond which the model is refused [Pa]: the intrinsic cavitation
 * threshold of water-based tissue, 24-30 MPa peak negative pressure for single pulses (K. J.
 * Maxwell et al., "Probability of cavitation for single ultrasound pulses applied to tissues and
 * tissue-mimicking materials", Ultrasound Med. Biol. 39(3):449-465, 2013). A linear CW field of
 * amplitude p has a peak negative pressure p, so above it the tissue cavitates (and boils long
 * before the linear rise says so).
 */
export const MAX_PRESSURE_PA = 25e6
/** Thermal grid voxels: the acoustic solver's cap (the thermal grid is its simulation grid). */
export const MAX_THERMAL_VOXELS = MAX_GRID_CELLS

/**
 * Peak memory of a thermal run [bytes]: the problem (labels 1 B, 1/(rho c) and heating rate 4 B
 * each, three face conductances 12 B: 21 B per voxel), the CPU backend's float64 rise pair,
 * maximum and dose (32 B) and its float32 outputs (12 B), the temperature map (4 B); per step,
 * the tracked maxima and probe courses of both passes and their times (~56 B). The WebGPU
 * backend holds less on the host; the CPU reference is the bound.
 */
export function estimateThermalMemory(voxels: number, steps: number): MemoryEstimate {
  const bytes = voxels * (21 + 32 + 12 + 4) + (steps + 1) * 56
  return { bytes, cells: voxels, bytesPerCell: bytes / Math.max(1, voxels) }
}

/** The grid and, once the steps are known, the memory against the budget. */
export function checkThermalGrid(dims: readonly [number, number, number], steps: number, budget: MemoryBudget | undefined): void {
  const voxels = dims[0] * dims[1] * dims[2]
  if (!(voxels <= MAX_THERMAL_VOXELS)) {
    throw new SimulationInputError(
      'grid',
      `${dims.join(' x ')} = ${formatCount(voxels)} voxels is more than the thermal model's ${formatCount(MAX_THERMAL_VOXELS)} (the solver's cap)`,
    )
  }
  const estimate = estimateThermalMemory(voxels, steps)
  if (budget && Number.isFinite(budget.availableBytes) && estimate.bytes > budget.availableBytes) {
    const total = budget.totalBytes ? ` (of ${formatBytes(budget.totalBytes)})` : ''
    throw new SimulationInputError(
      'grid',
      `the thermal model on ${dims.join(' x ')} voxels${steps > 0 ? ` over ${steps} steps` : ''} needs ~${formatBytes(estimate.bytes)}, more than the ${formatBytes(budget.availableBytes)} this machine can give it${total}`,
    )
  }
}
