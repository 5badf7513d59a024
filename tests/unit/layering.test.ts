/**
 * The layering is a rule of the codebase: these probes check that the ESLint configuration still
 * enforces it (`npm run check` lints the tree itself).
 */
import { describe, it, expect } from 'vitest'
import { ESLint } from 'eslint'
import * as path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '../..')

describe('layering (ESLint import zones)', () => {
  const eslint = new ESLint({ cwd: ROOT })

  it('rejects node:fs, Buffer, electron and DOM in core/', async () => {
    const [result] = await eslint.lintText(
      [
        "import { readFileSync } from 'node:fs'",
        "import { app } from 'electron'",
        'export const a = readFileSync',
        'export const b = app',
        'export const c = Buffer.alloc(1)',
        'export const d = document.title',
      ].join('\n'),
      { filePath: path.join(ROOT, 'core/volume/__layering_probe__.ts') },
    )
    const rules = result!.messages.map((m) => m.ruleId)
    expect(rules.filter((r) => r === 'no-restricted-imports')).toHaveLength(2)
    expect(rules.filter((r) => r === 'no-restricted-globals')).toHaveLength(2)
  })

  it('allows the same imports in a host', async () => {
    const [result] = await eslint.lintText("import { readFileSync } from 'node:fs'\nexport const a = readFileSync\n", {
      filePath: path.join(ROOT, 'electron/adapters/__layering_probe__.ts'),
    })
    expect(result!.messages).toEqual([])
  })
})
