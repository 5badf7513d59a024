import { it, expect } from 'vitest'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import * as path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '../..')

it('the whole project type-checks (tsc --noEmit, strict, noUncheckedIndexedAccess)', async () => {
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc')
  const result = await promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.json'], { cwd: ROOT }).then(
    () => '',
    (e: { stdout?: string }) => e.stdout ?? String(e),
  )
  expect(result).toBe('')
})
