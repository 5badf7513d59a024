/**
 * `tfus plan` end to end on the sample CT at a coarse grid (2 points per wavelength, so it runs
 * in a couple of minutes): the files, and where the peak lands relative to the skull.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { cli } from '../../helpers/cli.ts'
import { readVolume } from '../../../electron/adapters/volume-io.ts'
import { segmentHead } from '../../../core/planning/masks.ts'
import { rasToLps } from '../../../core/math/index.ts'
import { worldToVoxel, type Vec3 } from '../../../core/volume/index.ts'
import { CtSampler } from '../../../core/planning/placement.ts'
import { PLAN_FILES } from '../../../core/contracts/plan.ts'
import { loadSceneFile } from '../../../electron/cli/simulate.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const CT = path.join(ROOT, 'resources/samples/cranium-ct.nii.gz')
let dir: string
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-plan-'))
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

/**
 * Issue 8 on the sample plan (written by `tfus plan --protocol` above): a long duty cycle heats
 * the skull more than the brain, and twice the drive gives four times every rise (the heat
 * source is quadratic in pressure). Maps land on the simulation grid.
 */
async function thermalChecks(planDir: string, protocolFile: string) {
  const base = JSON.parse(await fs.readFile(path.join(planDir, PLAN_FILES.thermal), 'utf8'))
  expect(base.tissues.skull.peak_rise_c).toBeGreaterThan(base.tissues.brain.peak_rise_c)
  expect(base.tissues.brain.peak_rise_c).toBeGreaterThan(0)
  expect(base.tissues.skull.time_of_peak_s).toBeGreaterThanOrEqual(59)
  expect(base.tissues.skull.rise_at_end_c).toBeLessThan(base.tissues.skull.peak_rise_c)
  expect(base.flags.tissues.map((f: { criterion: string }) => f.criterion)).toHaveLength(3)
  expect(base.model.absorbed_fraction.name).toBe('prestus')
  expect(base.model.absorbed_fraction.by_tissue.skull).toBe(0.28)
  expect(base.model.cem43_variant).toMatch(/sapareto-dewey/)
  expect(base.grid.name).toMatch(/simulation grid/)
  const t = base.time_courses
  expect(t.skull.hottest_voxel_c).toHaveLength(t.t_s.length)
  expect(Math.max(...t.skull.hottest_voxel_c) - 37).toBeCloseTo(base.tissues.skull.peak_rise_c, 3)
  const sim = await readVolume(path.join(planDir, PLAN_FILES.pressureSim), { modality: 'OT' })
  const tmax = await readVolume(path.join(planDir, PLAN_FILES.temperatureMax), { modality: 'OT' })
  const cem = await readVolume(path.join(planDir, PLAN_FILES.cem43), { modality: 'OT' })
  for (const v of [tmax, cem]) {
    expect([...v.dims]).toEqual([...sim.dims])
    expect(v.originM.map((x, i) => x - sim.originM[i]!).every((d) => Math.abs(d) < 1e-6)).toBe(true)
  }
  let hottest = 0
  for (const x of tmax.data) hottest = Math.max(hottest, x)
  expect(hottest - 37).toBeCloseTo(Math.max(base.tissues.skin.peak_rise_c, base.tissues.skull.peak_rise_c, base.tissues.brain.peak_rise_c), 3)

  const twice = path.join(planDir, 'thermal-x2')
  const r = await cli(['thermal', planDir, '--protocol', protocolFile, '--backend', 'cpu', '--drive-scale', '2', '--out', twice])
  expect(r.code, r.err).toBe(0)
  const doubled = JSON.parse(await fs.readFile(path.join(twice, PLAN_FILES.thermal), 'utf8'))
  for (const name of ['skin', 'skull', 'brain']) expect(doubled.tissues[name].peak_rise_c / base.tissues[name].peak_rise_c).toBeCloseTo(4, 2)
}

/**
 * Issue 22 item 7 on the sample plan: medium/scene.json is the plan's own head run (our solver
 * on it gives pressure_sim.nii.gz again), and export-kwave takes the plan folder, head and free water.
 */
