/**
 * An output folder named by the user (--out), checked before a run rather than after it: it must
 * be a folder, or creatable as one (its nearest existing ancestor a folder, not a file).
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { SimulationInputError } from '../../core/solver/errors.ts'

export async function checkOutputFolder(outDir: string, flag = '--out'): Promise<void> {
  const dir = path.resolve(outDir)
  let st: Awaited<ReturnType<typeof fs.stat>> | undefined
  try {
    st = await fs.stat(dir)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new SimulationInputError(flag, `${outDir}: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (st) {
    if (!st.isDirectory()) throw new SimulationInputError(flag, `${outDir} is a file, not a folder`)
    return
  }
  for (let up = path.dirname(dir); ; up = path.dirname(up)) {
    const parent = await fs.stat(up).catch(() => undefined)
    if (parent) {
      if (!parent.isDirectory()) throw new SimulationInputError(flag, `${outDir} cannot be created: ${up} is a file`)
      return
    }
    if (path.dirname(up) === up) return
  }
}
