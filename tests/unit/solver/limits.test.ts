/**
 * The solver's caps (core/solver/limits.ts) and its memory estimate: every scene a tester broke
 * the solver with is refused by `tfus simulate` with exit 2 and one line naming the file and
 * setting, in well under a second, without the process growing (nothing grid-sized is
 * allocated) and without writing anything. A NaN field is exit 3 with one line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { promises as fs, readFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { cli } from '../../helpers/cli.ts'
import { parseScene } from '../../../core/solver/scene.ts'
import { setupSimulation } from '../../../core/solver/setup.ts'
import { runSimulation, type BackendFactory } from '../../../core/solver/run.ts'
import { buildEngineData } from '../../../core/solver/cpu/engine.ts'
import { SimulationInputError } from '../../../core/solver/errors.ts'
import { estimateSolverMemory, MAX_GRID_CELLS, MAX_TIME_STEPS } from '../../../core/solver/limits.ts'
import { validateTransducer, TransducerDefinitionError } from '../../../core/transducers/schema.ts'
import { hostMemoryBudget } from '../../../electron/adapters/host-memory.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const PLANE = JSON.parse(readFileSync(path.join(ROOT, 'resources/scenes/layer-plane-wave.json'), 'utf8'))
const BM1 = JSON.parse(readFileSync(path.join(ROOT, 'resources/scenes/itrusst-bm1-1mm.json'), 'utf8'))
const RSS_GROWTH_CAP = 200 * 2 ** 20
const TIME_CAP_MS = 1500

let dir: string
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-limits-'))
})
afterAll(async () => {
  delete process.env.TFUS_MEMORY_LIMIT_BYTES
  await fs.rm(dir, { recursive: true, force: true })
})

/** A copy of `base` with `value` at `keys`. */
function withKey(base: unknown, keys: ReadonlyArray<string | number>, value: unknown): unknown {
  const copy = structuredClone(base) as Record<string | number, unknown>
  let at = copy
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string | number, unknown>
  at[keys[keys.length - 1]!] = value
  return copy
}

let count = 0
async function simulateRefused(scene: unknown, names: RegExp) {
  const file = path.join(dir, `scene-${++count}.json`)
  const out = path.join(dir, `out-${count}`)
  await fs.writeFile(file, JSON.stringify(scene))
  const rss = process.memoryUsage().rss
  const t0 = performance.now()
  const r = await cli(['simulate', file, '--out', out, '--backend', 'cpu'])
  const ms = performance.now() - t0
  expect(r.code, r.err).toBe(2)
  expect(r.err.split('\n'), r.err).toHaveLength(1)
  expect(r.err).not.toMatch(/^\s+at /m)
  expect(r.err).toContain(`scene-${count}.json: `)
  expect(r.err).toMatch(names)
  expect(ms).toBeLessThan(TIME_CAP_MS)
  expect(process.memoryUsage().rss - rss).toBeLessThan(RSS_GROWTH_CAP)
  await expect(fs.access(out)).rejects.toThrow()
}

/** A refusal takes milliseconds; without its check a case would run a simulation, so fail fast instead. */
const FAIL_FAST_MS = 20_000

