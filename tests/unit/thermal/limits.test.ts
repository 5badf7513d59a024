/**
 * The thermal model's caps (core/thermal/limits.ts): a protocol of 1e9 trains, a 31-year
 * sonication or a drive scale of 1e6 is refused with exit 2 and one line naming the file and
 * field, quickly and without allocating; the schedule is counted before it is expanded; the
 * grid and memory are checked before the problem is built; a temperature or dose that
 * overflows is exit 3 with one line naming the drive scale as the likely cause.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { promises as fs, readFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { cli } from '../../helpers/cli.ts'
import { writeVolume } from '../../../electron/adapters/volume-io.ts'
import { createVolume } from '../../../core/volume/geometry.ts'
import { PLAN_FILES, TISSUE_LABELS } from '../../../core/contracts/plan.ts'
import { thermalProtocolRecord } from '../../../core/contracts/thermal-protocol.ts'
import { buildSchedule, checkScheduleSize } from '../../../core/thermal/schedule.ts'
import { runThermal, type ThermalFieldInputs } from '../../../core/thermal/run.ts'
import type { ThermalBackend } from '../../../core/thermal/backend.ts'
import { createCpuThermalBackend } from '../../../core/thermal/cpu.ts'
import { SimulationInputError, SimulationNumericalError } from '../../../core/solver/errors.ts'
import { MAX_DRIVE_SCALE, MAX_PROTOCOL_DURATION_S, MAX_THERMAL_STEPS } from '../../../core/thermal/limits.ts'
import type { Vec3, VoxelArray } from '../../../core/volume/types.ts'
import { planRecordFixture } from '../db/fixtures.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const RSS_GROWTH_CAP = 200 * 2 ** 20
const TIME_CAP_MS = 1500
/** Without its check a case would expand or run a huge schedule: fail fast instead. */
const FAIL_FAST_MS = 20_000
const N = 12

let dir: string
let planDir: string
let hotPlanDir: string

