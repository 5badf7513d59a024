// The renderer (Vue SFCs included) type-checks under its own tsconfig (DOM, bundler resolution):
// the root `tsc` sees only the renderer modules the unit tests import. About 10-20 s.
import { expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import * as path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '../../..')

it('vue-tsc --noEmit -p renderer/tsconfig.json is clean', async () => {
  const vueTsc = path.join(ROOT, 'node_modules/vue-tsc/bin/vue-tsc.js')
  const result = await promisify(execFile)(process.execPath, [vueTsc, '--noEmit', '-p', 'renderer/tsconfig.json'], { cwd: ROOT }).then(
    () => '',
    (e: { stdout?: string }) => e.stdout ?? String(e),
  )
  expect(result).toBe('')
}, 120_000)
