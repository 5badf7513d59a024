/**
 * The training pipeline end to end at toy size: a synthetic dataset in the generator's format,
 * a few PyTorch steps (the loss must fall), ONNX export, and ONNX Runtime (the app's inference
 * path) against PyTorch on fixed inputs to 1e-4, and training/'s own pytest suite. Needs Debian's
 * python3-torch and python3-pytest; without them the test says so and skips (manifest,
 * pre/post-processing and metrics have their own tests). Under CI, which installs them, it fails.
 */
import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import * as ort from 'onnxruntime-node'
import { parseSurrogateManifest } from '../../../core/surrogate/manifest.ts'
import { seededRandom } from '../../../core/math/random.ts'
import { requireOrSkip } from '../../helpers/requires.ts'

const repo = path.resolve(import.meta.dirname, '../../..')
const python = process.env.TFUS_PYTHON ?? '/usr/bin/python3'
const probe = spawnSync(python, ['-c', 'import torch, numpy, pytest; print(torch.__version__)'], { encoding: 'utf8' })
const hasTorch = probe.status === 0
const torchMissing = hasTorch
  ? null
  : `${python} cannot import torch, numpy and pytest (apt-get install python3-torch python3-numpy python3-pytest): ${(probe.stderr ?? '').trim().split('\n').pop()}`

/** A toy dataset: a Gaussian "free-water" focus, heads that attenuate it by their mean speed. */
function writeToyDataset(dir: string, samples: number) {
  const size = [14, 14, 15] as const
  const [nx, ny, nz] = size
  const n = nx * ny * nz
  const free = new Float32Array(n)
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) free[i + nx * (j + ny * k)] = 1e5 * Math.exp(-((i - 6.5) ** 2 + (j - 6.5) ** 2) / 4 - (k - 9) ** 2 / 20) + 1e3
  mkdirSync(path.join(dir, 'samples'), { recursive: true })
  writeFileSync(path.join(dir, 'free-water.f32'), new Uint8Array(free.buffer))
  const header = {
    format: 'tfus-surrogate-data/1',
    transducer_id: 'toy',
    frequency_hz: 500000,
    points_per_wavelength: 2,
    mapping_id: 'kplan',
    grid_size: size,
    spacing_m: 0.0015,
    origin_m: [-0.00975, -0.00975, -0.003],
    focal_distance_from_apex_m: 0.0135,
    reference_source_amplitude_pa: 60000,
    channels: ['sound_speed_m_s', 'density_kg_m3', 'alpha_np_m', 'pressure_pa'],
    free_water: { file: 'free-water.f32', steps: 0, residual: 0, wall_s: 0 },
    solver: { backend: 'toy', device: 'toy', note: 'toy', steady_tolerance: 0, max_traversals: 0 },
  }
  writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify(header))
  const random = seededRandom(7)
  for (let s = 0; s < samples; s++) {
    const block = new Float32Array(4 * n)
    const skullC = 2000 + 1000 * random()
    const zSkull = 2 + Math.floor(3 * random())
    for (let v = 0; v < n; v++) {
      const k = Math.floor(v / (nx * ny))
      const bone = k >= zSkull && k < zSkull + 2
      const brain = k >= zSkull + 2
      block[v] = bone ? skullC : brain ? 1560 : 1500
      block[n + v] = bone ? 1900 : brain ? 1040 : 1000
      block[2 * n + v] = bone ? 60 : 0
      block[3 * n + v] = free[v]! * (k > zSkull ? 3000 / skullC / 1.5 : 1)
    }
    const id = `s${String(s).padStart(4, '0')}`
    writeFileSync(path.join(dir, 'samples', `${id}.f32`), new Uint8Array(block.buffer))
    const meta = {
      id,
      split: s === samples - 1 ? 'test' : 'train',
      source: 'procedural',
      head: { seed: s, parameters: {} },
      target_ras_m: [0, 0, 0],
      entry_ras_m: [0, 0, 0.05],
      depth_m: 0.03,
      tilt_rad: 0,
      transducer_to_ras: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
      standoff_m: 0.01,
      skull_thickness_m: 0.003,
      incidence_deg: 5,
      refusals: 0,
      steps: 0,
      residual: 0,
      converged: true,
      prepare_s: 0,
      solve_s: 0,
      backend: 'toy',
    }
    writeFileSync(path.join(dir, 'samples', `${id}.json`), JSON.stringify(meta))
  }
}

describe.skipIf(requireOrSkip('PyTorch', torchMissing))('surrogate training (PyTorch) and ONNX export', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfus-train-'))
  const data = path.join(dir, 'data')
  const out = path.join(dir, 'model')
  writeToyDataset(data, 12)
  let summary: { steps: number; loss_first: number; loss_last: number } | undefined

  it('trains a few steps with a falling loss and exports ONNX with a valid manifest', () => {
    const r = spawnSync(
      python,
      ['-m', 'training.tfus_surrogate.train', '--data', data, '--out', out, '--max-steps', '40', '--lr', '5e-3', '--widths', '4,8', '--threads', '2'],
      { cwd: repo, encoding: 'utf8', timeout: 600_000 },
    )
    expect(r.status, r.stderr).toBe(0)
    summary = JSON.parse(r.stdout.trim().split('\n').pop()!)
    expect(summary!.steps).toBe(40)
    expect(summary!.loss_last).toBeLessThan(0.7 * summary!.loss_first)
    const manifest = parseSurrogateManifest(JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8')), 'model.json')
    expect(manifest.frame.padded_size_zyx).toEqual([16, 16, 16])
    expect(manifest.training.train_samples + manifest.training.validation_samples).toBe(11)
  }, 620_000)

  it('ONNX Runtime reproduces PyTorch on fixed inputs to 1e-4', async () => {
    expect(summary).toBeDefined()
    const f = (name: string) => {
      const b = readFileSync(path.join(out, name))
      return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4)
    }
    const session = await ort.InferenceSession.create(path.join(out, 'model.onnx'), { executionProviders: ['cpu'] })
    const result = await session.run({
      medium: new ort.Tensor('float32', f('parity-input.f32'), [2, 4, 16, 16, 16]),
      pose: new ort.Tensor('float32', f('parity-pose.f32'), [2, 6]),
    })
    const got = result['log_amplitude']!.data as Float32Array
    const want = f('parity-output.f32')
    expect(got.length).toBe(want.length)
    let worst = 0
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!))
    expect(worst).toBeLessThan(1e-4)
  })

  it('training/ passes its pytest suite (the TFUScapes .npz reader: normalisation, bowl fit, beam frame, clear errors)', () => {
    const r = spawnSync(python, ['-m', 'pytest', 'training', '-q'], { cwd: repo, encoding: 'utf8', timeout: 120_000 })
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0)
    expect(r.stdout).toMatch(/\b3 passed\b/)
  }, 130_000)
})