/** A head-like ball (skin, skull, brain) in water on a 12^3 1 mm grid, focus in the brain. */
async function writePlanFolder(target: string, peakPa: number, widthVoxels = 2): Promise<void> {
  await fs.mkdir(path.join(target, 'medium'), { recursive: true })
  const n = N ** 3
  const tissue = new Uint8Array(n)
  const pressure = new Float32Array(n)
  const c = (N - 1) / 2
  for (let k = 0; k < N; k++)
    for (let j = 0; j < N; j++)
      for (let i = 0; i < N; i++) {
        const v = i + N * (j + N * k)
        const r = Math.hypot(i - c, j - c, k - c)
        tissue[v] = r > 5.5 ? TISSUE_LABELS.water : r > 5 ? TISSUE_LABELS.skin : r > 4 ? TISSUE_LABELS.skull : TISSUE_LABELS.brain
        pressure[v] = peakPa * Math.exp(-(r * r) / (widthVoxels * widthVoxels))
      }
  const by = (water: number, skin: number, skull: number, brain: number) => Float32Array.from(tissue, (t) => [water, skin, skull, brain][t]!)
  const volume = (data: VoxelArray) =>
    createVolume({
      dims: [N, N, N] as Vec3,
      spacingM: [0.001, 0.001, 0.001],
      originM: [0, 0, 0],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      data,
      meta: { modality: 'OT' },
    })
  await writeVolume(volume(pressure), path.join(target, PLAN_FILES.pressureSim))
  await writeVolume(volume(by(1000, 1090, 1900, 1045)), path.join(target, PLAN_FILES.density))
  await writeVolume(volume(by(1500, 1610, 2800, 1546)), path.join(target, PLAN_FILES.soundSpeed))
  await writeVolume(volume(by(0, 0.8, 6, 0.3)), path.join(target, PLAN_FILES.alphaDbCm))
  await writeVolume(volume(tissue), path.join(target, PLAN_FILES.tissue))
  await fs.writeFile(path.join(target, PLAN_FILES.plan), JSON.stringify(planRecordFixture(1), null, 2) + '\n')
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-thermal-limits-'))
  planDir = path.join(dir, 'plan')
  hotPlanDir = path.join(dir, 'hot-plan')
  await writePlanFolder(planDir, 4e5)
  await writePlanFolder(hotPlanDir, 3e6, 100)
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

const REPETITIVE = JSON.parse(readFileSync(path.join(ROOT, 'resources/protocols/repetitive-10min.json'), 'utf8'))
const SHORT = { sonications: [{ pulse_duration_s: 0.02, prf_hz: 5, train_duration_s: 2, train_interval_s: 2, trains: 1 }], cooling_s: 1 }
/** 10 s of 10 % duty cycle: at ~20 MPa in the brain a rise past 134 K, where the float32 dose overflows. */
const TEN_SECONDS = { sonications: [{ pulse_duration_s: 0.02, prf_hz: 5, train_duration_s: 10, train_interval_s: 10, trains: 1 }], cooling_s: 1 }

function sonication(patch: Record<string, unknown>, base: { sonications: Array<Record<string, unknown>> } = REPETITIVE) {
  const p = structuredClone(base) as { sonications: Array<Record<string, unknown>> }
  p.sonications[0] = { ...p.sonications[0], ...patch }
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete p.sonications[0]![k]
  return p
}

let count = 0
async function thermalCli(protocol: unknown, extra: string[] = [], plan = planDir) {
  const file = path.join(dir, `protocol-${++count}.json`)
  const out = path.join(dir, `out-${count}`)
  await fs.writeFile(file, JSON.stringify(protocol))
  const rss = process.memoryUsage().rss
  const t0 = performance.now()
  const r = await cli(['thermal', plan, '--protocol', file, '--backend', 'cpu', '--out', out, ...extra])
  return { ...r, ms: performance.now() - t0, rssGrowth: process.memoryUsage().rss - rss, file: path.basename(file), out }
}

/** `timeCapMs`: refusals that need the plan's pressure read the plan folder first (five NIfTI files). */
async function refused(protocol: unknown, names: RegExp, extra: string[] = [], timeCapMs = TIME_CAP_MS) {
  const r = await thermalCli(protocol, extra)
  expect(r.code, r.err).toBe(2)
  expect(r.err.split('\n'), r.err).toHaveLength(1)
  expect(r.err).not.toMatch(/^\s+at /m)
  expect(r.err).toMatch(names)
  expect(r.ms).toBeLessThan(timeCapMs)
  expect(r.rssGrowth).toBeLessThan(RSS_GROWTH_CAP)
  await expect(fs.access(r.out)).rejects.toThrow()
  return r
}

describe('tfus thermal refuses a protocol past the caps, naming the file and field', () => {
  it(
    'trains 1e9 (no 2e6-segment expansion and RangeError)',
    async () => {
      const r = await refused(
        sonication({ trains: 1e9, duration_s: undefined }),
        /protocol-\d+\.json: sonications\.0\.trains: the sonication would last 6\.94e\+5 h, more than the 4\.00 h/,
      )
      expect(r.err).not.toMatch(/RangeError/)
    },
    FAIL_FAST_MS,
  )

  it(
    'a duration of 1e9 s, a cooling of 1e12 s, a gap of 1e9 s, 4 h in all',
    async () => {
      await refused(sonication({ duration_s: 1e9 }), /sonications\.0\.duration_s: the sonication would last/)
      await refused({ ...REPETITIVE, cooling_s: 1e12 }, /protocol-\d+\.json: cooling_s: the protocol would simulate 2\.78e\+8 h in all/)
      await refused(sonication({ gap_after_s: 1e9 }), /sonications\.0\.gap_after_s: .* is more than the 4\.00 h/)
      // Each part within 4 h, the whole not: the longest part is named.
      await refused({ ...REPETITIVE, cooling_s: MAX_PROTOCOL_DURATION_S - 100 }, /cooling_s: the protocol would simulate 4\.\d+ h in all/)
    },
    FAIL_FAST_MS,
  )

  it(
    'more than 1e6 trains within 4 h (1 ms train interval)',
    async () => {
      await refused(
        sonication({ pulse_duration_s: 0.0001, prf_hz: 1000, train_duration_s: 0.0005, train_interval_s: 0.001, duration_s: 3600 }),
        /sonications\.0\.train_interval_s: 3\.6e6 trains is more than 1\.0e6/,
      )
    },
    FAIL_FAST_MS,
  )

  it(
    'a drive scale of 1e6 (in the file and on the command line): exit 2, not a silent exit 3',
    async () => {
      await refused(
        sonication({ drive_scale: 1e6 }),
        /sonications\.0\.drive_scale: 1000000 is more than 100: it multiplies the plan's pressure \(heating x 1\.0e12\)/,
      )
      await refused(SHORT, /--drive-scale: 1000000 is more than 100/, ['--drive-scale', '1e6'])
    },
    FAIL_FAST_MS,
  )

  it(
    "a drive scale within 100 that takes this plan's pressure past the cavitation threshold",
    async () => {
      // 0.33 MPa (the peak on the grid) x 80 = 26.5 MPa > 25 MPa: refused before the problem is built.
      await refused(
        sonication({ drive_scale: 80 }, SHORT),
        /protocol-\d+\.json: sonications\.0\.drive_scale: drive_scale 80 takes the plan's peak pressure of 0\.332 MPa to 26\.5 MPa, beyond the ~25 MPa intrinsic cavitation threshold/,
        [],
        5000,
      )
      // With --drive-scale on top, both are named.
      await refused(
        sonication({ drive_scale: 10 }, SHORT),
        /sonications\.0\.drive_scale: drive_scale 10 x the run's drive scale 8 takes/,
        ['--drive-scale', '8'],
        5000,
      )
    },
    FAIL_FAST_MS,
  )

  it(
    'a protocol too long for the grid: counted, not expanded',
    async () => {
      // 4 h of pulses at 2 Hz is 2 h on/off pieces... fine; at a 5 um grid spacing the step is tiny.
      const protocol = thermalProtocolRecord.parse({
        sonications: [{ pulse_duration_s: 0.1, prf_hz: 2, train_duration_s: 3600, train_interval_s: 3600, trains: 3 }],
      })
      const rss = process.memoryUsage().rss
      const t0 = performance.now()
      expect(() => buildSchedule(protocol, 1e-3)).toThrow(SimulationInputError)
      expect(() => checkScheduleSize(protocol, 1e-3)).toThrow(
        /^protocol: 1\.080e\+4 s at the grid's stable step of 0\.00100 s is 1\.1e7 time steps, more than the thermal model's 2\.0e6/,
      )
      // Pulses at 1 kHz slower than a 0.1 ms step: 2 pieces each, 2.2e7 in 3 h, named by their PRF.
      const fast = thermalProtocolRecord.parse({
        sonications: [{ pulse_duration_s: 0.0003, prf_hz: 1000, train_duration_s: 3600, train_interval_s: 3600, trains: 3 }],
      })
      try {
        checkScheduleSize(fast, 1e-4)
        expect.unreachable()
      } catch (e) {
        expect(e).toBeInstanceOf(SimulationInputError)
        expect((e as SimulationInputError).field).toBe('sonications.0.prf_hz')
        expect((e as SimulationInputError).problem).toMatch(/2\.2e7 on\/off segments/)
      }
      expect(performance.now() - t0).toBeLessThan(TIME_CAP_MS)
      expect(process.memoryUsage().rss - rss).toBeLessThan(RSS_GROWTH_CAP)
      // The bundled protocols stay well inside every cap.
      expect(() => buildSchedule(thermalProtocolRecord.parse(REPETITIVE), 0.1)).not.toThrow()
      expect(MAX_THERMAL_STEPS).toBe(2e6)
    },
    FAIL_FAST_MS,
  )
})

describe('tfus thermal checks --out before the run', () => {
  it(
    'a folder under a regular file is refused before the model runs',
    async () => {
      const file = path.join(dir, 'a-file')
      await fs.writeFile(file, 'x')
      const protocol = path.join(dir, 'short.json')
      await fs.writeFile(protocol, JSON.stringify(SHORT))
      const r = await cli(['thermal', planDir, '--protocol', protocol, '--backend', 'cpu', '--out', path.join(file, 'sub')])
      expect(r.code).toBe(2)
      expect(r.err.split('\n')).toHaveLength(1)
      expect(r.err).toMatch(/--out: .*a-file\/sub cannot be created: .*a-file is a file/)
    },
    FAIL_FAST_MS,
  )
})

describe('runThermal checks before it builds or runs anything', () => {
  const inputs = (peakPa: number, n = 12): ThermalFieldInputs => {
    const count = n ** 3
    return {
      dims: [n, n, n],
      spacingM: 0.001,
      labels: new Uint8Array(count).fill(TISSUE_LABELS.brain),
      density: new Float32Array(count).fill(1045),
      soundSpeed: new Float32Array(count).fill(1546),
      alphaNpM: new Float32Array(count).fill(3.4),
      pressurePa: new Float32Array(count).fill(peakPa),
    }
  }
  const neverRun: ThermalBackend = {
    name: 'cpu',
    device: 'test double',
    run: () => Promise.reject(new Error('the backend must not run')),
    dispose() {},
  }
  const protocol = thermalProtocolRecord.parse(SHORT)

  it('the grid against the memory budget, the drive scale and the scaled pressure', async () => {
    await expect(runThermal(inputs(1e5), protocol, neverRun, { memory: { availableBytes: 1000 } })).rejects.toMatchObject({
      field: 'grid',
      problem: expect.stringMatching(/needs ~\d+ MiB, more than the 1 MiB this machine can give it/),
    })
    await expect(runThermal(inputs(1e5), protocol, neverRun, { driveScale: MAX_DRIVE_SCALE * 2 })).rejects.toMatchObject({ field: 'driveScale' })
    await expect(runThermal(inputs(3e7), protocol, neverRun)).rejects.toMatchObject({
      field: 'sonications.0.drive_scale',
      problem: expect.stringMatching(/cavitation/),
    })
  })

  it('a non-finite temperature or dose is a SimulationNumericalError naming the drive scale', async () => {
    const nan: ThermalBackend = {
      name: 'cpu',
      device: 'test double',
      async run(req) {
        const n = req.problem.count
        const steps = req.batches.reduce((s, b) => s + b.steps, 0)
        return {
          maxRise: new Float32Array(n).fill(Number.NaN),
          cem43: new Float32Array(n),
          finalRise: new Float32Array(n),
          trackedMax: new Float32Array((steps + 1) * 3),
          probeRise: new Float32Array(0),
        }
      },
      dispose() {},
    }
    const scaled = thermalProtocolRecord.parse(sonication({ drive_scale: 7 }, TEN_SECONDS))
    await expect(runThermal(inputs(1e5), scaled, nan)).rejects.toSatisfy(
      (e: unknown) =>
        e instanceof SimulationNumericalError &&
        /temperature became non-finite at voxel \(0, 0, 0\).*likely cause is the drive scale \(sonications\.0\.drive_scale 7, heating x 49\.0\)/.test(
          e.message,
        ),
    )
    // And the real CPU backend on a dose that overflows float32 (a rise of hundreds of kelvin).
    await expect(runThermal(inputs(3e6), scaled, createCpuThermalBackend(), { hottestVoxelCourses: false })).rejects.toSatisfy(
      (e: unknown) => e instanceof SimulationNumericalError && /thermal dose \(CEM43\) overflowed at a rise of .* K .*drive scale/.test(e.message),
    )
  })
})

describe('tfus thermal: an overflowing dose is exit 3 with one line', () => {
  it(
    'names the drive scale as the likely cause and writes nothing',
    async () => {
      // 3 MPa x 7 = 21 MPa: under the cavitation cap, but a brain rise past 134 K in 10 s.
      const r = await thermalCli(sonication({ drive_scale: 7 }, TEN_SECONDS), [], hotPlanDir)
      expect(r.code, r.err).toBe(3)
      expect(r.err.split('\n')).toHaveLength(1)
      expect(r.err).toMatch(
        /^tfus: numerical failure: thermal: the thermal dose \(CEM43\) overflowed at a rise of \d+ K at voxel \(\d+, \d+, \d+\): .*likely cause is the drive scale \(sonications\.0\.drive_scale 7, heating x 49\.0\)/,
      )
      await expect(fs.access(path.join(r.out, PLAN_FILES.thermal))).rejects.toThrow()
    },
    FAIL_FAST_MS,
  )
})
