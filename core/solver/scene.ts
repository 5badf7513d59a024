/**
 * Scene files: a researcher's (and our tests') way to script a simulation. JSON in SI units,
 * validated with zod so that a bad scene names the field at fault. Objects are strict: an
 * unknown key (a typo such as "pml_point") is refused, never silently ignored. See README
 * "Scene files".
 */
import { z } from 'zod'
import type { Vec3 } from '../volume/types.ts'
import { SimulationInputError } from './errors.ts'
import { DEFAULT_SETTINGS, type Grid, type Medium, type Settings, type Source, type SourceElement } from './model.ts'
import { dbPerCmToNpPerM } from './analytic/units.ts'
import { checkFrequency, checkSolverSettings, checkUserGrid } from './limits.ts'

const vec3 = z.tuple([z.number(), z.number(), z.number()])
const positive = z.number().positive()

const material = z.strictObject({
  sound_speed: positive,
  density: positive,
  alpha_db_cm: z.number().nonnegative().default(0),
  alpha_power: z.number().optional(),
})

const objectSchema = z.discriminatedUnion('shape', [
  z.strictObject({ shape: z.literal('slab'), axis: z.union([z.literal(0), z.literal(1), z.literal(2)]), from_m: z.number(), to_m: z.number(), material }),
  z.strictObject({ shape: z.literal('shell'), center_m: vec3, r_inner_m: z.number().nonnegative(), r_outer_m: positive, material }),
  z.strictObject({ shape: z.literal('sphere'), center_m: vec3, radius_m: positive, material }),
  // A voxel medium over the whole grid from NIfTI files (paths relative to the scene file): each
  // given map replaces that property everywhere; the others keep what earlier entries painted.
  z.strictObject({
    shape: z.literal('voxels'),
    sound_speed_file: z.string().min(1).optional(),
    density_file: z.string().min(1).optional(),
    alpha_db_cm_file: z.string().min(1).optional(),
  }),
])

const ring = z.strictObject({ inner_m: z.number().nonnegative(), outer_m: positive, amplitude_pa: z.number().nonnegative(), phase_rad: z.number().default(0) })

const sourceSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('bowl'),
    apex_m: vec3,
    focus_m: vec3,
    roc_m: positive,
    aperture_m: positive,
    amplitude_pa: z.number().nonnegative(),
    phase_rad: z.number().default(0),
  }),
  z.strictObject({
    type: z.literal('disc'),
    center_m: vec3,
    toward_m: vec3,
    diameter_m: positive,
    amplitude_pa: z.number().nonnegative(),
    phase_rad: z.number().default(0),
  }),
  z.strictObject({
    type: z.literal('plane'),
    axis: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    position_m: z.number(),
    amplitude_pa: z.number().nonnegative(),
    phase_rad: z.number().default(0),
  }),
  z.strictObject({ type: z.literal('annular'), apex_m: vec3, focus_m: vec3, roc_m: positive, rings: z.array(ring).min(1) }),
])

export const sceneSchema = z.strictObject({
  frequency_hz: positive,
  grid: z.strictObject({ spacing_m: positive, min_m: vec3, max_m: vec3 }),
  background: material.extend({ alpha_power: z.number().default(2) }),
  objects: z.array(objectSchema).default([]),
  source: sourceSchema,
  solver: z
    .strictObject({
      cfl: positive.optional(),
      pml_points: z.union([z.number().int().min(0), z.tuple([z.number().int().min(0), z.number().int().min(0), z.number().int().min(0)])]).optional(),
      pml_alpha: z.number().nonnegative().optional(),
      steady_tolerance: positive.optional(),
      ramp_periods: z.number().nonnegative().optional(),
      window_periods: z.number().int().positive().optional(),
      window_start_traversals: z.number().nonnegative().optional(),
      max_traversals: positive.optional(),
      source_upsampling: positive.optional(),
      bli_tolerance: positive.optional(),
      compensate_absorption: z.boolean().optional(),
    })
    .default({}),
})

export type SceneJson = z.infer<typeof sceneSchema>

/** A voxel map as read from its file: the host reads the files, the scene checks them against its grid. */
export interface VoxelMap {
  readonly dims: readonly [number, number, number]
  /** Voxel size along each index axis [m]. */
  readonly spacingM: readonly [number, number, number]
  readonly data: ArrayLike<number>
}

/** The voxel maps a scene names, keyed by the file name as written in the scene. */
export type VoxelMaps = ReadonlyMap<string, VoxelMap>

