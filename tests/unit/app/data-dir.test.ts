/**
 * Where patient data lives and who can read it: private folders (0700) and files (0600) through
 * the umask and ensurePrivateDir; one plan database for the app and the CLI (`<data>/plans.db`),
 * and the app's database of older versions (`<data>/app/db/plans.db`) moved there once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import Database from 'better-sqlite3'
import { ensurePrivateDir, privatizeDataDir, restrictUmask, PRIVATE_UMASK } from '../../../electron/adapters/private-dir.ts'
import { dataLayout, legacyAppDatabaseDir, migrateLegacyDatabase, prepareDataDir, resolveDataDir } from '../../../electron/adapters/db/data-dir.ts'
import { browserModeStorage } from '../../../electron/server/main.ts'
import { electronStorage } from '../../../electron/main/main.ts'
import { cli } from '../../helpers/cli.ts'

const posix = process.platform !== 'win32'
const modeOf = (p: string) => fs.statSync(p).mode & 0o777
let root = ''
let initialUmask = 0
beforeAll(() => {
  initialUmask = process.umask()
  root = fs.mkdtempSync(path.join(tmpdir(), 'tfus-data-dir-'))
})
afterEach(() => void process.umask(initialUmask))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
let n = 0
const fresh = () => path.join(root, `case-${++n}`)

describe.skipIf(!posix)('private folders and files', () => {
  test('ensurePrivateDir creates 0700 folders (also under a permissive umask)', () => {
    process.umask(0o022)
    const dir = path.join(fresh(), 'a', 'b')
    const r = ensurePrivateDir(dir)
    expect(r).toMatchObject({ dir, created: true, tightenedFrom: null, warning: null })
    expect(modeOf(dir)).toBe(0o700)
  })

  test('an existing 0755 data folder becomes 0700; a private one is left alone', () => {
    const dir = fresh()
    fs.mkdirSync(dir, { mode: 0o755 })
    fs.chmodSync(dir, 0o755)
    const r = ensurePrivateDir(dir)
    expect(r.tightenedFrom).toBe(0o755)
    expect(modeOf(dir)).toBe(0o700)
    expect(ensurePrivateDir(dir).tightenedFrom).toBeNull()
    // Windows has no mode bits: nothing is changed there.
    fs.chmodSync(dir, 0o755)
    expect(ensurePrivateDir(dir, 'win32').tightenedFrom).toBeNull()
    expect(modeOf(dir)).toBe(0o755)
  })

  test('a path that is a file is refused', () => {
    const file = fresh()
    fs.writeFileSync(file, 'x')
    expect(() => ensurePrivateDir(file)).toThrow(/not a folder|EEXIST|ENOTDIR/)
  })

  test('under restrictUmask, files are written 0600 and folders 0700', () => {
    process.umask(0o022)
    const previous = restrictUmask()
    expect(previous).toBe(0o022)
    expect(process.umask()).toBe(PRIVATE_UMASK)
    const dir = path.join(fresh(), 'uploads', 'x')
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(path.join(dir, 'ct.nii.gz'), 'patient data')
    expect(modeOf(dir)).toBe(0o700)
    expect(modeOf(path.join(dir, 'ct.nii.gz'))).toBe(0o600)
    expect(restrictUmask('win32')).toBeNull()
  })

  test('privatizeDataDir tightens what an older version left open, and creates nothing else', () => {
    process.umask(0o022)
    const data = fresh()
    for (const d of ['app/uploads', 'app/runs', 'blobs', 'backups']) fs.mkdirSync(path.join(data, d), { recursive: true })
    fs.writeFileSync(path.join(data, 'plans.db'), 'db')
    fs.chmodSync(data, 0o755)
    expect(modeOf(path.join(data, 'plans.db'))).toBe(0o644)
    expect(privatizeDataDir(data)).toEqual([])
    for (const d of ['.', 'app', 'app/uploads', 'app/runs', 'blobs', 'backups']) expect(modeOf(path.join(data, d)), d).toBe(0o700)
    expect(modeOf(path.join(data, 'plans.db'))).toBe(0o600)
    expect(fs.existsSync(path.join(data, 'app', 'exports'))).toBe(false)
  })
})

/** A WAL-mode database with one committed row still only in its -wal file, copied to `dir` as a crash would leave it. */
function walDatabase(dir: string, value: string): void {
  fs.mkdirSync(dir, { recursive: true })
  const work = fs.mkdtempSync(path.join(root, 'wal-'))
  const db = new Database(path.join(work, 'plans.db'))
  db.pragma('journal_mode = WAL')
  db.pragma('wal_autocheckpoint = 0')
  db.exec('CREATE TABLE t (v TEXT)')
  db.prepare('INSERT INTO t VALUES (?)').run(value)
  for (const suffix of ['', '-wal', '-shm']) fs.copyFileSync(path.join(work, `plans.db${suffix}`), path.join(dir, `plans.db${suffix}`))
  db.close()
}

function readRows(file: string): string[] {
  const db = new Database(file, { readonly: true })
  try {
    return (db.prepare('SELECT v FROM t').all() as { v: string }[]).map((r) => r.v)
  } finally {
    db.close()
  }
}

