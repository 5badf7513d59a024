/**
 * The input of k-Wave's C++ solvers (kspaceFirstOrder-OMP / -CUDA) for a simulation plan, as a
 * list of datasets; electron/adapters/kwave-hdf5.ts writes them to HDF5. Format facts are in
 * shared/reference/kwave-hdf5.md, checked against the C++ reader (kspaceFirstOrder 2.17:
 * Parameters.cpp, MatrixContainer.cpp, Hdf5File.cpp) and k-wave-python's writer (kwave/utils/io.py).
 *
 * Both codes solve the identical problem:
 * - Grid. Our PML lies outside the user's grid, k-Wave's inside its grid; the exported grid is our
 *   whole computational grid (user grid + source-stencil margins + FFT padding + PML) with
 *   pml_{x,y,z}_size = our PML points, which k-Wave places at the same faces (kspace.ts pmlProfile).
 * - Medium. c0 is the model's sound speed (compensated for y != 2, setup.ts), c_ref = its maximum,
 *   alpha_coeff the model's alpha_0 converted to dB/(MHz^y cm), which the C++ code turns back with
 *   db2neper. Heterogeneous fields are expanded to the grid as the CPU engine does.
 * - Source. The engine's source map S(x) (sourceDistribution), scaled by 2 dt / (3 c0 dx) as
 *   k-Wave's scaleSourceTerms, one signal per non-zero point (p_source_many = 1) in the 'additive'
 *   mode (p_source_mode = 2) where the C++ code applies the cos(c_ref |k| dt / 2) filter itself.
 *   The engine filters the map once instead (the filter is linear and time-invariant) and drops
 *   the ringing tails below 1e-7 of the peak, so the two differ by less than that.
 * - Time indexing. The C++ loop's iteration t_index = 0 .. Nt-1 (Nt steps) updates u, then rho,
 *   adds row t_index of p_source_input, then forms p, so after that iteration p is the pressure at
 *   (t_index + 1) dt (KSpaceFirstOrderSolver::computeMainLoop). Our engine's step n = 1, 2, ...
 *   does the same and adds the drive at t = n dt with ramp(n). So row r holds our step n = r + 1:
 *     p_source_input[r, i] = S_i * 2 dt / (3 c0_i dx) * ramp(r + 1) * cos(omega (r + 1) dt + phase),
 *   i.e. ramp(n) (Re S_i cos(omega n dt) - Im S_i sin(omega n dt)) scaled, exactly as the engine's
 *   addSource.
 * - Recording. `-s s` (1-based) makes the C++ code sample iterations t_index >= s - 1, i.e. our
 *   steps s..Nt, and p_rms = sqrt(sum p^2 / (Nt - s + 1)) (BaseOutputStream::postProcess). We
 *   record the last window of W = windowSteps steps (a whole number of periods at an integer number
 *   of points per period), where the discrete mean of cos^2 is exactly 1/2, so the steady-state
 *   amplitude is sqrt(2) p_rms.
 */
import type { SimulationSetup } from './setup.ts'
import { SimulationInputError, SimulationNumericalError } from './errors.ts'
import { expandField, staggeredDensity } from './cpu/engine.ts'
import { sourceDistribution } from './source-grid.ts'
import { pmlProfile, shiftedDerivative, wavenumbers } from './kspace.ts'
import { neper2db } from './analytic/units.ts'
import { fieldAt } from './model.ts'

/** 1.2: current binaries (kspaceFirstOrder 2.17+, k-Wave 1.3+); 1.1: older binaries, which read the PML and k-space shift vectors from the file. */
export type KwaveFormat = '1.1' | '1.2'

export const KWAVE_FORMATS: readonly KwaveFormat[] = ['1.2', '1.1']

/**
 * Values generated on demand along the slowest non-unit axis (p_source_input can reach gigabytes,
 * so the writer asks for it in blocks instead of holding it whole).
 */
