/**
 * `tfus predict` with the shipped model on the sample CT: the plan folder `tfus plan` writes,
 * marked as a surrogate preview with its confidence and provider; refusals for a transducer the
 * model was not trained for and for a model file that does not match its manifest.
 */
import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'

const root = path.resolve(import.meta.dirname, '../../..')
const tfus = (args: string[]) => spawnSync(process.execPath, [path.join(root, 'bin/tfus.mjs'), ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 })
const base = ['--ct', 'resources/samples/cranium-ct.nii.gz', '--target', '30,-18,13.5', '--isppa-free-water', '10']

describe('tfus predict (surrogate)', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'tfus-predict-'))

  it('writes the plan folder with source "surrogate", a confidence and the provider', () => {
    const r = tfus(['predict', ...base, '--transducer', 'itrusst-bm-bowl', '--provider', 'cpu', '--out', out])
    expect(r.status, r.stderr + r.stdout).toBe(0)
    for (const f of ['pressure.nii.gz', 'focal_6db.nii.gz', 'plan.json', 'metrics.json']) expect(existsSync(path.join(out, f)), f).toBe(true)
    const plan = JSON.parse(readFileSync(path.join(out, 'plan.json'), 'utf8'))
    const metrics = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8'))
    expect(plan.source).toBe('surrogate')
    expect(plan.surrogate.provider).toBe('cpu')
    expect(plan.surrogate.confidence).toBeGreaterThanOrEqual(0)
    expect(plan.surrogate.confidence).toBeLessThanOrEqual(1)
    expect(metrics.source).toBe('surrogate')
    expect(metrics.confidence).toBe(plan.surrogate.confidence)
    expect(metrics.flags.mechanical).toMatch(/^\[surrogate preview, confidence \d\.\d\d\] /)
    expect(metrics.peak_pressure_pa).toBeGreaterThan(0)
    expect(r.stdout).toMatch(/surrogate: model .*, cpu execution provider/)
  }, 300_000)

  it('refuses a transducer the model was not trained for, naming both', () => {
    const r = tfus(['predict', ...base, '--transducer', 'neurofus-ctx-250-4ch', '--provider', 'cpu', '--out', path.join(out, 'x')])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/trained (for transducer itrusst-bm-bowl, not neurofus-ctx-250-4ch|at 0.5 MHz, not 0.25 MHz|on a)/)
  }, 300_000)

  it('refuses a model file that does not match its manifest', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tfus-badmodel-'))
    const src = path.join(root, 'resources/surrogate')
    for (const f of ['model.json', 'free-water.f32']) copyFileSync(path.join(src, f), path.join(dir, f))
    writeFileSync(path.join(dir, 'model.onnx'), 'not a model')
    const r = tfus([
      'predict',
      ...base,
      '--transducer',
      'itrusst-bm-bowl',
      '--model',
      path.join(dir, 'model.json'),
      '--provider',
      'cpu',
      '--out',
      path.join(out, 'y'),
    ])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/model\.onnx: SHA-256 .* does not match the manifest/)
  }, 300_000)
})
