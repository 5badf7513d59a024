/**
 * Issue 22 item 7: scenes with voxel media from NIfTI files, and k-Wave cross-checks of a plan
 * folder (export of its own medium and source from medium/scene.json, import onto its simulation
 * and CT grids). The plan folder here is a small synthetic one laid out as `tfus plan` writes it
 * (an oblique beam-aligned grid inside an axis-aligned CT); tests/integration/planning/plan-cli.test.ts
 * checks a real plan's folder against its own solve.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import h5wasm from 'h5wasm/node'
import type { Dataset as H5Dataset } from 'h5wasm/node'
import { readVolume, writeVolume } from '../../../electron/adapters/volume-io.ts'
import { loadSceneFile } from '../../../electron/cli/simulate.ts'
import { setupSimulation, type SimulationSetup } from '../../../core/solver/setup.ts'
import { dbPerCmToNpPerM } from '../../../core/solver/analytic/units.ts'
import { DEFAULT_SETTINGS, type Grid } from '../../../core/solver/model.ts'
import { planSceneJson } from '../../../core/planning/plan-scene.ts'
import { PLAN_FILES, TISSUE_LABELS } from '../../../core/contracts/plan.ts'
import type { Mat3, Vec3, Volume } from '../../../core/volume/index.ts'
import { cli } from '../../helpers/cli.ts'

let dir: string
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-kwave-plan-'))
  await h5wasm.ready
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

function volume(
  data: Float32Array | Uint8Array,
  dims: Vec3,
  spacing: number,
  originM: Vec3 = [0, 0, 0],
  direction: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1],
): Volume {
  return { data, dims, spacingM: [spacing, spacing, spacing], originM, direction, meta: { modality: 'OT' }, warnings: [] }
}

function readDataset(file: string, name: string): { shape: number[]; values: Float32Array } {
  const f = new h5wasm.File(file, 'r')
  try {
    const d = f.get(name) as H5Dataset
    return { shape: d.shape ?? [], values: d.value as Float32Array }
  } finally {
    f.close()
  }
}

// ---- Scenes with voxel media -----------------------------------------------------------------------

describe('scene files with voxel media from NIfTI files', () => {
  const DIMS: Vec3 = [10, 8, 6]
  const N = DIMS[0] * DIMS[1] * DIMS[2]
  const SCENE = {
    frequency_hz: 500000,
    grid: { spacing_m: 0.001, min_m: [0, 0, 0], max_m: [0.009, 0.007, 0.005] },
    background: { sound_speed: 1500, density: 1000, alpha_db_cm: 0 },
    source: { type: 'plane', axis: 0, position_m: 0.001, amplitude_pa: 1000 },
    solver: { pml_points: [0, 4, 4] },
  }
  const c = Float32Array.from({ length: N }, (_, v) => 1500 + (v % 10) + 10 * (Math.floor(v / 10) % 8) + 100 * Math.floor(v / 80))
  const rho = Float32Array.from({ length: N }, (_, v) => 1000 + 2 * v)
  const alpha = Float32Array.from({ length: N }, (_, v) => 0.01 * (v % 7))

  async function scene(name: string, objects: unknown[]): Promise<string> {
    const file = path.join(dir, 'voxels', name)
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(file, JSON.stringify({ ...SCENE, objects }))
    return file
  }

  beforeAll(async () => {
    const at = (name: string) => path.join(dir, 'voxels', name)
    await fs.mkdir(path.join(dir, 'voxels', 'media'), { recursive: true })
    await writeVolume(volume(c, DIMS, 0.001), at('media/c.nii.gz'))
    await writeVolume(volume(rho, DIMS, 0.001), at('media/rho.nii.gz'))
    await writeVolume(volume(alpha, DIMS, 0.001), at('media/alpha.nii.gz'))
    await writeVolume(volume(c.subarray(0, 10 * 8 * 5), [10, 8, 5], 0.001), at('media/c-short.nii.gz'))
    await writeVolume(volume(c, DIMS, 0.002), at('media/c-2mm.nii.gz'))
    await writeVolume(
      volume(
        rho.map((v, i) => (i === 123 ? -5 : v)),
        DIMS,
        0.001,
      ),
      at('media/rho-negative.nii.gz'),
    )
    await writeVolume(
      volume(
        alpha.map((v, i) => (i === 7 ? -0.5 : v)),
        DIMS,
        0.001,
      ),
      at('media/alpha-negative.nii.gz'),
    )
  })

  it('voxel maps set the medium at every grid point; analytic objects after them paint over', async () => {
    const file = await scene('good.json', [
      { shape: 'voxels', sound_speed_file: 'media/c.nii.gz', density_file: 'media/rho.nii.gz', alpha_db_cm_file: 'media/alpha.nii.gz' },
      { shape: 'sphere', center_m: [0.005, 0.004, 0.003], radius_m: 0.0011, material: { sound_speed: 2800, density: 1900, alpha_db_cm: 4 } },
    ])
    const s = await loadSceneFile(file)
    const medium = s.medium as { soundSpeed: Float32Array; density: Float32Array; alphaNpM: Float32Array }
    let inSphere = 0
    for (let v = 0; v < N; v++) {
      const [i, j, k] = [v % 10, Math.floor(v / 10) % 8, Math.floor(v / 80)]
      const sphere = Math.hypot(i - 5, j - 4, k - 3) <= 1.1
      if (sphere) inSphere++
      expect(medium.soundSpeed[v], `c ${v}`).toBe(sphere ? 2800 : c[v])
      expect(medium.density[v], `rho ${v}`).toBe(sphere ? 1900 : rho[v])
      expect(medium.alphaNpM[v], `alpha ${v}`).toBe(Math.fround(dbPerCmToNpPerM(sphere ? 4 : alpha[v]!)))
    }
    expect(inSphere).toBe(7)
  })

  it('a voxels object with only some maps keeps the rest from the background', async () => {
    const s = await loadSceneFile(await scene('partial.json', [{ shape: 'voxels', sound_speed_file: 'media/c.nii.gz' }]))
    const medium = s.medium as { soundSpeed: Float32Array; density: Float32Array }
    expect([...medium.soundSpeed]).toEqual([...c])
    expect(medium.density.every((v) => v === 1000)).toBe(true)
  })

  it('bad voxel media exit 2 with one line naming the scene file, the field and the NIfTI file', async () => {
    const cases: Array<[string, unknown[], RegExp]> = [
      [
        'short',
        [{ shape: 'voxels', sound_speed_file: 'media/c-short.nii.gz' }],
        /short\.json: objects\[0\]\.sound_speed_file: media\/c-short\.nii\.gz has 10x8x5 voxels but the scene grid is 10x8x6/,
      ],
      [
        'spacing',
        [{ shape: 'voxels', sound_speed_file: 'media/c-2mm.nii.gz' }],
        /spacing\.json: objects\[0\]\.sound_speed_file: media\/c-2mm\.nii\.gz has voxels of 2 x 2 x 2 mm but the scene grid spacing is 1 mm/,
      ],
      [
        'negative',
        [{ shape: 'voxels', density_file: 'media/rho-negative.nii.gz' }],
        /negative\.json: objects\[0\]\.density_file: media\/rho-negative\.nii\.gz holds -5 at voxel 3,4,1: density/,
      ],
      [
        'attenuation',
        [{ shape: 'voxels', alpha_db_cm_file: 'media/alpha-negative.nii.gz' }],
        /attenuation\.json: objects\[0\]\.alpha_db_cm_file: media\/alpha-negative\.nii\.gz holds -0\.5 at voxel 7,0,0: attenuation \[dB\/cm\] must be finite and >= 0/,
      ],
      [
        'missing',
        [
          { shape: 'sphere', center_m: [0, 0, 0], radius_m: 0.001, material: { sound_speed: 1600, density: 1000 } },
          { shape: 'voxels', density_file: 'media/none.nii.gz' },
        ],
        /missing\.json: objects\[1\]\.density_file: media\/none\.nii\.gz: no such file/,
      ],
      ['maps', [{ shape: 'voxels' }], /maps\.json: objects\[0\]: a voxels object names at least one/],
      ['field', [{ shape: 'voxels', sound_speed: 'media/c.nii.gz' }], /field\.json: objects\[0\]\.sound_speed: is not a field/],
    ]
    for (const [name, objects, message] of cases) {
      const file = await scene(`${name}.json`, objects)
      const r = await cli(['export-kwave', file, path.join(dir, 'voxels', 'never.h5')])
      expect(r.code, name).toBe(2)
      expect(r.err.split('\n'), name).toHaveLength(1)
      expect(r.err, name).toMatch(message)
    }
    await expect(fs.stat(path.join(dir, 'voxels', 'never.h5'))).rejects.toThrow()
  })
})

// ---- A plan folder ------------------------------------------------------------------------------

describe('export-kwave and import-kwave on a plan folder', () => {
  // The beam-aligned grid: 12 x 12 x 14 at 1.5 mm in the transducer frame (origin at the apex, +z
  // the beam), turned 30 degrees about the CT's z and placed inside a 1 mm CT.
  const DX = 0.0015
  const [NX, NY, NZ] = [12, 12, 14]
  const GRID: Grid = { spacingM: DX, size: [NX, NY, NZ], originM: [-0.00825, -0.00825, -2 * DX] }
  const N = NX * NY * NZ
  const cosA = Math.cos(Math.PI / 6)
  const sinA = Math.sin(Math.PI / 6)
  const DIRECTION: Mat3 = [cosA, -sinA, 0, sinA, cosA, 0, 0, 0, 1]
  const ORIGIN_LPS: Vec3 = [0.012, 0.004, 0.003]
  const CT_DIMS: Vec3 = [30, 30, 26]
  const ELEMENTS = [
    {
      kind: 'bowl' as const,
      apexM: [0, 0, 0] as Vec3,
      focusM: [0, 0, 0.012] as Vec3,
      rocM: 0.012,
      apertureM: 0.01,
      innerApertureM: 0,
      amplitudePa: 45000,
      phaseRad: 0,
    },
  ]
  const WATER = { soundSpeed: 1482, density: 994, alphaNpM: 0 }
  const ijk = (v: number) => [v % NX, Math.floor(v / NX) % NY, Math.floor(v / (NX * NY))] as const
  const worldOf = (v: number): Vec3 => {
    const [i, j, k] = ijk(v).map((x) => x * DX) as [number, number, number]
    return [0, 1, 2].map((r) => ORIGIN_LPS[r]! + DIRECTION[3 * r]! * i + DIRECTION[3 * r + 1]! * j + DIRECTION[3 * r + 2]! * k) as unknown as Vec3
  }
  // A linear field of the LPS position: trilinear resampling reproduces it exactly inside the grid.
  const field = (p: readonly number[]) => 20000 + 4e5 * p[0]! - 3e5 * p[1]! + 6e5 * p[2]!
  const brain = Uint8Array.from({ length: N }, (_, v) =>
    ijk(v)[2] >= 7 ? TISSUE_LABELS.brain : ijk(v)[2] >= 5 ? TISSUE_LABELS.skull : ijk(v)[2] >= 4 ? TISSUE_LABELS.skin : TISSUE_LABELS.water,
  )
  const c = Float32Array.from(brain, (t, v) => (t === TISSUE_LABELS.skull ? 2400 + v : t === TISSUE_LABELS.water ? WATER.soundSpeed : 1546))
  const rho = Float32Array.from(brain, (t, v) => (t === TISSUE_LABELS.skull ? 1700 + v / 2 : t === TISSUE_LABELS.water ? WATER.density : 1046))
  const alphaDbCm = Float32Array.from(brain, (t) => (t === TISSUE_LABELS.skull ? 5.5 : t === TISSUE_LABELS.water ? 0 : 0.3))
  const kwaveField = Float32Array.from({ length: N }, (_, v) => field(worldOf(v)))
  // The plan's own field differs by +3 % on every brain voxel with i even: a known relative L2.
  const planField = Float32Array.from(kwaveField, (p, v) => (brain[v] === TISSUE_LABELS.brain && ijk(v)[0] % 2 === 0 ? p * 1.03 : p))
  let planDir: string

  async function syntheticOutput(name: string, plan: SimulationSetup, pRms: Float32Array): Promise<string> {
    const file = path.join(dir, name)
    const f = new h5wasm.File(file, 'w')
    const text = (key: string, value: string) => f.create_attribute(key, value, null, `A${value.length + 1}`)
    text('file_type', 'output')
    text('major_version', '1')
    text('minor_version', '2')
    const grid = plan.axes.map((a) => a.total)
    ;['Nx', 'Ny', 'Nz'].forEach((key, d) => f.create_dataset({ name: key, data: BigUint64Array.of(BigInt(grid[d]!)), shape: [1, 1, 1], dtype: '<Q' }))
    const [ux, uy, uz] = plan.grid.size
    f.create_group('p_rms').create_dataset({ name: '1', data: pRms, shape: [uz, uy, ux], dtype: '<f4' })
    f.close()
    return file
  }

  beforeAll(async () => {
    planDir = path.join(dir, 'plan')
    await fs.mkdir(path.join(planDir, 'medium'), { recursive: true })
    const at = (f: string) => path.join(planDir, f)
    const sim = (data: Float32Array | Uint8Array) => volume(data, GRID.size as unknown as Vec3, DX, ORIGIN_LPS, DIRECTION)
    await writeVolume(volume(new Float32Array(CT_DIMS[0] * CT_DIMS[1] * CT_DIMS[2]).fill(-1000), CT_DIMS, 0.001), at(PLAN_FILES.ct))
    await writeVolume(sim(c), at(PLAN_FILES.soundSpeed))
    await writeVolume(sim(rho), at(PLAN_FILES.density))
    await writeVolume(sim(alphaDbCm), at(PLAN_FILES.alphaDbCm))
    await writeVolume(sim(brain), at(PLAN_FILES.tissue))
    await writeVolume(sim(planField), at(PLAN_FILES.pressureSim))
    await fs.writeFile(at(PLAN_FILES.plan), '{}\n')
    const scene = planSceneJson({
      frequencyHz: 400000,
      grid: GRID,
      alphaPower: 2,
      water: WATER,
      elements: ELEMENTS,
      settings: DEFAULT_SETTINGS,
      files: { soundSpeed: 'sound_speed.nii.gz', density: 'density.nii.gz', alphaDbCm: 'alpha_db_cm.nii.gz' },
    })
    await fs.writeFile(at(PLAN_FILES.scene), JSON.stringify(scene, null, 2))
  })

  it("the plan scene is the plan's grid, source and medium", async () => {
    const s = await loadSceneFile(path.join(planDir, PLAN_FILES.scene))
    expect(s.grid.size).toEqual(GRID.size)
    expect(s.grid.spacingM).toBe(DX)
    expect(s.grid.originM).toEqual(GRID.originM)
    expect(s.source.elements).toEqual(ELEMENTS)
    expect(s.settings).toEqual(DEFAULT_SETTINGS)
    const m = s.medium as { soundSpeed: Float32Array; density: Float32Array; alphaNpM: Float32Array; alphaPower: number }
    expect([...m.soundSpeed]).toEqual([...c])
    expect([...m.density]).toEqual([...rho])
    for (let v = 0; v < N; v++) expect(m.alphaNpM[v]).toBe(Math.fround(dbPerCmToNpPerM(alphaDbCm[v]!)))
    expect(m.alphaPower).toBe(2)
  })

  it("export writes the plan's medium into the k-Wave input (head run) and water alone with --free-water", async () => {
    const input = path.join(dir, 'export', 'head.h5')
    const r = await cli(['export-kwave', planDir, input])
    expect(r.code, r.err).toBe(0)
    expect(r.out).toContain(`tfus import-kwave ${path.join(dir, 'export', 'head_output.h5')} --plan ${planDir} <out.nii.gz>`)
    const c0 = readDataset(input, 'c0')
    const rho0 = readDataset(input, 'rho0')
    const alpha = readDataset(input, 'alpha_coeff')
    const sensor = readDataset(input, 'sensor_mask_corners').values as unknown as BigUint64Array
    const [x1, y1, z1] = [0, 1, 2].map((d) => Number(sensor[d]!) - 1) as [number, number, number]
    const [, ny, nx] = c0.shape as [number, number, number]
    for (let v = 0; v < N; v++) {
      const [i, j, k] = ijk(v)
      const q = x1 + i + nx * (y1 + j + ny * (z1 + k))
      expect(c0.values[q], `c0 ${v}`).toBe(c[v])
      expect(rho0.values[q], `rho0 ${v}`).toBe(rho[v])
      // alpha_coeff is in dB/(MHz^y cm): at 0.4 MHz and y = 2, the map divided by 0.16.
      expect(alpha.values[q]! * 0.16).toBeCloseTo(alphaDbCm[v]!, 5)
    }

    const free = path.join(dir, 'export', 'free.h5')
    const rf = await cli(['export-kwave', planDir, free, '--free-water'])
    expect(rf.code, rf.err).toBe(0)
    expect(rf.out).toContain(`--plan ${planDir} --free-water`)
    expect(readDataset(free, 'c0')).toEqual({ shape: [1, 1, 1], values: Float32Array.of(WATER.soundSpeed) })
    expect(readDataset(free, 'rho0')).toEqual({ shape: [1, 1, 1], values: Float32Array.of(WATER.density) })
  })

  it("import writes the field on the plan's grid and the CT grid and compares it with the plan's inside the brain", async () => {
    const s = await loadSceneFile(path.join(planDir, PLAN_FILES.scene))
    const plan = setupSimulation(s.grid, s.medium, s.source, s.settings)
    const output = await syntheticOutput(
      'plan_output.h5',
      plan,
      kwaveField.map((p) => p / Math.SQRT2),
    )
    const nii = path.join(dir, 'import', 'kwave.nii.gz')
    const r = await cli(['import-kwave', output, '--plan', planDir, nii])
    expect(r.code, r.err).toBe(0)

    // Relative L2 inside the brain, computed here from the two fields.
    let d2 = 0
    let t2 = 0
    let voxels = 0
    for (let v = 0; v < N; v++) {
      if (brain[v] !== TISSUE_LABELS.brain) continue
      voxels++
      const k = Math.fround(Math.SQRT2 * Math.fround(kwaveField[v]! / Math.SQRT2))
      d2 += (k - planField[v]!) ** 2
      t2 += planField[v]! ** 2
    }
    expect(voxels).toBe(NX * NY * (NZ - 7))
    expect(r.out).toContain(`relative L2 ${(Math.sqrt(d2 / t2) * 100).toFixed(2)} % inside the brain (${voxels} voxels)`)

    const onSim = await readVolume(nii, { modality: 'OT' })
    expect(onSim.dims).toEqual(GRID.size)
    for (let d = 0; d < 3; d++) expect(onSim.originM[d]).toBeCloseTo(ORIGIN_LPS[d]!, 6)
    for (let e = 0; e < 9; e++) expect(onSim.direction[e]).toBeCloseTo(DIRECTION[e]!, 6)
    for (let v = 0; v < N; v++) expect(onSim.data[v]! / kwaveField[v]!).toBeCloseTo(1, 5)

    const onCt = await readVolume(path.join(dir, 'import', 'kwave_ct.nii.gz'), { modality: 'OT' })
    expect(onCt.dims).toEqual(CT_DIMS)
    // Inside the oblique box the CT-grid value is the linear field at the voxel; outside it is 0.
    let inside = 0
    for (let v = 0; v < onCt.data.length; v++) {
      const p = [v % CT_DIMS[0], Math.floor(v / CT_DIMS[0]) % CT_DIMS[1], Math.floor(v / (CT_DIMS[0] * CT_DIMS[1]))].map((x) => x * 0.001)
      const rel = [p[0]! - ORIGIN_LPS[0]!, p[1]! - ORIGIN_LPS[1]!, p[2]! - ORIGIN_LPS[2]!]
      const local = [0, 1, 2].map((a) => (DIRECTION[a]! * rel[0]! + DIRECTION[3 + a]! * rel[1]! + DIRECTION[6 + a]! * rel[2]!) / DX)
      const margin = local.every((x, a) => x > 0.01 && x < GRID.size[a]! - 1.01)
      const outside = local.some((x, a) => x < -0.01 || x > GRID.size[a]! - 0.99)
      if (margin) {
        inside++
        expect(onCt.data[v]! / field(p), `CT voxel ${v}`).toBeCloseTo(1, 4)
      } else if (outside) expect(onCt.data[v], `CT voxel ${v}`).toBe(0)
    }
    expect(inside).toBeGreaterThan(500)
  })

  it('a folder that is not a plan, a plan without medium/scene.json and --free-water on a scene exit 2 with one line', async () => {
    const old = path.join(dir, 'old-plan')
    await fs.mkdir(path.join(old, 'medium'), { recursive: true })
    await fs.writeFile(path.join(old, PLAN_FILES.plan), '{}\n')
    const empty = path.join(dir, 'empty-folder')
    await fs.mkdir(empty, { recursive: true })
    const sceneFile = path.join(planDir, PLAN_FILES.scene)
    const h5 = path.join(dir, 'never.h5')
    const cases: Array<[string, string[], RegExp]> = [
      ['old plan', ['export-kwave', old, h5], /old-plan: has no medium\/scene\.json .*run tfus plan again/],
      ['not a plan', ['export-kwave', empty, h5], /empty-folder: is a folder but not a plan folder \(no plan\.json\)/],
      ['free water of a scene', ['export-kwave', sceneFile, h5, '--free-water'], /--free-water: applies to a plan folder/],
      ['import from an old plan', ['import-kwave', h5, '--plan', old, path.join(dir, 'never.nii.gz')], /old-plan: has no medium\/scene\.json/],
      ['import with both', ['import-kwave', h5, '--plan', planDir, '--scene', sceneFile, path.join(dir, 'never.nii.gz')], /--scene: give either --scene/],
      ['import --plan a file', ['import-kwave', h5, '--plan', sceneFile, path.join(dir, 'never.nii.gz')], /--plan: .*scene\.json is not a folder/],
    ]
    for (const [name, args, message] of cases) {
      const r = await cli(args)
      expect(r.code, name).toBe(2)
      expect(r.err.split('\n'), name).toHaveLength(1)
      expect(r.err, name).toMatch(message)
    }
    await expect(fs.stat(h5)).rejects.toThrow()
  })
})
