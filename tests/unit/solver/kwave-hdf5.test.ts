/**
 * k-Wave C++ input/output files: the exported datasets are checked against the format reference
 * (shared/reference/kwave-hdf5.md, which was checked against the C++ reader) and against the plan
 * and the CPU engine they must reproduce. k-Wave itself (kspaceFirstOrder-OMP/-CUDA) cannot run
 * here, so these tests check the format and the numbers, not a k-Wave run; the import side is
 * tested with a synthetic output file built to the same reference.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import h5wasm from 'h5wasm/node'
import type { Attribute, Dataset as H5Dataset, Group as H5Group, Metadata } from 'h5wasm/node'
import { readVolume } from '../../../electron/adapters/volume-io.ts'
import { writeKwaveInputFile, kwaveOutputName } from '../../../electron/adapters/kwave-hdf5.ts'
import { parseScene } from '../../../core/solver/scene.ts'
import { setupSimulation, type SimulationSetup } from '../../../core/solver/setup.ts'
import { buildKwaveExport, datasetValues, type KwaveExport, type KwaveFormat } from '../../../core/solver/kwave-export.ts'
import { buildEngineData, createStepper, expandField, SOLO } from '../../../core/solver/cpu/engine.ts'
import { sourceDistribution } from '../../../core/solver/source-grid.ts'
import { db2neper } from '../../../core/solver/analytic/units.ts'
import { createFft3d } from '../../../core/fft/fft3d.ts'
import { halfSpectrumAxes, radialSpectrum } from '../../../core/solver/kspace.ts'
import { planeWaveScene } from '../../helpers/solver.ts'
import { cli } from '../../helpers/cli.ts'

let dir: string
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-kwave-'))
  await h5wasm.ready
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

async function sceneFile(name: string, scene: unknown): Promise<string> {
  const file = path.join(dir, name)
  await fs.writeFile(file, typeof scene === 'string' ? scene : JSON.stringify(scene))
  return file
}

const BOWL = {
  frequency_hz: 500000,
  grid: { spacing_m: 0.001, min_m: [0, -0.012, -0.012], max_m: [0.03, 0.012, 0.012] },
  background: { sound_speed: 1500, density: 1000, alpha_db_cm: 0 },
  source: { type: 'bowl', apex_m: [0, 0, 0], focus_m: [0.02, 0, 0], roc_m: 0.02, aperture_m: 0.02, amplitude_pa: 60000 },
}

function slabScene(y: number) {
  return planeWaveScene({
    dx: 0.0005,
    lengthM: 0.02,
    sourceAtM: 0.004,
    background: { sound_speed: 1500, density: 1000, alpha_db_cm: 0, alpha_power: y },
    objects: [{ shape: 'slab', axis: 0, from_m: 0.008, to_m: 0.012, material: { sound_speed: 2800, density: 1850, alpha_db_cm: 4 } }],
  })
}

function planOf(scene: unknown): SimulationSetup {
  const s = parseScene(scene)
  return setupSimulation(s.grid, s.medium, s.source, s.settings)
}

// ---- Reading a file back with h5wasm -------------------------------------------------------------

/** An attribute read while its file is open (h5wasm reads attributes lazily). */
interface ReadAttribute {
  readonly metadata: Metadata
  readonly shape: number[] | null
  readonly value: unknown
}

function attributes(all: Record<string, Attribute>): Record<string, ReadAttribute> {
  const out: Record<string, ReadAttribute> = {}
  for (const [name, a] of Object.entries(all)) out[name] = { metadata: a.metadata, shape: a.shape, value: a.value }
  return out
}

interface ReadDataset {
  readonly shape: number[]
  readonly type: number
  readonly size: number
  readonly signed: boolean
  readonly values: Float32Array | BigUint64Array
  readonly attrs: Record<string, ReadAttribute>
  readonly chunks: number[] | null
}

interface ReadFile {
  readonly attrs: Record<string, ReadAttribute>
  readonly datasets: Map<string, ReadDataset>
}

function readH5(file: string): ReadFile {
  const f = new h5wasm.File(file, 'r')
  try {
    const datasets = new Map<string, ReadDataset>()
    for (const name of f.keys()) {
      const d = f.get(name) as H5Dataset
      const m = d.metadata
      datasets.set(name, {
        shape: d.shape ?? [],
        type: m.type,
        size: m.size,
        signed: m.signed,
        values: d.value as Float32Array | BigUint64Array,
        attrs: attributes(d.attrs),
        chunks: m.chunks,
      })
    }
    return { attrs: attributes(f.attrs), datasets }
  } finally {
    f.close()
  }
}

