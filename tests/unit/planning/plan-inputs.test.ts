/**
 * `tfus plan` checks every input before it reads an image or computes anything: a bad protocol,
 * output folder, registration file, MRI path, transducer or resolution is exit 2 with one line
 * naming it, in well under a second, without the process growing, and nothing is written.
 *
 * The CT given is a path that does not exist: had any check run after the CT is read (let alone
 * after the acoustics), the error would name the CT instead of the input at fault.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { mkdirSync, promises as fs, readFileSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { cli } from '../../helpers/cli.ts'
import { planRequest } from '../../../core/contracts/api.ts'
import { PLAN_POINTS_PER_WAVELENGTH } from '../../../core/solver/limits.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
/** Never read: see the module comment. */
const MISSING_CT = path.join(os.tmpdir(), 'tfus-no-such-ct', 'ct.nii.gz')
const REAL_CT = path.join(ROOT, 'resources/samples/cranium-ct.nii.gz')
/** The RSS growth a refusal may cause (the acceptance: nothing grid-sized is allocated). */
const RSS_GROWTH_CAP = 200 * 2 ** 20
/** In-process time of a refusal (module loading excluded); "well under a second", with room for a loaded 2-core machine. */
const TIME_CAP_MS = 1500

let dir: string
const saved = { TFUS_DATA_DIR: process.env.TFUS_DATA_DIR, TFUS_MEMORY_LIMIT_BYTES: process.env.TFUS_MEMORY_LIMIT_BYTES }
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-plan-inputs-'))
})
beforeEach(() => {
  // An empty user-data folder (no user transducers) unless a test makes its own.
  process.env.TFUS_DATA_DIR = path.join(dir, 'data')
})
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  await fs.rm(dir, { recursive: true, force: true })
})

