/**
 * The bad-input corpus: what a careless user or a local attacker hands the CLI and the
 * browser-mode API. Every case must end in exit code 2 (HTTP 4xx for the API) with ONE line on
 * stderr (no stack trace, no usage dump), quickly, without the process growing past 2 GB, and
 * without leaving output or temporary files behind.
 *
 * Cases are generated from a handful of valid files (the bundled scenes, transducers and
 * protocols, the sample CT) by breaking one thing at a time, so each case names what it breaks.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs, constants as fsConstants, mkdtempSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import * as http from 'node:http'
import * as os from 'node:os'
import * as path from 'node:path'
import { gzipSync } from 'fflate'
import { buildNifti1 } from '../../helpers/nifti.ts'
import { seededBytes } from '../../../core/math/random.ts'
import { cli } from '../../helpers/cli.ts'
import { createPlannerService, type PlannerService } from '../../../electron/app/service.ts'
import { startServer, type RunningServer } from '../../../electron/server/server.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const CT = path.join(ROOT, 'resources/samples/cranium-ct.nii.gz')
const GOOD_TARGET = '30,-18,13.5'
/** What the corpus allows one case: the acceptance's memory cap and a time cap per case. */
const RSS_CAP_BYTES = 2 * 1024 ** 3
const CASE_TIME_CAP_MS = 30_000

// Made when the file loads: case arguments name paths inside it.
const dir = mkdtempSync(path.join(os.tmpdir(), 'tfus-bad-input-'))
/** The folders the code under test sees as os.tmpdir() and as the user-data folder. */
const tmp = path.join(dir, 'tmp')
const data = path.join(dir, 'data')
const savedEnv = { TMPDIR: process.env.TMPDIR, TFUS_DATA_DIR: process.env.TFUS_DATA_DIR }

async function put(name: string, bytes: Uint8Array | string): Promise<string> {
  const file = path.join(dir, 'in', name)
  await fs.mkdir(path.dirname(file), { recursive: true })
  await fs.writeFile(file, bytes)
  return file
}
const putJson = (name: string, value: unknown) => put(name, JSON.stringify(value, null, 2))

async function readJson(rel: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(path.join(ROOT, rel), 'utf8')) as Record<string, unknown>
}

/** A copy of `base` with `value` at `keys` (undefined deletes the key). */
function withKey<T>(base: T, keys: ReadonlyArray<string | number>, value: unknown): T {
  const copy = structuredClone(base)
  let at = copy as Record<string | number, unknown>
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string | number, unknown>
  const last = keys[keys.length - 1]!
  if (value === undefined) delete at[last]
  else at[last] = value
  return copy
}

/** Every file below `root`, as relative paths (empty when it does not exist). */
async function listTree(root: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (d: string) => {
    const entries = await fs.readdir(d, { withFileTypes: true }).catch(() => [])
    for (const e of entries) {
      const p = path.join(d, e.name)
      out.push(path.relative(root, p))
      if (e.isDirectory()) await walk(p)
    }
  }
  await walk(root)
  return out.sort()
}

const exists = (p: string) =>
  fs.access(p, fsConstants.F_OK).then(
    () => true,
    () => false,
  )

const SFORM = [
  [1, 0, 0, -4],
  [0, 1, 0, -4],
  [0, 0, 1, -4],
]
const niftiBytes = (patch?: (v: DataView) => void) => {
  const b = buildNifti1({ dims: [8, 8, 8], sform: SFORM, datatype: 4, data: new Int16Array(512).fill(100) })
  patch?.(new DataView(b.buffer))
  return b
}

interface CliCase {
  readonly name: string
  /** The arguments (built once the corpus folder exists). */
  readonly args: () => Promise<string[]>
  /** Paths that must not exist afterwards (outputs). */
  readonly noOutput?: () => string[]
  /** A fragment the one line must contain (the file or field at fault). */
  readonly names?: RegExp
}

const cliCases: CliCase[] = []
const out = (name: string) => path.join(dir, 'out', name)
function add(c: CliCase) {
  cliCases.push(c)
}

