/**
 * Stage 1, resolve: the device (transducer, focal range, drive) and every other input of a plan
 * besides the images, checked before any image is read and anything is computed or written (well
 * under a second). A bad one is one SimulationInputError naming the flag or file.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { readTextInput } from '../../adapters/input-file.ts'
import { loadThermalProtocolFile } from '../../adapters/thermal-protocols.ts'
import { hostMemoryBudget } from '../../adapters/host-memory.ts'
import { loadTransducerLibrary, type LoadedTransducer } from '../../adapters/transducers.ts'
import { namingProtocolFile } from '../thermal-plan.ts'
import { checkPlanPointsPerWavelength } from '../../../core/solver/limits.ts'
import { checkPlanGrid, planGrid } from '../../../core/planning/domain.ts'
import { checkProtocolForGrid } from '../../../core/thermal/run.ts'
import type { ThermalProtocolRecord } from '../../../core/contracts/thermal-protocol.ts'
import type { DriveLevel, PlanDevice } from '../../../core/planning/run-plan.ts'
import { driveFromDeviceSetting } from '../../../core/planning/drive.ts'
import { planDevice } from '../../../core/planning/device.ts'
import { isHuMappingId, HU_MAPPING_IDS } from '../../../core/skull/mappings.ts'
import { BRAIN } from '../../../core/skull/tissues.ts'
import { SimulationInputError } from '../../../core/solver/errors.ts'
import { RigidTransformError, rigidFromTransformFile, withConvention } from '../../../core/registration/rigid.ts'
import { checkPlanOutDir } from './write.ts'
import type { DriveInput, PlanInput } from './types.ts'

export interface DeviceRequest {
  readonly transducerId: string
  readonly maxStandoffM?: number
}

export interface ResolvedDevice {
  /** The transducer definition and the file it came from. */
  readonly entryDef: LoadedTransducer
  readonly device: PlanDevice
}

/**
 * The transducer of the library by id, as the planner's device. `field` is what an unknown id is
 * reported against (the CLI's flag, the API's parameter); library warnings go to `note`.
 */
export async function resolveDevice(
  request: DeviceRequest,
  options: { readonly note?: (line: string) => void; readonly field?: string } = {},
): Promise<ResolvedDevice> {
  const field = options.field ?? '--transducer'
  const library = await loadTransducerLibrary()
  const entryDef = library.transducers.find((t) => t.definition.id === request.transducerId)
  if (!entryDef) {
    // A file of that name that was refused says why, in one line (not "unknown" plus a warning).
    const refused = library.warnings.find((w) =>
      [library.userDir, library.builtinDir].some((dir) => w.startsWith(`${path.join(dir, `${request.transducerId}.json`)}:`)),
    )
    if (refused) throw new SimulationInputError(field, `"${request.transducerId}" cannot be used: ${refused}`)
    throw new SimulationInputError(
      field,
      `unknown transducer "${request.transducerId}"; available: ${library.transducers.map((t) => t.definition.id).join(', ')}`,
    )
  }
  for (const w of library.warnings) options.note?.(`warning: ${w}`)
  const device = planDevice(entryDef.definition, request.maxStandoffM ? { maxStandoffM: request.maxStandoffM } : {})
  return { entryDef, device }
}

/** The drive level a request asks for; a console setting goes through the device's calibration. */
export function resolveDrive(
  entryDef: LoadedTransducer,
  drive: DriveInput,
): { drive: DriveLevel; driveRecord: ReturnType<typeof driveFromDeviceSetting>['record'] | undefined } {
  if (drive.kind !== 'device-setting') return { drive, driveRecord: undefined }
  const resolved = driveFromDeviceSetting(entryDef.definition, drive.setting, entryDef.file)
  return { drive: resolved.drive, driveRecord: resolved.record }
}

export interface PlanSetup extends ResolvedDevice {
  readonly drive: DriveLevel
  readonly driveRecord: ReturnType<typeof driveFromDeviceSetting>['record'] | undefined
  /** The MRI -> CT RAS matrix of `registrationPath`, when one was given. */
  readonly mriToCtRas: number[] | undefined
  readonly thermalProtocol: ThermalProtocolRecord | undefined
}

/** The MRI -> CT RAS matrix of a `tfus register` transform file; any fault is one line naming the file. */
async function loadRegistrationFile(file: string): Promise<number[]> {
  const text = await readTextInput(file, 'registration file')
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    throw new SimulationInputError('--registration', `${file} is not valid JSON (${e instanceof Error ? e.message : String(e)})`)
  }
  try {
    return [...withConvention(rigidFromTransformFile(doc, { from: 'MRI', to: 'CT' }), 'RAS').matrix]
  } catch (e) {
    if (e instanceof RigidTransformError) throw new SimulationInputError('--registration', `${file}: ${e.message}`)
    throw e
  }
}

/** The shallowest focus the device can have from its apex [m]: the plan grid reaches at least past it. */
function shallowestFocusFromApexM(device: PlanDevice): number {
  return device.focalRangeM ? device.exitPlaneOffsetM + device.focalRangeM[0] : device.rocM
}

/**
 * Every input besides the images, in this order: the output folder, the mapping, the resolution,
 * the transducer and drive, the grid the resolution makes (cells and this machine's memory), the
 * MRI's path, the registration file and the thermal protocol (its caps, and its length on the
 * thermal grid).
 */
export async function resolvePlanSetup(input: PlanInput, note: (line: string) => void = () => {}): Promise<PlanSetup> {
  await checkPlanOutDir(input.outDir)
  if (!isHuMappingId(input.mappingId))
    throw new SimulationInputError('--mapping', `unknown mapping "${input.mappingId}"; choose one of ${HU_MAPPING_IDS.join(', ')}`)
  checkPlanPointsPerWavelength(input.pointsPerWavelength, '--ppw')
  const { entryDef, device } = await resolveDevice(input, { note })
  const { drive, driveRecord } = resolveDrive(entryDef, input.drive)
  // The smallest grid this device and resolution can make (the focus is at least this deep):
  // a grid that cannot fit is refused now, not after the CT is read and segmented.
  const grid = planGrid({
    frequencyHz: device.frequencyHz,
    pointsPerWavelength: input.pointsPerWavelength,
    apertureM: device.apertureM,
    depthFromApexM: shallowestFocusFromApexM(device),
  })
  checkPlanGrid(grid, input.pointsPerWavelength, input.engine?.kind === 'surrogate' ? undefined : hostMemoryBudget())
  if (input.mriPath) {
    const st = await fs.stat(input.mriPath).catch(() => undefined)
    if (!st) throw new SimulationInputError('--mri', `${input.mriPath}: no such file or folder`)
  }
  const mriToCtRas = input.registrationPath ? await loadRegistrationFile(input.registrationPath) : undefined
  let thermalProtocol: ThermalProtocolRecord | undefined
  if (input.thermalProtocolFile) {
    const file = input.thermalProtocolFile
    thermalProtocol = await loadThermalProtocolFile(file)
    await namingProtocolFile(file, async () => checkProtocolForGrid(thermalProtocol!, grid.spacingM, BRAIN.density))
  }
  return { entryDef, device, drive, driveRecord, mriToCtRas, thermalProtocol }
}