export interface KwaveRowSource {
  readonly rows: number
  readonly rowLength: number
  /** Rows first .. first + count - 1, row after row. */
  read(first: number, count: number): Float32Array
}

export type KwaveValues = Float32Array | BigUint64Array

export interface KwaveDataset {
  readonly name: string
  /** 'float' is float32, 'long' uint64 (the data_type attribute the C++ reader checks). */
  readonly dataType: 'float' | 'long'
  /** 'complex' data are interleaved (re, im) float32 pairs. */
  readonly domainType: 'real' | 'complex'
  /** HDF5 dimensions, slowest first: (Nz, Ny, Nx) for a grid field so that x varies fastest. */
  readonly shape: readonly [number, number, number]
  /** In storage order (last dimension fastest). */
  readonly data: KwaveValues | KwaveRowSource
}

export interface KwaveExport {
  readonly format: KwaveFormat
  readonly datasets: readonly KwaveDataset[]
  /** The exported (computational) grid, x, y, z. */
  readonly gridSize: readonly [number, number, number]
  readonly nt: number
  /** The `-s` argument: first recorded step, 1-based. */
  readonly recordStartStep: number
  /** Recorded steps, Nt - s + 1: a whole number of periods. */
  readonly recordSteps: number
  readonly recordPeriods: number
  /** [x1 y1 z1 x2 y2 z2], 1-based and inclusive: the user's grid inside the exported one. */
  readonly sensorCorners: readonly [number, number, number, number, number, number]
  readonly sourcePoints: number
  /** Size of p_source_input, which the C++ code loads whole into memory. */
  readonly sourceInputBytes: number
  readonly warnings: readonly string[]
}

export interface KwaveExportOptions {
  readonly format?: KwaveFormat
  /** Nt; by default the step at which our runner's last window ends when it runs to its limit. */
  readonly steps?: number
}

const SOURCE_WARN_BYTES = 2 ** 30

function scalarLong(name: string, value: number): KwaveDataset {
  return { name, dataType: 'long', domainType: 'real', shape: [1, 1, 1], data: BigUint64Array.of(BigInt(value)) }
}

function scalarFloat(name: string, value: number): KwaveDataset {
  return { name, dataType: 'float', domainType: 'real', shape: [1, 1, 1], data: Float32Array.of(value) }
}

/** A medium property: a (1,1,1) scalar when uniform, else the full grid (the C++ reader tells them apart by shape). */
function medium(name: string, value: number | Float32Array, size: readonly [number, number, number]): KwaveDataset {
  if (typeof value === 'number') return scalarFloat(name, value)
  return { name, dataType: 'float', domainType: 'real', shape: [size[2], size[1], size[0]], data: value }
}

function mapGrid(field: number | Float32Array, fn: (v: number) => number): number | Float32Array {
  if (typeof field === 'number') return fn(field)
  return field.map(fn)
}

/** A 1D vector laid out along one axis: x -> (1,1,n), y -> (1,n,1), z -> (n,1,1), as MATLAB's writer does. */
function axisShape(axis: 0 | 1 | 2, n: number): [number, number, number] {
  return axis === 0 ? [1, 1, n] : axis === 1 ? [1, n, 1] : [n, 1, 1]
}

function complexVector(name: string, axis: 0 | 1 | 2, re: ArrayLike<number>, im: ArrayLike<number>, count: number): KwaveDataset {
  const data = new Float32Array(2 * count)
  for (let i = 0; i < count; i++) {
    data[2 * i] = re[i]!
    data[2 * i + 1] = im[i]!
  }
  // A complex vector doubles its non-unit dimension (interleaved re, im), as k-Wave's writeMatrix.
  return { name, dataType: 'float', domainType: 'complex', shape: axisShape(axis, 2 * count), data }
}