// ---- image files, through `tfus info` and `tfus plan --ct` ----
const imageCases: Array<[string, () => Promise<string>]> = [
  ['a missing file', async () => path.join(dir, 'in', 'nope.nii.gz')],
  ['/dev/zero', async () => '/dev/zero'],
  ['/dev/null', async () => '/dev/null'],
  ['a FIFO', async () => path.join(dir, 'in', 'fifo.nii')],
  ['a symlink to /dev/zero', async () => path.join(dir, 'in', 'zero-link.nii.gz')],
  ['an empty folder', async () => path.join(dir, 'in', 'empty-folder')],
  ['a zero-byte .nii', () => put('empty.nii', new Uint8Array(0))],
  ['a NIfTI cut inside its header', () => put('cut-header.nii', niftiBytes().subarray(0, 200))],
  ['a NIfTI cut inside its voxels', () => put('cut-voxels.nii', niftiBytes().subarray(0, 352 + 300))],
  ['a gzip stream cut short', () => put('cut.nii.gz', gzipSync(niftiBytes()).subarray(0, 60))],
  [
    'a NIfTI declaring 32767^3 voxels',
    () =>
      put(
        'huge.nii',
        niftiBytes((v) => [42, 44, 46].forEach((o) => v.setInt16(o, 32767, true))),
      ),
  ],
  [
    'a gzipped NIfTI declaring 32767^3 voxels',
    async () => put('huge.nii.gz', gzipSync(niftiBytes((v) => [42, 44, 46].forEach((o) => v.setInt16(o, 32767, true))))),
  ],
  [
    'a NIfTI with a negative dimension',
    () =>
      put(
        'neg-dim.nii',
        niftiBytes((v) => v.setInt16(42, -8, true)),
      ),
  ],
  [
    'a NIfTI with dim[0] = 9',
    () =>
      put(
        'dim0.nii',
        niftiBytes((v) => v.setInt16(40, 9, true)),
      ),
  ],
  [
    'a NIfTI with spacing 0',
    () =>
      put(
        'spacing0.nii',
        niftiBytes((v) => v.setFloat32(80, 0, true)),
      ),
  ],
  [
    'a NIfTI with NaN spacing',
    () =>
      put(
        'spacing-nan.nii',
        niftiBytes((v) => v.setFloat32(84, Number.NaN, true)),
      ),
  ],
  [
    'a NIfTI with an unsupported datatype',
    () =>
      put(
        'rgb.nii',
        niftiBytes((v) => (v.setInt16(70, 128, true), v.setInt16(72, 24, true))),
      ),
  ],
  [
    'a NIfTI whose bitpix contradicts its datatype',
    () =>
      put(
        'bitpix.nii',
        niftiBytes((v) => v.setInt16(72, 32, true)),
      ),
  ],
  [
    'a NIfTI with a wrong header size',
    () =>
      put(
        'sizeof-hdr.nii',
        niftiBytes((v) => v.setInt32(0, 123, true)),
      ),
  ],
  ['a PNG renamed .nii', () => put('picture.nii', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(400)]))],
  ['text renamed .nii.gz', () => put('notes.nii.gz', 'not voxels\n'.repeat(50))],
  ['gzipped text named .nii.gz', () => put('text-inside.nii.gz', gzipSync(new TextEncoder().encode('hello\n'.repeat(100))))],
  ['random bytes named .nii', () => put('random.nii', seededBytes(1, 4096))],
  ['a PDF', () => put('report.xyz', '%PDF-1.4\n' + 'x'.repeat(600))],
  ['an NRRD with a garbage header', () => put('garbage.nrrd', 'NRRD0004\ntype: nonsense\ndimension: banana\n\n' + 'x'.repeat(100))],
  [
    'an NRRD declaring 100000^3 voxels',
    () => put('huge.nrrd', 'NRRD0004\ntype: short\ndimension: 3\nsizes: 100000 100000 100000\nencoding: raw\nendian: little\n\n' + 'x'.repeat(100)),
  ],
  [
    'an NRRD cut inside its data',
    () => put('cut.nrrd', 'NRRD0004\ntype: short\ndimension: 3\nsizes: 8 8 8\nspacings: 1 1 1\nencoding: raw\nendian: little\n\n' + '\0'.repeat(900)),
  ],
  [
    'an NRRD naming a missing data file',
    () => put('detached.nhdr', 'NRRD0004\ntype: short\ndimension: 3\nsizes: 8 8 8\nencoding: raw\nendian: little\ndata file: missing.raw\n\n'),
  ],
  [
    'an MHA declaring 100000^3 voxels, compressed',
    () =>
      put(
        'huge.mha',
        'ObjectType = Image\nNDims = 3\nDimSize = 100000 100000 100000\nElementType = MET_SHORT\nCompressedData = True\nElementDataFile = LOCAL\n' +
          'x'.repeat(64),
      ),
  ],
  [
    'an MHA cut inside its data',
    () =>
      put(
        'cut.mha',
        'ObjectType = Image\nNDims = 3\nDimSize = 8 8 8\nElementType = MET_SHORT\nElementSpacing = 1 1 1\nElementDataFile = LOCAL\n' + '\0'.repeat(900),
      ),
  ],
  [
    'an MHD naming a missing data file',
    () => put('detached.mhd', 'ObjectType = Image\nNDims = 3\nDimSize = 8 8 8\nElementType = MET_SHORT\nElementDataFile = missing.raw\n'),
  ],
  [
    'an MHD whose data file is /dev/zero',
    () => put('zero-data.mhd', 'ObjectType = Image\nNDims = 3\nDimSize = 8 8 8\nElementType = MET_SHORT\nElementDataFile = /dev/zero\n'),
  ],
  ['a folder of non-DICOM files', async () => (await put('not-dicom/a.dcm', 'nothing here'), path.join(dir, 'in', 'not-dicom'))],
  ['a file with DICM magic and nothing else', () => put('magic.dcm', new Uint8Array([...new Uint8Array(128), 0x44, 0x49, 0x43, 0x4d]))],
]
for (const [name, make] of imageCases) {
  add({ name: `info: ${name}`, args: async () => ['info', await make()] })
}
for (const [name, make] of imageCases.slice(0, 12)) {
  const o = out(`plan-ct-${cliCases.length}`)
  add({
    name: `plan --ct: ${name}`,
    args: async () => ['plan', '--ct', await make(), '--target', GOOD_TARGET, '--transducer', 'itrusst-bm-bowl', '--ppw', '2', '--out', o],
    noOutput: () => [o],
  })
}

