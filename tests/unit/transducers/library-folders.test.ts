/**
 * The on-disk library: built-in files plus the user's folder (TFUS_DATA_DIR or the platform's
 * user-data folder); built-in ids cannot be taken by user files; bad files reported and skipped.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { builtinTransducerDir, loadTransducerLibrary, userDataDir, userTransducerDir } from '../../../electron/adapters/transducers.ts'

const BUILTIN = builtinTransducerDir()

let dataDir: string
beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-transducers-'))
})
afterEach(async () => {
  await fs.rm(dataDir, { recursive: true, force: true })
})

async function userFile(name: string, content: unknown): Promise<string> {
  const dir = path.join(dataDir, 'transducers')
  await fs.mkdir(dir, { recursive: true })
  const file = path.join(dir, name)
  await fs.writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  return file
}

async function builtinJson(id: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(path.join(BUILTIN, `${id}.json`), 'utf8'))
}

describe('user data folder', () => {
  it('TFUS_DATA_DIR wins; otherwise the Electron userData folder of "tfus-planner" per platform', () => {
    expect(userDataDir({ TFUS_DATA_DIR: dataDir }, 'linux', '/home/ann')).toBe(path.resolve(dataDir))
    expect(userDataDir({}, 'linux', '/home/ann')).toBe('/home/ann/.config/tfus-planner')
    expect(userDataDir({ XDG_CONFIG_HOME: '/xdg' }, 'linux', '/home/ann')).toBe('/xdg/tfus-planner')
    expect(userDataDir({}, 'darwin', '/Users/ann')).toBe('/Users/ann/Library/Application Support/tfus-planner')
    expect(userDataDir({ APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ann')).toBe('C:\\Users\\ann\\AppData\\Roaming\\tfus-planner')
    expect(userTransducerDir({ TFUS_DATA_DIR: dataDir })).toBe(path.join(path.resolve(dataDir), 'transducers'))
  })
})

describe('loadTransducerLibrary', () => {
  it('without a user folder: the built-in library, no warnings', async () => {
    const library = await loadTransducerLibrary({ env: { TFUS_DATA_DIR: dataDir } })
    expect(library.warnings).toEqual([])
    expect(library.transducers.map((t) => t.definition.id)).toEqual([
      'generic-annular-4ring-500khz',
      'generic-bowl-500khz',
      'itrusst-bm-bowl',
      'itrusst-bm-piston',
      'neurofus-ctx-250-4ch',
      'neurofus-ctx-500-4ch',
    ])
    expect(library.transducers.every((t) => t.origin === 'builtin')).toBe(true)
    expect(library.userDir).toBe(path.join(dataDir, 'transducers'))
  })

  it("adds the user's files; a user file with a built-in id is refused, naming the file and the id", async () => {
    const own = { ...(await builtinJson('generic-bowl-500khz')), id: 'lab-bowl-650khz', name: 'Lab bowl', frequency_hz: 650000 }
    const ownFile = await userFile('lab-bowl.json', own)
    const calibrated = { ...(await builtinJson('neurofus-ctx-500-4ch')), name: 'Our CTX-500 unit' }
    const shadowFile = await userFile('my-ctx500.json', calibrated)
    const library = await loadTransducerLibrary({ env: { TFUS_DATA_DIR: dataDir } })
    const byId = new Map(library.transducers.map((t) => [t.definition.id, t]))
    expect(byId.get('lab-bowl-650khz')).toMatchObject({ origin: 'user', file: ownFile })
    // The built-in definition stays: a plan naming its id always gets the reviewed file.
    expect(byId.get('neurofus-ctx-500-4ch')).toMatchObject({ origin: 'builtin', file: path.join(BUILTIN, 'neurofus-ctx-500-4ch.json') })
    expect(byId.get('neurofus-ctx-500-4ch')!.definition.name).not.toBe('Our CTX-500 unit')
    expect(library.transducers).toHaveLength(7)
    expect(library.warnings).toHaveLength(1)
    expect(library.warnings[0]).toMatch(
      new RegExp(`^${escape(shadowFile)}: id "neurofus-ctx-500-4ch" is a built-in transducer .*cannot be replaced.*file ignored$`),
    )
  })

  it('a calibrated unit under its own id loads beside the built-in one', async () => {
    const unit = { ...(await builtinJson('neurofus-ctx-500-4ch')), id: 'neurofus-ctx-500-4ch-unit1', name: 'Our CTX-500 unit' }
    const unitFile = await userFile('my-ctx500.json', unit)
    const library = await loadTransducerLibrary({ env: { TFUS_DATA_DIR: dataDir } })
    expect(library.warnings).toEqual([])
    const byId = new Map(library.transducers.map((t) => [t.definition.id, t]))
    expect(byId.get('neurofus-ctx-500-4ch-unit1')).toMatchObject({ origin: 'user', file: unitFile })
    expect(byId.get('neurofus-ctx-500-4ch')).toMatchObject({ origin: 'builtin' })
  })

  it('a bad user file is a warning naming the file and the field; the rest of the library still loads', async () => {
    const bad = { ...(await builtinJson('generic-bowl-500khz')), id: 'too-wide', aperture_m: 0.2 }
    const badFile = await userFile('too-wide.json', bad)
    const brokenFile = await userFile('broken.json', '{ "id": "half')
    const good = await userFile('ok.json', { ...(await builtinJson('generic-bowl-500khz')), id: 'ok-bowl' })
    const library = await loadTransducerLibrary({ env: { TFUS_DATA_DIR: dataDir } })
    expect(library.transducers.map((t) => t.definition.id)).toContain('ok-bowl')
    expect(library.transducers.find((t) => t.definition.id === 'ok-bowl')!.file).toBe(good)
    expect(library.transducers).toHaveLength(7)
    expect(library.warnings).toHaveLength(2)
    expect(library.warnings[0]).toMatch(new RegExp(`^${escape(brokenFile)}: \\(file\\): is not valid JSON`))
    expect(library.warnings[1]).toMatch(new RegExp(`^${escape(badFile)}: aperture_m: .*exceeds twice the radius of curvature.*\\(file ignored\\)$`))
  })

  it('two user files with one id: the first by file name stays, the other is reported', async () => {
    const base = { ...(await builtinJson('generic-bowl-500khz')), id: 'twin' }
    const a = await userFile('a.json', { ...base, name: 'A' })
    const b = await userFile('b.json', { ...base, name: 'B' })
    const library = await loadTransducerLibrary({ env: { TFUS_DATA_DIR: dataDir } })
    expect(library.transducers.find((t) => t.definition.id === 'twin')!.file).toBe(a)
    expect(library.warnings).toEqual([`${b}: id "twin" is already defined by ${a}; this file is ignored`])
  })

  it('a user "folder" that is a file is a warning, not a crash', async () => {
    await fs.writeFile(path.join(dataDir, 'transducers'), 'not a folder')
    const library = await loadTransducerLibrary({ env: { TFUS_DATA_DIR: dataDir } })
    expect(library.transducers).toHaveLength(6)
    expect(library.warnings).toHaveLength(1)
    expect(library.warnings[0]).toMatch(/cannot list the user's transducer folder \(ENOTDIR\)/)
  })
})

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