function get(file: ReadFile, name: string): ReadDataset {
  const d = file.datasets.get(name)
  if (!d) throw new Error(`no dataset ${name}`)
  return d
}

function scalar(file: ReadFile, name: string): number {
  const d = get(file, name)
  expect(d.shape, name).toEqual([1, 1, 1])
  return Number(d.values[0])
}

function numbers(d: ReadDataset): Float64Array {
  return Float64Array.from(d.values as ArrayLike<number | bigint>, (v) => Number(v))
}

/** A fixed-length (not variable-length), NUL-terminated ASCII string of length + 1 bytes, as H5LTset_attribute_string writes. */
function expectFixedString(attr: ReadAttribute | undefined, value: string) {
  expect(attr, value).toBeDefined()
  const m = attr!.metadata
  expect(m.type).toBe(3) // H5T_STRING
  expect(m.vlen).toBe(false)
  expect(m.cset).toBe(0) // ASCII
  expect(m.strpad).toBe(0) // NULLTERM
  expect(m.size).toBe(value.length + 1)
  expect(attr!.shape).toEqual([])
  expect(attr!.value).toBe(value)
}

// ---- Independent references (MATLAB k-Wave definitions) -------------------------------------------

const LONG = new Set([
  'Nx',
  'Ny',
  'Nz',
  'Nt',
  'pml_x_size',
  'pml_y_size',
  'pml_z_size',
  'axisymmetric_flag',
  'p_source_flag',
  'p0_source_flag',
  'transducer_source_flag',
  'ux_source_flag',
  'uy_source_flag',
  'uz_source_flag',
  'nonuniform_grid_flag',
  'nonlinear_flag',
  'absorbing_flag',
  'sensor_mask_type',
  'p_source_mode',
  'p_source_many',
  'p_source_index',
  'sensor_mask_corners',
])
const BASE = [
  'Nx',
  'Ny',
  'Nz',
  'Nt',
  'dt',
  'dx',
  'dy',
  'dz',
  'c_ref',
  'pml_x_size',
  'pml_y_size',
  'pml_z_size',
  'pml_x_alpha',
  'pml_y_alpha',
  'pml_z_alpha',
  'p_source_flag',
  'p0_source_flag',
  'transducer_source_flag',
  'ux_source_flag',
  'uy_source_flag',
  'uz_source_flag',
  'nonuniform_grid_flag',
  'nonlinear_flag',
  'absorbing_flag',
  'sensor_mask_type',
  'c0',
  'rho0',
  'rho0_sgx',
  'rho0_sgy',
  'rho0_sgz',
  'p_source_mode',
  'p_source_many',
  'p_source_index',
  'p_source_input',
  'sensor_mask_corners',
]
const V11 = [
  'pml_x',
  'pml_x_sgx',
  'pml_y',
  'pml_y_sgy',
  'pml_z',
  'pml_z_sgz',
  'ddx_k_shift_pos_r',
  'ddx_k_shift_neg_r',
  'ddy_k_shift_pos',
  'ddy_k_shift_neg',
  'ddz_k_shift_pos',
  'ddz_k_shift_neg',
  'x_shift_neg_r',
  'y_shift_neg_r',
  'z_shift_neg_r',
]
const COMPLEX = new Set(V11.filter((n) => n.includes('shift')))

function expectedNames(format: KwaveFormat, absorbing: boolean): string[] {
  return [
    ...BASE,
    ...(format === '1.2' ? ['axisymmetric_flag'] : []),
    ...(absorbing ? ['alpha_coeff', 'alpha_power'] : []),
    ...(format === '1.1' ? V11 : []),
  ].sort()
}

/** MATLAB kgrid.k_vec then ifftshift: [0, 1, ..., -1] * 2 pi / (N dx), Nyquist -pi/dx for even N. */
function matlabK(n: number, dx: number): number[] {
  const vec = Array.from({ length: n }, (_, i) => (n % 2 === 0 ? i - n / 2 : i - (n - 1) / 2) / n)
  return Array.from({ length: n }, (_, i) => (2 * Math.PI * vec[(i + Math.floor(n / 2)) % n]!) / dx)
}

