/**
 * `tfus transducers [--json]`: kHz and mm for people, Hz and m in JSON, the source file of each
 * entry, and bad user files as warnings with exit code 0.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { cli } from '../../helpers/cli.ts'
import { builtinTransducerDir } from '../../../electron/adapters/transducers.ts'

let dataDir: string
const savedEnv = process.env.TFUS_DATA_DIR

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-cli-transducers-'))
  process.env.TFUS_DATA_DIR = dataDir
  const dir = path.join(dataDir, 'transducers')
  await fs.mkdir(dir)
  const generic = JSON.parse(await fs.readFile(path.join(builtinTransducerDir(), 'generic-bowl-500khz.json'), 'utf8'))
  await fs.writeFile(path.join(dir, 'lab.json'), JSON.stringify({ ...generic, id: 'lab-bowl', name: 'Lab bowl' }))
  await fs.writeFile(path.join(dir, 'bad.json'), JSON.stringify({ ...generic, id: 'bad', frequency_hz: -1 }))
})
afterAll(async () => {
  if (savedEnv === undefined) delete process.env.TFUS_DATA_DIR
  else process.env.TFUS_DATA_DIR = savedEnv
  await fs.rm(dataDir, { recursive: true, force: true })
})

describe('tfus transducers', () => {
  it('lists id, name, type, kHz, focal range in mm and the source file; warns about the bad user file', async () => {
    const { code, out, err } = await cli(['transducers'])
    expect(code).toBe(0)
    expect(err).toBe('')
    const lines = out.split('\n')
    expect(lines[0]).toMatch(/^id\s+name\s+type\s+kHz\s+focus from exit plane \[mm\]\s+source$/)
    const ctx = lines.find((l) => l.startsWith('neurofus-ctx-500-4ch '))!
    expect(ctx).toMatch(/NeuroFUS CTX-500.*\s+annular\/4\s+500\s+33\.0-80\.0\s+built-in neurofus-ctx-500-4ch\.json$/)
    expect(lines.find((l) => l.startsWith('neurofus-ctx-250-4ch '))).toMatch(/\s250\s+25\.0-60\.0\s/)
    expect(lines.find((l) => l.startsWith('itrusst-bm-bowl '))).toMatch(/\sbowl\s+500\s+55\.4\s+built-in itrusst-bm-bowl\.json$/)
    expect(lines.find((l) => l.startsWith('itrusst-bm-piston '))).toMatch(/\sdisc\s+500\s+-\s+built-in/)
    expect(lines.find((l) => l.startsWith('lab-bowl '))).toContain(`user ${path.join(dataDir, 'transducers', 'lab.json')}`)
    expect(out).toContain(`7 transducer(s); your own definitions go in ${path.join(dataDir, 'transducers')}`)
    expect(lines.filter((l) => l.startsWith('warning: '))).toEqual([
      `warning: ${path.join(dataDir, 'transducers', 'bad.json')}: frequency_hz: Too small: expected number to be >0 (file ignored)`,
    ])
  })

  it('--json: SI units (Hz, m), origin and file per entry, warnings in the object', async () => {
    const { code, out } = await cli(['transducers', '--json'])
    expect(code).toBe(0)
    const json = JSON.parse(out)
    expect(json.user_dir).toBe(path.join(dataDir, 'transducers'))
    const ctx = json.transducers.find((t: { id: string }) => t.id === 'neurofus-ctx-500-4ch')
    expect(ctx).toEqual({
      id: 'neurofus-ctx-500-4ch',
      name: 'NeuroFUS CTX-500, 4-channel annular array (ring geometry of unit CTX-500-026)',
      manufacturer: 'Sonic Concepts (sold by Brainbox as NeuroFUS)',
      type: 'annular',
      elements: 4,
      frequency_hz: 500000,
      frequency_range_hz: null,
      focal_range_m: [0.033, 0.08],
      geometric_focus_from_apex_m: 0.0632,
      exit_plane_offset_m: 0.01082,
      coupling_standoff_m: 0,
      steerable: true,
      origin: 'builtin',
      file: path.join(builtinTransducerDir(), 'neurofus-ctx-500-4ch.json'),
    })
    expect(json.transducers.find((t: { id: string }) => t.id === 'lab-bowl')).toMatchObject({ origin: 'user', type: 'bowl', frequency_hz: 500000 })
    expect(json.transducers.find((t: { id: string }) => t.id === 'itrusst-bm-piston').focal_range_m).toBeNull()
    expect(json.warnings).toHaveLength(1)
    expect(json.warnings[0]).toContain('bad.json: frequency_hz:')
  })

  it('bad arguments exit 2 with a one-line reason', async () => {
    const extra = await cli(['transducers', 'foo'])
    expect(extra.code).toBe(2)
    expect(extra.err).toMatch(/^tfus: error: usage: transducers takes no arguments/)
    const flag = await cli(['transducers', '--csv'])
    expect(flag.code).toBe(2)
    expect(flag.err).toMatch(/unknown option --csv for transducers/)
  })

  it('is listed in the usage text', async () => {
    const { out } = await cli(['help'])
    expect(out).toContain('tfus transducers [--json]')
  })
})
