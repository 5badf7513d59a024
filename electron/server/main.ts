/**
 * Entry of the browser fallback (`npm start` where Electron is not installed): the back end,
 * the server on 127.0.0.1, and the default browser opened on the app (or the URL printed).
 */
import { spawn } from 'node:child_process'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createPlannerService } from '../backend/service.ts'
import { userDataDir } from '../node/transducers.ts'
import { startServer } from './server.ts'

const repoRoot = path.resolve(fileURLToPath(new URL('../../', import.meta.url)))

/** The platform's "open this URL" command, or null. */
export function browserOpener(platform: NodeJS.Platform = process.platform): { command: string; args: (url: string) => string[] } | null {
  if (platform === 'darwin') return { command: 'open', args: (u) => [u] }
  if (platform === 'win32') return { command: 'cmd', args: (u) => ['/c', 'start', '""', u] }
  if (platform === 'linux' || platform === 'freebsd') return { command: 'xdg-open', args: (u) => [u] }
  return null
}

export async function runBrowserFallback(argv: readonly string[]): Promise<void> {
  const noOpen = argv.includes('--no-open') || process.env.TFUS_NO_BROWSER === '1'
  const workDir = path.join(userDataDir() || os.tmpdir(), 'app')
  const service = createPlannerService({ host: 'browser', workDir })
  const server = await startServer({ service, staticDir: path.join(repoRoot, 'dist', 'renderer') })
  // The launch URL carries the session key: print it only to the user who started the app.
  process.stdout.write(`TFUS Planner (browser mode) at ${server.launchUrl}\n`)
  process.stdout.write('Only this machine can reach it (127.0.0.1), and only with this address (it carries the session key). Ctrl-C stops it.\n')
  const opener = noOpen ? null : browserOpener()
  if (opener) {
    const child = spawn(opener.command, opener.args(server.launchUrl), { stdio: 'ignore', detached: true })
    child.on('error', () => process.stdout.write(`Could not open a browser (${opener.command}); open ${server.launchUrl} yourself.\n`))
    child.unref()
  } else if (!noOpen) process.stdout.write(`Open ${server.launchUrl} in a browser.\n`)
  const stop = async () => {
    await server.close()
    await service.dispose()
    process.exit(0)
  }
  process.once('SIGINT', () => void stop())
  process.once('SIGTERM', () => void stop())
}
