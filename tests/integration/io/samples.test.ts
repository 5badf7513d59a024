/**
 * The bundled sample patient, checked the way the acceptance criteria read it, through the
 * real CLI binary (spawned, as a user would run it).
 */
import { describe, it, expect } from 'vitest'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { promises as fs, existsSync } from 'node:fs'
import * as path from 'node:path'
import { readVolume } from '../../../electron/adapters/volume-io.ts'
import { requireOrSkip } from '../../helpers/requires.ts'
import { applyAffine } from '../../../core/math/index.ts'
import { worldToVoxel, type Vec3 } from '../../../core/volume/index.ts'

const run = promisify(execFile)
const ROOT = path.resolve(import.meta.dirname, '../../..')
const SAMPLES = path.join(ROOT, 'resources/samples')
const TFUS = path.join(ROOT, 'bin/tfus.mjs')

async function tfusJson(target: string) {
  const { stdout } = await run(process.execPath, [TFUS, 'info', target, '--json'], { cwd: ROOT })
  return JSON.parse(stdout) as Record<string, unknown>
}

describe('bundled samples', () => {
  it('cranium CT: 256x256x108, 0.957/0.957/1.5 mm, LAS, skull above 1500 HU', async () => {
    const info = await tfusJson('resources/samples/cranium-ct.nii.gz')
    expect(info.dims).toEqual([256, 256, 108])
    const spacing = info.spacing_mm as number[]
    expect(spacing[0]).toBeCloseTo(0.957, 3)
    expect(spacing[1]).toBeCloseTo(0.957, 3)
    expect(spacing[2]).toBeCloseTo(1.5, 6)
    expect(info.orientation).toBe('LAS')
    expect(info.direction).toEqual([
      [1, 0, 0],
      [0, -1, 0],
      [0, 0, 1],
    ])
    expect(info.modality).toBe('CT')
    expect(info.min).toBe(-1024)
    expect(info.max as number).toBeGreaterThan(1500)
    for (const key of ['origin_mm', 'warnings']) expect(info).toHaveProperty(key)
  })

  it('cranium CT anatomy matches its orientation: face anterior, vertex superior', async () => {
    const ct = await readVolume(path.join(SAMPLES, 'cranium-ct.nii.gz'))
    const [nx, ny, nz] = ct.dims
    const at = (i: number, j: number, k: number) => ct.data[i + nx * (j + ny * k)]!
    // Tooth enamel (> 2000 HU) in the lowest third of the slices sits in front of the head's
    // centre: +j must point anterior. (A bone centroid would not do: the skull base and the
    // CT table, at j near 0, pull it back.)
    let enamel = 0
    let enamelJ = 0
    for (let k = 0; k < nz / 3; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++)
          if (at(i, j, k) > 2000) {
            enamel++
            enamelJ += j
          }
    expect(enamel).toBeGreaterThan(100)
    expect(enamelJ / enamel).toBeGreaterThan(0.65 * ny)
    // The top slices hold the vertex: far fewer head voxels than the middle.
    const headVoxels = (k: number) => {
      let n = 0
      for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (at(i, j, k) > -300) n++
      return n
    }
    expect(headVoxels(nz - 4)).toBeLessThan(headVoxels(Math.floor(nz / 2)) / 2)
  })

  it('Colin27 T1: MR, 181x217x181 at 1 mm', async () => {
    const info = await tfusJson('resources/samples/colin27-t1.nii.gz')
    expect(info.dims).toEqual([181, 217, 181])
    expect(info.spacing_mm).toEqual([1, 1, 1])
    expect(info.modality).toBe('MR')
    expect(info.orientation).toBe('RAS')
  })

  it('synthetic T1 lines up with the CT under the stated ground-truth transform', async () => {
    const ct = await readVolume(path.join(SAMPLES, 'cranium-ct.nii.gz'))
    const t1 = await readVolume(path.join(SAMPLES, 'cranium-synthetic-t1.nii.gz'), { modality: 'MR' })
    const truth = JSON.parse(await fs.readFile(path.join(SAMPLES, 'cranium-synthetic-t1.transform.json'), 'utf8'))
    const m = (truth.matrix_lps_mm as number[][]).flat()
    // Walk T1 voxels; map each into the CT; bone (> 700 HU) must come out dark and
    // white matter (20..30 HU) bright, far more often than chance would give.
    const [tx, ty] = t1.dims
    let boneDark = 0
    let bone = 0
    let wmBright = 0
    let wm = 0
    for (let k = 20; k < t1.dims[2] - 20; k += 3)
      for (let j = 20; j < ty - 20; j += 3)
        for (let i = 20; i < tx - 20; i += 3) {
          const pT1: Vec3 = [t1.originM[0] + i * t1.spacingM[0], t1.originM[1] + j * t1.spacingM[1], t1.originM[2] + k * t1.spacingM[2]]
          const pCtMm = applyAffine(m, [pT1[0] * 1000, pT1[1] * 1000, pT1[2] * 1000])
          const c = worldToVoxel(ct, [pCtMm[0] / 1000, pCtMm[1] / 1000, pCtMm[2] / 1000]).map(Math.round) as [number, number, number]
          if (c.some((v, a) => v < 0 || v >= ct.dims[a]!)) continue
          const hu = ct.data[c[0] + ct.dims[0] * (c[1] + ct.dims[1] * c[2])]!
          const v = t1.data[i + tx * (j + ty * k)]!
          if (hu > 700) {
            bone++
            if (v < 60) boneDark++
          } else if (hu >= 20 && hu <= 30) {
            wm++
            if (v > 100) wmBright++
          }
        }
    expect(bone).toBeGreaterThan(500)
    expect(wm).toBeGreaterThan(500)
    expect(boneDark / bone).toBeGreaterThan(0.9)
    expect(wmBright / wm).toBeGreaterThan(0.6)
  })

  const sourcesMissing = existsSync('/usr/share/doc/invesalius-examples/examples/Cranium.inv3') ? null : 'no Cranium.inv3 (apt-get install invesalius-examples)'
  it.skipIf(requireOrSkip('the sample CT sources', sourcesMissing))(
    'rebuilds the CT sample voxel-identical from the Debian package (skipped when invesalius-examples is not installed)',
    async () => {
      const { loadCraniumCt } = await import('../../../scripts/build-samples.ts')
      const rebuilt = await loadCraniumCt()
      const committed = await readVolume(path.join(SAMPLES, 'cranium-ct.nii.gz'))
      expect(rebuilt.dims).toEqual(committed.dims)
      expect(Buffer.compare(Buffer.from(rebuilt.data.buffer), Buffer.from(committed.data.buffer))).toBe(0)
      // NIfTI stores the origin in float32: equal to ~1e-7 m.
      rebuilt.originM.forEach((v, i) => expect(v).toBeCloseTo(committed.originM[i]!, 6))
    },
  )
})