async function kwaveChecks(planDir: string) {
  const scene = path.join(planDir, PLAN_FILES.scene)
  const plan = JSON.parse(await fs.readFile(path.join(planDir, PLAN_FILES.plan), 'utf8'))
  const s = await loadSceneFile(scene)
  expect(s.grid.size).toEqual(plan.simulation.grid_size)
  expect(s.grid.spacingM).toBe(plan.simulation.spacing_m)
  for (const e of s.source.elements) expect(e.amplitudePa).toBeCloseTo(plan.drive.source_amplitude_pa, 6)
  const rerun = path.join(planDir, 'rerun')
  const r = await cli(['simulate', scene, '--out', rerun, '--backend', 'cpu'])
  expect(r.code, r.err).toBe(0)
  const [again, stored] = await Promise.all(
    [path.join(rerun, 'p_amp.nii.gz'), path.join(planDir, PLAN_FILES.pressureSim)].map((f) => readVolume(f, { modality: 'OT' })),
  )
  let d2 = 0
  let t2 = 0
  for (let v = 0; v < stored!.data.length; v++) {
    d2 += (again!.data[v]! - stored!.data[v]!) ** 2
    t2 += stored!.data[v]! ** 2
  }
  // Same solver, same medium and source: only float32 rounding (the drive applied to the source, not the field).
  expect(Math.sqrt(d2 / t2)).toBeLessThan(1e-4)
  for (const flags of [[], ['--free-water']]) {
    // A short run (the source signals of a full one are hundreds of MB): the files, not k-Wave, are checked here.
    const e = await cli(['export-kwave', planDir, path.join(planDir, 'kwave', `input${flags.length}.h5`), '--steps', '200', ...flags])
    expect(e.code, e.err).toBe(0)
    expect(e.out).toMatch(/kspaceFirstOrder-OMP -i input\d\.h5/)
  }
}