/** k-Wave getPML.m. */
function getPml(n: number, dx: number, dt: number, c: number, size: number, alpha: number, staggered: boolean): number[] {
  const pml = new Array<number>(n).fill(1)
  const shift = staggered ? 0.5 : 0
  for (let x = 1; x <= size; x++) {
    const left = alpha * (c / dx) * ((x + shift - size - 1) / (0 - size)) ** 4
    const right = alpha * (c / dx) * ((x + shift) / size) ** 4
    pml[x - 1] = Math.exp((-left * dt) / 2)
    pml[n - size + x - 1] = Math.exp((-right * dt) / 2)
  }
  return pml
}

/** The engine's scaled source map S(x) 2 dt / (3 c0 dx) (before its k-space filter). */
function scaledSource(plan: SimulationSetup) {
  const size = [plan.axes[0].total, plan.axes[1].total, plan.axes[2].total] as const
  const dx = plan.grid.spacingM
  const dt = plan.time.dtS
  const dist = sourceDistribution(
    plan.source.elements,
    { originM: plan.computeOriginM, spacingM: dx, size },
    { upsampling: plan.settings.sourceUpsampling, bliTolerance: plan.settings.bliTolerance },
  )
  const c0 = expandField(plan.model.c0, plan)
  const index: number[] = []
  const re: number[] = []
  const im: number[] = []
  for (let i = 0; i < dist.re.length; i++) {
    if (dist.re[i] === 0 && dist.im[i] === 0) continue
    const scale = (2 * dt) / (3 * (typeof c0 === 'number' ? c0 : c0[i]!) * dx)
    index.push(i)
    re.push(dist.re[i]! * scale)
    im.push(dist.im[i]! * scale)
  }
  return { index, re, im }
}

/** The engine's drive at step n (addSource): ramp(n) (Re S cos(omega n dt) - Im S sin(omega n dt)). */
function drive(plan: SimulationSetup, n: number) {
  const r = plan.time.rampSteps
  const ramp = n >= r ? 1 : 0.5 * (1 - Math.cos((Math.PI * n) / r))
  const omega = 2 * Math.PI * plan.source.frequencyHz
  return { a: ramp * Math.cos(omega * n * plan.time.dtS), b: -ramp * Math.sin(omega * n * plan.time.dtS) }
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!))
  return m
}

// ---- The checks -----------------------------------------------------------------------------------

