/**
 * The application's version, read from package.json (the one place it is written), and the
 * software names the plan files and exports carry.
 */
import { readFileSync } from 'node:fs'
import { appPath } from './app-paths.ts'

const pkg = JSON.parse(readFileSync(appPath('package.json'), 'utf8')) as { version: string }

export const APP_VERSION: string = pkg.version
/** As written into plan.json and thermal.json (`software`). */
export const SOFTWARE_VERSION = `tfus-planner ${APP_VERSION}`
/** As written into exports (DICOM SoftwareVersions, report footers, navigation files). */
export const EXPORT_SOFTWARE = `TFUS Planner ${APP_VERSION}`
