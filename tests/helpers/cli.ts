import { main } from '../../electron/cli/main.ts'

/** Runs the `tfus` CLI in-process, capturing its stdout and stderr lines. */
export async function cli(args: string[], options: { signal?: AbortSignal } = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, options)
  return { code, out: out.join('\n'), err: err.join('\n') }
}