describe('one plan database for the app and the CLI', () => {
  test('the app (browser mode and Electron) and the CLI resolve the same database path', () => {
    for (const env of [{ TFUS_DATA_DIR: path.join(root, 'shared') }, { HOME: '/home/u', XDG_CONFIG_HOME: '/home/u/.config' }] as NodeJS.ProcessEnv[]) {
      const cliDatabase = dataLayout(resolveDataDir(undefined, env)).database
      expect(dataLayout(browserModeStorage(env).dataDir).database).toBe(cliDatabase)
      expect(dataLayout(electronStorage({ getPath: () => '/elsewhere/TFUS Planner' }, env).dataDir).database).toBe(cliDatabase)
      // The app's scratch files are beside it, not a second database.
      expect(browserModeStorage(env).workDir).toBe(path.join(resolveDataDir(undefined, env), 'app'))
    }
    expect(dataLayout(resolveDataDir(undefined, { TFUS_DATA_DIR: '/d' })).database).toBe(path.resolve('/d/plans.db'))
  })

  test("the app's old database (plans.db, -wal, -shm, blobs/, backups/) moves to <data>/plans.db once, with its uncheckpointed rows", () => {
    const data = fresh()
    const legacy = legacyAppDatabaseDir(data)
    expect(legacy).toBe(path.join(data, 'app', 'db'))
    walDatabase(legacy, 'saved plan')
    fs.mkdirSync(path.join(legacy, 'blobs', 'ab'), { recursive: true })
    fs.writeFileSync(path.join(legacy, 'blobs', 'ab', 'cdef'), 'volume')
    fs.mkdirSync(path.join(legacy, 'backups'))
    fs.writeFileSync(path.join(legacy, 'backups', 'plans-schema1.db'), 'backup')
    expect(fs.statSync(path.join(legacy, 'plans.db-wal')).size).toBeGreaterThan(0)

    const m = migrateLegacyDatabase(data)
    expect(m.action).toBe('moved')
    expect(m.message).toContain(legacy)
    expect(m.message).toContain(path.join(data, 'plans.db'))
    expect(m.message!.split('\n')).toHaveLength(1)
    expect(readRows(path.join(data, 'plans.db'))).toEqual(['saved plan'])
    expect(fs.readFileSync(path.join(data, 'blobs', 'ab', 'cdef'), 'utf8')).toBe('volume')
    expect(fs.readFileSync(path.join(data, 'backups', 'plans-schema1.db'), 'utf8')).toBe('backup')
    expect(fs.existsSync(legacy)).toBe(false)
    // Once: the next start has nothing to do.
    expect(migrateLegacyDatabase(data)).toMatchObject({ action: 'none', message: null })
  })

  test('when both exist, both are kept, <data>/plans.db is used and one warning names the old one', () => {
    const data = fresh()
    walDatabase(legacyAppDatabaseDir(data), 'old')
    walDatabase(data, 'new')
    const m = migrateLegacyDatabase(data)
    expect(m.action).toBe('kept-both')
    expect(m.message).toMatch(/^warning: /)
    expect(m.message).toContain(path.join(data, 'app', 'db', 'plans.db'))
    expect(m.message!.split('\n')).toHaveLength(1)
    expect(readRows(path.join(data, 'plans.db'))).toEqual(['new'])
    expect(readRows(path.join(data, 'app', 'db', 'plans.db'))).toEqual(['old'])
    expect(prepareDataDir(data)).toEqual([m.message])
  })

  test('an interrupted move (blobs moved, plans.db not yet) is finished by the next start', () => {
    const data = fresh()
    const legacy = legacyAppDatabaseDir(data)
    walDatabase(legacy, 'plan')
    fs.mkdirSync(path.join(data, 'blobs', 'aa'), { recursive: true })
    fs.writeFileSync(path.join(data, 'blobs', 'aa', '1'), 'moved before the crash')
    fs.mkdirSync(path.join(legacy, 'blobs', 'bb'), { recursive: true })
    fs.writeFileSync(path.join(legacy, 'blobs', 'bb', '2'), 'still at the old place')
    expect(migrateLegacyDatabase(data).action).toBe('moved')
    expect(readRows(path.join(data, 'plans.db'))).toEqual(['plan'])
    expect(fs.readdirSync(path.join(data, 'blobs')).sort()).toEqual(['aa', 'bb'])
  })

  test('no old database: nothing happens', () => {
    const data = fresh()
    fs.mkdirSync(data)
    expect(migrateLegacyDatabase(data)).toMatchObject({ action: 'none', message: null })
    expect(fs.readdirSync(data)).toEqual([])
  })

  test('the CLI moves it too, says so in one line on stderr, and then works on <data>/plans.db', async () => {
    const data = fresh()
    const saved = process.env.TFUS_DATA_DIR
    try {
      // An app database of an older version, made by the real plan store.
      const made = await cli(['db', 'init', '--data-dir', legacyAppDatabaseDir(data)])
      expect(made.code).toBe(0)
      process.env.TFUS_DATA_DIR = data
      const r = await cli(['db', 'init'])
      expect(r.code).toBe(0)
      expect(r.err.split('\n').filter((l) => l.includes('moved the plan database'))).toHaveLength(1)
      expect(r.out).toContain(`plan database ready: ${path.join(data, 'plans.db')}`)
      expect(fs.existsSync(path.join(data, 'app', 'db', 'plans.db'))).toBe(false)
      if (posix) expect(modeOf(data)).toBe(0o700)
      const again = await cli(['db', 'check'])
      expect(again.code).toBe(0)
      expect(again.err).toBe('')
    } finally {
      if (saved === undefined) delete process.env.TFUS_DATA_DIR
      else process.env.TFUS_DATA_DIR = saved
    }
  })
})
