/**
 * The model's pieces on synthetic grids: the heat source formula, the stability limit, the
 * skull-versus-brain heating of a layered head, quadratic scaling with the drive, coupling
 * models, and the ITRUSST flags.
 */
import { describe, expect, it } from 'vitest'
import { TISSUE_LABELS } from '../../../core/contracts/plan.ts'
import { thermalProtocolRecord } from '../../../core/contracts/thermal-protocol.ts'
import { createCpuThermalBackend } from '../../../core/thermal/cpu.ts'
import { flagTissue, thermalFlagSummary } from '../../../core/thermal/flags.ts'
import { buildThermalProblem, HELD } from '../../../core/thermal/model.ts'
import { ABSORBED_FRACTIONS, PLAN_THERMAL_MATERIALS, perfusionRatePerS, THERMAL_BRAIN } from '../../../core/thermal/properties.ts'
import { runThermal } from '../../../core/thermal/run.ts'
import { syntheticLayeredHead } from '../../../core/thermal/synthetic.ts'
import { homogeneousBlock } from './helpers.ts'

const backend = createCpuThermalBackend()
/** A small layered head (water, skin, skull, brain) at 1 mm, focus in the brain. */
const head = () => syntheticLayeredHead({ dims: [25, 25, 45], skinStartM: 0.008, skullStartM: 0.011, brainStartM: 0.018, focusM: 0.032 })
/** Long duty cycle: 60 s of 50 % pulsing (50 ms at 10 Hz), then 20 s of cooling. */
const longDuty = thermalProtocolRecord.parse({
  sonications: [{ pulse_duration_s: 0.05, prf_hz: 10, train_duration_s: 60, train_interval_s: 60, trains: 1 }],
  cooling_s: 20,
})

