/**
 * Console setting -> source amplitude through a unit's calibration, and what the plan records.
 * Expected values are worked by hand from the calibration laws (linear: a = k s; square root for
 * power-like settings: a = k sqrt(s), since intensity goes as pressure squared).
 */
import { describe, it, expect } from 'vitest'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { transducerSchema } from '../../../core/transducers/schema.ts'
import { driveFromDeviceSetting } from '../../../core/planning/drive.ts'
import { driveRecord } from '../../../core/contracts/plan.ts'
import { cli } from '../../helpers/cli.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const bowlJson = JSON.parse(readFileSync(path.join(ROOT, 'resources/transducers/itrusst-bm-bowl.json'), 'utf8'))

function calibrated(law: 'linear' | 'sqrt', factor: number) {
  return transducerSchema.parse({
    ...bowlJson,
    calibration: {
      setting_unit: law === 'linear' ? 'V (peak drive voltage)' : 'W (electrical power)',
      pa_per_setting_unit: factor,
      law,
      serial: 'SN-42',
      date: '2026-01-15',
      method: 'hydrophone scan',
    },
    sources: [...bowlJson.sources, { fields: ['calibration'], citation: 'test fixture' }],
  })
}

describe('drive level from a console setting', () => {
  it('linear law: 45 V at 1.2 kPa/V is 54 kPa, recorded with the calibration it came from', () => {
    const { drive, record } = driveFromDeviceSetting(calibrated('linear', 1200), 45, 'user/bowl.json')
    expect(drive).toEqual({ kind: 'source', amplitudePa: 54000 })
    expect(record).toMatchObject({ kind: 'device-setting', setting: 45, setting_unit: 'V (peak drive voltage)', pa_per_unit: 1200, source_amplitude_pa: 54000 })
    expect(record.kind === 'device-setting' && record.calibration_source).toMatch(/unit SN-42.*2026-01-15.*hydrophone scan.*linear law.*user\/bowl\.json/)
  })

  it('square-root law: 16 W at 10 kPa/sqrt(W) is 40 kPa', () => {
    const { drive } = driveFromDeviceSetting(calibrated('sqrt', 10000), 16, 'f.json')
    expect(drive).toEqual({ kind: 'source', amplitudePa: 40000 })
  })

  it('the record passes the plan contract', () => {
    const { record } = driveFromDeviceSetting(calibrated('linear', 1000), 30, 'f.json')
    expect(driveRecord.parse(record)).toEqual(record)
  })

  it('a transducer without calibration is refused before any work, naming the field', async () => {
    const r = await cli([
      'plan',
      '--ct',
      'does-not-matter.nii.gz',
      '--target',
      '30,-18,13.5',
      '--transducer',
      'itrusst-bm-bowl',
      '--device-setting',
      '45',
      '--out',
      '/tmp/never-written',
    ])
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/calibration.*itrusst-bm-bowl has no calibration/)
  })
})