// ---- scene files, through `tfus simulate` ----
const sceneMutations: Array<[string, ReadonlyArray<string | number>, unknown]> = [
  ['no frequency', ['frequency_hz'], undefined],
  ['frequency 0', ['frequency_hz'], 0],
  ['frequency -1', ['frequency_hz'], -1],
  ['frequency as text', ['frequency_hz'], '500 kHz'],
  ['a 1 THz frequency', ['frequency_hz'], 1e12],
  ['a 1 Hz frequency', ['frequency_hz'], 1],
  ['no grid', ['grid'], undefined],
  ['spacing 0', ['grid', 'spacing_m'], 0],
  ['negative spacing', ['grid', 'spacing_m'], -0.001],
  ['spacing as text', ['grid', 'spacing_m'], 'fine'],
  ['a 2000^3 grid', ['grid', 'max_m'], [0.5, 0.5, 0.5]],
  ['max below min', ['grid', 'max_m'], [-0.06, 0.00075, 0.00075]],
  ['a two-element max', ['grid', 'max_m'], [0.06, 0.001]],
  ['NaN-like min', ['grid', 'min_m'], [0, null, 0]],
  ['a misspelt key', ['frequency'], 5e5],
  ['a misspelt grid key', ['grid', 'spacing'], 0.001],
  ['no background', ['background'], undefined],
  ['background speed 0', ['background', 'sound_speed'], 0],
  ['background density -1', ['background', 'density'], -1],
  ['negative attenuation', ['background', 'alpha_db_cm'], -1],
  ['alpha power 1', ['background', 'alpha_power'], 1],
  ['alpha power 5', ['background', 'alpha_power'], 5],
  ['object of unknown shape', ['objects', 0, 'shape'], 'cube'],
  ['object speed -2800', ['objects', 0, 'material', 'sound_speed'], -2800],
  ['object speed 1e9', ['objects', 0, 'material', 'sound_speed'], 1e9],
  ['object axis 3', ['objects', 0, 'axis'], 3],
  ['objects not a list', ['objects'], { shape: 'slab' }],
  ['no source', ['source'], undefined],
  ['source of unknown type', ['source', 'type'], 'laser'],
  ['negative amplitude', ['source', 'amplitude_pa'], -1],
  ['source outside the grid', ['source', 'position_m'], 5],
  ['source axis 7', ['source', 'axis'], 7],
  ['pml_points 1e6', ['solver', 'pml_points'], [1_000_000, 0, 0]],
  ['pml_points -1', ['solver', 'pml_points'], [-1, 0, 0]],
  ['pml_points 2.5', ['solver', 'pml_points'], [2.5, 0, 0]],
  ['cfl 0', ['solver', 'cfl'], 0],
  ['cfl 10', ['solver', 'cfl'], 10],
  ['ramp_periods 1e9', ['solver', 'ramp_periods'], 1e9],
  ['max_traversals 1e9', ['solver', 'max_traversals'], 1e9],
  ['source_upsampling 1e5', ['solver', 'source_upsampling'], 1e5],
  ['a misspelt solver key', ['solver', 'pml_point'], 10],
]
for (const [name, keys, value] of sceneMutations) {
  const o = out(`sim-${cliCases.length}`)
  add({
    name: `simulate: scene with ${name}`,
    args: async () => [
      'simulate',
      await putJson(
        `scene-${cliCases.length}-${name.replace(/\W+/g, '-')}.json`,
        withKey(await readJson('resources/scenes/layer-plane-wave.json'), keys, value),
      ),
      '--out',
      o,
      '--backend',
      'cpu',
    ],
    noOutput: () => [o],
  })
}
add({
  name: 'simulate: a scene that is not JSON',
  args: async () => ['simulate', await put('broken.json', '{"frequency_hz": 5e5,'), '--out', out('sim-broken')],
  noOutput: () => [out('sim-broken')],
})
add({
  name: 'simulate: a scene that is a list',
  args: async () => ['simulate', await putJson('list.json', [1, 2, 3]), '--out', out('sim-list')],
  noOutput: () => [out('sim-list')],
})
add({ name: 'simulate: a scene that is /dev/zero', args: async () => ['simulate', '/dev/zero', '--out', out('sim-zero')], noOutput: () => [out('sim-zero')] })
add({
  name: 'simulate: a scene that is a FIFO',
  args: async () => ['simulate', path.join(dir, 'in', 'fifo.json'), '--out', out('sim-fifo')],
  noOutput: () => [out('sim-fifo')],
})
add({
  name: 'simulate: a 20 MB scene',
  args: async () => ['simulate', await put('big.json', `{"pad": "${'x'.repeat(20 * 1024 * 1024)}"}`), '--out', out('sim-big')],
  noOutput: () => [out('sim-big')],
})
add({
  name: 'simulate: an unknown backend',
  args: async () => ['simulate', path.join(ROOT, 'resources/scenes/layer-plane-wave.json'), '--out', out('sim-backend'), '--backend', 'quantum'],
  noOutput: () => [out('sim-backend')],
})
add({ name: 'simulate: no --out', args: async () => ['simulate', path.join(ROOT, 'resources/scenes/layer-plane-wave.json')] })
add({
  name: 'simulate: --out under a regular file',
  args: async () => ['simulate', path.join(ROOT, 'resources/scenes/layer-plane-wave.json'), '--out', path.join(await put('a-file', 'x'), 'sub')],
})