const VOXEL_FIELDS = [
  { key: 'sound_speed_file', what: 'sound speed [m/s]', min: 0, strict: true },
  { key: 'density_file', what: 'density [kg/m3]', min: 0, strict: true },
  { key: 'alpha_db_cm_file', what: 'attenuation [dB/cm]', min: 0, strict: false },
] as const

/** The files a scene's voxel objects name, with the field that names each (read them before parseScene). */
export function sceneVoxelFiles(input: unknown): { field: string; file: string }[] {
  const objects = (input as { objects?: unknown } | null)?.objects
  if (!Array.isArray(objects)) return []
  const files: { field: string; file: string }[] = []
  objects.forEach((o: unknown, i) => {
    if (!o || typeof o !== 'object' || (o as { shape?: unknown }).shape !== 'voxels') return
    for (const { key } of VOXEL_FIELDS) {
      const file = (o as Record<string, unknown>)[key]
      if (typeof file === 'string' && file.length > 0) files.push({ field: `objects[${i}].${key}`, file })
    }
  })
  return files
}

export interface Scene {
  readonly grid: Grid
  readonly medium: Medium
  readonly source: Source
  readonly settings: Settings
  readonly json: SceneJson
}

function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('') || '(scene)'
}

/**
 * Parses and checks a scene; throws SimulationInputError naming the first bad field. `voxels`
 * holds the maps of the scene's voxel objects (sceneVoxelFiles), read by the host.
 */
export function parseScene(input: unknown, voxels: VoxelMaps = new Map()): Scene {
  const parsed = sceneSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    if (issue.code === 'unrecognized_keys') {
      const where = fieldPath(issue.path)
      throw new SimulationInputError(
        issue.keys.map((k) => (issue.path.length > 0 ? `${where}.${k}` : k)).join(', '),
        'is not a field of a scene file (misspelt?)',
      )
    }
    const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message)
    throw new SimulationInputError(fieldPath(issue.path), missing ? 'is missing' : issue.message)
  }
  const json = parsed.data
  const y = json.background.alpha_power
  if (!(y >= 0 && y < 3) || Math.abs(y - 1) < 1e-9) {
    throw new SimulationInputError('background.alpha_power', `must be in [0, 3) and not 1 (the dispersion term has tan(pi y / 2)), got ${y}`)
  }
  json.objects.forEach((o, i) => {
    if (o.shape === 'voxels') {
      if (!VOXEL_FIELDS.some(({ key }) => o[key] !== undefined))
        throw new SimulationInputError(`objects[${i}]`, 'a voxels object names at least one of sound_speed_file, density_file, alpha_db_cm_file')
      return
    }
    if (o.material.alpha_power !== undefined && Math.abs(o.material.alpha_power - y) > 1e-12) {
      throw new SimulationInputError(
        `objects[${i}].material.alpha_power`,
        `must equal background.alpha_power (${y}): the model has one global exponent, as k-Wave`,
      )
    }
    if (o.shape === 'slab' && !(o.to_m > o.from_m)) throw new SimulationInputError(`objects[${i}].to_m`, `must be greater than from_m (${o.from_m})`)
    if (o.shape === 'shell' && !(o.r_outer_m > o.r_inner_m))
      throw new SimulationInputError(`objects[${i}].r_outer_m`, `must be greater than r_inner_m (${o.r_inner_m})`)
  })

  const dx = json.grid.spacing_m
  const size = [0, 1, 2].map((d) => {
    const span = json.grid.max_m[d]! - json.grid.min_m[d]!
    const steps = span / dx
    if (!(span > 0)) throw new SimulationInputError(`grid.max_m[${d}]`, `must be greater than grid.min_m[${d}]`)
    if (Math.abs(steps - Math.round(steps)) > 1e-6 * Math.max(1, steps)) {
      throw new SimulationInputError(`grid.max_m[${d}]`, `the span ${span} m is not a whole number of grid steps of ${dx} m`)
    }
    return Math.round(steps) + 1
  }) as [number, number, number]
  const grid: Grid = { spacingM: dx, size, originM: [...json.grid.min_m] as unknown as Vec3 }
  // The caps (limits.ts) before the medium is rasterised onto the grid: a 2000^3 grid is one
  // line here, not 96 GB of sound speed, density and attenuation.
  checkUserGrid(size, 'grid')
  checkFrequency(json.frequency_hz)

  const s = json.solver
  const settings: Settings = {
    cfl: s.cfl ?? DEFAULT_SETTINGS.cfl,
    pmlPoints:
      s.pml_points === undefined ? DEFAULT_SETTINGS.pmlPoints : typeof s.pml_points === 'number' ? [s.pml_points, s.pml_points, s.pml_points] : s.pml_points,
    pmlAlpha: s.pml_alpha ?? DEFAULT_SETTINGS.pmlAlpha,
    steadyTolerance: s.steady_tolerance ?? DEFAULT_SETTINGS.steadyTolerance,
    rampPeriods: s.ramp_periods ?? DEFAULT_SETTINGS.rampPeriods,
    windowPeriods: s.window_periods ?? DEFAULT_SETTINGS.windowPeriods,
    windowStartTraversals: s.window_start_traversals ?? DEFAULT_SETTINGS.windowStartTraversals,
    maxTraversals: s.max_traversals ?? DEFAULT_SETTINGS.maxTraversals,
    sourceUpsampling: s.source_upsampling ?? DEFAULT_SETTINGS.sourceUpsampling,
    bliTolerance: s.bli_tolerance ?? DEFAULT_SETTINGS.bliTolerance,
    compensateAbsorption: s.compensate_absorption ?? DEFAULT_SETTINGS.compensateAbsorption,
  }
  checkSolverSettings(settings, size)
  const source = toSource(json)
  const maps = checkVoxelMaps(json, grid, voxels)
  const medium = rasterizeMedium(json, grid, maps)
  return { grid, medium, source, settings, json }
}

