/**
 * The application's version, read from package.json (the one place it is written), and the
 * software names the plan files and exports carry.
 */
import { createRequire } from 'node:module'

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string }

export const APP_VERSION: string = pkg.version
/** As written into plan.json and thermal.json (`software`). */
export const SOFTWARE_VERSION = `tfus-planner ${APP_VERSION}`
/** As written into exports (DICOM SoftwareVersions, report footers, navigation files). */
export const EXPORT_SOFTWARE = `TFUS Planner ${APP_VERSION}`
