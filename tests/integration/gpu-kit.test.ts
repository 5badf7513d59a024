/**
 * The GPU device-run kit (scripts/gpu/build-kit.mjs): its esbuild bundles run without tsx and
 * without the source tree's node_modules, resolve resources/ through TFUS_ROOT, read NIfTI
 * through the copied itk-wasm pipelines, and load Dawn where the `webgpu` package looks for it.
 * The device run itself (scripts/gpu/run-device.sh) needs a GPU machine; this is its build.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fftTuningFromEnv, formatFftTuning } from '../../electron/adapters/solver-backends.ts'
import { DEFAULT_FFT_TUNING } from '../../core/solver/webgpu/fft.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'
import { IN_CI } from '../helpers/requires.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'
let out: string

beforeAll(() => {
  out = mkdtempSync(path.join(os.tmpdir(), 'tfus-kit-'))
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/gpu/build-kit.mjs'), '--bundle-only', '--out', out], { stdio: 'pipe' })
  // Dawn where the bundled `webgpu` package looks for it (run-device.sh unpacks it there).
  mkdirSync(path.join(out, 'kit/dist'), { recursive: true })
  symlinkSync(path.join(ROOT, 'node_modules/webgpu/dist/linux-x64'), path.join(out, 'kit/dist/linux-x64'))
}, 120_000)
afterAll(() => rmSync(out, { recursive: true, force: true }))

/** Runs a bundle from a folder outside the repository, as on the device. */
function bundle(name: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [path.join(out, 'kit', `${name}.mjs`), ...args], {
    cwd: ROOT,
    env: { ...process.env, TFUS_ROOT: ROOT, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  })
}

describe('GPU kit bundles', () => {
  it('the CLI reads the sample CT through the copied NIfTI pipeline', () => {
    const r = bundle('tfus', ['info', 'resources/samples/cranium-ct.nii.gz', '--json'])
    expect(r.status, r.stderr).toBe(0)
    const info = JSON.parse(r.stdout)
    expect(info.dims).toEqual([256, 256, 108])
  })

  it('the CLI finds the built-in transducers through TFUS_ROOT', () => {
    const r = bundle('tfus', ['transducers', '--json'])
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toContain('itrusst-bm-bowl')
  })

  it('the checks load Dawn and describe the adapter (SwiftShader here)', () => {
    const r = bundle('checks', ['info'], existsSync(SWIFTSHADER_ICD) ? { VK_ICD_FILENAMES: SWIFTSHADER_ICD } : {})
    if (!existsSync(SWIFTSHADER_ICD)) {
      // CI installs Chromium, and with it the SwiftShader ICD: there its absence is a failure.
      expect(IN_CI, `no SwiftShader ICD at ${SWIFTSHADER_ICD} (apt-get install chromium)`).toBe(false)
      // Without any Vulkan driver the script still loads Dawn and says why there is no adapter.
      expect(r.stdout).toMatch(/no WebGPU adapter/)
      return
    }
    expect(r.status, r.stderr).toBe(0)
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')))
    expect(json.description).toMatch(/SwiftShader/)
    expect(json.hostDesign).toBe('global')
    expect(json.limits.maxComputeWorkgroupStorageSize).toBeGreaterThan(0)
  })
})

describe('TFUS_FFT_TUNING', () => {
  it('round-trips the tuning and refuses malformed values naming the variable', () => {
    expect(fftTuningFromEnv(formatFftTuning(DEFAULT_FFT_TUNING))).toEqual(DEFAULT_FFT_TUNING)
    expect(fftTuningFromEnv('1024,128,1')).toEqual({ tileElements: 1024, workgroupSize: 128, unrollRadix: true })
    expect(fftTuningFromEnv('1024,128,0,1')).toEqual({ tileElements: 1024, workgroupSize: 128, unrollRadix: false, padRows: true })
    expect(formatFftTuning({ tileElements: 1024, workgroupSize: 128, unrollRadix: false, padRows: true })).toBe('1024,128,0,1')
    expect(fftTuningFromEnv('')).toBeUndefined()
    for (const bad of ['1024,128', '1024,128,2', 'a,b,c', '0,64,1', '512,64,1,2', '512,64,1,1,1']) {
      expect(() => fftTuningFromEnv(bad)).toThrow(SimulationInputError)
      expect(() => fftTuningFromEnv(bad)).toThrow(/TFUS_FFT_TUNING/)
    }
  })
})
