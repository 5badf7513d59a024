/**
 * Reads a small text input the user names (a scene, protocol, transducer or registration file):
 * checked to be a regular file within a size cap before it is opened, so /dev/zero, a FIFO or a
 * stray multi-gigabyte file is one clear refusal instead of a hang or an exhausted heap.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { SimulationInputError } from '../../core/solver/errors.ts'

/** The largest JSON input the planner reads: far above any real scene, protocol or transducer file. */
export const MAX_TEXT_INPUT_BYTES = 16 * 2 ** 20

/** The file's text; a missing, non-regular or oversized file is a SimulationInputError naming it. */
export async function readTextInput(file: string, what: string, maxBytes = MAX_TEXT_INPUT_BYTES): Promise<string> {
  let stat
  try {
    stat = await fs.stat(file)
  } catch {
    throw new SimulationInputError(file, `cannot read the ${what} (no such file?)`)
  }
  if (!stat.isFile())
    throw new SimulationInputError(file, `the ${what} is not a regular file (${stat.isDirectory() ? 'a folder' : 'a device, pipe or socket'})`)
  if (stat.size > maxBytes)
    throw new SimulationInputError(file, `the ${what} is ${(stat.size / 2 ** 20).toFixed(1)} MiB, more than the ${maxBytes / 2 ** 20} MiB such a file can be`)
  try {
    return await fs.readFile(file, 'utf8')
  } catch (e) {
    throw new SimulationInputError(file, `cannot read the ${what} (${e instanceof Error ? e.message : String(e)})`)
  }
}

/** The file's JSON value; a file that is not JSON is a SimulationInputError naming it and the position. */
export async function readJsonInput(file: string, what: string, maxBytes = MAX_TEXT_INPUT_BYTES): Promise<unknown> {
  const text = await readTextInput(file, what, maxBytes)
  try {
    return JSON.parse(text) as unknown
  } catch (e) {
    throw new SimulationInputError(file, `the ${what} is not valid JSON (${e instanceof Error ? e.message : String(e)})`)
  }
}

/**
 * The file's YAML value (core schema: no timestamps or custom tags, so a value is what JSON could
 * hold; a key given twice is refused, not overwritten). A syntax fault names the file and its line.
 */
export async function readYamlInput(file: string, what: string, maxBytes = MAX_TEXT_INPUT_BYTES): Promise<unknown> {
  const text = await readTextInput(file, what, maxBytes)
  // Loaded only for a YAML file: every other input (and a JSON campaign) works without it.
  const yaml = (await import('js-yaml')).default
  try {
    return yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA })
  } catch (e) {
    if (e instanceof yaml.YAMLException && e.mark)
      throw new SimulationInputError(`${file}: line ${e.mark.line + 1}`, `the ${what} is not valid YAML (${e.reason})`)
    throw new SimulationInputError(file, `the ${what} is not valid YAML (${e instanceof Error ? e.message : String(e)})`)
  }
}

/** `.yaml`/`.yml` files are read as YAML, everything else as JSON (a superset would hide a misnamed file's faults). */
export const isYamlFile = (file: string) => /^\.ya?ml$/i.test(path.extname(file))

/** JSON or YAML by the file's extension. */
export function readJsonOrYamlInput(file: string, what: string, maxBytes = MAX_TEXT_INPUT_BYTES): Promise<unknown> {
  return isYamlFile(file) ? readYamlInput(file, what, maxBytes) : readJsonInput(file, what, maxBytes)
}
