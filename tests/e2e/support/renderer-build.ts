/** Builds the renderer (vite) when dist/renderer is missing or older than its sources. */
import { existsSync, readdirSync, statSync } from 'node:fs'
import * as path from 'node:path'

const root = path.resolve(import.meta.dirname, '../../..')

function newest(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

export async function ensureRendererBuilt(): Promise<string> {
  const out = path.join(root, 'dist', 'renderer')
  const index = path.join(out, 'index.html')
  const sourceTime = Math.max(newest(path.join(root, 'renderer')), newest(path.join(root, 'core')))
  if (!existsSync(index) || statSync(index).mtimeMs < sourceTime) {
    const { build } = await import('vite')
    await build({ configFile: path.join(root, 'renderer', 'vite.config.ts'), logLevel: 'warn' })
  }
  return out
}
