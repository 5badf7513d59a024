/**
 * build/electron-builder.yml checked without packaging (Electron's binary cannot be downloaded
 * here): it must validate against electron-builder's own JSON schema (app-builder-lib/scheme.json),
 * name the Linux/Windows/macOS targets, keep native modules and by-path files out of the asar, and
 * every file pattern it ships must match something in this checkout.
 */
import { describe, expect, test } from 'vitest'
import { createRequire } from 'node:module'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import * as path from 'node:path'

const require = createRequire(import.meta.url)
const root = path.resolve(import.meta.dirname, '../../..')
const yaml = require('js-yaml') as { load(text: string): unknown }
const config = yaml.load(readFileSync(path.join(root, 'build/electron-builder.yml'), 'utf8')) as Record<string, unknown>

describe('electron-builder configuration', () => {
  test('validates against electron-builder schema', () => {
    const Ajv = require('ajv') as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown[] } }
    const schema = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as object
    const validate = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true }).compile(schema)
    const ok = validate(config)
    expect(validate.errors ?? []).toEqual([])
    expect(ok).toBe(true)
    // The schema is strict enough to catch a typo or a wrong type.
    expect(validate({ ...config, asarUnpak: ['x'] })).toBe(false)
    expect(validate({ ...config, linux: { target: 5 } })).toBe(false)
  })

  test('Electron fuses: no run-as-node, no NODE_OPTIONS or --inspect, only the integrity-checked app.asar, no file:// privileges, encrypted cookies', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    })
    // The key names are the ones this electron-builder knows (a misspelt fuse would be ignored, not flipped).
    const schema = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as {
      definitions: { FuseOptionsV1: { properties: Record<string, unknown>; additionalProperties: boolean } }
    }
    const known = Object.keys(schema.definitions.FuseOptionsV1.properties)
    for (const key of Object.keys(config.electronFuses as object)) expect(known, key).toContain(key)
    expect(schema.definitions.FuseOptionsV1.additionalProperties).toBe(false)
    // The app code must be in app.asar for onlyLoadAppFromAsar (asar is on unless switched off).
    expect(config.asar).not.toBe(false)
  })

  test('targets: AppImage + deb, NSIS, dmg', () => {
    expect((config.linux as { target: string[] }).target).toEqual(['AppImage', 'deb'])
    expect((config.win as { target: string[] }).target).toEqual(['nsis'])
    expect((config.mac as { target: string[] }).target).toEqual(['dmg'])
  })

  test('native modules and itk-wasm pipelines are unpacked or shipped as resources', () => {
    const unpack = config.asarUnpack as string[]
    for (const needle of ['better-sqlite3', 'webgpu', '@itk-wasm', '*.node'])
      expect(
        unpack.some((p) => p.includes(needle)),
        needle,
      ).toBe(true)
    const extra = config.extraResources as { from: string; to: string }[]
    expect(extra.map((e) => e.to)).toEqual(expect.arrayContaining(['itk-wasm/image-io', 'itk-wasm/dicom']))
    for (const e of extra) expect(existsSync(path.join(root, e.from)), e.from).toBe(true)
  })

  test('the entry point is the build, and every shipped folder exists', () => {
    const main = (config.extraMetadata as { main: string }).main
    expect(main).toBe('dist/node/main.mjs')
    expect(existsSync(path.join(root, main))).toBe(true)
    for (const pattern of config.files as string[]) {
      if (pattern.startsWith('!')) continue
      const base = pattern.split('/**')[0]!
      // dist/renderer is built by vite (npm run build) before packaging; dist/node by the test setup.
      if (base.startsWith('dist/renderer')) continue
      expect(existsSync(path.join(root, base)), pattern).toBe(true)
    }
    // No TypeScript source ships: the app runs the build only.
    expect((config.files as string[]).some((p) => /^(electron|core)\//.test(p))).toBe(false)
  })

  test('every file the packaged app loads is inside it', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
      optionalDependencies?: Record<string, string>
    }
    const shipped = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})])
    const dist = path.join(root, 'dist', 'node')
    const built = readdirSync(dist).filter((f) => f.endsWith('.mjs'))
    // The three entries and one file per worker (electron/adapters/app-paths.ts startWorker).
    for (const name of ['cli', 'server', 'main', 'plan-worker', 'preview-worker', 'cpu-worker', 'db-worker', 'elastix-worker'])
      expect(built, name).toContain(`${name}.mjs`)
    const packagesUsed = new Set<string>()
    for (const file of built) {
      const text = readFileSync(path.join(dist, file), 'utf8')
      // esbuild writes static imports as statements at the start of a line; dynamic ones as import("x").
      for (const m of text.matchAll(/^(?:import|export|\})[^\n;]*?\bfrom\s*["']([^"']+)["']|^import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm)) {
        const spec = (m[1] ?? m[2] ?? m[3])!
        if (spec.startsWith('node:')) continue
        if (spec.startsWith('.')) {
          expect(existsSync(path.join(dist, spec)), `${file} imports ${spec}`).toBe(true)
          continue
        }
        packagesUsed.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!)
      }
    }
    // Packages are loaded from node_modules at run time: each must be a (non-dev) dependency,
    // which electron-builder packs; electron is the runtime itself.
    packagesUsed.delete('electron')
    expect(packagesUsed.size).toBeGreaterThan(3)
    for (const p of packagesUsed) expect(shipped, `dist/node imports ${p}`).toContain(p)
    expect(packagesUsed.has('tsx')).toBe(false)
    // Files the application reads by path under the root (electron/adapters/app-paths.ts appPath).
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
      )
    const patterns = (config.files as string[]).filter((p) => !p.startsWith('!'))
    for (const file of sources(path.join(root, 'electron'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/appPath\(((?:'[^']+'(?:,\s*)?)+)\)/g)) {
        const rel = m[1]!
          .split(',')
          .map((x) => x.trim().replace(/'/g, ''))
          .join('/')
        expect(
          patterns.some((p) => p === rel || rel.startsWith(p.split('/**')[0]! + '/') || p.startsWith(rel + '/')),
          `${path.relative(root, file)} reads ${rel}`,
        ).toBe(true)
      }
    }
  })
})