/**
 * Format 1.1 extras: the split-field PML profiles (k-Wave getPML, regular and staggered) and the
 * k-space shift operators. ddx uses the first Nx/2 + 1 entries of ifftshift(1i k e^{+-1i k dx/2})
 * (the real-to-complex half spectrum), ddy and ddz the full length; {x,y,z}_shift_neg_r =
 * ifftshift(e^{-1i k d/2}), first N/2 + 1 entries (used only for the non-staggered velocity output).
 */
function format11Vectors(plan: SimulationSetup, size: readonly [number, number, number]): KwaveDataset[] {
  const dx = plan.grid.spacingM
  const dt = plan.time.dtS
  const out: KwaveDataset[] = []
  const names = ['x', 'y', 'z'] as const
  for (const axis of [0, 1, 2] as const) {
    const n = size[axis]
    const a = names[axis]
    const pml = plan.axes[axis].pml
    out.push({
      name: `pml_${a}`,
      dataType: 'float',
      domainType: 'real',
      shape: axisShape(axis, n),
      data: pmlProfile(n, pml, plan.settings.pmlAlpha, plan.cRef, dx, dt, false),
    })
    out.push({
      name: `pml_${a}_sg${a}`,
      dataType: 'float',
      domainType: 'real',
      shape: axisShape(axis, n),
      data: pmlProfile(n, pml, plan.settings.pmlAlpha, plan.cRef, dx, dt, true),
    })
  }
  for (const axis of [0, 1, 2] as const) {
    const n = size[axis]
    const k = wavenumbers(n, dx)
    const half = Math.floor(n / 2) + 1
    const count = axis === 0 ? half : n
    const suffix = axis === 0 ? '_r' : ''
    const pos = shiftedDerivative(k, dx, 1)
    const neg = shiftedDerivative(k, dx, -1)
    out.push(complexVector(`dd${names[axis]}_k_shift_pos${suffix}`, axis, pos.re, pos.im, count))
    out.push(complexVector(`dd${names[axis]}_k_shift_neg${suffix}`, axis, neg.re, neg.im, count))
  }
  for (const axis of [0, 1, 2] as const) {
    const n = size[axis]
    const k = wavenumbers(n, dx)
    const half = Math.floor(n / 2) + 1
    const re = new Float64Array(half)
    const im = new Float64Array(half)
    for (let i = 0; i < half; i++) {
      re[i] = Math.cos((k[i]! * dx) / 2)
      im[i] = -Math.sin((k[i]! * dx) / 2)
    }
    out.push(complexVector(`${names[axis]}_shift_neg_r`, axis, re, im, half))
  }
  return out
}

/** Nt and the recording window (see the header): W = windowSteps, s = Nt - W + 1. */
function timeWindow(plan: SimulationSetup, steps: number | undefined): { nt: number; start: number; window: number; warnings: string[] } {
  const t = plan.time
  const window = t.windowSteps
  const warnings: string[] = []
  let nt: number
  if (steps === undefined) {
    nt = t.traversalEndStep + Math.floor((t.maxSteps - t.traversalEndStep) / window) * window
  } else {
    if (!Number.isInteger(steps) || steps < window) {
      throw new SimulationInputError(
        '--steps',
        `must be a whole number of at least ${window} (one recording window of ${window / t.pointsPerPeriod} periods), got ${steps}`,
      )
    }
    nt = steps
    if (nt - window < t.traversalEndStep) {
      warnings.push(
        `the recorded window starts at step ${nt - window + 1}, before the start-up ramp and one domain traversal are over (step ${t.traversalEndStep + 1}): k-Wave's p_rms will not be the steady-state amplitude`,
      )
    }
  }
  return { nt, start: nt - window + 1, window, warnings }
}