function checkFile(file: ReadFile, plan: SimulationSetup, exported: KwaveExport) {
  const format = exported.format
  const [major, minor] = format.split('.')
  // Root attributes.
  expectFixedString(file.attrs['file_type'], 'input')
  expectFixedString(file.attrs['major_version'], major!)
  expectFixedString(file.attrs['minor_version'], minor!)
  for (const name of ['created_by', 'creation_date', 'file_description']) {
    const value = file.attrs[name]?.value
    expect(typeof value, name).toBe('string')
    expect((value as string).length, name).toBeLessThan(256)
    expectFixedString(file.attrs[name], value as string)
  }

  // Exactly the datasets of the format, each 3D, typed and tagged as the reader checks.
  expect([...file.datasets.keys()].sort()).toEqual(expectedNames(format, plan.absorbing))
  for (const [name, d] of file.datasets) {
    expect(d.shape, name).toHaveLength(3)
    const long = LONG.has(name)
    expectFixedString(d.attrs['data_type'], long ? 'long' : 'float')
    expectFixedString(d.attrs['domain_type'], COMPLEX.has(name) ? 'complex' : 'real')
    if (long)
      expect([d.type, d.size, d.signed], name).toEqual([0, 8, false]) // uint64
    else expect([d.type, d.size], name).toEqual([1, 4]) // float32
  }

  // Grid and time: the whole computational grid, PML inside it with our thickness.
  const [nx, ny, nz] = plan.axes.map((a) => a.total) as [number, number, number]
  expect([scalar(file, 'Nx'), scalar(file, 'Ny'), scalar(file, 'Nz')]).toEqual([nx, ny, nz])
  const nt = scalar(file, 'Nt')
  expect(nt).toBe(exported.nt)
  expect(scalar(file, 'dt')).toBe(Math.fround(plan.time.dtS))
  for (const d of ['dx', 'dy', 'dz']) expect(scalar(file, d)).toBe(Math.fround(plan.grid.spacingM))
  expect(scalar(file, 'c_ref')).toBe(Math.fround(plan.cRef))
  ;['x', 'y', 'z'].forEach((a, d) => {
    expect(scalar(file, `pml_${a}_size`)).toBe(plan.axes[d]!.pml)
    expect(scalar(file, `pml_${a}_alpha`)).toBe(Math.fround(plan.settings.pmlAlpha))
  })

  // Flags.
  expect(scalar(file, 'p_source_flag')).toBe(nt) // steps of signal, not a boolean
  for (const flag of [
    'p0_source_flag',
    'transducer_source_flag',
    'ux_source_flag',
    'uy_source_flag',
    'uz_source_flag',
    'nonuniform_grid_flag',
    'nonlinear_flag',
  ])
    expect(scalar(file, flag), flag).toBe(0)
  if (format === '1.2') expect(scalar(file, 'axisymmetric_flag')).toBe(0)
  expect(scalar(file, 'absorbing_flag')).toBe(plan.absorbing ? 1 : 0)
  expect(scalar(file, 'p_source_mode')).toBe(2) // additive: k-Wave applies the source k-space filter
  expect(scalar(file, 'p_source_many')).toBe(1)
  expect(scalar(file, 'sensor_mask_type')).toBe(1)

  // Sensor: the user's grid as one cuboid, 1-based inclusive corners.
  const corners = get(file, 'sensor_mask_corners')
  expect(corners.shape).toEqual([1, 1, 6])
  const lo = plan.axes.map((a) => a.userStart + 1)
  const hi = plan.axes.map((a) => a.userStart + a.userSize)
  expect(Array.from(numbers(corners))).toEqual([...lo, ...hi])
  for (let d = 0; d < 3; d++) expect(hi[d]! - lo[d]! + 1).toBe(plan.grid.size[d])

  // Medium: model c0 (compensated), raw densities at the regular and staggered points.
  const n = nx * ny * nz
  const grid = (name: string, expected: number | Float32Array) => {
    const d = get(file, name)
    if (typeof expected === 'number') {
      expect(d.shape, name).toEqual([1, 1, 1])
      expect(d.values[0], name).toBe(Math.fround(expected))
    } else {
      expect(d.shape, name).toEqual([nz, ny, nx])
      expect(d.values, name).toEqual(expected)
    }
  }
  grid('c0', expandField(plan.model.c0, plan))
  const rho0 = expandField(plan.medium.density, plan)
  grid('rho0', rho0)
  const strides = [1, nx, nx * ny]
  ;(['rho0_sgx', 'rho0_sgy', 'rho0_sgz'] as const).forEach((name, axis) => {
    if (typeof rho0 === 'number') return grid(name, rho0)
    const sg = get(file, name).values as Float32Array
    expect(sg.length).toBe(n)
    for (let i = 0; i < n; i++) {
      const pos = [i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))][axis]!
      const extent = [nx, ny, nz][axis]!
      const expected = pos < extent - 1 ? Math.fround(0.5 * (rho0[i]! + rho0[i + strides[axis]!]!)) : rho0[i]!
      if (sg[i] !== expected) expect(sg[i], `${name}[${i}]`).toBe(expected)
    }
  })
  if (plan.absorbing) {
    expect(scalar(file, 'alpha_power')).toBe(Math.fround(plan.medium.alphaPower))
    const alpha0 = expandField(plan.model.alpha0, plan)
    const coeff = get(file, 'alpha_coeff')
    const values = numbers(coeff)
    const expected = typeof alpha0 === 'number' ? [alpha0] : Array.from(alpha0)
    expect(values.length).toBe(expected.length)
    // dB/(MHz^y cm) back through k-Wave's db2neper gives the plan's alpha_0 (to float32).
    for (let i = 0; i < expected.length; i++) {
      const back = db2neper(values[i]!, plan.medium.alphaPower)
      if (Math.abs(back - expected[i]!) > 1e-6 * Math.abs(expected[i]!)) expect(back, `alpha_coeff[${i}]`).toBeCloseTo(expected[i]!, 12)
    }
    expect(maxAbs(values)).toBeGreaterThan(0)
  }

  // Source: 1-based indices of the non-zero points of the engine's map, one signal each.
  const ref = scaledSource(plan)
  const index = get(file, 'p_source_index')
  const nsrc = ref.index.length
  expect(index.shape).toEqual([1, 1, nsrc])
  const idx = numbers(index)
  expect(Array.from(idx)).toEqual(ref.index.map((i) => i + 1))
  for (let s = 0; s < nsrc; s++) {
    expect(idx[s]).toBeGreaterThanOrEqual(1)
    expect(idx[s]).toBeLessThanOrEqual(n)
    if (s > 0) expect(idx[s]).toBeGreaterThan(idx[s - 1]!)
  }
  const input = get(file, 'p_source_input')
  expect(input.shape).toEqual([1, nt, nsrc])
  const signal = input.values as Float32Array
  const peak = Math.max(maxAbs(ref.re), maxAbs(ref.im))
  let worst = 0
  for (let r = 0; r < nt; r++) {
    // Row r drives our step r + 1 (t = (r + 1) dt).
    const { a, b } = drive(plan, r + 1)
    for (let s = 0; s < nsrc; s++) worst = Math.max(worst, Math.abs(signal[r * nsrc + s]! - (a * ref.re[s]! + b * ref.im[s]!)))
  }
  expect(worst / peak).toBeLessThan(1e-6)
  // Row 0 is step 1, already ramped up from zero (step 0 would be all zeros).
  expect(maxAbs(signal.subarray(0, nsrc))).toBeGreaterThan(0)

  // Recording window: the last whole number of periods up to Nt.
  expect(exported.recordSteps % plan.time.pointsPerPeriod).toBe(0)
  expect(exported.nt - exported.recordStartStep + 1).toBe(exported.recordSteps)
  expect(exported.recordStartStep).toBeGreaterThanOrEqual(1)

  if (format === '1.1') {
    const dx = plan.grid.spacingM
    const dt = plan.time.dtS
    ;(['x', 'y', 'z'] as const).forEach((a, axis) => {
      const size = [nx, ny, nz][axis]!
      const shapeOf = (len: number) => (axis === 0 ? [1, 1, len] : axis === 1 ? [1, len, 1] : [len, 1, 1])
      for (const staggered of [false, true]) {
        const d = get(file, staggered ? `pml_${a}_sg${a}` : `pml_${a}`)
        expect(d.shape).toEqual(shapeOf(size))
        const expected = getPml(size, dx, dt, plan.cRef, plan.axes[axis]!.pml, plan.settings.pmlAlpha, staggered)
        numbers(d).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6))
      }
      const k = matlabK(size, dx)
      const half = Math.floor(size / 2) + 1
      for (const [suffix, sign] of [
        ['pos', 1],
        ['neg', -1],
      ] as const) {
        const name = `dd${a}_k_shift_${suffix}${axis === 0 ? '_r' : ''}`
        const count = axis === 0 ? half : size
        const d = get(file, name)
        expect(d.shape).toEqual(shapeOf(2 * count))
        const v = numbers(d)
        for (let i = 0; i < count; i++) {
          // 1i k exp(+-1i k dx / 2), interleaved (re, im).
          const phase = (sign * k[i]! * dx) / 2
          const scale = Math.PI / dx
          expect(v[2 * i]! / scale).toBeCloseTo((-k[i]! * Math.sin(phase)) / scale, 6)
          expect(v[2 * i + 1]! / scale).toBeCloseTo((k[i]! * Math.cos(phase)) / scale, 6)
        }
      }
      const shift = get(file, `${a}_shift_neg_r`)
      expect(shift.shape).toEqual(shapeOf(2 * half))
      const v = numbers(shift)
      for (let i = 0; i < half; i++) {
        expect(v[2 * i]!).toBeCloseTo(Math.cos((k[i]! * dx) / 2), 6)
        expect(v[2 * i + 1]!).toBeCloseTo(-Math.sin((k[i]! * dx) / 2), 6)
      }
    })
  }
}