// ---- plan flags ----
const PLAN_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['--ct', CT],
  ['--target', GOOD_TARGET],
  ['--transducer', 'itrusst-bm-bowl'],
  ['--ppw', '2'],
]
/** A valid `tfus plan` command line writing to `o`, with flags replaced, removed (null) or added. */
function planArgs(o: string, overrides: Record<string, string | null | true> = {}): string[] {
  const args = ['plan']
  const flags = new Map<string, string | null | true>([...PLAN_FLAGS, ['--out', o]])
  for (const [k, v] of Object.entries(overrides)) flags.set(k, v)
  for (const [k, v] of flags) {
    if (v === null) continue
    args.push(k)
    if (v !== true) args.push(v)
  }
  return args
}
const planBase = (o: string) => planArgs(o)
const planFlagCases: Array<[string, (o: string) => Promise<string[]> | string[]]> = [
  ['no --ct', (o) => planArgs(o, { '--ct': null })],
  ['no --target', (o) => planArgs(o, { '--target': null })],
  ['no --transducer', (o) => planArgs(o, { '--transducer': null })],
  ['no --out', () => planArgs('x', { '--out': null })],
  ['a target with letters', (o) => planArgs(o, { '--target': 'a,b,c' })],
  ['a target with two numbers', (o) => planArgs(o, { '--target': '30,-18' })],
  ['a target with four numbers', (o) => planArgs(o, { '--target': '30,-18,13,1' })],
  ['a target outside the head', (o) => planArgs(o, { '--target': '500,500,500' })],
  ['an entry with letters', (o) => [...planBase(o), '--entry', 'x,y,z']],
  ['an entry equal to the target', (o) => [...planBase(o), '--entry', GOOD_TARGET]],
  ['an unknown transducer', (o) => planArgs(o, { '--transducer': 'no-such-device' })],
  ['a transducer path that does not exist', (o) => planArgs(o, { '--transducer': path.join(dir, 'nope.json') })],
  ['ppw 0', (o) => planArgs(o, { '--ppw': '0' })],
  ['ppw 1', (o) => planArgs(o, { '--ppw': '1' })],
  ['ppw 1000', (o) => planArgs(o, { '--ppw': '1000' })],
  ['ppw abc', (o) => planArgs(o, { '--ppw': 'abc' })],
  ['ppw -6', (o) => planArgs(o, { '--ppw': '-6' })],
  ['space xyz', (o) => [...planBase(o), '--space', 'xyz']],
  ['an unknown backend', (o) => [...planBase(o), '--backend', 'quantum']],
  ['an unknown mapping', (o) => [...planBase(o), '--mapping', 'no-such-mapping']],
  ['a negative Isppa', (o) => [...planBase(o), '--isppa-free-water', '-5']],
  ['Isppa as text', (o) => [...planBase(o), '--isppa-free-water', 'ten']],
  ['two drive levels', (o) => [...planBase(o), '--isppa-free-water', '5', '--source-amplitude-kpa', '60']],
  ['a device setting on an uncalibrated transducer', (o) => [...planBase(o), '--device-setting', '30']],
  ['PRF 0', (o) => [...planBase(o), '--prf-hz', '0']],
  ['pulse duration -1', (o) => [...planBase(o), '--pulse-duration-ms', '-1']],
  ['correct-iterations -1', (o) => [...planBase(o), '--correct-focus', '--correct-iterations', '-1']],
  ['--registration without --mri', (o) => [...planBase(o), '--registration', path.join(dir, 'in', 'nope.json')]],
  ['--mri without a value', (o) => [...planBase(o), '--mri']],
  ['--mri that does not exist', (o) => [...planBase(o), '--mri', path.join(dir, 'in', 'nope-t1.nii.gz')]],
  ['--registration that does not exist', (o) => [...planBase(o), '--mri', CT, '--registration', path.join(dir, 'in', 'nope-transform.json')]],
  ['--registration that is not JSON', async (o) => [...planBase(o), '--mri', CT, '--registration', await put('bad-transform.json', 'matrix?')]],
  [
    '--registration with a non-rigid matrix',
    async (o) => [
      ...planBase(o),
      '--mri',
      CT,
      '--registration',
      await putJson('shear-transform.json', {
        matrix_ras_m: [
          [1, 5, 0, 0],
          [0, 1, 0, 0],
          [0, 0, 1, 0],
          [0, 0, 0, 1],
        ],
      }),
    ],
  ],
  ['--protocol that does not exist', (o) => [...planBase(o), '--protocol', path.join(dir, 'in', 'nope-protocol.json')]],
  ['--protocol without a value', (o) => [...planBase(o), '--protocol']],
  ['--out under a regular file', async () => planBase(path.join(await put('plain-file', 'x'), 'plan'))],
  ['--out that is a regular file', async () => planBase(await put('plain-file-2', 'x'))],
  ['a flag given twice', (o) => [...planBase(o), '--out', o + '-2']],
  ['an unknown flag', (o) => [...planBase(o), '--targett', '1,2,3']],
  ['a misspelt boolean flag', (o) => [...planBase(o), '--corect-focus']],
  ['a stray positional argument', (o) => [...planBase(o), 'extra.nii.gz']],
]
for (const [name, build] of planFlagCases) {
  const o = out(`plan-${cliCases.length}`)
  add({ name: `plan: ${name}`, args: async () => build(o), noOutput: () => [o] })
}

