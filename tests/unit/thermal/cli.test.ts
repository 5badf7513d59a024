/**
 * `tfus thermal` input errors: exit 2 with one line naming the file or flag and the problem.
 */
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { thermalProtocolRecord } from '../../../core/contracts/thermal-protocol.ts'
import { cli } from '../../helpers/cli.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
let dir: string
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-thermal-cli-'))
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

describe('tfus thermal input errors', () => {
  it('names the protocol file and the field at fault', async () => {
    const file = path.join(dir, 'bad.json')
    await fs.writeFile(file, JSON.stringify({ sonications: [{ pulse_duration_s: 0.5, prf_hz: 5, train_duration_s: 1, train_interval_s: 1, trains: 1 }] }))
    const r = await cli(['thermal', dir, '--protocol', file])
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/bad\.json: sonications\.0\.pulse_duration_s: .*repetition period/)
  })

  it('names a missing plan file, an unknown absorbed fraction and a missing --protocol', async () => {
    const protocol = path.join(ROOT, 'resources/protocols/theta-burst-80s.json')
    const missing = await cli(['thermal', dir, '--protocol', protocol, '--backend', 'cpu'])
    expect(missing.code).toBe(2)
    expect(missing.err).toMatch(/plan\.json/)
    const unknown = await cli(['thermal', dir, '--protocol', protocol, '--absorbed-fraction', 'most'])
    expect(unknown.code).toBe(2)
    expect(unknown.err).toMatch(/--absorbed-fraction: unknown choice "most"; choose one of prestus, babelbrain, full/)
    const none = await cli(['thermal', dir])
    expect(none.code).toBe(2)
    expect(none.err).toMatch(/--protocol/)
  })

  it('the bundled protocol files are valid', async () => {
    for (const f of await fs.readdir(path.join(ROOT, 'resources/protocols'))) {
      const json = JSON.parse(await fs.readFile(path.join(ROOT, 'resources/protocols', f), 'utf8'))
      const parsed = thermalProtocolRecord.safeParse(json)
      expect(parsed.success, `${f}: ${parsed.success ? '' : parsed.error.message}`).toBe(true)
      expect(json.source).toBeTruthy()
    }
  })
})
