/**
 * Reading a 512 x 512 x 300 int16 CT series: our DICOM path (core/io/dicom on bytes read by the
 * Node host) against itk-wasm's GDCM series reader, on the same files. Prints a table.
 *   npm run bench:dicom
 */
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { readImageDicomFileSeriesNode } from '@itk-wasm/dicom'
import { readVolume } from '../electron/adapters/volume-io.ts'
import { writeDicomSeries } from '../tests/helpers/dicom-writer.ts'
import { createVolume, flipAxis, resampleTrilinear, centerM, type Vec3, type Mat3 } from '../core/volume/index.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const [NX, NY, NZ] = [512, 512, 300]

async function main() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-bench-dicom-'))
  try {
    const ct = flipAxis(await readVolume(path.join(ROOT, 'resources/samples/cranium-ct.nii.gz')), 1)
    const c = centerM(ct)
    const spacingM: Vec3 = [0.000478, 0.000478, 0.00054]
    const target = {
      dims: [NX, NY, NZ] as Vec3,
      spacingM,
      direction: ct.direction as Mat3,
      originM: [c[0] - ((NX - 1) * spacingM[0]) / 2, c[1] - ((NY - 1) * spacingM[1]) / 2, c[2] - ((NZ - 1) * spacingM[2]) / 2] as Vec3,
    }
    const big = resampleTrilinear(ct, target, { fill: -1024, outputType: 'float32' })
    const hu = new Int16Array(big.data.length)
    for (let i = 0; i < hu.length; i++) hu[i] = Math.round(big.data[i]!)
    const vol = createVolume({ data: hu, dims: target.dims, spacingM, originM: target.originM, direction: target.direction, meta: { modality: 'CT' } })
    const files = writeDicomSeries(vol, {
      patientName: 'BENCH^CT',
      patientId: 'B1',
      studyInstanceUid: '2.25.1',
      seriesInstanceUid: '2.25.2',
      frameOfReferenceUid: '2.25.3',
      modality: 'CT',
    })
    let bytes = 0
    const order = files.map((_, i) => i).sort((a, b) => ((a * 7919) % 997) - ((b * 7919) % 997))
    for (const [n, i] of order.entries()) {
      await fs.writeFile(path.join(dir, `f${String(n).padStart(4, '0')}.dcm`), files[i]!.bytes)
      bytes += files[i]!.bytes.length
    }
    const rows: Array<[string, string, string]> = []
    const runs: number[] = []
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now()
      const back = await readVolume(dir)
      runs.push((performance.now() - t0) / 1000)
      if (back.dims.join() !== [NX, NY, NZ].join()) throw new Error('wrong dims')
      if (r === 0) for (let i = 0; i < hu.length; i += 9973) if (back.data[i] !== hu[i]) throw new Error(`voxel ${i} differs`)
    }
    rows.push(['tfus (core/io/dicom), run 1 / 2 / 3', runs.map((s) => s.toFixed(2)).join(' / '), (bytes / 1e6 / Math.min(...runs)).toFixed(0)])
    const names = (await fs.readdir(dir)).map((f) => path.join(dir, f))
    const t0 = performance.now()
    const itk = await readImageDicomFileSeriesNode({ inputImages: names, singleSortedSeries: false })
    const itkS = (performance.now() - t0) / 1000
    if (itk.outputImage.size.join() !== [NX, NY, NZ].join()) throw new Error('itk-wasm: wrong dims')
    rows.push(['itk-wasm readImageDicomFileSeriesNode (GDCM)', itkS.toFixed(2), (bytes / 1e6 / itkS).toFixed(0)])

    console.log(
      `DICOM series ${NX}x${NY}x${NZ} int16, ${files.length} files, ${(bytes / 1e6).toFixed(0)} MB, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'})`,
    )
    console.log('| reader | wall time [s] | MB/s (best) |')
    console.log('|---|---|---|')
    for (const r of rows) console.log(`| ${r.join(' | ')} |`)
    console.log(`target: under 2 s -> ${Math.min(...runs) < 2 ? 'met' : 'NOT met'} (best ${Math.min(...runs).toFixed(2)} s)`)
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

await main()
