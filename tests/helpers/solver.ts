import { parseScene } from '../../core/solver/scene.ts'
import { runSimulation } from '../../core/solver/run.ts'
import { cpuBackend } from '../../core/solver/cpu/backend.ts'

/** Runs a scene object on the CPU backend. */
export async function runScene(scene: unknown) {
  const s = parseScene(scene)
  const result = await runSimulation({ grid: s.grid, medium: s.medium, source: s.source, settings: s.settings, backend: cpuBackend })
  return { scene: s, result }
}

/**
 * A plane wave along x on a periodic 4 x 4 cross-section: a 1D problem solved by the 3D code,
 * cheap enough for exact references at fine grids.
 */
export function planeWaveScene(opts: {
  dx: number
  lengthM: number
  sourceAtM: number
  background: Record<string, number>
  objects?: unknown[]
  cfl?: number
  compensate?: boolean
}) {
  return {
    frequency_hz: 500000,
    grid: { spacing_m: opts.dx, min_m: [0, 0, 0], max_m: [opts.lengthM, 3 * opts.dx, 3 * opts.dx] },
    background: opts.background,
    objects: opts.objects ?? [],
    source: { type: 'plane', axis: 0, position_m: opts.sourceAtM, amplitude_pa: 60000 },
    solver: { pml_points: [20, 0, 0], cfl: opts.cfl ?? 0.3, ...(opts.compensate === undefined ? {} : { compensate_absorption: opts.compensate }) },
  }
}

/** Wraps a phase difference into (-pi, pi]. */
export function wrap(phase: number): number {
  return Math.atan2(Math.sin(phase), Math.cos(phase))
}