/**
 * One k-Wave step from rest: u stays 0, rho_xi = filtered source row 0 (k-Wave's additive mode
 * applies cos(c_ref |k| dt / 2)), p = c0^2 (rho_x + rho_y + rho_z). The engine's first step must
 * give the same pressure: this pins the scaling, the 1-based indices and row 0 = step 1 together.
 */
function checkFirstStep(file: ReadFile, plan: SimulationSetup) {
  const [nx, ny, nz] = plan.axes.map((a) => a.total) as [number, number, number]
  const n = nx * ny * nz
  const map = new Float32Array(n)
  const idx = numbers(get(file, 'p_source_index'))
  const row0 = get(file, 'p_source_input').values as Float32Array
  idx.forEach((i, s) => (map[i - 1] = row0[s]!))
  const fft = createFft3d(nx, ny, nz)
  const re = new Float32Array(fft.spectrumLength)
  const im = new Float32Array(fft.spectrumLength)
  fft.forward(map, re, im)
  const dt = plan.time.dtS
  const kappa = radialSpectrum(halfSpectrumAxes(nx, ny, nz, plan.grid.spacingM), (k) => Math.cos((plan.cRef * k * dt) / 2))
  for (let i = 0; i < re.length; i++) {
    re[i] = re[i]! * kappa[i]!
    im[i] = im[i]! * kappa[i]!
  }
  fft.inverse(re, im, map)
  const c0 = expandField(plan.model.c0, plan)
  const expected = map.map((v, i) => 3 * (typeof c0 === 'number' ? c0 : c0[i]!) ** 2 * v)
  const engine = buildEngineData(plan)
  createStepper(engine, SOLO).step(1)
  const p = engine.p
  const peak = maxAbs(expected)
  expect(peak).toBeGreaterThan(0)
  let worst = 0
  for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(p[i]! - expected[i]!))
  expect(worst / peak).toBeLessThan(2e-6)
}