/**
 * Each voxel map against the grid: voxel (i, j, k) of the file is grid point (i, j, k) (x fastest),
 * so its dimensions must be the grid's and its voxels the grid spacing (to float32 precision, as
 * NIfTI stores it); every value finite, sound speed and density positive, attenuation >= 0.
 * Returns the maps as float32 keyed by "objects[i].field".
 */
function checkVoxelMaps(json: SceneJson, grid: Grid, voxels: VoxelMaps): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>()
  const n = grid.size[0] * grid.size[1] * grid.size[2]
  json.objects.forEach((o, i) => {
    if (o.shape !== 'voxels') return
    for (const { key, what, min, strict } of VOXEL_FIELDS) {
      const file = o[key]
      if (file === undefined) continue
      const field = `objects[${i}].${key}`
      const map = voxels.get(file)
      if (!map) throw new SimulationInputError(field, `${file} was not read (the host passes the voxel maps of sceneVoxelFiles)`)
      if (map.dims.some((d, a) => d !== grid.size[a]))
        throw new SimulationInputError(field, `${file} has ${map.dims.join('x')} voxels but the scene grid is ${grid.size.join('x')}`)
      const bad = map.spacingM.findIndex((s) => !(Math.abs(s - grid.spacingM) <= 1e-5 * grid.spacingM))
      if (bad >= 0)
        throw new SimulationInputError(
          field,
          `${file} has voxels of ${map.spacingM.map((s) => +(s * 1000).toPrecision(6)).join(' x ')} mm but the scene grid spacing is ${grid.spacingM * 1000} mm`,
        )
      if (map.data.length !== n) throw new SimulationInputError(field, `${file} holds ${map.data.length} values, not ${n}`)
      const values = Float32Array.from(map.data)
      for (let v = 0; v < n; v++) {
        const x = values[v]!
        if (!Number.isFinite(x) || (strict ? !(x > min) : !(x >= min))) {
          const ijk = [v % grid.size[0], Math.floor(v / grid.size[0]) % grid.size[1], Math.floor(v / (grid.size[0] * grid.size[1]))]
          throw new SimulationInputError(field, `${file} holds ${x} at voxel ${ijk.join(',')}: ${what} must be finite and ${strict ? '> 0' : '>= 0'}`)
        }
      }
      out.set(field, key === 'alpha_db_cm_file' ? values.map(dbPerCmToNpPerM) : values)
    }
  })
  return out
}

/**
 * Objects are painted in order (later ones override) at grid points: a point belongs to a
 * slab when from_m <= x < to_m, so a 6.5 mm slab on a 0.5 mm grid is exactly 13 points. A
 * voxels object replaces the properties it names at every point.
 */