describe('tfus simulate refuses what would run away, before allocating', () => {
  it(
    'a 2000^3 grid (with an object to rasterise): 8e9 points, no 96 GB medium',
    async () => {
      await simulateRefused(
        withKey(PLANE, ['grid', 'max_m'], [0.5, 0.5, 0.5]),
        /grid: 2001 x 2001 x 2001 = 8\.0e9 points is more than the solver's 1\.1e9 cells/,
      )
    },
    FAIL_FAST_MS,
  )

  it(
    'pml_points 1e6, and a PML thicker than the grid',
    async () => {
      await simulateRefused(withKey(PLANE, ['solver', 'pml_points'], [1_000_000, 0, 0]), /solver\.pml_points\[0\]: 1\.0e6 points is more than 64 per side/)
      await simulateRefused(
        withKey(PLANE, ['solver', 'pml_points'], [20, 0, 8]),
        /solver\.pml_points\[2\]: 8 points per side is thicker than the grid it surrounds \(4 points along axis 2\)/,
      )
    },
    FAIL_FAST_MS,
  )

  it(
    'frequencies outside 20 kHz - 10 MHz (1 THz, 1 Hz)',
    async () => {
      await simulateRefused(withKey(PLANE, ['frequency_hz'], 1e12), /frequency_hz: 1\.0e12 Hz is outside the solver's range 20 kHz to 10 MHz/)
      await simulateRefused(withKey(PLANE, ['frequency_hz'], 1), /frequency_hz: 1 Hz is outside/)
    },
    FAIL_FAST_MS,
  )

  it(
    'ramp_periods 1e9, max_traversals 1e9, window_periods 1e9, source_upsampling 1e5, bli_tolerance 1e-6',
    async () => {
      await simulateRefused(withKey(PLANE, ['solver', 'ramp_periods'], 1e9), /solver\.ramp_periods: must be at least 0 and at most 100, got 1\.0e9/)
      await simulateRefused(withKey(PLANE, ['solver', 'max_traversals'], 1e9), /solver\.max_traversals: .*at most 50, got 1\.0e9/)
      await simulateRefused(withKey(PLANE, ['solver', 'window_periods'], 1e9), /solver\.window_periods: .*at most 100, got 1\.0e9/)
      await simulateRefused(withKey(BM1, ['solver'], { source_upsampling: 1e5 }), /solver\.source_upsampling: .*at most 100, got 1\.0e5/)
      await simulateRefused(withKey(BM1, ['solver'], { bli_tolerance: 1e-6 }), /solver\.bli_tolerance: must be at least 0\.01/)
    },
    FAIL_FAST_MS,
  )

  it(
    'a run of more than 1e6 time steps (a tiny CFL number)',
    async () => {
      await simulateRefused(
        withKey(PLANE, ['solver', 'cfl'], 1e-5),
        /solver\.cfl: the run would take up to \d\.\de\d+ time steps .* more than the solver's 1\.0e6/,
      )
    },
    FAIL_FAST_MS,
  )

  it(
    "a grid this machine's memory cannot hold: the estimate against the host's budget",
    async () => {
      // 241 x 241 x 241 of homogeneous water (nothing rasterised): ~1.6 GiB of solver arrays.
      const big = { ...BM1, grid: { spacing_m: 0.0005, min_m: [0, -0.06, -0.06], max_m: [0.12, 0.06, 0.06] } }
      process.env.TFUS_MEMORY_LIMIT_BYTES = String(512 * 2 ** 20)
      try {
        await simulateRefused(
          big,
          /grid\.size: 241 x 241 x 241 \(computational grid \d+ x \d+ x \d+ = .* cells with the PML and FFT padding\) needs ~\d\.\d GiB, more than the 512 MiB this machine can give it/,
        )
      } finally {
        delete process.env.TFUS_MEMORY_LIMIT_BYTES
      }
      expect(hostMemoryBudget({}).availableBytes).toBeLessThanOrEqual(0.8 * os.totalmem())
      expect(hostMemoryBudget({ TFUS_MEMORY_LIMIT_BYTES: '1000' }).availableBytes).toBe(1000)
      // The variable only lowers the budget.
      expect(hostMemoryBudget({ TFUS_MEMORY_LIMIT_BYTES: String(2 ** 60) }).availableBytes).toBe(hostMemoryBudget({}).availableBytes)
    },
    FAIL_FAST_MS,
  )
})

describe('tfus simulate checks --out before the run', () => {
  it(
    'a folder under a regular file is refused at once, not after the simulation',
    async () => {
      const file = path.join(dir, 'a-file')
      await fs.writeFile(file, 'x')
      const scene = path.join(dir, 'plane.json')
      await fs.writeFile(scene, JSON.stringify(PLANE))
      const t0 = performance.now()
      const r = await cli(['simulate', scene, '--out', path.join(file, 'sub'), '--backend', 'cpu'])
      expect(r.code).toBe(2)
      expect(r.err.split('\n')).toHaveLength(1)
      expect(r.err).toMatch(/--out: .*a-file\/sub cannot be created: .*a-file is a file/)
      expect(performance.now() - t0).toBeLessThan(TIME_CAP_MS)
    },
    FAIL_FAST_MS,
  )
})

describe('every caller gets the checks (the solver validate step)', () => {
  const scene = parseScene(BM1)

  it("runSimulation refuses a plan over the backend's memory budget before the backend allocates", async () => {
    let made = false
    const factory: BackendFactory = Object.assign(
      async () => {
        made = true
        throw new Error('never reached')
      },
      { memoryBudget: () => ({ availableBytes: 64 * 2 ** 20, totalBytes: 2 ** 30 }) },
    )
    const run = runSimulation({ grid: scene.grid, medium: scene.medium, source: scene.source, settings: scene.settings, backend: factory })
    await expect(run).rejects.toMatchObject({
      name: 'SimulationInputError',
      field: 'grid.size',
      problem: expect.stringMatching(/more than the 64 MiB this machine can give it \(of 1\.0 GiB\)/),
    })
    expect(made).toBe(false)
  })

  it('setupSimulation alone: the same caps without a budget, the memory with one', () => {
    expect(() => setupSimulation(scene.grid, scene.medium, scene.source, scene.settings)).not.toThrow()
    expect(() => setupSimulation(scene.grid, scene.medium, scene.source, scene.settings, { memory: { availableBytes: 1e6 } })).toThrow(SimulationInputError)
    expect(() => setupSimulation(scene.grid, scene.medium, { ...scene.source, frequencyHz: 50e6 }, scene.settings)).toThrow(/frequency_hz/)
    expect(() => setupSimulation(scene.grid, scene.medium, scene.source, { ...scene.settings, maxTraversals: 1e9 })).toThrow(/solver\.max_traversals/)
    expect(() => setupSimulation({ ...scene.grid, size: [2048, 2048, 2048] }, scene.medium, scene.source, scene.settings)).toThrow(
      /grid\.size: 2048 x 2048 x 2048 = 8\.6e9 points/,
    )
  })

  it('the memory estimate counts what buildEngineData allocates (and its temporaries) honestly', () => {
    // A varying, absorbing medium at y = 1.5: every optional array of the engine exists.
    const s = parseScene({
      ...BM1,
      background: { ...BM1.background, alpha_db_cm: 0.5, alpha_power: 1.5 },
      objects: [{ shape: 'sphere', center_m: [0.06, 0, 0], radius_m: 0.01, material: { sound_speed: 1600, density: 1100, alpha_db_cm: 2 } }],
      grid: { spacing_m: 0.001, min_m: [0, -0.034, -0.034], max_m: [0.07, 0.034, 0.034] },
    })
    const plan = setupSimulation(s.grid, s.medium, s.source, s.settings)
    const data = buildEngineData(plan)
    let held = 0
    const visit = (v: unknown) => {
      if (ArrayBuffer.isView(v)) held += v.byteLength
      else if (Array.isArray(v)) v.forEach(visit)
    }
    Object.values(data).forEach(visit)
    const [nx, ny, nz] = plan.axes.map((a) => a.total) as [number, number, number]
    const estimate = estimateSolverMemory({
      paddedSize: [nx, ny, nz],
      userSize: plan.grid.size,
      heterogeneousSoundSpeed: true,
      heterogeneousDensity: true,
      absorbing: true,
      fractional: true,
    })
    expect(plan.estimatedMemoryBytes).toBe(estimate.bytes)
    // Above what the engine keeps (it also counts the source temporaries, the results and a
    // full-grid source list), but not wildly: within 2x of it.
    expect(estimate.bytes).toBeGreaterThan(held)
    expect(estimate.bytes).toBeLessThan(2 * held)
    // Per cell: ~100 bytes for this heaviest case, ~60 for homogeneous water.
    expect(estimate.bytesPerCell).toBeGreaterThan(80)
    const water = estimateSolverMemory({
      paddedSize: [128, 128, 128],
      userSize: [100, 100, 100],
      heterogeneousSoundSpeed: false,
      heterogeneousDensity: false,
      absorbing: false,
      fractional: false,
    })
    expect(water.bytesPerCell).toBeGreaterThan(40)
    expect(water.bytesPerCell).toBeLessThan(estimate.bytesPerCell)
  })

  it('transducer files outside the frequency range are refused when read', () => {
    const base = JSON.parse(readFileSync(path.join(ROOT, 'resources/transducers/itrusst-bm-bowl.json'), 'utf8'))
    expect(() => validateTransducer(base, 'bowl.json')).not.toThrow()
    for (const f of [1e12, 500]) {
      try {
        validateTransducer({ ...base, frequency_hz: f }, 'bowl.json')
        expect.unreachable()
      } catch (e) {
        expect(e).toBeInstanceOf(TransducerDefinitionError)
        expect((e as TransducerDefinitionError).field).toBe('frequency_hz')
      }
    }
  })

  it('caps are what the README says', () => {
    expect(MAX_GRID_CELLS).toBe(2 ** 30)
    expect(MAX_TIME_STEPS).toBe(1e6)
  })
})

describe('a field that goes non-finite', () => {
  it('is exit 3 with one line saying so (a source amplitude beyond float32, on a tiny grid)', async () => {
    const scene = {
      frequency_hz: 500000,
      grid: { spacing_m: 0.0005, min_m: [0, 0, 0], max_m: [0.02, 0.0015, 0.0015] },
      background: { sound_speed: 1500, density: 1000, alpha_db_cm: 0 },
      source: { type: 'plane', axis: 0, position_m: 0.005, amplitude_pa: 1e38 },
      solver: { pml_points: [10, 0, 0] },
    }
    const file = path.join(dir, 'unstable.json')
    await fs.writeFile(file, JSON.stringify(scene))
    const out = path.join(dir, 'unstable-out')
    const r = await cli(['simulate', file, '--out', out, '--backend', 'cpu'])
    expect(r.code).toBe(3)
    expect(r.err.split('\n')).toHaveLength(1)
    expect(r.err).toMatch(/^tfus: numerical failure: the field became non-finite by step \d+/)
    await expect(fs.access(out)).rejects.toThrow()
  }, 30_000)
})