async function exportTo(name: string, plan: SimulationSetup, format: KwaveFormat, steps?: number, blockBytes?: number) {
  const exported = buildKwaveExport(plan, { format, ...(steps === undefined ? {} : { steps }) })
  const file = path.join(dir, name)
  await writeKwaveInputFile(file, exported, { description: `test ${name}`, ...(blockBytes === undefined ? {} : { blockBytes }) })
  return { exported, file, read: readH5(file) }
}

describe('k-Wave input files', () => {
  it('bowl in water, format 1.2: every dataset and attribute, Nt at the end of our last window, the engine first step', async () => {
    const plan = planOf(BOWL)
    const { exported, read } = await exportTo('bowl-12.h5', plan, '1.2')
    checkFile(read, plan, exported)
    // Default Nt: where our runner's last window ends when it runs to its limit.
    const t = plan.time
    expect(exported.nt).toBeLessThanOrEqual(t.maxSteps)
    expect(exported.nt + t.windowSteps).toBeGreaterThan(t.maxSteps)
    expect((exported.nt - t.traversalEndStep) % t.windowSteps).toBe(0)
    expect(exported.recordStartStep).toBe(exported.nt - t.windowSteps + 1)
    expect(plan.absorbing).toBe(false)
    checkFirstStep(read, plan)
  })

  it('bowl in water, format 1.1 with --steps: adds the PML and k-space shift vectors', async () => {
    const plan = planOf(BOWL)
    const { exported, read } = await exportTo('bowl-11.h5', plan, '1.1', 120)
    expect(exported.nt).toBe(120)
    expect(exported.warnings.join(' ')).toMatch(/before the start-up ramp/)
    checkFile(read, plan, exported)
  })

  for (const y of [2, 1.5]) {
    for (const format of ['1.2', '1.1'] as const) {
      it(`absorbing slab, y = ${y}, format ${format}: heterogeneous c0, rho0 and alpha_coeff`, async () => {
        const plan = planOf(slabScene(y))
        expect(plan.absorbing).toBe(true)
        expect(typeof plan.model.c0).not.toBe('number')
        const { exported, read } = await exportTo(`slab-${y}-${format}.h5`, plan, format)
        checkFile(read, plan, exported)
        if (y === 2) checkFirstStep(read, plan)
        else expect(exported.datasets.find((d) => d.name === 'c0')!.data).toEqual(expandField(plan.model.c0, plan))
      })
    }
  }

  it('writes large datasets chunked, block by block, with the same values', async () => {
    const plan = planOf(slabScene(2))
    const whole = await exportTo('slab-whole.h5', plan, '1.2')
    const blocks = await exportTo('slab-blocks.h5', plan, '1.2', undefined, 4096)
    expect(get(blocks.read, 'p_source_input').chunks).not.toBeNull()
    expect(get(blocks.read, 'c0').chunks).not.toBeNull()
    for (const [name, d] of whole.read.datasets) {
      expect(get(blocks.read, name).shape, name).toEqual(d.shape)
      expect(get(blocks.read, name).values, name).toEqual(d.values)
    }
    for (const dataset of whole.exported.datasets) expect(get(whole.read, dataset.name).values, dataset.name).toEqual(datasetValues(dataset))
  })

  it('rejects --steps shorter than one recording window', () => {
    const plan = planOf(BOWL)
    expect(() => buildKwaveExport(plan, { steps: plan.time.windowSteps - 1 })).toThrow(/--steps/)
    expect(() => buildKwaveExport(plan, { steps: 100.5 })).toThrow(/--steps/)
  })
})

