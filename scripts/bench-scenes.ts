/**
 * The solver benchmarks' scene (bench:solver and scripts/gpu/checks.ts): a heterogeneous lossless
 * medium, a bone-like sphere in water driven by a disc, whose computational grid is exactly n^3
 * (n - 20 user points plus 2 x 10 PML points).
 */
import { parseScene } from '../core/solver/scene.ts'

export function benchSceneOfSize(n: number) {
  const dx = 0.0005
  const half = ((n - 20 - 1) * dx) / 2
  return parseScene({
    frequency_hz: 500000,
    grid: { spacing_m: dx, min_m: [0, -half, -half], max_m: [2 * half, half, half] },
    background: { sound_speed: 1500, density: 1000, alpha_db_cm: 0 },
    objects: [{ shape: 'sphere', center_m: [half, 0, 0], radius_m: half / 2, material: { sound_speed: 2800, density: 1850, alpha_db_cm: 0 } }],
    source: { type: 'disc', center_m: [0.006, 0, 0], toward_m: [0.02, 0, 0], diameter_m: Math.min(0.02, half), amplitude_pa: 60000 },
  })
}
