/**
 * Drive level from a console setting: planners set the device the way its console does, and a
 * per-unit calibration in the transducer file (hydrophone or radiation-force measurement) maps
 * that setting to the solver's source amplitude. The plan records the setting, the factor and
 * where the calibration came from, so the report can state the console setting.
 */
import type { TransducerDefinition } from '../transducers/schema.ts'
import { amplitudeFromSetting } from '../transducers/library.ts'
import type { PlanRecord } from '../contracts/plan.ts'
import type { DriveLevel } from './run-plan.ts'

/** plan.json `drive` for a drive level asked for in the app's terms, with the source pressure it gave. */
export function driveRecordOf(drive: DriveLevel, sourceAmplitudePa: number): PlanRecord['drive'] {
  return drive.kind === 'source'
    ? { kind: 'source', amplitude_pa: drive.amplitudePa, source_amplitude_pa: sourceAmplitudePa }
    : { kind: drive.kind, isppa_w_m2: drive.wPerM2, source_amplitude_pa: sourceAmplitudePa }
}

export function driveFromDeviceSetting(def: TransducerDefinition, setting: number, definitionFile: string): { drive: DriveLevel; record: PlanRecord['drive'] } {
  const amplitudePa = amplitudeFromSetting(def, setting)
  const cal = def.calibration!
  const provenance = [cal.serial && `unit ${cal.serial}`, cal.date && `calibrated ${cal.date}`, cal.method, `${cal.law} law`, definitionFile]
    .filter(Boolean)
    .join(', ')
  return {
    drive: { kind: 'source', amplitudePa },
    record: {
      kind: 'device-setting',
      setting,
      setting_unit: cal.setting_unit,
      pa_per_unit: cal.pa_per_setting_unit,
      calibration_source: provenance,
      source_amplitude_pa: amplitudePa,
    },
  }
}
