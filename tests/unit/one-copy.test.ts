/**
 * One copy of each shared helper (issue 21): vector/matrix algebra lives in core/math, the seeded
 * PRNG in core/math/random.ts, the worker request/reply protocol in electron/adapters/worker-rpc.ts.
 * This scans the source tree for a new definition of a known helper name, for the algebra's
 * telltale expressions, for PRNG constants and for hand-written worker messaging outside those
 * modules, and for the scanner itself it checks each rule against a line it must catch.
 */
import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import * as path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '../..')
const SOURCE = /\.(ts|mts|mjs|vue)$/

function files(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name)
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...files(rel))
    } else if (SOURCE.test(entry.name)) out.push(rel)
  }
  return out
}

interface Rule {
  readonly what: string
  readonly pattern: RegExp
  /** Files (or folders, ending in '/') where the pattern belongs. */
  readonly home: readonly string[]
  /** Folders scanned. */
  readonly scope: readonly string[]
  /** A line the rule must catch (checks the pattern itself). */
  readonly example: string
}

// Names of the core/math helpers (and of the copies they replaced), defined as a function or a const.
const HELPER_NAMES = [
  'cross3',
  'dot3',
  'norm3',
  'normalize3',
  'normalise',
  'add3',
  'sub3',
  'scale3',
  'neg3',
  'addScaled3',
  'mat3Multiply',
  'mat3MulVec',
  'mat3Transpose',
  'mat3Determinant',
  'mat3Inverse',
  'mat3Column',
  'mul3',
  'mul4',
  'det3',
  'multiplyAffine',
  'invertAffine',
  'applyAffine',
  'applyPose',
  'invertRigidMatrix',
  'rotationOf',
  'translationOf',
  'eulerRotation',
  'itkEulerMatrix',
  'flipLpsRasMatrix',
  'affineLpsToRas',
  'rasToLps',
  'lpsToRas',
  'worldToIndex',
  'indexToWorld',
]
const DEFINES_HELPER = new RegExp(`(?:function\\s+|(?:const|let|var)\\s+)(${HELPER_NAMES.join('|')})\\s*(?:[(<=]|:\\s*\\()`)

