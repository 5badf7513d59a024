/**
 * A small heterogeneous scene for solver-engine comparisons (threads, kernels): a bowl focusing
 * through an absorbing sphere on a 1 mm grid (56^3 with the absorbing layer), with the
 * background's absorption an eighth of the sphere's and the given power law.
 */
import { parseScene } from '../../core/solver/scene.ts'

export function smallBowlScene(alphaPower: number, alphaDbCm: number, solver: Record<string, number> = {}) {
  return parseScene({
    frequency_hz: 500000,
    grid: { spacing_m: 0.001, min_m: [0, -0.01, -0.01], max_m: [0.026, 0.01, 0.01] },
    background: { sound_speed: 1500, density: 1000, alpha_db_cm: alphaDbCm / 8, alpha_power: alphaPower },
    objects: [{ shape: 'sphere', center_m: [0.016, 0.002, 0], radius_m: 0.004, material: { sound_speed: 2200, density: 1500, alpha_db_cm: alphaDbCm } }],
    source: { type: 'bowl', apex_m: [0, 0, 0], focus_m: [0.018, 0, 0], roc_m: 0.018, aperture_m: 0.018, amplitude_pa: 60000 },
    solver,
  })
}