// ---- thermal protocols, through `tfus thermal` and `tfus plan --protocol` ----
const protocolMutations: Array<[string, ReadonlyArray<string | number>, unknown]> = [
  ['no sonications', ['sonications'], []],
  ['sonications not a list', ['sonications'], {}],
  ['pulse duration 0', ['sonications', 0, 'pulse_duration_s'], 0],
  ['PRF -1', ['sonications', 0, 'prf_hz'], -1],
  ['pulses longer than the pulse period', ['sonications', 0, 'pulse_duration_s'], 0.01],
  ['trains 1e9', ['sonications', 0, 'trains'], 1e9],
  ['a duration of 1e9 s', ['sonications', 0, 'duration_s'], 1e9],
  ['a train longer than its interval', ['sonications', 0, 'train_duration_s'], 10],
  ['drive scale 0', ['sonications', 0, 'drive_scale'], 0],
  ['drive scale 1e6', ['sonications', 0, 'drive_scale'], 1e6],
  ['a negative gap', ['sonications', 0, 'gap_after_s'], -5],
  ['cooling of 1e12 s', ['cooling_s'], 1e12],
  ['a misspelt key', ['sonications', 0, 'prf'], 1000],
  ['a misspelt top-level key', ['cooling'], 10],
]
for (const [name, keys, value] of protocolMutations) {
  add({
    name: `thermal: protocol with ${name}`,
    args: async () => [
      'thermal',
      path.join(dir, 'in', 'no-plan-folder'),
      '--protocol',
      await putJson(`protocol-${cliCases.length}.json`, withKey(await readJson('resources/protocols/repetitive-10min.json'), keys, value)),
    ],
  })
  const o = out(`plan-protocol-${cliCases.length}`)
  add({
    name: `plan --protocol: protocol with ${name}`,
    args: async () => [
      ...planBase(o),
      '--protocol',
      await putJson(`plan-protocol-${cliCases.length}.json`, withKey(await readJson('resources/protocols/repetitive-10min.json'), keys, value)),
    ],
    noOutput: () => [o],
  })
}
add({ name: 'thermal: no plan folder given', args: async () => ['thermal', '--protocol', path.join(ROOT, 'resources/protocols/repetitive-10min.json')] })
add({
  name: 'thermal: a plan folder that does not exist',
  args: async () => ['thermal', path.join(dir, 'in', 'missing-plan'), '--protocol', path.join(ROOT, 'resources/protocols/repetitive-10min.json')],
})
add({
  name: 'thermal: a plan folder without plan.json',
  args: async () => [
    'thermal',
    (await fs.mkdir(path.join(dir, 'in', 'empty-plan'), { recursive: true }), path.join(dir, 'in', 'empty-plan')),
    '--protocol',
    path.join(ROOT, 'resources/protocols/repetitive-10min.json'),
  ],
})
add({
  name: 'thermal: --drive-scale -1',
  args: async () => [
    'thermal',
    path.join(dir, 'in', 'empty-plan'),
    '--protocol',
    path.join(ROOT, 'resources/protocols/repetitive-10min.json'),
    '--drive-scale',
    '-1',
  ],
})
add({
  name: 'thermal: an unknown absorbed fraction',
  args: async () => [
    'thermal',
    path.join(dir, 'in', 'empty-plan'),
    '--protocol',
    path.join(ROOT, 'resources/protocols/repetitive-10min.json'),
    '--absorbed-fraction',
    'most',
  ],
})
add({
  name: 'thermal: an unknown coupling',
  args: async () => [
    'thermal',
    path.join(dir, 'in', 'empty-plan'),
    '--protocol',
    path.join(ROOT, 'resources/protocols/repetitive-10min.json'),
    '--coupling',
    'glue',
  ],
})
add({ name: 'thermal: a protocol that is /dev/zero', args: async () => ['thermal', path.join(dir, 'in', 'empty-plan'), '--protocol', '/dev/zero'] })
add({
  name: 'thermal: a protocol that is not JSON',
  args: async () => ['thermal', path.join(dir, 'in', 'empty-plan'), '--protocol', await put('protocol-broken.json', '{')],
})

// ---- transducer files in the user's library, through `tfus plan --transducer <their id>` ----
const transducerMutations: Array<[string, ReadonlyArray<string | number>, unknown]> = [
  ['a built-in id', ['id'], 'itrusst-bm-bowl'],
  ['a misspelt key', ['frequncy_hz'], 5e5],
  ['frequency 1 THz', ['frequency_hz'], 1e12],
  ['frequency 0', ['frequency_hz'], 0],
  ['no id', ['id'], undefined],
  ['an id with a slash', ['id'], '../escape'],
]
for (const [name, keys, value] of transducerMutations) {
  const o = out(`plan-transducer-${cliCases.length}`)
  const id = `corpus-user-${cliCases.length}`
  add({
    name: `plan: a user transducer with ${name}`,
    args: async () => {
      const base = withKey(await readJson('resources/transducers/itrusst-bm-bowl.json'), ['id'], id)
      const bad = withKey(base, keys, value)
      await fs.mkdir(path.join(data, 'transducers'), { recursive: true })
      await fs.writeFile(path.join(data, 'transducers', `${id}.json`), JSON.stringify(bad))
      // The plan asks for the file by its name: the refusal must say why the file was not loaded.
      return planArgs(o, { '--transducer': id })
    },
    noOutput: () => [o],
  })
}

