/**
 * Suites that need a tool the machine may lack (Chromium, PyTorch, Dawn on SwiftShader, dicom3tools
 * and DCMTK, the Debian sample sources) skip on a developer's machine without it, saying why; CI
 * installs every one of them (.ci/run), so there a missing tool is a failure, never a quiet skip.
 */

/** CI is set and not 0/false (.ci/run sets CI=true). */
export const IN_CI = !!process.env.CI && !/^(0|false)$/i.test(process.env.CI)

/**
 * Whether to skip a suite that needs `name`: false when it is available (`missing` null or
 * undefined); otherwise a warning naming what is missing, and true, except under CI, where it
 * throws, so the test file fails to load and counts as failed.
 *
 *   describe.skipIf(requireOrSkip('Chromium', chromiumMissing))('...', () => { ... })
 */
export function requireOrSkip(name: string, missing: string | null | undefined): boolean {
  if (missing === null || missing === undefined) return false
  const line = `${name} unavailable: ${missing}`
  if (IN_CI) throw new Error(`${line} (CI installs it, so this is a failure, not a skip)`)
  console.warn(`SKIPPED: ${line}`)
  return true
}