describe('tfus export-kwave / import-kwave', () => {
  it('export writes the input file and the command line with the recording window', async () => {
    const scene = await sceneFile('bowl.json', BOWL)
    const input = path.join(dir, 'cli', 'input.h5')
    const r = await cli(['export-kwave', scene, input])
    expect(r.code, r.err).toBe(0)
    const plan = planOf(BOWL)
    const exported = buildKwaveExport(plan)
    const read = readH5(input)
    checkFile(read, plan, exported)
    expect(kwaveOutputName(input)).toBe('output.h5')
    const cmd = (await fs.readFile(`${input}.cmd`, 'utf8')).split('\n')
    expect(cmd).toContain(`kspaceFirstOrder-OMP -i input.h5 -o output.h5 -s ${exported.recordStartStep} --p_rms --p_max`)
    expect(cmd).toContain(`# CUDA: kspaceFirstOrder-CUDA -i input.h5 -o output.h5 -s ${exported.recordStartStep} --p_rms --p_max`)
    expect(r.out).toContain(`-s ${exported.recordStartStep}`)

    const r11 = await cli(['export-kwave', scene, path.join(dir, 'cli', 'bowl.h5'), '--kwave-format', '1.1', '--steps', '200'])
    expect(r11.code, r11.err).toBe(0)
    const read11 = readH5(path.join(dir, 'cli', 'bowl.h5'))
    expectFixedString(read11.attrs['minor_version'], '1')
    expect(scalar(read11, 'Nt')).toBe(200)
    expect(await fs.readFile(path.join(dir, 'cli', 'bowl.h5.cmd'), 'utf8')).toContain('-o bowl_output.h5 -s ')
  })

  /** A k-Wave output file as the C++ code writes it (kwave-hdf5.md "Output files"). */
  async function syntheticOutput(
    name: string,
    plan: SimulationSetup,
    pRms: Float32Array,
    options: { gridSize?: number[]; pRmsShape?: number[]; noRms?: boolean; fileType?: string } = {},
  ) {
    const file = path.join(dir, name)
    const f = new h5wasm.File(file, 'w')
    const text = (target: { create_attribute: H5Group['create_attribute'] }, key: string, value: string) =>
      target.create_attribute(key, value, null, `A${value.length + 1}`)
    text(f, 'file_type', options.fileType ?? 'output')
    text(f, 'major_version', '1')
    text(f, 'minor_version', '2')
    text(f, 'total_execution_time', '  333.82s')
    const grid = options.gridSize ?? plan.axes.map((a) => a.total)
    ;['Nx', 'Ny', 'Nz'].forEach((key, d) => f.create_dataset({ name: key, data: BigUint64Array.of(BigInt(grid[d]!)), shape: [1, 1, 1], dtype: '<Q' }))
    f.create_dataset({ name: 'Nt', data: BigUint64Array.of(631n), shape: [1, 1, 1], dtype: '<Q' })
    const [ux, uy, uz] = plan.grid.size
    const shape = options.pRmsShape ?? [uz, uy, ux]
    if (!options.noRms) {
      f.create_group('p_rms').create_dataset({ name: '1', data: pRms, shape, dtype: '<f4' })
      f.create_group('p_max').create_dataset({ name: '1', data: pRms.map((v) => Math.SQRT2 * v), shape, dtype: '<f4' })
    }
    f.close()
    return file
  }

  it('import writes sqrt(2) p_rms on the scene grid as a NIfTI in the scene frame', async () => {
    const scene = await sceneFile('bowl-import.json', BOWL)
    const plan = planOf(BOWL)
    const [ux, uy, uz] = plan.grid.size
    const pRms = new Float32Array(ux * uy * uz)
    // A known field, peaked at user voxel (20, 12, 12) = scene (20, 0, 0) mm.
    for (let k = 0; k < uz; k++)
      for (let j = 0; j < uy; j++)
        for (let i = 0; i < ux; i++)
          pRms[i + ux * (j + uy * k)] = 1000 + i + 10 * j + 100 * k - 5 * Math.hypot(i - 20, j - 12, k - 12) + (i === 20 && j === 12 && k === 12 ? 1e5 : 0)
    const output = await syntheticOutput('out-ok.h5', plan, pRms)
    const nii = path.join(dir, 'import', 'p_amp_kwave.nii.gz')
    const r = await cli(['import-kwave', output, '--scene', scene, nii])
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/at 20\.00, 0\.00, 0\.00 mm/)
    const amp = await readVolume(nii, { modality: 'OT' })
    expect(amp.dims).toEqual([ux, uy, uz])
    // The NIfTI world coordinates (RAS) are the scene's numbers, as p_amp.nii.gz from simulate.
    expect(amp.originM[0]).toBeCloseTo(-0, 9)
    expect(-amp.originM[1]).toBeCloseTo(-0.012, 9)
    expect(amp.originM[2]).toBeCloseTo(-0.012, 9)
    expect(amp.spacingM[0]).toBeCloseTo(0.001, 9)
    for (let i = 0; i < pRms.length; i++) {
      const expected = Math.fround(Math.SQRT2 * pRms[i]!)
      if (amp.data[i] !== expected) expect(amp.data[i], `voxel ${i}`).toBe(expected)
    }
  })

  it('bad inputs exit 2 with one line naming the file or field', async () => {
    const plan = planOf(BOWL)
    const scene = await sceneFile('bowl-bad.json', BOWL)
    const [ux, uy, uz] = plan.grid.size
    const field = new Float32Array(ux * uy * uz).fill(1)
    const text = path.join(dir, 'not-hdf5.h5')
    await fs.writeFile(text, 'this is not HDF5\n')
    const input = path.join(dir, 'an-input.h5')
    await writeKwaveInputFile(input, buildKwaveExport(plan, { steps: 40 }), { description: 'input' })
    const badScene = await sceneFile('bad-scene.json', { ...BOWL, background: { ...BOWL.background, sound_speed: -1500 } })
    const nii = path.join(dir, 'never.nii.gz')
    const cases: Array<[string, string[], RegExp]> = [
      ['missing scene file', ['export-kwave', path.join(dir, 'nope.json'), path.join(dir, 'x.h5')], /nope\.json/],
      ['bad scene field', ['export-kwave', badScene, path.join(dir, 'x.h5')], /background\.sound_speed/],
      ['unknown format', ['export-kwave', scene, path.join(dir, 'x.h5'), '--kwave-format', '2.0'], /--kwave-format/],
      ['steps not a number', ['export-kwave', scene, path.join(dir, 'x.h5'), '--steps', 'many'], /--steps/],
      ['steps shorter than a window', ['export-kwave', scene, path.join(dir, 'x.h5'), '--steps', '3'], /--steps/],
      ['export without the input file', ['export-kwave', scene], /usage/],
      ['import without --scene', ['import-kwave', input, nii], /--scene/],
      ['missing output file', ['import-kwave', path.join(dir, 'missing.h5'), '--scene', scene, nii], /missing\.h5/],
      ['not HDF5', ['import-kwave', text, '--scene', scene, nii], /not-hdf5\.h5: is not an HDF5 file/],
      ['an input file', ['import-kwave', input, '--scene', scene, nii], /an-input\.h5: is a k-Wave "input" file/],
      [
        'no p_rms',
        ['import-kwave', await syntheticOutput('out-norms.h5', plan, field, { noRms: true }), '--scene', scene, nii],
        /out-norms\.h5: has no \/p_rms\/1/,
      ],
      [
        'other grid',
        ['import-kwave', await syntheticOutput('out-grid.h5', plan, field, { gridSize: [64, 64, 64] }), '--scene', scene, nii],
        /out-grid\.h5: holds a 64x64x64 grid/,
      ],
      [
        'other sensor',
        ['import-kwave', await syntheticOutput('out-shape.h5', plan, field, { pRmsShape: [uz, ux, uy] }), '--scene', scene, nii],
        /out-shape\.h5:\/p_rms\/1/,
      ],
    ]
    for (const [name, args, message] of cases) {
      const r = await cli(args)
      expect(r.code, name).toBe(2)
      expect(r.err.split('\n'), name).toHaveLength(1)
      expect(r.err, name).toMatch(message)
    }
    await expect(fs.stat(nii)).rejects.toThrow()
  })
})