// ---- other commands ----
const misc: Array<[string, () => Promise<string[]>]> = [
  ['an unknown command', async () => ['simulat']],
  ['info with an unknown flag', async () => ['info', CT, '--jsno']],
  ['info with two files', async () => ['info', CT, CT]],
  ['convert to an unknown format', async () => ['convert', CT, out('converted.xyz')]],
  ['convert under a regular file', async () => ['convert', CT, path.join(await put('conv-file', 'x'), 'out.nii.gz')]],
  ['export with a typo flag', async () => ['export', '1', '--format', 'slicer', '--out', out('export-typo'), '--deidentfy']],
  ['export of an unknown format', async () => ['export', path.join(dir, 'in', 'empty-plan'), '--format', 'pdf2', '--out', out('export-format')]],
  [
    'export of a plan folder without plan.json',
    async () => ['export', path.join(dir, 'in', 'empty-plan'), '--format', 'slicer', '--out', out('export-empty.json')],
  ],
  ['export of an id that is not a number', async () => ['export', 'abc', '--format', 'slicer', '--out', out('export-abc.json')]],
  ['export of a plan id that does not exist', async () => ['export', '424242', '--format', 'slicer', '--out', out('export-missing.json')]],
  ['plans show of a missing id', async () => ['plans', 'show', '424242']],
  ['plans show of a negative id', async () => ['plans', 'show', '-1']],
  ['plans approve without --by', async () => ['plans', 'approve', '1']],
  ['plans approve with a blank name', async () => ['plans', 'approve', '1', '--by', '   ']],
  ['plans with an unknown subcommand', async () => ['plans', 'delete', '1']],
  ['db with an unknown subcommand', async () => ['db', 'drop']],
  ['db check with --data-dir a file', async () => ['db', 'check', '--data-dir', await put('data-file', 'x')]],
  ['import of /dev/zero', async () => ['import', '/dev/zero']],
  ['plan-save of a folder without plan.json', async () => ['plan-save', path.join(dir, 'in', 'empty-plan')]],
  ['import-pose of a missing file', async () => ['import-pose', path.join(dir, 'in', 'nope.txt'), '--format', 'brainsight']],
  ['import-pose of an unknown format', async () => ['import-pose', await put('pose.txt', 'x'), '--format', 'neuronav']],
  ['import-pose of garbage Brainsight', async () => ['import-pose', await put('pose-bs.txt', '# Version: 13\nnot a table\n'), '--format', 'brainsight']],
  ['import-pose of garbage Localite', async () => ['import-pose', await put('pose-loc.xml', '<xml'), '--format', 'localite']],
  ['import-pose of garbage Slicer', async () => ['import-pose', await put('pose-slicer.json', '{"markups": 3}'), '--format', 'slicer']],
  [
    'predict with a malformed model',
    async () => [
      'predict',
      '--model',
      await put('model.json', '{"not json'),
      '--ct',
      CT,
      '--target',
      GOOD_TARGET,
      '--transducer',
      'itrusst-bm-bowl',
      '--out',
      out('predict-model'),
    ],
  ],
  [
    'predict with an unknown provider',
    async () => ['predict', '--provider', 'tpu', '--ct', CT, '--target', GOOD_TARGET, '--transducer', 'itrusst-bm-bowl', '--out', out('predict-provider')],
  ],
  ['register without --mri', async () => ['register', '--ct', CT, '--out', out('reg.json')]],
  ['register with --voxel-mm -1', async () => ['register', '--ct', CT, '--mri', CT, '--out', out('reg0.json'), '--voxel-mm', '-1']],
  ['export-kwave of a missing scene', async () => ['export-kwave', path.join(dir, 'in', 'nope-scene.json'), out('in.h5')]],
  ['export-kwave with --steps -3', async () => ['export-kwave', path.join(ROOT, 'resources/scenes/layer-plane-wave.json'), out('in2.h5'), '--steps', '-3']],
  [
    'import-kwave of a file that is not HDF5',
    async () => ['import-kwave', await put('notes.h5', 'not hdf5'), '--scene', path.join(ROOT, 'resources/scenes/layer-plane-wave.json'), out('kw.nii.gz')],
  ],
  ['transducers with an argument', async () => ['transducers', 'extra']],
]
for (const [name, args] of misc) add({ name, args })

beforeAll(async () => {
  await fs.mkdir(tmp, { recursive: true })
  await fs.mkdir(data, { recursive: true })
  await fs.mkdir(path.join(dir, 'in', 'empty-folder'), { recursive: true })
  await fs.mkdir(path.join(dir, 'in', 'empty-plan'), { recursive: true })
  await fs.mkdir(path.join(dir, 'out'), { recursive: true })
  execFileSync('mkfifo', [path.join(dir, 'in', 'fifo.nii'), path.join(dir, 'in', 'fifo.json')])
  await fs.symlink('/dev/zero', path.join(dir, 'in', 'zero-link.nii.gz'))
  process.env.TMPDIR = tmp
  process.env.TFUS_DATA_DIR = data
  // The user's database exists (as on a workstation in use): bad input must leave it as it was.
  expect((await cli(['db', 'init'])).code).toBe(0)
})
afterAll(async () => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  await fs.rm(dir, { recursive: true, force: true })
})

/** One line on stderr, no stack frames, no usage dump. */
function expectOneLine(err: string, context: string) {
  const lines = err.split('\n').filter((l) => l.trim() !== '')
  expect(lines, `${context}: stderr was\n${err}`).toHaveLength(1)
  expect(err, context).not.toMatch(/^\s+at .+:\d+/m)
}

describe('the bad-input corpus: CLI', () => {
  it('has at least 150 cases in all (CLI and API)', () => {
    expect(cliCases.length + apiCaseCount).toBeGreaterThanOrEqual(150)
  })
  for (const c of cliCases) {
    it(
      c.name,
      async () => {
        const args = await c.args()
        const tmpBefore = await listTree(tmp)
        const outBefore = await listTree(path.join(dir, 'out'))
        const dataBefore = await listTree(data)
        const t0 = performance.now()
        // A case that slipped past validation into a real computation is cancelled at the cap.
        const r = await cli(args, { signal: AbortSignal.timeout(CASE_TIME_CAP_MS) })
        const ms = performance.now() - t0
        const context = `tfus ${args.join(' ').slice(0, 300)}`
        expect(r.code, `${context}: exit ${r.code}, stderr ${r.err}`).toBe(2)
        expectOneLine(r.err, context)
        expect(ms, context).toBeLessThan(CASE_TIME_CAP_MS)
        expect(process.memoryUsage().rss, context).toBeLessThan(RSS_CAP_BYTES)
        for (const p of c.noOutput?.() ?? []) expect(await exists(p), `${context}: left ${p}`).toBe(false)
        expect(await listTree(path.join(dir, 'out')), `${context}: output left`).toEqual(outBefore)
        // tsx's compile cache (tsx-<uid>/) is the development loader's, not ours.
        const ours = (files: string[]) => files.filter((f) => !/^tsx-\d+/.test(f))
        expect(ours(await listTree(tmp)), `${context}: temporary files left`).toEqual(ours(tmpBefore))
        expect(await listTree(data), `${context}: data folder changed`).toEqual(dataBefore)
      },
      CASE_TIME_CAP_MS * 2,
    )
  }
})

