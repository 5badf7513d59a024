/**
 * `tfus transducers [--json]`: the transducer library (built-in + the user's folder). Human
 * output in kHz and mm, like the rest of the CLI; JSON in SI units (Hz, m), like the files.
 * Files that cannot be used are listed as warnings; they never fail the command.
 */
import * as path from 'node:path'
import { SimulationInputError } from '../../core/solver/errors.ts'
import { describe } from '../../core/transducers/library.ts'
import { loadTransducerLibrary, type LoadOptions } from '../adapters/transducers.ts'

interface Args {
  readonly positional: string[]
  readonly flags: Map<string, string | true>
}

export async function commandTransducers(args: Args, out: (line: string) => void, options: LoadOptions = {}): Promise<number> {
  if (args.positional.length > 0) throw new SimulationInputError('usage', `transducers takes no arguments, got "${args.positional.join(' ')}"`)
  const library = await loadTransducerLibrary(options)
  const rows = library.transducers.map((t) => ({ summary: describe(t.definition), file: t.file, origin: t.origin }))

  if (args.flags.has('json')) {
    const json = {
      builtin_dir: library.builtinDir,
      user_dir: library.userDir,
      transducers: rows.map(({ summary: s, file, origin }) => ({
        id: s.id,
        name: s.name,
        manufacturer: s.manufacturer,
        type: s.type,
        elements: s.elementCount,
        frequency_hz: s.frequencyHz,
        frequency_range_hz: s.frequencyRangeHz,
        focal_range_m: s.focalRangeM,
        geometric_focus_from_apex_m: s.geometricFocusFromApexM,
        exit_plane_offset_m: s.exitPlaneOffsetM,
        coupling_standoff_m: s.couplingStandoffM,
        steerable: s.steerable,
        origin,
        file,
      })),
      warnings: library.warnings,
    }
    out(JSON.stringify(json, null, 2))
    return 0
  }

  const mm = (m: number) => (m * 1e3).toFixed(1)
  const table = [
    ['id', 'name', 'type', 'kHz', 'focus from exit plane [mm]', 'source'],
    ...rows.map(({ summary: s, file, origin }) => [
      s.id,
      s.name,
      s.type === 'annular' ? `annular/${s.elementCount}` : s.type,
      Number((s.frequencyHz / 1e3).toFixed(3)).toString(),
      s.focalRangeM === null ? '-' : s.focalRangeM[0] === s.focalRangeM[1] ? mm(s.focalRangeM[0]) : `${mm(s.focalRangeM[0])}-${mm(s.focalRangeM[1])}`,
      origin === 'builtin' ? `built-in ${path.basename(file)}` : `user ${file}`,
    ]),
  ]
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)))
  for (const row of table) out(row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  '))
  out(`${rows.length} transducer(s); your own definitions go in ${library.userDir}`)
  for (const w of library.warnings) out(`warning: ${w}`)
  return 0
}