/** Every dataset of the k-Wave input file for a plan (3D fluid code, one cuboid sensor over the user's grid). */
export function buildKwaveExport(plan: SimulationSetup, options: KwaveExportOptions = {}): KwaveExport {
  const format = options.format ?? '1.2'
  if (!KWAVE_FORMATS.includes(format)) throw new SimulationInputError('--kwave-format', `must be 1.2 or 1.1, got ${String(format)}`)
  const size = [plan.axes[0].total, plan.axes[1].total, plan.axes[2].total] as const
  const [nx, ny, nz] = size
  const n = nx * ny * nz
  const dx = plan.grid.spacingM
  const dt = plan.time.dtS
  const omega = 2 * Math.PI * plan.source.frequencyHz
  const { nt, start, window, warnings } = timeWindow(plan, options.steps)

  // Source: the unfiltered, scaled map at its non-zero points (x fastest, so increasing index).
  const c0 = expandField(plan.model.c0, plan)
  const dist = sourceDistribution(
    plan.source.elements,
    { originM: plan.computeOriginM, spacingM: dx, size },
    { upsampling: plan.settings.sourceUpsampling, bliTolerance: plan.settings.bliTolerance },
  )
  const points: number[] = []
  for (let i = 0; i < n; i++) if (dist.re[i] !== 0 || dist.im[i] !== 0) points.push(i)
  const nsrc = points.length
  if (nsrc === 0) throw new SimulationInputError('source', 'has no grid points with a non-zero weight (zero amplitude?)')
  const sourceRe = new Float64Array(nsrc)
  const sourceIm = new Float64Array(nsrc)
  points.forEach((index, s) => {
    const scale = (2 * dt) / (3 * fieldAt(c0, index) * dx)
    sourceRe[s] = dist.re[index]! * scale
    sourceIm[s] = dist.im[index]! * scale
  })
  const rampSteps = plan.time.rampSteps
  const sourceInput: KwaveRowSource = {
    rows: nt,
    rowLength: nsrc,
    read(first, count) {
      const out = new Float32Array(count * nsrc)
      for (let r = 0; r < count; r++) {
        // Row first + r drives our step first + r + 1 (header: time indexing).
        const step = first + r + 1
        const t = step * dt
        const ramp = step >= rampSteps ? 1 : 0.5 * (1 - Math.cos((Math.PI * step) / rampSteps))
        const a = ramp * Math.cos(omega * t)
        const b = -ramp * Math.sin(omega * t)
        const row = r * nsrc
        for (let s = 0; s < nsrc; s++) out[row + s] = a * sourceRe[s]! + b * sourceIm[s]!
      }
      return out
    },
  }
  const sourceInputBytes = 4 * nsrc * nt
  if (sourceInputBytes > SOURCE_WARN_BYTES) {
    warnings.push(
      `p_source_input holds ${nsrc} source points x ${nt} steps = ${(sourceInputBytes / 2 ** 30).toFixed(1)} GiB of float32, which k-Wave loads whole into memory`,
    )
  }

  const rho0 = expandField(plan.medium.density, plan)
  const y = plan.medium.alphaPower
  const corners = [0, 1, 2]
    .map((d) => plan.axes[d]!.userStart + 1)
    .concat([0, 1, 2].map((d) => plan.axes[d]!.userStart + plan.axes[d]!.userSize)) as unknown as KwaveExport['sensorCorners']

  const datasets: KwaveDataset[] = [
    scalarLong('Nx', nx),
    scalarLong('Ny', ny),
    scalarLong('Nz', nz),
    scalarLong('Nt', nt),
    scalarFloat('dt', dt),
    scalarFloat('dx', dx),
    scalarFloat('dy', dx),
    scalarFloat('dz', dx),
    scalarFloat('c_ref', plan.cRef),
    scalarLong('pml_x_size', plan.axes[0].pml),
    scalarLong('pml_y_size', plan.axes[1].pml),
    scalarLong('pml_z_size', plan.axes[2].pml),
    scalarFloat('pml_x_alpha', plan.settings.pmlAlpha),
    scalarFloat('pml_y_alpha', plan.settings.pmlAlpha),
    scalarFloat('pml_z_alpha', plan.settings.pmlAlpha),
    // Read by 1.2 readers only (2.17 Parameters.cpp); k-wave-python writes it as 0.
    ...(format === '1.2' ? [scalarLong('axisymmetric_flag', 0)] : []),
    scalarLong('p_source_flag', nt),
    scalarLong('p0_source_flag', 0),
    scalarLong('transducer_source_flag', 0),
    scalarLong('ux_source_flag', 0),
    scalarLong('uy_source_flag', 0),
    scalarLong('uz_source_flag', 0),
    scalarLong('nonuniform_grid_flag', 0),
    scalarLong('nonlinear_flag', 0),
    scalarLong('absorbing_flag', plan.absorbing ? 1 : 0),
    scalarLong('sensor_mask_type', 1),
    medium('c0', c0, size),
    medium('rho0', rho0, size),
    medium(
      'rho0_sgx',
      staggeredDensity(rho0, size, 0, (n) => new Float32Array(n)),
      size,
    ),
    medium(
      'rho0_sgy',
      staggeredDensity(rho0, size, 1, (n) => new Float32Array(n)),
      size,
    ),
    medium(
      'rho0_sgz',
      staggeredDensity(rho0, size, 2, (n) => new Float32Array(n)),
      size,
    ),
    ...(plan.absorbing
      ? [
          medium(
            'alpha_coeff',
            mapGrid(expandField(plan.model.alpha0, plan), (a) => neper2db(a, y)),
            size,
          ),
          scalarFloat('alpha_power', y),
        ]
      : []),
    scalarLong('p_source_mode', 2),
    scalarLong('p_source_many', 1),
    { name: 'p_source_index', dataType: 'long', domainType: 'real', shape: [1, 1, nsrc], data: BigUint64Array.from(points, (i) => BigInt(i + 1)) },
    // (1, Nt, Nsrc): value[t, i] with the source index fastest, as the C++ code indexes it (t_index * Nsrc + i).
    { name: 'p_source_input', dataType: 'float', domainType: 'real', shape: [1, nt, nsrc], data: sourceInput },
    { name: 'sensor_mask_corners', dataType: 'long', domainType: 'real', shape: [1, 1, 6], data: BigUint64Array.from(corners, (c) => BigInt(c)) },
    ...(format === '1.1' ? format11Vectors(plan, size) : []),
  ]
  return {
    format,
    datasets,
    gridSize: size,
    nt,
    recordStartStep: start,
    recordSteps: window,
    recordPeriods: window / plan.time.pointsPerPeriod,
    sensorCorners: corners,
    sourcePoints: nsrc,
    sourceInputBytes,
    warnings,
  }
}

