/**
 * `tfus plan` end to end on the sample CT at a coarse grid (2 points per wavelength, so it runs
 * in a couple of minutes): the files, and where the peak lands relative to the skull.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { cli } from '../../helpers/cli.ts'
import { readVolume } from '../../../electron/node/volume-io.ts'
import { segmentHead } from '../../../core/planning/masks.ts'
import { rasToLps, worldToVoxel, type Vec3 } from '../../../core/volume/index.ts'
import { CtSampler } from '../../../core/planning/placement.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const CT = path.join(ROOT, 'resources/samples/cranium-ct.nii.gz')
let dir: string
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-plan-'))
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

describe('tfus plan on the sample CT', () => {
  it('places the ITRUSST bowl, simulates, and the peak lands in the brain past the skull near the target', async () => {
    const out = path.join(dir, 'plan')
    const target = [30, -18, 13.5]
    const r = await cli(['plan', '--ct', CT, '--target', target.join(','), '--transducer', 'itrusst-bm-bowl', '--ppw', '2', '--backend', 'cpu', '--isppa-free-water', '10', '--out', out])
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/below 6/)
    for (const f of ['pressure.nii.gz', 'pressure_sim.nii.gz', 'focal_6db.nii.gz', 'medium/sound_speed.nii.gz', 'medium/density.nii.gz', 'medium/alpha_db_cm.nii.gz', 'plan.json', 'metrics.json']) {
      await expect(fs.stat(path.join(out, f))).resolves.toBeTruthy()
    }
    const metrics = JSON.parse(await fs.readFile(path.join(out, 'metrics.json'), 'utf8'))
    const plan = JSON.parse(await fs.readFile(path.join(out, 'plan.json'), 'utf8'))
    expect(plan.pose.transducer_to_ras).toHaveLength(16)
    expect(metrics.flags.thermal).toBe('not assessed')
    // Free-water Isppa of 10 W/cm2 sets the drive: the free-water peak is sqrt(2 rho c I).
    expect(metrics.free_water_peak_pa).toBeCloseTo(Math.sqrt(2 * 1.5e6 * 1e5), -2)
    expect(metrics.insertion_loss_db).toBeGreaterThan(1)
    expect(metrics.insertion_loss_db).toBeLessThan(20)
    expect(metrics.focal_shift_length_m).toBeLessThan(0.012)

    // The intracranial peak (metrics, found on the simulation grid) lies in the head, not in bone,
    // and pressure.nii.gz carries it at the same place on the CT grid (the overlay is right).
    const ct = await readVolume(CT)
    const seg = segmentHead(ct)
    const pressure = await readVolume(path.join(out, 'pressure.nii.gz'), { modality: 'OT' })
    const peakRas = metrics.peak_position_ras_m as [number, number, number]
    const q = worldToVoxel(ct, rasToLps(peakRas)).map(Math.round)
    const [nx, ny] = ct.dims
    const peakIndex = q[0]! + nx * (q[1]! + ny * q[2]!)
    expect(seg.head[peakIndex]).toBe(1)
    expect(seg.skull[peakIndex]).toBe(0)
    expect(pressure.data[peakIndex]!).toBeGreaterThan(0.7 * metrics.peak_pressure_pa)
    const axis = plan.pose.axis_ras as number[]
    const apex = plan.pose.apex_ras_m as number[]
    const depth = (p: readonly number[]) => (p[0]! - apex[0]!) * axis[0]! + (p[1]! - apex[1]!) * axis[1]! + (p[2]! - apex[2]!) * axis[2]!
    // The deepest bone on the beam axis before the peak: the peak must lie past it.
    const sampler = new CtSampler(ct, seg)
    let skullDepth = 0
    for (let s = 0; s < depth(peakRas); s += 0.0005) {
      if (sampler.skull(apex.map((a, i) => a + s * axis[i]!) as unknown as Vec3)) skullDepth = s
    }
    expect(skullDepth).toBeGreaterThan(0)
    expect(depth(peakRas)).toBeGreaterThan(skullDepth + 0.003)
  }, 900_000)
})
