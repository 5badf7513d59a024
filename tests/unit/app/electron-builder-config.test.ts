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
    const schema = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as { definitions: { FuseOptionsV1: { properties: Record<string, unknown>; additionalProperties: boolean } } }
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

  test('native modules, WGSL and itk-wasm pipelines are unpacked or shipped as resources', () => {
    const unpack = config.asarUnpack as string[]
    for (const needle of ['better-sqlite3', 'webgpu', '@itk-wasm', '*.node', '.wgsl']) expect(unpack.some((p) => p.includes(needle)), needle).toBe(true)
    const extra = config.extraResources as { from: string; to: string }[]
    expect(extra.map((e) => e.to)).toEqual(expect.arrayContaining(['wgsl', 'itk-wasm/image-io', 'itk-wasm/dicom']))
    for (const e of extra) expect(existsSync(path.join(root, e.from)), e.from).toBe(true)
    expect(readdirSync(path.join(root, 'core/solver/webgpu')).some((f) => f.endsWith('.wgsl'))).toBe(true)
  })

  test('the entry point and every shipped source folder exist', () => {
    const main = (config.extraMetadata as { main: string }).main
    expect(existsSync(path.join(root, main))).toBe(true)
    for (const pattern of config.files as string[]) {
      if (pattern.startsWith('!')) continue
      const base = pattern.split('/**')[0]!
      // dist/ is built (npm run build:renderer, the preload bundle) before packaging.
      if (base.startsWith('dist/')) continue
      expect(existsSync(path.join(root, base)), pattern).toBe(true)
    }
  })
})
