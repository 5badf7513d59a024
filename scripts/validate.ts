/**
 * Full-size validation of the acoustic solver against outside references (not part of
 * `npm test`, which runs reduced versions). Prints a table; exits 1 if a check fails.
 *   npm run validate [-- --backend cpu|webgpu] [-- --only bm1|convergence|layers]
 *
 * - ITRUSST BM1 (Aubry et al. 2022): 500 kHz bowl, ROC 64 mm, aperture 64 mm, 60 kPa, water,
 *   0.5 mm grid: peak within 2 % of O'Neil's 1094.4 kPa, peak position within 0.5 mm of
 *   61.93 mm, -6 dB axial and lateral widths within 5 % of the Rayleigh values (26.25, 4.07 mm).
 * - Convergence: BM1 at 1 mm and 0.5 mm; the peak moves by less than the tolerance above.
 * - Plane-wave transmission through the 6.5 mm cortical layer (docs/physics.md §3) at 0.125 mm with
 *   the default CFL 0.3, at y = 2 and y = 1.5.
 */
import { readFileSync } from 'node:fs'
import { parseScene } from '../core/solver/scene.ts'
import { runSimulation, type BackendFactory } from '../core/solver/run.ts'
import { focalMetrics } from '../core/solver/metrics.ts'
import { BM1, oneilPeak, oneilAxialFwhm6dB, layerTransmission, dbPerCmToNpPerM } from '../core/solver/analytic/index.ts'
import { selectBackend, type BackendChoice } from '../electron/adapters/solver-backends.ts'

const args = process.argv.slice(2)
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}
const only = flag('only')
const choice = (flag('backend') ?? 'auto') as BackendChoice

interface Row {
  check: string
  measured: string
  reference: string
  tolerance: string
  pass: boolean
}
const rows: Row[] = []
const info: string[] = []

/** ITRUSST BM1 as the bundled scene file defines it, at the given grid spacing. */
function bm1Scene(dx: number) {
  const scene = JSON.parse(readFileSync(new URL('../resources/scenes/itrusst-bm1.json', import.meta.url), 'utf8'))
  return { ...scene, grid: { ...scene.grid, spacing_m: dx } }
}

async function run(sceneJson: unknown, backend: BackendFactory, label: string) {
  const scene = parseScene(sceneJson)
  let last = 0
  const result = await runSimulation({
    grid: scene.grid,
    medium: scene.medium,
    source: scene.source,
    settings: scene.settings,
    backend,
    onProgress: (p) => {
      if (p.step - last >= 200) {
        last = p.step
        process.stderr.write(`  ${label}: step ${p.step}/${p.maxSteps}${p.residual === undefined ? '' : ` residual ${p.residual.toExponential(2)}`}\n`)
      }
    },
  })
  process.stderr.write(
    `  ${label}: ${result.steps} steps, ${result.wallS.toFixed(0)} s on ${result.device}, residual ${result.steadyStateResidual.toExponential(2)}\n`,
  )
  return { scene, result }
}

