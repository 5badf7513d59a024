/**
 * Scene, transducer and protocol files are strict: an unknown key (a typo) is refused naming
 * the file and the key, never silently ignored; every bundled file still parses.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseScene } from '../../../core/solver/scene.ts'
import { SimulationInputError } from '../../../core/solver/errors.ts'
import { parseTransducer } from '../../../core/transducers/library.ts'
import { TransducerDefinitionError } from '../../../core/transducers/schema.ts'
import { thermalProtocolRecord } from '../../../core/contracts/thermal-protocol.ts'
import { loadThermalProtocolFile } from '../../../electron/adapters/thermal-protocols.ts'
import { cli } from '../../helpers/cli.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
let dir: string
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-strict-'))
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

async function json(rel: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(path.join(ROOT, rel), 'utf8'))
}

async function put(name: string, value: unknown): Promise<string> {
  const file = path.join(dir, name)
  await fs.writeFile(file, JSON.stringify(value, null, 2))
  return file
}

/** A copy of `base` with `value` set at `keys` (e.g. ["objects", 0, "material", "colour"]). */
function withKey<T>(base: T, keys: ReadonlyArray<string | number>, value: unknown): T {
  const copy = structuredClone(base)
  let at = copy as Record<string | number, unknown>
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string | number, unknown>
  at[keys[keys.length - 1]!] = value
  return copy
}

describe('scene files', () => {
  const cases: Array<[string, Array<string | number>, string]> = [
    ['a misspelt top-level key', ['frequency'], 'frequency'],
    ['a key in grid', ['grid', 'spacing'], 'grid.spacing'],
    ['a key in solver', ['solver', 'pml_point'], 'solver.pml_point'],
    ['a key in the source', ['source', 'amplitude'], 'source.amplitude'],
    ['a key in an object material', ['objects', 0, 'material', 'colour'], 'objects[0].material.colour'],
    ['a key in the background', ['background', 'alpha_powr'], 'background.alpha_powr'],
  ]
  for (const [name, keys, field] of cases) {
    it(`refuses ${name}, naming it`, async () => {
      const base = await json('resources/scenes/layer-plane-wave.json')
      const bad = withKey(base, keys, 1)
      let error: unknown
      try {
        parseScene(bad)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(SimulationInputError)
      expect(error).toMatchObject({ field, problem: 'is not a field of a scene file (misspelt?)' })
      // At the CLI: exit 2, one line naming the file and the key, before anything runs.
      const file = await put(`scene-${field.replace(/\W+/g, '-')}.json`, bad)
      const r = await cli(['simulate', file, '--out', path.join(dir, 'never')])
      expect(r.code).toBe(2)
      expect(r.err.split('\n')).toHaveLength(1)
      expect(r.err).toContain(`${file}: ${field}: is not a field of a scene file`)
      await expect(fs.stat(path.join(dir, 'never'))).rejects.toThrow()
    })
  }

  it('a key in an annular ring', () => {
    const annular = {
      apex_m: [0, 0, 0],
      focus_m: [0.03, 0, 0],
      roc_m: 0.03,
      type: 'annular',
      rings: [{ inner_m: 0, outer_m: 0.01, amplitude_pa: 1, phase_deg: 0 }],
    }
    expect(() =>
      parseScene({
        frequency_hz: 5e5,
        grid: { spacing_m: 0.001, min_m: [0, -0.01, -0.01], max_m: [0.04, 0.01, 0.01] },
        background: { sound_speed: 1500, density: 1000 },
        source: annular,
      }),
    ).toThrow('source.rings[0].phase_deg: is not a field of a scene file (misspelt?)')
  })

  it('every bundled scene still parses', async () => {
    const files = (await fs.readdir(path.join(ROOT, 'resources/scenes'))).filter((f) => f.endsWith('.json'))
    expect(files.length).toBeGreaterThan(0)
    for (const f of files) {
      const value = await json(`resources/scenes/${f}`)
      expect(() => parseScene(value), f).not.toThrow()
    }
  })
})

describe('protocol files', () => {
  it('refuses an unknown top-level key, naming the file and the key', async () => {
    const base = await json('resources/protocols/theta-burst-80s.json')
    const file = await put('protocol-top.json', { ...base, cooling: 60 })
    await expect(loadThermalProtocolFile(file)).rejects.toThrow(`${file}: cooling: is not a field of a protocol file (misspelt?)`)
  })

  it('refuses an unknown key in a sonication; `tfus thermal` exits 2 with one line', async () => {
    const base = await json('resources/protocols/theta-burst-80s.json')
    const sonications = (base.sonications as Array<Record<string, unknown>>).map((s) => ({ ...s, duration: 80 }))
    const file = await put('protocol-sonication.json', { ...base, sonications })
    await expect(loadThermalProtocolFile(file)).rejects.toThrow(`${file}: sonications.0.duration: is not a field of a protocol file (misspelt?)`)
    const r = await cli(['thermal', dir, '--protocol', file])
    expect(r.code).toBe(2)
    expect(r.err.split('\n')).toHaveLength(1)
    expect(r.err).toContain('protocol-sonication.json: sonications.0.duration')
  })

  it('every bundled protocol still parses', async () => {
    const files = (await fs.readdir(path.join(ROOT, 'resources/protocols'))).filter((f) => f.endsWith('.json'))
    expect(files.length).toBeGreaterThan(0)
    for (const f of files) {
      expect((await loadThermalProtocolFile(path.join(ROOT, 'resources/protocols', f))).sonications.length, f).toBeGreaterThan(0)
      expect(thermalProtocolRecord.safeParse(await json(`resources/protocols/${f}`)).success, f).toBe(true)
    }
  })
})

describe('transducer files', () => {
  const nested: Array<[string, Array<string | number>, string]> = [
    ['top level', ['roc_mm'], 'roc_mm'],
    ['a ring', ['rings', 1, 'width_m'], 'rings[1].width_m'],
    ['a citation', ['sources', 0, 'url'], 'sources[0].url'],
  ]
  for (const [where, keys, field] of nested) {
    it(`refuses an unknown key in ${where}, naming the file and the key`, async () => {
      const t = withKey({ ...(await json('resources/transducers/neurofus-ctx-500-4ch.json')), id: 'my-ctx' }, keys, 0.01)
      let error: unknown
      try {
        parseTransducer(JSON.stringify(t), 'my-ctx.json')
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(TransducerDefinitionError)
      expect(error).toMatchObject({ file: 'my-ctx.json', field })
      expect((error as Error).message).toMatch(new RegExp(`^my-ctx\\.json: ${field.replace(/[[\].]/g, '\\$&')}: is not a field`))
    })
  }

  it('every bundled transducer still parses', async () => {
    const files = (await fs.readdir(path.join(ROOT, 'resources/transducers'))).filter((f) => f.endsWith('.json'))
    expect(files.length).toBeGreaterThan(0)
    for (const f of files) expect(parseTransducer(await fs.readFile(path.join(ROOT, 'resources/transducers', f), 'utf8'), f).id, f).toBeTruthy()
  })
})
