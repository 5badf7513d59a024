/**
 * Entry of the browser fallback (`npm start` where Electron is not installed): the back end,
 * the server on 127.0.0.1, and the default browser opened on the app (or the URL printed).
 *
 * The session token never appears in any process's argv (every local user can read argv through
 * /proc): the browser is opened on a launch file, `<data>/app/launch/<random>.html` (0600, in a
 * 0700 folder), whose content sends the browser on to the launch URL; the file is removed after
 * a minute or when the server stops. The URL itself is printed on stdout, which is the user's own.
 */
import { spawn as nodeSpawn } from 'node:child_process'
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { randomBytes } from 'node:crypto'
import { createPlannerService, type PlannerService, type PlannerServiceOptions } from '../app/service.ts'
import { appWorkDir, prepareDataDir, resolveDataDir } from '../adapters/db/data-dir.ts'
import { ensurePrivateDir, restrictUmask } from '../adapters/private-dir.ts'
import { startServer, type RunningServer } from './server.ts'
import { appPath } from '../adapters/app-paths.ts'

/** How long a launch file stays on disk: time enough for the browser to start and read it. */
export const LAUNCH_FILE_LIFETIME_MS = 60_000

export interface BrowserOpener {
  readonly command: string
  /** The arguments that open `file` (a local HTML file; never a URL carrying the token). */
  readonly args: (file: string) => string[]
}

/** The platform's "open this file with its default application" command, or null. */
export function browserOpener(platform: NodeJS.Platform = process.platform): BrowserOpener | null {
  if (platform === 'darwin') return { command: 'open', args: (f) => [f] }
  // explorer.exe hands a file to its default application; no cmd.exe, so no cmd quoting rules.
  if (platform === 'win32') return { command: 'explorer.exe', args: (f) => [f] }
  if (platform === 'linux' || platform === 'freebsd') return { command: 'xdg-open', args: (f) => [f] }
  return null
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The launch page: a meta refresh on to the launch URL, and a link for a browser that ignores it. */
export function launchPageHtml(launchUrl: string): string {
  const u = escapeHtml(launchUrl)
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta http-equiv="refresh" content="0; url=${u}"><title>TFUS Planner</title></head>
<body><p><a href="${u}">Open TFUS Planner</a></p></body></html>
`
}

export interface LaunchFile {
  readonly file: string
  /** Removes the file now (idempotent). */
  remove(): Promise<void>
}

/**
 * Writes the launch page to `<launchDir>/<random>.html` (folder 0700, file 0600, never an
 * existing file) and schedules its removal after `lifetimeMs`. Leftovers of earlier sessions
 * older than that are removed first.
 */
export async function writeLaunchFile(launchDir: string, launchUrl: string, lifetimeMs: number = LAUNCH_FILE_LIFETIME_MS): Promise<LaunchFile> {
  const dir = ensurePrivateDir(launchDir).dir
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.html')) continue
    const p = path.join(dir, name)
    const st = await fs.stat(p).catch(() => null)
    if (st && Date.now() - st.mtimeMs > lifetimeMs) await fs.rm(p, { force: true })
  }
  const file = path.join(dir, `${randomBytes(16).toString('hex')}.html`)
  await fs.writeFile(file, launchPageHtml(launchUrl), { mode: 0o600, flag: 'wx' })
  // The mode given to open() is masked by the umask, which could only make it stricter; say it anyway.
  if (process.platform !== 'win32') await fs.chmod(file, 0o600)
  let removed: Promise<void> | null = null
  const remove = () => {
    clearTimeout(timer)
    removed ??= fs.rm(file, { force: true })
    return removed
  }
  const timer = setTimeout(() => void remove().catch(() => {}), lifetimeMs)
  timer.unref()
  return { file, remove }
}

/** Where the browser mode keeps its data: the CLI's data folder (one database, `<data>/plans.db`) and `<data>/app` for its scratch files. */
export function browserModeStorage(env: NodeJS.ProcessEnv = process.env): { readonly dataDir: string; readonly workDir: string } {
  const dataDir = resolveDataDir(null, env)
  return { dataDir, workDir: appWorkDir(dataDir) }
}

type SpawnLike = (
  command: string,
  args: string[],
  options: { stdio: 'ignore'; detached: boolean },
) => { on(event: 'error', listener: (e: Error) => void): unknown; unref(): void }

export interface BrowserFallbackOptions {
  readonly env?: NodeJS.ProcessEnv
  readonly platform?: NodeJS.Platform
  /** Where the user's lines go (default: stdout). */
  readonly out?: (text: string) => void
  /** Test hooks. */
  readonly spawn?: SpawnLike
  readonly createService?: (options: PlannerServiceOptions) => PlannerService
  readonly staticDir?: string
  /** Stop on SIGINT/SIGTERM and exit (default true). */
  readonly handleSignals?: boolean
  readonly launchFileLifetimeMs?: number
}

export interface BrowserFallback {
  readonly server: RunningServer
  readonly dataDir: string
  readonly workDir: string
  /** The launch file handed to the opener, or null (--no-open, no opener). */
  readonly launchFile: string | null
  stop(): Promise<void>
}

export async function runBrowserFallback(argv: readonly string[], options: BrowserFallbackOptions = {}): Promise<BrowserFallback> {
  // Before anything is written: uploads, runs, exports and the database are the user's only.
  restrictUmask()
  const env = options.env ?? process.env
  const out = options.out ?? ((text: string) => void process.stdout.write(text))
  const noOpen = argv.includes('--no-open') || env.TFUS_NO_BROWSER === '1'
  const { dataDir, workDir } = browserModeStorage(env)
  for (const line of prepareDataDir(dataDir)) out(`${line}\n`)
  ensurePrivateDir(workDir)
  const service = (options.createService ?? createPlannerService)({ host: 'browser', workDir, dataDir })
  const server = await startServer({ service, staticDir: options.staticDir ?? appPath('dist', 'renderer') })
  // The launch URL carries the session key: print it only to the user who started the app.
  out(`TFUS Planner (browser mode) at ${server.launchUrl}\n`)
  out('Only this machine can reach it (127.0.0.1), and only with this address (it carries the session key). Ctrl-C stops it.\n')
  const opener = noOpen ? null : browserOpener(options.platform)
  let launch: LaunchFile | null = null
  if (opener) {
    launch = await writeLaunchFile(path.join(workDir, 'launch'), server.launchUrl, options.launchFileLifetimeMs)
    const child = (options.spawn ?? (nodeSpawn as unknown as SpawnLike))(opener.command, opener.args(launch.file), { stdio: 'ignore', detached: true })
    child.on('error', () => out(`Could not open a browser (${opener.command}); open ${server.launchUrl} yourself.\n`))
    child.unref()
  } else if (!noOpen) out(`Open ${server.launchUrl} in a browser.\n`)
  let stopped: Promise<void> | null = null
  const stop = () =>
    (stopped ??= (async () => {
      await launch?.remove().catch(() => {})
      await server.close()
      await service.dispose()
    })())
  if (options.handleSignals ?? true) {
    const onSignal = () => void stop().finally(() => process.exit(0))
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  }
  return { server, dataDir, workDir, launchFile: launch?.file ?? null, stop }
}
