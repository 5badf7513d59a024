import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { gzipSync } from 'fflate'
import { readVolume, writeVolume } from '../../../electron/adapters/volume-io.ts'
import { voxelToWorld, orientationCode } from '../../../core/volume/index.ts'
import { buildNifti1 } from '../../helpers/nifti.ts'

let dir: string
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-nifti-'))
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

// 30 degrees about z (RAS), spacing 2 x 3 x 4 mm, translation (10, 20, 30) mm RAS.
const c30 = Math.cos(Math.PI / 6)
const s30 = Math.sin(Math.PI / 6)
const SFORM_RAS = [
  [2 * c30, -3 * s30, 0, 10],
  [2 * s30, 3 * c30, 0, 20],
  [0, 0, 4, 30],
]
const dims: [number, number, number] = [4, 5, 6]
const ramp = Float32Array.from({ length: 4 * 5 * 6 }, (_, i) => i - 17.5)

describe('NIfTI geometry through itk-wasm', () => {
  it('reads an oblique sform as LPS metres (hand-computed)', async () => {
    const file = path.join(dir, 'oblique.nii')
    await fs.writeFile(file, buildNifti1({ dims, sform: SFORM_RAS, datatype: 16, data: ramp }))
    const vol = await readVolume(file, { modality: 'MR' })
    expect(vol.dims).toEqual([4, 5, 6])
    expect(vol.spacingM[0]).toBeCloseTo(0.002, 9)
    expect(vol.spacingM[1]).toBeCloseTo(0.003, 9)
    expect(vol.spacingM[2]).toBeCloseTo(0.004, 9)
    // RAS (10, 20, 30) mm = LPS (-10, -20, 30) mm.
    expect(vol.originM[0]).toBeCloseTo(-0.01, 9)
    expect(vol.originM[1]).toBeCloseTo(-0.02, 9)
    expect(vol.originM[2]).toBeCloseTo(0.03, 9)
    // LPS direction = diag(-1, -1, 1) * R_ras.
    const expected = [-c30, s30, 0, -s30, -c30, 0, 0, 0, 1]
    vol.direction.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6))
    // Voxel (1, 2, 3): RAS = A [1 2 3 1] = (10 + 2c - 6s, 20 + 2s + 6c, 42) mm.
    const p = voxelToWorld(vol, [1, 2, 3])
    expect(p[0] * 1000).toBeCloseTo(-(10 + 2 * c30 - 6 * s30), 4)
    expect(p[1] * 1000).toBeCloseTo(-(20 + 2 * s30 + 6 * c30), 4)
    expect(p[2] * 1000).toBeCloseTo(42, 4)
    expect(Array.from(vol.data)).toEqual(Array.from(ramp))
    expect(vol.meta.uidsMinted).toBe(true)
    expect(vol.meta.frameOfReferenceUid).toMatch(/^2\.25\.\d+$/)
  })

  it('mints the same UIDs for the same file and different ones for another file', async () => {
    const file = path.join(dir, 'oblique.nii')
    const a = await readVolume(file, { modality: 'MR' })
    const b = await readVolume(file, { modality: 'MR' })
    expect(b.meta.frameOfReferenceUid).toBe(a.meta.frameOfReferenceUid)
    expect(b.meta.seriesInstanceUid).toBe(a.meta.seriesInstanceUid)
    expect(a.meta.seriesInstanceUid).not.toBe(a.meta.studyInstanceUid)
    const other = path.join(dir, 'other.nii')
    await fs.writeFile(other, buildNifti1({ dims, sform: SFORM_RAS, datatype: 16, data: ramp.map((v) => v + 1) }))
    const c = await readVolume(other, { modality: 'MR' })
    expect(c.meta.frameOfReferenceUid).not.toBe(a.meta.frameOfReferenceUid)
  })

  it('reads .nii.gz the same as .nii', async () => {
    const raw = buildNifti1({ dims, sform: SFORM_RAS, datatype: 16, data: ramp })
    await fs.writeFile(path.join(dir, 'a.nii'), raw)
    await fs.writeFile(path.join(dir, 'a.nii.gz'), gzipSync(raw))
    const a = await readVolume(path.join(dir, 'a.nii'), { modality: 'MR' })
    const b = await readVolume(path.join(dir, 'a.nii.gz'), { modality: 'MR' })
    expect(Array.from(b.data)).toEqual(Array.from(a.data))
    expect(b.direction).toEqual(a.direction)
    expect(b.originM).toEqual(a.originM)
  })

  for (const ext of ['.nii.gz', '.nii', '.nrrd', '.mha']) {
    it(`round-trips data and oblique anisotropic geometry through ${ext}`, async () => {
      const src = await readVolume(path.join(dir, 'oblique.nii'), { modality: 'MR' })
      const out = path.join(dir, `roundtrip${ext}`)
      await writeVolume(src, out)
      const back = await readVolume(out, { modality: 'MR' })
      expect(back.dims).toEqual(src.dims)
      expect(Array.from(back.data)).toEqual(Array.from(src.data))
      for (let i = 0; i < 3; i++) {
        expect(back.spacingM[i]).toBeCloseTo(src.spacingM[i]!, 8)
        expect(back.originM[i]).toBeCloseTo(src.originM[i]!, 8)
      }
      back.direction.forEach((v, i) => expect(v).toBeCloseTo(src.direction[i]!, 6))
      expect(orientationCode(back.direction)).toBe(orientationCode(src.direction))
      const leftovers = (await fs.readdir(dir)).filter((f) => f.includes('.tmp'))
      expect(leftovers).toEqual([])
    })
  }

  it('guesses CT from HU-like intensities and says it guessed', async () => {
    const hu = Int16Array.from({ length: 4 * 5 * 6 }, (_, i) => (i % 3 === 0 ? -1000 : 40))
    const file = path.join(dir, 'ct-like.nii')
    await fs.writeFile(file, buildNifti1({ dims, sform: SFORM_RAS, datatype: 4, data: hu }))
    const vol = await readVolume(file)
    expect(vol.meta.modality).toBe('CT')
    expect(vol.meta.valueUnit).toBe('HU')
    expect(vol.warnings.join(' ')).toMatch(/inferred/)
  })
})