async function main() {
  const selected = await selectBackend(choice)
  for (const note of selected.notes) console.error(note)
  const peakRef = oneilPeak(BM1)
  const axialRef = oneilAxialFwhm6dB(BM1)
  const lateralRef = 0.004066 // Rayleigh integral, peak plane (docs/physics.md §2; tests/unit/analytic)

  if (!only || only === 'bm1' || only === 'convergence') {
    const fine = await run(bm1Scene(0.0005), selected.factory, 'BM1 0.5 mm')
    const m = focalMetrics(fine.result.amplitudePa, fine.scene.grid, fine.scene.source.elements)
    const pct = (a: number, b: number) => `${(((a - b) / b) * 100).toFixed(2)} %`
    rows.push({
      check: 'BM1 0.5 mm peak',
      measured: `${(m.peakPa / 1e3).toFixed(1)} kPa (${pct(m.peakPa, peakRef.amplitude)})`,
      reference: `${(peakRef.amplitude / 1e3).toFixed(1)} kPa (O'Neil)`,
      tolerance: '2 %',
      pass: Math.abs(m.peakPa / peakRef.amplitude - 1) < 0.02,
    })
    rows.push({
      check: 'BM1 0.5 mm peak position',
      measured: `${(m.peakDistanceFromSourceM * 1e3).toFixed(2)} mm`,
      reference: `${(peakRef.zM * 1e3).toFixed(2)} mm`,
      tolerance: '0.5 mm',
      pass: Math.abs(m.peakDistanceFromSourceM - peakRef.zM) < 0.0005,
    })
    rows.push({
      check: 'BM1 0.5 mm -6 dB axial',
      measured: `${(m.fwhm6dbAxialM * 1e3).toFixed(2)} mm (${pct(m.fwhm6dbAxialM, axialRef.lengthM)})`,
      reference: `${(axialRef.lengthM * 1e3).toFixed(2)} mm`,
      tolerance: '5 %',
      pass: Math.abs(m.fwhm6dbAxialM / axialRef.lengthM - 1) < 0.05,
    })
    for (const [name, w] of [
      ['lateral y', m.fwhm6dbLateralM],
      ['lateral z', m.fwhm6dbLateral2M],
    ] as const) {
      rows.push({
        check: `BM1 0.5 mm -6 dB ${name}`,
        measured: `${(w * 1e3).toFixed(3)} mm (${pct(w, lateralRef)})`,
        reference: '4.066 mm (Rayleigh)',
        tolerance: '5 %',
        pass: Math.abs(w / lateralRef - 1) < 0.05,
      })
    }
    if (!only || only === 'convergence') {
      const coarse = await run(bm1Scene(0.001), selected.factory, 'BM1 1 mm')
      const c = focalMetrics(coarse.result.amplitudePa, coarse.scene.grid, coarse.scene.source.elements)
      const change = Math.abs(c.peakPa / m.peakPa - 1)
      const moved = Math.hypot(...c.peakPositionM.map((v, i) => v - m.peakPositionM[i]!))
      // The acceptance criterion is the peak's movement; the amplitude change is reported with
      // it (at 1 mm the grid has only 3 points per wavelength).
      rows.push({
        check: 'BM1 1 mm -> 0.5 mm: peak moves',
        measured: `${(moved * 1e3).toFixed(3)} mm`,
        reference: 'converged',
        tolerance: '0.5 mm',
        pass: moved < 0.0005,
      })
      info.push(
        `BM1 peak amplitude: ${(c.peakPa / 1e3).toFixed(1)} kPa at 1 mm, ${(m.peakPa / 1e3).toFixed(1)} kPa at 0.5 mm (change ${(change * 100).toFixed(2)} %; O'Neil ${(peakRef.amplitude / 1e3).toFixed(1)} kPa)`,
      )
    }
  }

  if (!only || only === 'layers') {
    for (const y of [2, 1.5]) {
      const dx = 0.000125
      const common = (objects: unknown[]) => ({
        frequency_hz: 500000,
        grid: { spacing_m: dx, min_m: [0, 0, 0], max_m: [0.06, 3 * dx, 3 * dx] },
        background: { sound_speed: 1500, density: 1000, alpha_db_cm: 0, alpha_power: y },
        objects,
        source: { type: 'plane', axis: 0, position_m: 0.01, amplitude_pa: 60000 },
        solver: { pml_points: [20, 0, 0] },
      })
      const water = await run(common([]), selected.factory, `water y=${y}`)
      const layer = await run(
        common([{ shape: 'slab', axis: 0, from_m: 0.03, to_m: 0.0365, material: { sound_speed: 2800, density: 1850, alpha_db_cm: 4 } }]),
        selected.factory,
        `layer y=${y}`,
      )
      const probe = Math.round(0.05 / dx)
      const t = layerTransmission({
        frequencyHz: 5e5,
        incident: { c: 1500, rho: 1000 },
        layers: [{ c: 2800, rho: 1850, alphaNpM: dbPerCmToNpPerM(4), thicknessM: 0.0065 }],
        transmitted: { c: 1500, rho: 1000 },
      })
      const ratio = layer.result.amplitudePa[probe]! / water.result.amplitudePa[probe]!
      const wrap = (a: number) => Math.atan2(Math.sin(a), Math.cos(a))
      const dphi = (wrap(layer.result.phaseRad[probe]! - water.result.phaseRad[probe]! - t.tPhaseRelativeRad) * 180) / Math.PI
      rows.push({
        check: `layer 6.5 mm, 4 dB/cm, y = ${y}: |T|`,
        measured: ratio.toFixed(4),
        reference: t.tAmplitude.toFixed(4),
        tolerance: '2 %',
        pass: Math.abs(ratio / t.tAmplitude - 1) < 0.02,
      })
      rows.push({
        check: `layer 6.5 mm, 4 dB/cm, y = ${y}: phase error`,
        measured: `${dphi.toFixed(2)} deg`,
        reference: `${((t.tPhaseRelativeRad * 180) / Math.PI).toFixed(1)} deg`,
        tolerance: '3 deg',
        pass: Math.abs(dphi) < 3,
      })
    }
  }

  console.log('| check | measured | reference | tolerance | result |')
  console.log('|---|---|---|---|---|')
  for (const r of rows) console.log(`| ${r.check} | ${r.measured} | ${r.reference} | ${r.tolerance} | ${r.pass ? 'pass' : 'FAIL'} |`)
  for (const line of info) console.log(`note: ${line}`)
  const failed = rows.filter((r) => !r.pass).length
  console.log(`${rows.length - failed} passed, ${failed} failed`)
  process.exitCode = failed > 0 ? 1 : 0
}

await main()
