/** core/db describes the database by type only: a value import of better-sqlite3 in core/ is a lint error. */
import { describe, it, expect } from 'vitest'
import { ESLint } from 'eslint'
import * as path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '../../..')

describe('core/ and better-sqlite3', () => {
  const eslint = new ESLint({ cwd: ROOT })
  const probe = path.join(ROOT, 'core/db/__layering_probe__.ts')

  it('rejects a value import in core/', async () => {
    const [result] = await eslint.lintText("import Database from 'better-sqlite3'\nexport const open = (f: string) => new Database(f)\n", { filePath: probe })
    expect(result!.messages.map((m) => m.ruleId)).toEqual(['@typescript-eslint/no-restricted-imports'])
  })

  it('allows a type import in core/ and a value import in the host', async () => {
    const [typeOnly] = await eslint.lintText(
      "import type Database from 'better-sqlite3'\nexport const version = (db: Database.Database) => db.pragma('user_version')\n",
      { filePath: probe },
    )
    expect(typeOnly!.messages).toEqual([])
    const [host] = await eslint.lintText("import Database from 'better-sqlite3'\nexport const open = (f: string) => new Database(f)\n", {
      filePath: path.join(ROOT, 'electron/adapters/db/__layering_probe__.ts'),
    })
    expect(host!.messages).toEqual([])
  })
})
