/**
 * Issue 13: `tfus thermal` printed nothing and exited 0 in 6 of 10 runs (its five concurrent
 * volume reads left console.log/error captured by volume-io). Every run, alone or concurrent,
 * must print its verdict. A small synthetic plan folder and a few seconds of protocol keep each
 * run short; the output goes through the real console (in-process) and the real stdout (the
 * `tfus` binary, spawned).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { main } from '../../../electron/cli/main.ts'
import { writeVolume } from '../../../electron/adapters/volume-io.ts'
import { createVolume } from '../../../core/volume/geometry.ts'
import { PLAN_FILES, TISSUE_LABELS } from '../../../core/contracts/plan.ts'
import type { Vec3, VoxelArray } from '../../../core/volume/types.ts'
import { planRecordFixture } from '../../unit/db/fixtures.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const TFUS = path.join(ROOT, 'bin/tfus.mjs')
const N = 20
const SPACING = 0.001
let dir: string
let planDir: string

/** A head-like ball (skin, skull, brain) in water with a focus in the brain, on a 20^3 1 mm grid. */
async function writeThermalPlanFolder(target: string): Promise<void> {
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
        tissue[v] = r > 9 ? TISSUE_LABELS.water : r > 8 ? TISSUE_LABELS.skin : r > 6.5 ? TISSUE_LABELS.skull : TISSUE_LABELS.brain
        pressure[v] = 4e5 * Math.exp(-(r * r) / 8)
      }
  const by = (water: number, skin: number, skull: number, brain: number) => Float32Array.from(tissue, (t) => [water, skin, skull, brain][t]!)
  const volume = (data: VoxelArray) =>
    createVolume({
      dims: [N, N, N] as Vec3,
      spacingM: [SPACING, SPACING, SPACING],
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

async function protocolFile(name: string): Promise<string> {
  const file = path.join(dir, `${name.replace(/\W+/g, '-')}.json`)
  await fs.writeFile(
    file,
    JSON.stringify({ name, sonications: [{ pulse_duration_s: 0.02, prf_hz: 5, train_duration_s: 2, train_interval_s: 2, trains: 1 }], cooling_s: 1 }),
  )
  return file
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-thermal-verdict-'))
  planDir = path.join(dir, 'plan')
  await writeThermalPlanFolder(planDir)
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

describe('tfus thermal always prints its verdict', () => {
  it('in-process through the real console: 20 runs, 4 one after the other, then 16 four at a time', async () => {
    const saved = { log: console.log, error: console.error }
    const printed: string[] = []
    const recordLog = (...args: unknown[]) => void printed.push(args.map(String).join(' '))
    const recordError = (...args: unknown[]) => void printed.push(`stderr: ${args.map(String).join(' ')}`)
    console.log = recordLog
    console.error = recordError
    try {
      // `main` without an io argument prints with console.log / console.error, as bin/tfus does.
      const run = async (i: number) =>
        main(['thermal', planDir, '--protocol', await protocolFile(`run ${i}`), '--backend', 'cpu', '--out', path.join(dir, `out-${i}`)])
      const codes: number[] = []
      for (let i = 0; i < 4; i++) codes.push(await run(i))
      for (let batch = 1; batch < 5; batch++) codes.push(...(await Promise.all([0, 1, 2, 3].map((k) => run(4 * batch + k)))))
      expect(codes).toEqual(new Array(20).fill(0))
      expect(console.log).toBe(recordLog)
      expect(console.error).toBe(recordError)
      for (let i = 0; i < 20; i++)
        expect(
          printed.filter((l) => l.startsWith(`run ${i}: `)),
          `run ${i}`,
        ).toHaveLength(1)
      expect(printed.filter((l) => /^thermal: /.test(l))).toHaveLength(20)
    } finally {
      Object.assign(console, saved)
    }
  })

  it('the tfus binary, 3 processes at once: each prints the verdict on stdout', async () => {
    const protocol = await protocolFile('spawned')
    const runs = await Promise.all(
      [0, 1, 2].map((i) =>
        promisify(execFile)(process.execPath, [TFUS, 'thermal', planDir, '--protocol', protocol, '--backend', 'cpu', '--out', path.join(dir, `spawned-${i}`)], {
          cwd: ROOT,
        }).then(
          (r) => ({ code: 0, ...r }),
          (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
        ),
      ),
    )
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/^spawned: .* s simulated/m)
      expect(r.stdout).toMatch(/^thermal: .+/m)
    }
  }, 120_000)
})
