/**
 * The transducer library on disk: the built-in definitions in `resources/transducers/` and the
 * user's own in `<user data>/transducers/`. A user's file cannot take the id of a built-in one:
 * a plan that names a built-in id must always get the reviewed definition, so such a file is
 * refused (a calibrated unit gets its own id). A file that is refused or does not parse is
 * reported as a warning naming the file and never hides the rest of the library.
 */
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseTransducer, type TransducerDefinition } from '../../core/transducers/library.ts'
import { readTextInput } from './input-file.ts'
import { appPath } from './app-paths.ts'

/** The folder name Electron's app.getPath('userData') uses for this app (package.json "name"). */
export const APP_FOLDER = 'tfus-planner'

/**
 * Per-user data folder: $TFUS_DATA_DIR when set, else the folder Electron's
 * app.getPath('userData') gives an app named "tfus-planner": $XDG_CONFIG_HOME (default
 * ~/.config) on Linux, ~/Library/Application Support on macOS, %APPDATA% (default
 * ~/AppData/Roaming) on Windows.
 */
export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = os.homedir()): string {
  const override = env.TFUS_DATA_DIR
  if (override) return path.resolve(override)
  // Each platform's own separator, whatever the host: the platform argument is testable anywhere.
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', APP_FOLDER)
  if (platform === 'win32') return path.win32.join(env.APPDATA || path.win32.join(home, 'AppData', 'Roaming'), APP_FOLDER)
  return path.posix.join(env.XDG_CONFIG_HOME || path.posix.join(home, '.config'), APP_FOLDER)
}

/** `<user data>/transducers`: where a user's own definitions live. */
export function userTransducerDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(userDataDir(env), 'transducers')
}

/** `resources/transducers` of this checkout (a packaged app passes its resources path instead). */
export function builtinTransducerDir(): string {
  return appPath('resources', 'transducers')
}

export interface LoadedTransducer {
  readonly definition: TransducerDefinition
  /** Absolute path of the file it came from. */
  readonly file: string
  readonly origin: 'builtin' | 'user'
}

export interface TransducerLibrary {
  /** One entry per id, sorted by id; a built-in id always means the built-in definition. */
  readonly transducers: readonly LoadedTransducer[]
  /** One line per file that could not be used or per id clash, each naming the file(s). */
  readonly warnings: readonly string[]
  readonly builtinDir: string
  readonly userDir: string
}

export interface LoadOptions {
  readonly builtinDir?: string
  readonly userDir?: string
  /** Environment used to find the user data folder when userDir is not given. */
  readonly env?: NodeJS.ProcessEnv
}

export async function loadTransducerLibrary(options: LoadOptions = {}): Promise<TransducerLibrary> {
  const builtinDir = options.builtinDir ?? builtinTransducerDir()
  const userDir = options.userDir ?? userTransducerDir(options.env)
  const warnings: string[] = []
  const builtin = await readFolder(builtinDir, 'builtin', warnings, true)
  const user = await readFolder(userDir, 'user', warnings, false)

  const byId = new Map<string, LoadedTransducer>()
  for (const entry of [...builtin, ...user]) {
    const id = entry.definition.id
    const previous = byId.get(id)
    if (previous === undefined) {
      byId.set(id, entry)
    } else if (previous.origin === 'builtin' && entry.origin === 'user') {
      // Shadowing would silently change what every plan naming this id simulates.
      warnings.push(
        `${entry.file}: id "${id}" is a built-in transducer (${previous.file}) and cannot be replaced; give this file its own id (e.g. "${id}-unit1"); file ignored`,
      )
    } else {
      // Two files of the same folder: the first in file-name order stays, so the choice is stable.
      warnings.push(`${entry.file}: id "${id}" is already defined by ${previous.file}; this file is ignored`)
    }
  }
  const transducers = [...byId.values()].sort((a, b) => (a.definition.id < b.definition.id ? -1 : a.definition.id > b.definition.id ? 1 : 0))
  return { transducers, warnings, builtinDir, userDir }
}

async function readFolder(dir: string, origin: LoadedTransducer['origin'], warnings: string[], required: boolean): Promise<LoadedTransducer[]> {
  let names: string[]
  try {
    names = (await fs.readdir(dir, { withFileTypes: true })).filter((d) => !d.isDirectory() && d.name.toLowerCase().endsWith('.json')).map((d) => d.name)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    // A user who has not added transducers has no folder: nothing to report.
    if (!required && code === 'ENOENT') return []
    warnings.push(`${dir}: cannot list the ${origin === 'user' ? "user's" : 'built-in'} transducer folder (${code ?? (e as Error).message})`)
    return []
  }
  names.sort()
  const loaded: LoadedTransducer[] = []
  for (const name of names) {
    const file = path.join(dir, name)
    try {
      const text = await readTextInput(file, 'transducer file')
      loaded.push({ definition: parseTransducer(text, file), file, origin })
    } catch (e) {
      // parseTransducer's message already starts with the file; IO errors get it here.
      const message = e instanceof Error ? e.message : String(e)
      warnings.push(message.startsWith(file) ? `${message} (file ignored)` : `${file}: cannot be read (${message}); file ignored`)
    }
  }
  return loaded
}
