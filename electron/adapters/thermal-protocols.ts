/**
 * The sonication protocol library: `resources/protocols/*.json` and `<user data>/protocols/*.json`
 * (a user file with the same id replaces the built-in one). The id is the file name without
 * `.json`. A file that does not validate is skipped with a warning naming it.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { thermalProtocolDurationS, thermalProtocolRecord, type ThermalProtocolRecord } from '../../core/contracts/thermal-protocol.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'
import { readTextInput } from './input-file.ts'
import { userDataDir } from './transducers.ts'
import { appPath } from './app-paths.ts'

export interface LoadedThermalProtocol {
  readonly id: string
  readonly file: string
  readonly protocol: ThermalProtocolRecord
  readonly totalS: number
}

export function builtinThermalProtocolDir(): string {
  return appPath('resources', 'protocols')
}

export async function loadThermalProtocolLibrary(env: NodeJS.ProcessEnv = process.env): Promise<{ protocols: LoadedThermalProtocol[]; warnings: string[] }> {
  const byId = new Map<string, LoadedThermalProtocol>()
  const warnings: string[] = []
  for (const dir of [builtinThermalProtocolDir(), path.join(userDataDir(env), 'protocols')]) {
    const names = await fs.readdir(dir).catch(() => [] as string[])
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      const file = path.join(dir, name)
      const id = name.slice(0, -'.json'.length).toLowerCase()
      if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) {
        warnings.push(`${file}: protocol file names are lower-case letters, digits and dashes (file ignored)`)
        continue
      }
      try {
        const protocol = await loadThermalProtocolFile(file)
        byId.set(id, { id, file, protocol, totalS: thermalProtocolDurationS(protocol) })
      } catch (e) {
        warnings.push(`${e instanceof Error ? e.message : String(e)} (file ignored)`)
      }
    }
  }
  return { protocols: [...byId.values()], warnings }
}

/** Reads and validates a protocol file; a bad file is one SimulationInputError naming the file and field. */
export async function loadThermalProtocolFile(file: string): Promise<ThermalProtocolRecord> {
  const text = await readTextInput(file, 'protocol file')
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new SimulationInputError(file, `is not valid JSON (${e instanceof Error ? e.message : String(e)})`)
  }
  const parsed = thermalProtocolRecord.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const where = issue.path.join('.')
    if (issue.code === 'unrecognized_keys') {
      throw new SimulationInputError(
        `${file}: ${issue.keys.map((k) => (where ? `${where}.${k}` : k)).join(', ')}`,
        'is not a field of a protocol file (misspelt?)',
      )
    }
    throw new SimulationInputError(`${file}: ${where || '(top level)'}`, issue.message)
  }
  return parsed.data
}
