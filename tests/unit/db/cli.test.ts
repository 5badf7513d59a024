/** The plan-database commands of `tfus`, run in-process as a user would type them. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { cli } from '../../helpers/cli.ts'
import { parsePlanSpec, savePlanToStore } from '../../../electron/cli/db.ts'
import { writeNifti, writePlanFolder } from './fixtures.ts'
import { SCHEMA_VERSION } from '../../../core/db/migrations.ts'

let tmp: string
let dataDir: string

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfus-dbcli-'))
  dataDir = path.join(tmp, 'data')
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('tfus db / plans / import / plan-save', () => {
  it('init, import twice, save, list, show, approve, check, backup', async () => {
    const init = await cli(['db', 'init', '--data-dir', dataDir])
    expect(init.code).toBe(0)
    expect(init.out).toMatch(new RegExp(`^plan database ready: .*plans\\.db \\(schema version ${SCHEMA_VERSION}\\)`))

    const image = path.join(tmp, 'ct.nii')
    writeNifti(image, 21)
    const first = await cli(['import', image, '--data-dir', dataDir])
    expect(first.code).toBe(0)
    expect(first.out).toMatch(/^imported (CT|MR) series 2\.25\.\d+ \(6x5x4, 1 file\)$/)
    const second = await cli(['import', image, '--data-dir', dataDir])
    expect(second.code).toBe(0)
    expect(second.out).toMatch(/^already there: .* series 2\.25\.\d+ \(6x5x4, 1 file\), imported .* from /)

    const planDir = path.join(tmp, 'plan')
    writePlanFolder(planDir, 21)
    const saved = await cli(['plan-save', planDir, '--note', 'left M1', '--patient-name', 'Doe^J', '--data-dir', dataDir])
    expect(saved.code).toBe(0)
    expect(saved.out).toBe('plan id: 1 (version 1)')

    const list = await cli(['plans', 'list', '--data-dir', dataDir])
    expect(list.out).toMatch(/^1@1 {2}Doe\^J {2}itrusst-bm-bowl {2}target RAS \[32\.10, -18\.00, 13\.50\] mm {2}not approved .*"left M1"$/)

    const show = await cli(['plans', 'show', '1@1', '--data-dir', dataDir])
    expect(show.code).toBe(0)
    expect(show.out).toContain('plan 1 version 1 of 1')
    expect(show.out).toContain('files: 7')
    expect(show.out).toContain('not approved')

    const noBy = await cli(['plans', 'approve', '1', '--data-dir', dataDir])
    expect(noBy.code).toBe(2)
    expect(noBy.err).toContain('plans approve needs --by <name>')
    const approve = await cli(['plans', 'approve', '1@1', '--by', 'Dr. A. Jones', '--data-dir', dataDir])
    expect(approve.code).toBe(0)
    expect(approve.out).toMatch(/^plan 1 version 1 approved by Dr\. A\. Jones at /)
    const again = await cli(['plans', 'approve', '1', '--by', 'Dr. B', '--data-dir', dataDir])
    expect(again.code).toBe(2)
    expect(again.err).toMatch(/^tfus: error: plan 1 version 1 was already approved by Dr\. A\. Jones/)

    const json = JSON.parse((await cli(['plans', 'show', '1', '--json', '--data-dir', dataDir])).out) as { approval: { approver: string } }
    expect(json.approval.approver).toBe('Dr. A. Jones')
    const absent = await cli(['plans', 'show', '1@2', '--data-dir', dataDir])
    expect(absent.code).toBe(2)
    expect(absent.err).toBe('tfus: error: plan 1 has no version 2 (versions: 1)')

    const check = await cli(['db', 'check', '--data-dir', dataDir])
    expect(check.code).toBe(0)
    expect(check.out).toContain('blobs: 8 referenced, 8 verified, 0 missing, 0 corrupt')
    expect(check.out.split('\n').at(-1)).toBe('ok')

    const backup = await cli(['db', 'backup', path.join(tmp, 'bk'), '--data-dir', dataDir])
    expect(backup.code).toBe(0)
    expect(backup.out).toMatch(/^backed up .*bk\/plans\.db and 8 blobs/)
    expect((await cli(['plans', 'list', '--data-dir', path.join(tmp, 'bk')])).out).toMatch(/^1@1 .*approved v1/)
  })

  it('a failed check exits 2 and lists the damaged blob', async () => {
    const dir = path.join(tmp, 'damaged')
    writePlanFolder(path.join(tmp, 'plan-d'), 30)
    const ref = await savePlanToStore(path.join(tmp, 'plan-d'), { dataDir: dir })
    expect(ref).toEqual({ planId: 1, version: 1 })
    const blobs = path.join(dir, 'blobs')
    const prefix = fs.readdirSync(blobs).find((d) => d !== 'tmp')!
    const file = path.join(blobs, prefix, fs.readdirSync(path.join(blobs, prefix))[0]!)
    fs.appendFileSync(file, 'x')
    const check = await cli(['db', 'check', '--data-dir', dir])
    expect(check.code).toBe(2)
    expect(check.out).toContain(`corrupt: ${prefix}`)
    expect(check.err).toMatch(/check failed$/)
  })

  it('bad input: unknown subcommand, bad plan spec, missing plan folder', async () => {
    expect((await cli(['db', 'vacuum', '--data-dir', dataDir])).err).toContain('unknown db subcommand "vacuum"')
    const spec = await cli(['plans', 'show', 'one', '--data-dir', dataDir])
    expect(spec.code).toBe(2)
    expect(spec.err).toContain('expected a plan as <id> or <id>@<version>, got "one"')
    const missing = await cli(['plan-save', path.join(tmp, 'nope'), '--data-dir', dataDir])
    expect(missing.code).toBe(2)
    expect(missing.err).toBe(`tfus: error: ${path.join(tmp, 'nope')}: no such plan folder`)
    expect(parsePlanSpec('12@3')).toEqual({ planId: 12, version: 3 })
    expect(parsePlanSpec('12')).toEqual({ planId: 12, version: undefined })
  })
})