/** All values of a dataset in storage order (generating them when they are generated on demand). */
export function datasetValues(dataset: KwaveDataset): KwaveValues {
  const d = dataset.data
  return d instanceof Float32Array || d instanceof BigUint64Array ? d : d.read(0, d.rows)
}

/**
 * The steady-state amplitude on the user's grid from k-Wave's /p_rms/1: the cuboid sensor's
 * aggregate is one 3D (nz, ny, nx) dataset over the user's grid, x fastest like ours
 * (CuboidOutputStream::createCuboidDataset). sqrt(2) p_rms is exact for a whole number of periods
 * recorded (header).
 */
export function amplitudeFromKwaveRms(pRms: Float32Array | Float64Array, plan: SimulationSetup): Float32Array {
  const [ux, uy, uz] = plan.grid.size
  if (pRms.length !== ux * uy * uz) {
    throw new SimulationInputError(
      '/p_rms/1',
      `has ${pRms.length} values but the scene's grid has ${ux} x ${uy} x ${uz} = ${ux * uy * uz} points: import with the scene that was exported`,
    )
  }
  const out = new Float32Array(pRms.length)
  for (let i = 0; i < out.length; i++) {
    const v = pRms[i]!
    if (!Number.isFinite(v)) throw new SimulationNumericalError(`k-Wave's p_rms is not finite at grid index ${i} (the k-Wave run was unstable)`)
    out[i] = Math.SQRT2 * v
  }
  return out
}