async function put(name: string, content: unknown): Promise<string> {
  const file = path.join(dir, 'in', name)
  await fs.mkdir(path.dirname(file), { recursive: true })
  await fs.writeFile(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

async function protocolWith(name: string, patch: Record<string, unknown>): Promise<string> {
  const base = JSON.parse(await fs.readFile(path.join(ROOT, 'resources/protocols/repetitive-10min.json'), 'utf8'))
  base.sonications[0] = { ...base.sonications[0], ...patch }
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete base.sonications[0][k]
  return put(name, base)
}

/** A user transducer (the ITRUSST bowl, patched) in a data folder of its own, which becomes TFUS_DATA_DIR. */
function userTransducer(id: string, patch: Record<string, unknown>): string {
  const base = JSON.parse(readFileSync(path.join(ROOT, 'resources/transducers/itrusst-bm-bowl.json'), 'utf8'))
  const data = path.join(dir, `data-${id}`)
  mkdirSync(path.join(data, 'transducers'), { recursive: true })
  writeFileSync(path.join(data, 'transducers', `${id}.json`), JSON.stringify({ ...base, ...patch, id }))
  process.env.TFUS_DATA_DIR = data
  return id
}

/** `tfus plan` on the missing CT; `set` replaces the transducer or resolution (a flag may be given once). */
const plan = (out: string, ...extra: string[]) => planWith({}, out, ...extra)
function planWith(set: { transducer?: string; ppw?: string }, out: string, ...extra: string[]): string[] {
  return [
    'plan',
    '--ct',
    MISSING_CT,
    '--target',
    '30,-18,13.5',
    '--transducer',
    set.transducer ?? 'itrusst-bm-bowl',
    '--ppw',
    set.ppw ?? '2',
    '--out',
    out,
    ...extra,
  ]
}

/** Runs a refusal and checks everything the acceptance asks of it. */
async function refused(args: string[], names: RegExp, out?: string) {
  const rss = process.memoryUsage().rss
  const t0 = performance.now()
  const r = await cli(args)
  const ms = performance.now() - t0
  expect(r.code, r.err).toBe(2)
  expect(r.err.split('\n'), r.err).toHaveLength(1)
  expect(r.err).not.toMatch(/^\s+at /m)
  expect(r.err).toMatch(names)
  expect(r.err).not.toMatch(/tfus-no-such-ct/)
  expect(ms).toBeLessThan(TIME_CAP_MS)
  expect(process.memoryUsage().rss - rss).toBeLessThan(RSS_GROWTH_CAP)
  if (out) {
    const left = await fs.readdir(path.dirname(out)).catch(() => [] as string[])
    expect(
      left.filter((f) => f.includes(path.basename(out))),
      'nothing written',
    ).toEqual([])
  }
  return r
}

describe('tfus plan validates every input before reading or computing', () => {
  it('a protocol with 1e9 trains, a drive scale of 1e6, a missing protocol file', async () => {
    const out = path.join(dir, 'out', 'p1')
    await refused(
      plan(out, '--protocol', await protocolWith('trains.json', { trains: 1e9, duration_s: undefined })),
      /trains\.json: sonications\.0\.trains: .*4\.00 h/,
      out,
    )
    await refused(
      plan(out, '--protocol', await protocolWith('drive.json', { drive_scale: 1e6 })),
      /drive\.json: sonications\.0\.drive_scale: 1000000 is more than 100/,
      out,
    )
    await refused(plan(out, '--protocol', path.join(dir, 'in', 'nope-protocol.json')), /nope-protocol\.json: cannot read the protocol file/, out)
  })

  it('a protocol too long for the thermal grid the resolution makes (counted before the acoustics)', async () => {
    const out = path.join(dir, 'out', 'p2')
    // 3 h of 10 ms pulses at 5 Hz: within every fixed cap, and at the default device and 2 points
    // per wavelength (1.5 mm: a ~2.7 s stable step) only ~4000 steps, so the checks pass it...
    const file = await put('three-hours.json', {
      sonications: [{ pulse_duration_s: 0.01, prf_hz: 5, train_duration_s: 3600, train_interval_s: 3600, trains: 3 }],
    })
    const ok = await cli(plan(out, '--protocol', file))
    expect(ok.err).toMatch(/tfus-no-such-ct/)
    // ...while a 2 MHz device at 12 points per wavelength makes a 62.5 um thermal grid, whose
    // stable step is under 5 ms: more than 2e6 steps, refused before the CT is even read.
    const id = userTransducer('small-2mhz', {
      frequency_hz: 2e6,
      roc_m: 0.005,
      aperture_m: 0.004,
      exit_plane_offset_m: 0.0005,
      focal_range_m: [0.0045, 0.0045],
    })
    await refused(
      planWith({ transducer: id, ppw: '12' }, out, '--protocol', file),
      /three-hours\.json: protocol: .* is 2\.\de6 time steps, more than the thermal model's 2\.0e6/,
      out,
    )
  })

  it('an output folder under a regular file, or that is one', async () => {
    const file = await put('a-file', 'x')
    await refused(plan(path.join(file, 'plan')), /--out: .*a-file\/plan cannot be created: .*a-file is a file/)
    await refused(plan(file), /--out: .*a-file is a file, not a folder/)
  })

  it('a registration file that is missing, not JSON, or not rigid; an MRI that is missing', async () => {
    const out = path.join(dir, 'out', 'r1')
    const mri = ['--mri', REAL_CT]
    await refused(
      [...plan(out, ...mri), '--registration', path.join(dir, 'in', 'nope-transform.json')],
      /nope-transform\.json: cannot read the registration file/,
      out,
    )
    await refused([...plan(out, ...mri), '--registration', await put('garbage.json', 'matrix?')], /--registration: .*garbage\.json is not valid JSON/, out)
    await refused(
      [
        ...plan(out, ...mri),
        '--registration',
        await put('shear.json', {
          matrix_ras_m: [
            [1, 5, 0, 0],
            [0, 1, 0, 0],
            [0, 0, 1, 0],
            [0, 0, 0, 1],
          ],
        }),
      ],
      /--registration: .*shear\.json: .*not a rotation/,
      out,
    )
    await refused(plan(out, '--mri', path.join(dir, 'in', 'no-t1.nii.gz')), /--mri: .*no-t1\.nii\.gz: no such file/, out)
  })

  it('a resolution outside the shared range, and one this machine cannot hold', async () => {
    const out = path.join(dir, 'out', 'g1')
    await refused(planWith({ ppw: '1000' }, out), /--ppw: must be between 2 \(Nyquist\) and 12 points per wavelength, got 1000/, out)
    await refused(planWith({ ppw: '1' }, out), /--ppw: must be between 2/, out)
    // 12 points per wavelength of the ITRUSST bowl is ~3e7 cells, ~3 GiB: more than 256 MiB.
    process.env.TFUS_MEMORY_LIMIT_BYTES = String(256 * 2 ** 20)
    try {
      await refused(
        planWith({ ppw: '12' }, out),
        /--ppw: .*cells with the PML and FFT padding\) needs ~\d.* GiB, more than the 256 MiB this machine can give it/,
        out,
      )
    } finally {
      delete process.env.TFUS_MEMORY_LIMIT_BYTES
    }
  })

  it('a user transducer at 1 THz: one line saying why, not "unknown" plus a warning', async () => {
    const id = userTransducer('user-thz', { frequency_hz: 1e12 })
    await refused(
      planWith({ transducer: id }, path.join(dir, 'out', 't1')),
      /--transducer: "user-thz" cannot be used: .*user-thz\.json: frequency_hz: 1000000000000 Hz is outside the solver's 20 kHz to 10 MHz/,
    )
  })

  it('the app contract takes the same resolution range as the CLI and the planner', () => {
    const request = (ppw: number) =>
      planRequest.safeParse({
        ctImageId: 'ct',
        targetRasM: [0, 0, 0],
        transducerId: 't',
        pointsPerWavelength: ppw,
        drive: { kind: 'source', amplitudePa: 1 },
        pulseTiming: { pulseDurationS: 0.02, prfHz: 5, trainDutyCycle: 1 },
      }).success
    expect(request(PLAN_POINTS_PER_WAVELENGTH.min)).toBe(true)
    expect(request(PLAN_POINTS_PER_WAVELENGTH.max)).toBe(true)
    expect(request(PLAN_POINTS_PER_WAVELENGTH.min - 0.1)).toBe(false)
    expect(request(PLAN_POINTS_PER_WAVELENGTH.max + 0.1)).toBe(false)
    expect(PLAN_POINTS_PER_WAVELENGTH).toEqual({ min: 2, max: 12 })
  })
})
