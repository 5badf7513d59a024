/**
 * Campaign tests' shared setup: a data folder holding the tiny test transducer (a coarse grid:
 * 11x11x21 cells at 2 points per wavelength), and `tfus` as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { promises as fs } from 'node:fs'
import * as path from 'node:path'

export const ROOT = path.resolve(import.meta.dirname, '../..')
export const TFUS = path.join(ROOT, 'bin/tfus.mjs')

/** A TFUS_DATA_DIR with transducers/tiny-bowl.json (tests/fixtures/campaign). */
export async function tinyDataDir(dir: string): Promise<string> {
  const data = path.join(dir, 'data')
  await fs.mkdir(path.join(data, 'transducers'), { recursive: true })
  await fs.copyFile(path.join(ROOT, 'tests/fixtures/campaign/transducers/tiny-bowl.json'), path.join(data, 'transducers/tiny-bowl.json'))
  return data
}

/** A scene sweep of `placements` tiny tasks on head 1000 at 2 mm. */
export function tinySweep(name: string, placements: number) {
  return {
    name,
    kind: 'scene-sweep',
    scene_sweep: { head_seeds: [1000], placements_per_head: placements, spacing_mm: 2 },
    transducers: ['tiny-bowl'],
    ppw: [2],
    backend: 'cpu',
  }
}

export interface Run {
  readonly child: ChildProcess
  /** Its stdout so far. */
  output(): string
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>
}

export function tfus(args: string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, [TFUS, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()))
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()))
  return { child, output: () => out, done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err }))) }
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

export const exists = (file: string) =>
  fs.stat(file).then(
    () => true,
    () => false,
  )