const CODE = ['core', 'electron', 'renderer/src', 'scripts']
const RULES: readonly Rule[] = [
  {
    what: 'a vector/matrix helper defined outside core/math',
    pattern: DEFINES_HELPER,
    home: ['core/math/'],
    scope: CODE,
    example: 'const rasToLps = (p: Vec3): Vec3 => [-p[0], -p[1], p[2]]',
  },
  {
    what: 'a rigid-transform inverse on a bare matrix outside core/math (core/registration/rigid.ts inverts a RigidTransform record through it)',
    pattern: /function\s+invertRigid\s*\(\s*\w+\s*:\s*(?!\s|RigidTransform\b)/,
    home: ['core/math/'],
    scope: CODE,
    example: 'export function invertRigid(m: Mat4): number[] {',
  },
  {
    what: 'a cross product written out',
    pattern: /(\w+)\[1\]!? \* (\w+)\[2\]!? - \1\[2\]!? \* \2\[1\]/,
    home: ['core/math/'],
    scope: CODE,
    example: 'return [a[1] * b[2] - a[2] * b[1], 0, 0]',
  },
  {
    what: 'an LPS <-> RAS flip written out',
    pattern: /\[-(\w+)\[0\]!?, -\1\[1\]!?, \1\[2\]!?\]/,
    home: ['core/math/'],
    scope: CODE,
    example: 'const lps: Vec3 = [-ras[0], -ras[1], ras[2]]',
  },
  {
    what: 'a 4x4 or 3x3 matrix product loop',
    pattern: /\w+\[4 \* r \+ k\]!? \* \w+\[4 \* k \+ c\]|\w+\[3 \* r\]!? \* \w+\[c\]!? \+ \w+\[3 \* r \+ 1\]/,
    home: ['core/math/'],
    scope: CODE,
    example: 'for (let k = 0; k < 4; k++) s += a[4 * r + k]! * b[4 * k + c]!',
  },
  {
    what: 'a 3-vector normalised by hand',
    pattern: /Math\.hypot\((\w+)\[0\]!?, \1\[1\]!?, \1\[2\]!?\)[\s\S]{0,40}\1\[0\]!? \/ /,
    home: ['core/math/'],
    scope: CODE,
    example: 'const n = Math.hypot(v[0], v[1], v[2])\n  return [v[0] / n, v[1] / n, v[2] / n]',
  },
  {
    what: 'a seeded PRNG (mulberry32, LCG, Knuth multiplicative or xorshift constants) outside core/math/random.ts',
    pattern: /0x6d2b79f5|\b1664525\b|\b1013904223\b|\b2654435761\b|\^= \w+ << 13\b/i,
    home: ['core/math/random.ts', 'tests/unit/one-copy.test.ts'],
    scope: [...CODE, 'tests'],
    example: 's = (Math.imul(s, 1664525) + 1013904223) >>> 0',
  },
  {
    what: 'worker messaging by hand (postMessage, a message listener or parentPort) outside electron/adapters/worker-rpc.ts',
    pattern: /\.postMessage\(|\.on\(\s*'message'|\.once\(\s*'message'|\bparentPort\b/,
    home: ['electron/adapters/worker-rpc.ts'],
    scope: ['core', 'electron', 'scripts'],
    example: "worker.on('message', (reply: Reply) => {",
  },
  {
    what: 'a worker started without the RPC helper',
    pattern: /new Worker\(/,
    // app-paths.ts is startWorker itself; plan-runs.ts starts a test's worker URL and wraps it in workerRpc below.
    home: ['electron/adapters/app-paths.ts', 'electron/app/plan-runs.ts'],
    scope: ['core', 'electron', 'scripts'],
    example: "const w = new Worker(new URL('./x.mjs', import.meta.url))",
  },
]

const inHome = (file: string, home: readonly string[]) => home.some((h) => (h.endsWith('/') ? file.startsWith(h) : file === h))

describe('one copy of each shared helper', () => {
  it.each(RULES.map((r) => [r.what, r] as const))('no %s', (_what, rule) => {
    expect(rule.pattern.test(rule.example), `the rule's own example must match: ${rule.example}`).toBe(true)
    const found: string[] = []
    for (const file of rule.scope.flatMap(files)) {
      if (inHome(file, rule.home)) continue
      const text = readFileSync(path.join(ROOT, file), 'utf8')
      const lines = text.split('\n')
      // Whole-text match for the multi-line patterns, reported at the line it starts on.
      const global = new RegExp(rule.pattern.source, rule.pattern.flags.includes('g') ? rule.pattern.flags : `${rule.pattern.flags}g`)
      for (const m of text.matchAll(global)) {
        const line = text.slice(0, m.index).split('\n').length
        found.push(`${file}:${line}: ${lines[line - 1]!.trim().slice(0, 120)}`)
      }
    }
    expect(found).toEqual([])
  })

  it('every worker call site goes through workerRpc, every worker through serveRpc', () => {
    const starts = files('electron').filter(
      (f) => f !== 'electron/adapters/app-paths.ts' && /\bstartWorker\(|new Worker\(/.test(readFileSync(path.join(ROOT, f), 'utf8')),
    )
    expect(starts.length).toBeGreaterThanOrEqual(5)
    for (const f of starts) expect(readFileSync(path.join(ROOT, f), 'utf8'), f).toMatch(/\bworkerRpc\b/)
    const workers = files('electron/workers').filter((f) => f.endsWith('.ts'))
    expect(workers.length).toBeGreaterThanOrEqual(5)
    for (const f of workers) expect(readFileSync(path.join(ROOT, f), 'utf8'), f).toMatch(/\bserveRpc[<(]/)
  })
})