function rasterizeMedium(json: SceneJson, grid: Grid, maps: ReadonlyMap<string, Float32Array>): Medium {
  const bg = json.background
  const homogeneous = json.objects.length === 0
  const bgAlpha = dbPerCmToNpPerM(bg.alpha_db_cm)
  if (homogeneous) return { soundSpeed: bg.sound_speed, density: bg.density, alphaNpM: bgAlpha, alphaPower: bg.alpha_power }
  const [nx, ny, nz] = grid.size
  const n = nx * ny * nz
  const c = new Float32Array(n).fill(bg.sound_speed)
  const rho = new Float32Array(n).fill(bg.density)
  const alpha = new Float32Array(n).fill(bgAlpha)
  const eps = grid.spacingM * 1e-6
  for (const [index, o] of json.objects.entries()) {
    if (o.shape === 'voxels') {
      const cMap = maps.get(`objects[${index}].sound_speed_file`)
      const rhoMap = maps.get(`objects[${index}].density_file`)
      const alphaMap = maps.get(`objects[${index}].alpha_db_cm_file`)
      if (cMap) c.set(cMap)
      if (rhoMap) rho.set(rhoMap)
      if (alphaMap) alpha.set(alphaMap)
      continue
    }
    const mc = o.material.sound_speed
    const mr = o.material.density
    const ma = dbPerCmToNpPerM(o.material.alpha_db_cm)
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          const p = [grid.originM[0] + i * grid.spacingM, grid.originM[1] + j * grid.spacingM, grid.originM[2] + k * grid.spacingM] as const
          let inside: boolean
          if (o.shape === 'slab') inside = p[o.axis] >= o.from_m - eps && p[o.axis] < o.to_m - eps
          else {
            const centre = o.center_m
            const r = Math.hypot(p[0] - centre[0], p[1] - centre[1], p[2] - centre[2])
            inside = o.shape === 'sphere' ? r <= o.radius_m + eps : r >= o.r_inner_m - eps && r <= o.r_outer_m + eps
          }
          if (inside) {
            const index = i + nx * (j + ny * k)
            c[index] = mc
            rho[index] = mr
            alpha[index] = ma
          }
        }
  }
  return { soundSpeed: c, density: rho, alphaNpM: alpha, alphaPower: bg.alpha_power }
}

function toSource(json: SceneJson): Source {
  const s = json.source
  let elements: SourceElement[]
  if (s.type === 'bowl') {
    elements = [
      {
        kind: 'bowl',
        apexM: s.apex_m,
        focusM: s.focus_m,
        rocM: s.roc_m,
        apertureM: s.aperture_m,
        innerApertureM: 0,
        amplitudePa: s.amplitude_pa,
        phaseRad: s.phase_rad,
      },
    ]
  } else if (s.type === 'plane') {
    elements = [{ kind: 'plane', axis: s.axis, positionM: s.position_m, amplitudePa: s.amplitude_pa, phaseRad: s.phase_rad }]
  } else if (s.type === 'disc') {
    elements = [{ kind: 'disc', centerM: s.center_m, towardM: s.toward_m, diameterM: s.diameter_m, amplitudePa: s.amplitude_pa, phaseRad: s.phase_rad }]
  } else {
    elements = s.rings.map((r) => ({
      kind: 'bowl' as const,
      apexM: s.apex_m,
      focusM: s.focus_m,
      rocM: s.roc_m,
      apertureM: r.outer_m,
      innerApertureM: r.inner_m,
      amplitudePa: r.amplitude_pa,
      phaseRad: r.phase_rad,
    }))
  }
  elements.forEach((e, i) => {
    const field = s.type === 'annular' ? `source.rings[${i}]` : 'source'
    if (e.kind === 'bowl') {
      if (e.apertureM > 2 * e.rocM)
        throw new SimulationInputError(
          `${field}.${s.type === 'annular' ? 'outer_m' : 'aperture_m'}`,
          `aperture diameter ${e.apertureM} m exceeds twice the radius of curvature ${e.rocM} m`,
        )
      if (e.innerApertureM >= e.apertureM) throw new SimulationInputError(`${field}.inner_m`, `must be smaller than outer_m (${e.apertureM} m)`)
      const axisLength = Math.hypot(e.focusM[0] - e.apexM[0], e.focusM[1] - e.apexM[1], e.focusM[2] - e.apexM[2])
      if (axisLength === 0) throw new SimulationInputError('source.focus_m', 'must differ from apex_m (it sets the axis direction)')
    } else if (e.kind === 'disc') {
      const axisLength = Math.hypot(e.towardM[0] - e.centerM[0], e.towardM[1] - e.centerM[1], e.towardM[2] - e.centerM[2])
      if (axisLength === 0) throw new SimulationInputError('source.toward_m', 'must differ from center_m (it sets the facing direction)')
    }
  })
  return { frequencyHz: json.frequency_hz, elements }
}