describe('thermal model on synthetic grids', () => {
  it('the heat source is absorbed fraction x alpha p^2 / (rho c), over rho c_t', () => {
    const inputs = head()
    const problem = buildThermalProblem({
      ...inputs,
      materials: PLAN_THERMAL_MATERIALS,
      absorbedFraction: ABSORBED_FRACTIONS.babelbrain.byLabel,
      coupling: 'conducting',
    })
    const [nx, ny] = inputs.dims
    for (const k of [9, 14, 30]) {
      const v = 12 + nx * (12 + ny * k)
      const l = inputs.labels[v]!
      const q = (ABSORBED_FRACTIONS.babelbrain.byLabel[l]! * inputs.alphaNpM[v]! * inputs.pressurePa[v]! ** 2) / (inputs.density[v]! * inputs.soundSpeed[v]!)
      expect(problem.heatingRate[v]! / (q / (inputs.density[v]! * PLAN_THERMAL_MATERIALS[l]!.specificHeat)) - 1).toBeCloseTo(0, 6)
    }
    // Skull absorbs 0.16 of alpha in BabelBrain's choice, 0.28 in PRESTUS's.
    expect(ABSORBED_FRACTIONS.babelbrain.byLabel[TISSUE_LABELS.skull]).toBe(0.16)
    expect(ABSORBED_FRACTIONS.prestus.byLabel[TISSUE_LABELS.skull]).toBe(0.28)
  })

  it('the stable step is dx^2 / (6 kappa) in a homogeneous medium without perfusion, and perfusion shortens it', () => {
    const material = { name: 'm', conductivity: 0.5, specificHeat: 3600, perfusionMlPerMinKg: 0 }
    const dx = 1e-3
    const p = homogeneousBlock({ n: 6, spacingM: dx, material })
    // Float32 coefficients: equal to ~1e-7.
    expect(Math.abs(p.dtStableS / ((dx * dx) / (6 * (0.5 / (1000 * 3600)))) - 1)).toBeLessThan(1e-6)
    const perfused = homogeneousBlock({ n: 6, spacingM: dx, material: THERMAL_BRAIN })
    const kappa = THERMAL_BRAIN.conductivity / (1000 * THERMAL_BRAIN.specificHeat)
    expect(Math.abs(perfused.dtStableS * ((6 * kappa) / (dx * dx) + perfusionRatePerS(THERMAL_BRAIN)) - 1)).toBeLessThan(1e-6)
    expect(perfused.dtStableS).toBeLessThan((dx * dx) / (6 * kappa))
  })

  it('a long duty cycle heats the skull slab more than the brain behind it; the rise is quadratic in the drive', async () => {
    const inputs = head()
    const r1 = await runThermal(inputs, longDuty, backend, { hottestVoxelCourses: true })
    const skull = r1.tissues.find((t) => t.tissue === 'skull')!
    const brain = r1.tissues.find((t) => t.tissue === 'brain')!
    expect(skull.peakRiseC).toBeGreaterThan(brain.peakRiseC)
    expect(brain.peakRiseC).toBeGreaterThan(0)
    // The skull's hottest voxel is in the skull slab (k = 11..17).
    expect(skull.hottestVoxel![2]).toBeGreaterThanOrEqual(11)
    expect(skull.hottestVoxel![2]).toBeLessThanOrEqual(17)
    // The peak is at or just after the end of the sonication, and it cools afterwards.
    expect(skull.timeOfPeakS).toBeGreaterThanOrEqual(59)
    expect(skull.timeOfPeakS).toBeLessThan(63)
    expect(skull.riseAtEndC).toBeLessThan(0.8 * skull.peakRiseC)
    // The hottest voxel's course peaks at the tissue's peak, and never exceeds the tissue maximum.
    const course = r1.hottestVoxelRise!.skull
    expect(Math.max(...course)).toBeCloseTo(skull.peakRiseC, 5)
    const envelope = r1.maxOverTissue.skull
    for (let s = 0; s < course.length; s++) expect(course[s]!).toBeLessThanOrEqual(envelope[s]! + 1e-6)

    const r2 = await runThermal(inputs, longDuty, backend, { driveScale: Math.SQRT2 * 1.5, hottestVoxelCourses: false })
    for (const name of ['skin', 'skull', 'brain'] as const) {
      const a = r1.tissues.find((t) => t.tissue === name)!.peakRiseC
      const b = r2.tissues.find((t) => t.tissue === name)!.peakRiseC
      expect(b / a).toBeCloseTo(4.5, 4)
    }
    for (let v = 0; v < r1.maxRise.length; v += 97) expect(r2.maxRise[v]!).toBeCloseTo(4.5 * r1.maxRise[v]!, 5)
  })

  it('a protocol drive_scale equals the run driveScale; the bath coupling keeps water at 37 °C and cools the skin', async () => {
    const inputs = head()
    const scaled = thermalProtocolRecord.parse({ ...longDuty, sonications: [{ ...longDuty.sonications[0]!, drive_scale: 1.7 }] })
    const a = await runThermal(inputs, scaled, backend, { hottestVoxelCourses: false })
    const b = await runThermal(inputs, longDuty, backend, { driveScale: 1.7, hottestVoxelCourses: false })
    expect(a.tissues[1]!.peakRiseC).toBeCloseTo(b.tissues[1]!.peakRiseC, 9)
    const bath = await runThermal(inputs, longDuty, backend, { coupling: 'bath', hottestVoxelCourses: false })
    const problem = buildThermalProblem({
      ...inputs,
      materials: PLAN_THERMAL_MATERIALS,
      absorbedFraction: ABSORBED_FRACTIONS.prestus.byLabel,
      coupling: 'bath',
    })
    for (let v = 0; v < inputs.labels.length; v++) if (inputs.labels[v] === TISSUE_LABELS.water) expect(problem.labels[v]! & HELD).toBe(HELD)
    for (let v = 0; v < inputs.labels.length; v++) if (inputs.labels[v] === TISSUE_LABELS.water) expect(bath.maxRise[v]).toBe(0)
    expect(bath.tissues[0]!.peakRiseC).toBeLessThanOrEqual(b.tissues[0]!.peakRiseC / 1.7 ** 2 + 1e-12)
  })
})

describe('cancel', () => {
  it('an aborted run stops with an AbortError (the CLI exits 130)', async () => {
    const controller = new AbortController()
    const long = thermalProtocolRecord.parse({ sonications: [{ pulse_duration_s: 0.05, prf_hz: 10, train_duration_s: 600, train_interval_s: 600, trains: 1 }] })
    const run = runThermal(head(), long, backend, { signal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    await expect(run).rejects.toMatchObject({ name: 'AbortError' })
  })
})

describe('ITRUSST flags', () => {
  it('says which criterion decided each tissue', () => {
    expect(flagTissue('brain', 1.5, 38.5, 0.01)).toMatchObject({ within: true, criterion: 'rise' })
    expect(flagTissue('skull', 3, 40, 10)).toMatchObject({ within: true, criterion: 'cem43' })
    expect(flagTissue('skull', 3, 40, 10).text).toMatch(/criterion \(b\).*<= 16 min/)
    expect(flagTissue('brain', 3, 40, 2.5)).toMatchObject({ within: false, criterion: 'none' })
    expect(flagTissue('skin', 3, 40, 20)).toMatchObject({ within: true, criterion: 'cem43' })
    expect(flagTissue('skin', 3, 40, 22)).toMatchObject({ within: false })
    const summary = thermalFlagSummary([flagTissue('skin', 1, 38, 0), flagTissue('brain', 3, 40, 2.5)])
    expect(summary).toBe('exceeds ITRUSST limits in brain')
  })
})
