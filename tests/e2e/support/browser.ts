/**
 * Chromium for the end-to-end tests: Debian's /usr/bin/chromium (or $TFUS_CHROMIUM) driven by
 * playwright-core, WebGL on SwiftShader. Tests skip, saying why, where no browser is installed (CI fails instead).
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM_PATH = process.env.TFUS_CHROMIUM ?? '/usr/bin/chromium'
export const chromiumMissing: string | null = existsSync(CHROMIUM_PATH)
  ? null
  : `no Chromium at ${CHROMIUM_PATH} (install Debian's chromium or set TFUS_CHROMIUM)`

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu-sandbox',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-default-apps',
      '--disable-domain-reliability',
    ],
  })
}