// ---- API payloads, against the browser-mode server ----
interface ApiCase {
  readonly name: string
  readonly request: (s: RunningServer) => Promise<Response>
}
const apiCases: ApiCase[] = []
const call = (s: RunningServer, method: string, body: string | Uint8Array | null, headers: Record<string, string> = {}) =>
  fetch(`${s.url}api/call/${method}`, { method: 'POST', headers: { 'x-tfus-token': s.token, 'content-type': 'application/json', ...headers }, body })
const json = (v: unknown) => JSON.stringify(v)
/** A request fetch would not send (a foreign Host, a Content-Length larger than the body), as a Response. */
function rawRequest(s: RunningServer, options: { path: string; headers: Record<string, string> }, body: string | Uint8Array): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: s.port, method: 'POST', path: options.path, headers: options.headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500 })))
      res.on('error', reject)
    })
    // The server may answer and close before the declared body arrives: that is the point.
    req.on('error', () => undefined)
    req.write(body)
    req.end()
  })
}
const apiSpecs: Array<[string, (s: RunningServer) => Promise<Response>]> = [
  ['no token', (s) => fetch(`${s.url}api/call/listTransducers`, { method: 'POST', body: '{}' })],
  ['a wrong token', (s) => call(s, 'listTransducers', '{}', { 'x-tfus-token': 'guess' })],
  ['a foreign Origin', (s) => call(s, 'listTransducers', '{}', { origin: 'http://evil.example' })],
  ['a foreign Host', (s) => rawRequest(s, { path: '/api/call/listTransducers', headers: { host: 'evil.example', 'x-tfus-token': s.token } }, '{}')],
  ['an unknown method', (s) => call(s, 'dropDatabase', '{}')],
  ['a method name with a path', (s) => call(s, '..%2Fetc', '{}')],
  ['GET on a call', (s) => fetch(`${s.url}api/call/listTransducers`, { headers: { 'x-tfus-token': s.token } })],
  ['a body that is not JSON', (s) => call(s, 'openImage', '{path:')],
  ['a body that is a JSON list', (s) => call(s, 'openImage', '[1,2]')],
  ['openImage without a path', (s) => call(s, 'openImage', json({ role: 'ct' }))],
  ['openImage of a number', (s) => call(s, 'openImage', json({ path: 42, role: 'ct' }))],
  ['openImage of a missing file', (s) => call(s, 'openImage', json({ path: path.join(dir, 'in', 'nope.nii.gz'), role: 'ct' }))],
  ['openImage of /dev/zero', (s) => call(s, 'openImage', json({ path: '/dev/zero', role: 'ct' }))],
  ['openImage of a FIFO', (s) => call(s, 'openImage', json({ path: path.join(dir, 'in', 'fifo.nii'), role: 'ct' }))],
  ['openImage of an empty folder', (s) => call(s, 'openImage', json({ path: path.join(dir, 'in', 'empty-folder'), role: 'ct' }))],
  ['openImage of a huge declared NIfTI', (s) => call(s, 'openImage', json({ path: path.join(dir, 'in', 'huge.nii'), role: 'ct' }))],
  ['openImage with an unknown role', (s) => call(s, 'openImage', json({ path: CT, role: 'xray' }))],
  [
    'importBytes named ..',
    (s) =>
      call(s, 'importBytes', niftiBytes(), {
        'content-type': 'application/octet-stream',
        'x-tfus-params': encodeURIComponent(json({ name: '..', role: 'ct' })),
      }),
  ],
  [
    'importBytes named with a slash',
    (s) =>
      call(s, 'importBytes', niftiBytes(), {
        'content-type': 'application/octet-stream',
        'x-tfus-params': encodeURIComponent(json({ name: '../../escape.nii', role: 'ct' })),
      }),
  ],
  [
    'importBytes of garbage',
    (s) =>
      call(s, 'importBytes', new Uint8Array(2048).fill(7), {
        'content-type': 'application/octet-stream',
        'x-tfus-params': encodeURIComponent(json({ name: 'garbage.nii', role: 'ct' })),
      }),
  ],
  [
    'importBytes with unreadable params',
    (s) => call(s, 'importBytes', niftiBytes(), { 'content-type': 'application/octet-stream', 'x-tfus-params': '%7Bnot-json' }),
  ],
  [
    'a body declaring 100 GB',
    (s) =>
      rawRequest(
        s,
        {
          path: '/api/call/importBytes',
          headers: {
            'x-tfus-token': s.token,
            'content-length': String(100 * 1024 ** 3),
            'content-type': 'application/octet-stream',
            'x-tfus-params': encodeURIComponent(json({ name: 'big.nii', role: 'ct' })),
          },
        },
        new Uint8Array(16),
      ),
  ],
  ['startPlan without an image', (s) => call(s, 'startPlan', json({}))],
  [
    'startPlan with an unknown image id',
    (s) => call(s, 'startPlan', json({ imageId: 'nope', targetRasMm: [30, -18, 13.5], transducerId: 'itrusst-bm-bowl', pointsPerWavelength: 2 })),
  ],
  ['cancelPlan of an unknown run', (s) => call(s, 'cancelPlan', json({ runId: 'nope' }))],
  ['approvePlan of an unknown plan', (s) => call(s, 'approvePlan', json({ planId: '424242', approver: 'Dr A' }))],
  ['approvePlan by a blank name', (s) => call(s, 'approvePlan', json({ planId: '1', approver: '   ' }))],
  ['approvePlan with an unknown flag to acknowledge', (s) => call(s, 'approvePlan', json({ planId: '1', approver: 'Dr A', acknowledged: ['everything'] }))],
  ['approvePlan with a 10 kB override reason', (s) => call(s, 'approvePlan', json({ planId: '1', approver: 'Dr A', overrideReason: 'x'.repeat(10_000) }))],
  ['openStoredPlan of a plan id that is not a number', (s) => call(s, 'openStoredPlan', json({ planId: 'abc' }))],
  ['openStoredPlan of an unknown plan', (s) => call(s, 'openStoredPlan', json({ planId: '424242' }))],
  ['savePlan as a version of a plan id that is not a number', (s) => call(s, 'savePlan', json({ runId: 'nope', asVersionOf: 'abc' }))],
  ['savePlan with a birth date that is not YYYYMMDD', (s) => call(s, 'savePlan', json({ runId: 'nope', patient: { birthDate: '1970-01-02' } }))],
  [
    'saveSession with a target that is not 3 numbers',
    (s) => call(s, 'saveSession', json({ ctImageId: null, inputs: { targetRasM: [1, 2] }, runId: null, runInputs: null, savedPlanId: null })),
  ],
  [
    'startPlan with Isppa 1e9 W/cm2',
    (s) =>
      call(
        s,
        'startPlan',
        json({
          ctImageId: 'nope',
          targetRasM: [0.03, -0.018, 0.0135],
          transducerId: 'itrusst-bm-bowl',
          pointsPerWavelength: 2,
          drive: { kind: 'isppa-free-water', wPerM2: 1e13 },
          pulseTiming: { pulseDurationS: 0.02, prfHz: 5, trainDutyCycle: 1 },
        }),
      ),
  ],
  ['registerMri of unknown images', (s) => call(s, 'registerMri', json({ ctImageId: 'nope', mriImageId: 'nope-too' }))],
  ['registerMri without the MRI', (s) => call(s, 'registerMri', json({ ctImageId: 'nope' }))],
  [
    'startPlan with a target on an unknown MRI',
    (s) =>
      call(
        s,
        'startPlan',
        json({
          ctImageId: 'nope',
          mriImageId: 'nope-too',
          targetRasM: [0.03, -0.018, 0.0135],
          transducerId: 'itrusst-bm-bowl',
          pointsPerWavelength: 2,
          drive: { kind: 'isppa-free-water', wPerM2: 1e5 },
          pulseTiming: { pulseDurationS: 0.02, prfHz: 5, trainDutyCycle: 1 },
        }),
      ),
  ],
  ['exportPlan to a relative folder', (s) => call(s, 'exportPlan', json({ runId: 'nope', format: 'brainsight', destinationDir: 'relative/folder' }))],
  ['comparePlans of a plan with itself', (s) => call(s, 'comparePlans', json({ planIdA: '1', planIdB: '1' }))],
  ['comparePlans of unknown plans', (s) => call(s, 'comparePlans', json({ planIdA: '424242', planIdB: '424243' }))],
  ['comparePlans of a plan id that is not a number', (s) => call(s, 'comparePlans', json({ planIdA: 'abc', planIdB: '1' }))],
  ['getPlanResult of an unknown run', (s) => call(s, 'getPlanResult', json({ runId: 'nope' }))],
  ['savePlan of an unknown run', (s) => call(s, 'savePlan', json({ runId: 'nope' }))],
  ['reportHtml of an unknown run', (s) => call(s, 'reportHtml', json({ runId: 'nope' }))],
  ['getVolume of an unknown id', (s) => call(s, 'getVolume', json({ volumeId: 'nope' }))],
  ['the events stream without a token', (s) => fetch(`${s.url}api/events`)],
  ['a path outside the app', (s) => fetch(`${s.url}..%2F..%2Fpackage.json`)],
  ['the page without the session key', (s) => fetch(`${s.url}?session=wrong`)],
]
for (const [name, request] of apiSpecs) apiCases.push({ name, request })
const apiCaseCount = apiCases.length

