/**
 * Small text inputs (scene, protocol, transducer and registration files) are checked before they
 * are opened: a FIFO must not hang the CLI, /dev/zero must not fill the heap, a folder or an
 * oversized file is one line naming the file (exit 2).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, openSync, closeSync, ftruncateSync, rmSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SimulationInputError } from '../../../core/solver/errors.ts'
import { MAX_TEXT_INPUT_BYTES, readTextInput } from '../../../electron/adapters/input-file.ts'
import { cli } from '../../helpers/cli.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'tfus-text-inputs-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const fifo = path.join(dir, 'scene.fifo')
execFileSync('mkfifo', [fifo])
const big = path.join(dir, 'big.json')
const fd = openSync(big, 'w')
ftruncateSync(fd, MAX_TEXT_INPUT_BYTES + 1) // sparse: no disk used
closeSync(fd)
const good = path.join(dir, 'good.json')
writeFileSync(good, '{"a": 1}')

describe('readTextInput', () => {
  it('reads a regular file', async () => {
    expect(await readTextInput(good, 'scene file')).toBe('{"a": 1}')
  })
  for (const [name, file, pattern] of [
    ['a FIFO (no hang)', fifo, /not a regular file \(a device, pipe or socket\)/],
    ['/dev/zero', '/dev/zero', /not a regular file/],
    ['a folder', dir, /not a regular file \(a folder\)/],
    ['an oversized file', big, /MiB, more than the 16 MiB/],
    ['a missing file', path.join(dir, 'missing.json'), /cannot read the scene file/],
  ] as const) {
    it(`refuses ${name}, naming the file`, async () => {
      const e = await readTextInput(file, 'scene file').catch((x: unknown) => x)
      expect(e).toBeInstanceOf(SimulationInputError)
      expect((e as SimulationInputError).field).toBe(file)
      expect((e as Error).message).toMatch(pattern)
    })
  }
})

describe('CLI', () => {
  it('tfus simulate on a FIFO exits 2 at once with one line', async () => {
    const started = performance.now()
    const r = await cli(['simulate', fifo, '--out', path.join(dir, 'out')])
    expect(r.code).toBe(2)
    expect(r.err.split('\n')).toHaveLength(1)
    expect(r.err).toContain(fifo)
    expect(performance.now() - started).toBeLessThan(5000)
  })
  it('tfus thermal with /dev/zero as the protocol exits 2 naming it', async () => {
    const r = await cli(['thermal', dir, '--protocol', '/dev/zero'])
    expect(r.code).toBe(2)
    expect(r.err).toContain('/dev/zero')
  })
})
