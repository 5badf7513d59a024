/**
 * `tfus simulate`: outputs, exit codes, progress and cancellation.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { readVolume } from '../../../electron/adapters/volume-io.ts'
import { parseScene } from '../../../core/solver/scene.ts'
import { runSimulation, type BackendFactory } from '../../../core/solver/run.ts'
import { cpuBackend } from '../../../core/solver/cpu/backend.ts'
import { SimulationNumericalError } from '../../../core/solver/errors.ts'
import { planeWaveScene } from '../../helpers/solver.ts'
import { cli } from '../../helpers/cli.ts'

let dir: string
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-sim-'))
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

const SMALL_BOWL = {
  frequency_hz: 500000,
  grid: { spacing_m: 0.001, min_m: [0, -0.012, -0.012], max_m: [0.03, 0.012, 0.012] },
  background: { sound_speed: 1500, density: 1000, alpha_db_cm: 0 },
  source: { type: 'bowl', apex_m: [0, 0, 0], focus_m: [0.02, 0, 0], roc_m: 0.02, aperture_m: 0.02, amplitude_pa: 60000 },
}

async function sceneFile(name: string, scene: unknown): Promise<string> {
  const file = path.join(dir, name)
  await fs.writeFile(file, typeof scene === 'string' ? scene : JSON.stringify(scene))
  return file
}

describe('tfus simulate', () => {
  it('writes p_amp.nii.gz, p_phase.nii.gz (scene frame in mm) and metrics.json', async () => {
    const file = await sceneFile('bowl.json', SMALL_BOWL)
    const out = path.join(dir, 'bowl-out')
    const r = await cli(['simulate', file, '--out', out, '--backend', 'cpu'])
    expect(r.code, r.err).toBe(0)
    const metrics = JSON.parse(await fs.readFile(path.join(out, 'metrics.json'), 'utf8'))
    for (const key of [
      'peak_pa',
      'peak_position_m',
      'fwhm_6db_axial_m',
      'fwhm_6db_lateral_m',
      'steps',
      'dt_s',
      'grid_size',
      'padded_grid_size',
      'backend',
      'device',
      'wall_s',
      'steady_state_residual',
      'warnings',
    ]) {
      expect(metrics).toHaveProperty(key)
    }
    expect(metrics.grid_size).toEqual([31, 25, 25])
    expect(metrics.backend).toBe('cpu')
    expect(metrics.warnings.join(' ')).toMatch(/points per wavelength/)
    const amp = await readVolume(path.join(out, 'p_amp.nii.gz'), { modality: 'OT' })
    expect(amp.dims).toEqual([31, 25, 25])
    // The NIfTI world coordinates (RAS) are the scene's numbers: voxel (0,0,0) at (0, -12, -12) mm.
    expect(amp.originM[0]).toBeCloseTo(-0, 9)
    expect(-amp.originM[1]).toBeCloseTo(-0.012, 9)
    expect(amp.originM[2]).toBeCloseTo(-0.012, 9)
    let max = 0
    for (const v of amp.data) max = Math.max(max, v)
    expect(max).toBeCloseTo(metrics.peak_pa, -4)
  })

  const bad: Array<[string, unknown, RegExp]> = [
    ['negative sound speed', { ...SMALL_BOWL, background: { ...SMALL_BOWL.background, sound_speed: -1500 } }, /background\.sound_speed/],
    [
      'source outside the grid',
      { ...SMALL_BOWL, source: { ...SMALL_BOWL.source, apex_m: [-0.05, 0, 0] } },
      /^tfus: error: \S+bad-source-outside-the-grid\.json: source:.*outside the grid/,
    ],
    ['missing frequency', { ...SMALL_BOWL, frequency_hz: undefined }, /frequency_hz: is missing/],
    [
      'missing source field',
      { ...SMALL_BOWL, source: { type: 'bowl', apex_m: [0, 0, 0], focus_m: [0.02, 0, 0], roc_m: 0.02, amplitude_pa: 1 } },
      /source\.aperture_m: is missing/,
    ],
    [
      'material exponent differing from the global one',
      {
        ...SMALL_BOWL,
        objects: [
          { shape: 'sphere', center_m: [0.02, 0, 0], radius_m: 0.003, material: { sound_speed: 1600, density: 1000, alpha_db_cm: 1, alpha_power: 1.5 } },
        ],
      },
      /objects\[0\]\.material\.alpha_power/,
    ],
    ['grid span not a whole number of steps', { ...SMALL_BOWL, grid: { ...SMALL_BOWL.grid, max_m: [0.0305, 0.012, 0.012] } }, /grid\.max_m\[0\]/],
    ['not JSON', '{ "frequency_hz": 5', /not valid JSON/],
  ]
  for (const [name, scene, message] of bad) {
    it(`exits 2 naming the field: ${name}`, async () => {
      const file = await sceneFile(`bad-${name.replace(/\W+/g, '-')}.json`, scene)
      const r = await cli(['simulate', file, '--out', path.join(dir, 'never')])
      expect(r.code).toBe(2)
      expect(r.err.split('\n')).toHaveLength(1)
      expect(r.err).toMatch(message)
    })
  }

  it('a missing scene file exits 2 naming it', async () => {
    const r = await cli(['simulate', path.join(dir, 'nope.json'), '--out', path.join(dir, 'never')])
    expect(r.code).toBe(2)
    expect(r.err).toContain('nope.json')
  })
})

describe('runSimulation control', () => {
  it('reports progress and stops when cancelled', async () => {
    const s = parseScene(planeWaveScene({ dx: 0.0005, lengthM: 0.04, sourceAtM: 0.01, background: { sound_speed: 1500, density: 1000, alpha_db_cm: 0 } }))
    const controller = new AbortController()
    const seen: number[] = []
    const run = runSimulation({
      grid: s.grid,
      medium: s.medium,
      source: s.source,
      settings: s.settings,
      backend: cpuBackend,
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.step)
        if (p.step >= 100) controller.abort()
      },
    })
    await expect(run).rejects.toMatchObject({ name: 'AbortError' })
    expect(seen.length).toBeGreaterThan(2)
    expect(Math.max(...seen)).toBeLessThan(200)
  })

  it('never returns a non-finite field: an unstable backend is a numerical failure', async () => {
    const s = parseScene(planeWaveScene({ dx: 0.0005, lengthM: 0.04, sourceAtM: 0.01, background: { sound_speed: 1500, density: 1000, alpha_db_cm: 0 } }))
    const exploding: BackendFactory = async (plan) => {
      const n = plan.grid.size[0] * plan.grid.size[1] * plan.grid.size[2]
      return {
        name: 'cpu',
        device: 'test double',
        async advance() {},
        async takeWindow() {
          return { re: new Float32Array(n).fill(Number.NaN), im: new Float32Array(n) }
        },
        dispose() {},
      }
    }
    await expect(runSimulation({ grid: s.grid, medium: s.medium, source: s.source, settings: s.settings, backend: exploding })).rejects.toBeInstanceOf(
      SimulationNumericalError,
    )
  })
})