describe('the bad-input corpus: browser-mode API', () => {
  let service: PlannerService
  let server: RunningServer
  let workDir: string
  beforeAll(async () => {
    workDir = path.join(dir, 'app')
    service = createPlannerService({ host: 'browser', workDir, dataDir: path.join(dir, 'app-data') })
    server = await startServer({ service, staticDir: path.join(dir, 'no-renderer') })
  })
  afterAll(async () => {
    await server?.close()
    await service?.dispose()
  })
  for (const c of apiCases) {
    it(
      `API: ${c.name}`,
      async () => {
        const uploadsBefore = await listTree(path.join(workDir, 'uploads'))
        const r = await c.request(server)
        const text = await r.text()
        expect(r.status, `${c.name}: HTTP ${r.status} ${text.slice(0, 300)}`).toBeGreaterThanOrEqual(400)
        expect(r.status, `${c.name}: HTTP ${r.status} ${text.slice(0, 300)}`).toBeLessThan(500)
        expect(text, c.name).not.toMatch(/^\s+at .+:\d+/m)
        // No answer reveals where the server keeps its data.
        expect(text, c.name).not.toContain(workDir)
        expect(await listTree(path.join(workDir, 'uploads')), `${c.name}: upload left behind`).toEqual(uploadsBefore)
        expect(process.memoryUsage().rss, c.name).toBeLessThan(RSS_CAP_BYTES)
      },
      CASE_TIME_CAP_MS * 2,
    )
  }
})