describe('tfus plan on the sample CT', () => {
  it('places the ITRUSST bowl, simulates, and the peak lands in the brain past the skull near the target', async () => {
    const out = path.join(dir, 'plan')
    const target = [30, -18, 13.5]
    // The target is given on the synthetic T1 (the CT target through the inverse of the T1's
    // ground-truth transform) and carried back into CT space through that transform file.
    const truth = JSON.parse(await fs.readFile(path.join(ROOT, 'resources/samples/cranium-synthetic-t1.transform.json'), 'utf8'))
    const m = truth.matrix_ras_mm as number[][]
    const t = [0, 1, 2].map((r) => target[r]! - m[r]![3]!)
    const targetMri = [0, 1, 2].map((c) => m[0]![c]! * t[0]! + m[1]![c]! * t[1]! + m[2]![c]! * t[2]!)
    const dataDir = path.join(dir, 'db')
    // Long duty cycle for the thermal run: 50 ms pulses at 10 Hz (50 %) for 60 s, then 30 s of cooling.
    const protocolFile = path.join(dir, 'long-duty.json')
    await fs.writeFile(
      protocolFile,
      JSON.stringify({
        name: 'long duty',
        sonications: [{ pulse_duration_s: 0.05, prf_hz: 10, train_duration_s: 60, train_interval_s: 60, trains: 1 }],
        cooling_s: 30,
      }),
    )
    const r = await cli([
      'plan',
      '--ct',
      CT,
      '--mri',
      path.join(ROOT, 'resources/samples/cranium-synthetic-t1.nii.gz'),
      '--registration',
      path.join(ROOT, 'resources/samples/cranium-synthetic-t1.transform.json'),
      '--target',
      targetMri.join(','),
      '--transducer',
      'itrusst-bm-bowl',
      '--ppw',
      '2',
      '--backend',
      'cpu',
      '--isppa-free-water',
      '10',
      '--correct-focus',
      '--correct-iterations',
      '1',
      '--correct-tolerance-mm',
      '0.2',
      '--protocol',
      protocolFile,
      '--out',
      out,
      '--save',
      '--data-dir',
      dataDir,
    ])
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/plan id: 1 \(version 1\)/)
    expect(r.out).toMatch(/below 6/)
    for (const f of [
      'ct.nii.gz',
      'medium/tissue.nii.gz',
      'pressure.nii.gz',
      'pressure_sim.nii.gz',
      'focal_6db.nii.gz',
      'medium/sound_speed.nii.gz',
      'medium/density.nii.gz',
      'medium/alpha_db_cm.nii.gz',
      'medium/scene.json',
      'plan.json',
      'metrics.json',
    ]) {
      await expect(fs.stat(path.join(out, f))).resolves.toBeTruthy()
    }
    const metrics = JSON.parse(await fs.readFile(path.join(out, 'metrics.json'), 'utf8'))
    const plan = JSON.parse(await fs.readFile(path.join(out, 'plan.json'), 'utf8'))
    expect(plan.pose.transducer_to_ras).toHaveLength(16)
    for (let d = 0; d < 3; d++) expect(plan.target_ras_m[d] * 1000).toBeCloseTo(target[d]!, 6)
    expect(plan.registration.target_mri_ras_m.map((v: number) => v * 1000)).toEqual(targetMri.map((v) => expect.closeTo(v, 9)))
    expect(plan.registration.method).toMatch(/transform file/)
    expect(r.out).toMatch(/on the MRI ->/)
    // One focus-correction iteration (the coarse grid leaves more than 0.2 mm of shift): the
    // stored residual is the stored metrics' shift, never worse than before, and a changed
    // residual comes with a moved transducer.
    const fc = plan.focus_correction
    expect(fc.iterations).toBe(1)
    expect(fc.initial_shift_m).toBeGreaterThan(0.0002)
    expect(fc.residual_m).toBeLessThanOrEqual(fc.initial_shift_m)
    expect(metrics.focal_shift_length_m).toBeCloseTo(fc.residual_m, 12)
    if (fc.residual_m < fc.initial_shift_m) expect(plan.pose.transducer_to_ras).not.toEqual(fc.initial_pose.transducer_to_ras)
    expect(r.out).toMatch(/focus correction: 1 iteration/)
    // The thermal run replaced "not assessed" with its ITRUSST flag.
    expect(metrics.flags.thermal).not.toMatch(/not assessed/)
    expect(r.out).toMatch(/thermal \(long duty\): peak rise skin/)
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
    // The stored plan exported as DICOM for navigation: same world geometry as pressure.nii.gz
    // (compared voxel by voxel through world coordinates, since the left-handed CT grid is
    // written as a right-handed series) and the planning image's FrameOfReferenceUID.
    const exported = await cli(['export', '1', '--format', 'dicom', '--out', path.join(dir, 'dicom'), '--data-dir', dataDir])
    expect(exported.code, exported.err).toBe(0)
    const series = await fs.readdir(path.join(dir, 'dicom'), { recursive: true })
    const pressureDir = path.join(dir, 'dicom', path.dirname(series.find((f) => /pressure/i.test(String(f)) && /\.dcm$/.test(String(f)))! as string))
    const dicomPressure = await readVolume(pressureDir)
    expect(dicomPressure.meta.frameOfReferenceUid).toBe(plan.ct.frame_of_reference_uid)
    expect(plan.ct.frame_of_reference_uid).toBe(ct.meta.frameOfReferenceUid)
    expect([...dicomPressure.dims].sort()).toEqual([...pressure.dims].sort())
    const dq = worldToVoxel(dicomPressure, rasToLps(peakRas)).map(Math.round)
    const dIndex = dq[0]! + dicomPressure.dims[0] * (dq[1]! + dicomPressure.dims[1] * dq[2]!)
    // Stored values are pressure in the fixed unit export.json names (no rescale): within half a unit.
    const unitPa = (JSON.parse(await fs.readFile(path.join(dir, 'dicom', 'export.json'), 'utf8')) as { stored_unit_pa: number }).stored_unit_pa
    expect(Math.abs(dicomPressure.data[dIndex]! * unitPa - pressure.data[peakIndex]!)).toBeLessThanOrEqual(0.5 * unitPa + 1e-6)

    await thermalChecks(out, protocolFile)

    const labels = await readVolume(path.join(out, 'medium/tissue.nii.gz'), { modality: 'OT' })
    const counts = [0, 1, 2, 3].map((l) => labels.data.filter((v) => v === l).length)
    expect(
      counts.every((c) => c > 0),
      `water, skin, skull, brain voxels: ${counts.join(', ')}`,
    ).toBe(true)
    await kwaveChecks(out)
  }, 900_000)
})
