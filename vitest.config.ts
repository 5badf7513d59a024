import { readFileSync } from 'node:fs'
import { defineConfig, type Plugin } from 'vitest/config'

/** Shader files import as their text, as in the hosts (see electron/adapters/wgsl-loader.mjs). */
const wgslAsText: Plugin = {
  name: 'wgsl-as-text',
  load(id) {
    if (id.endsWith('.wgsl')) return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`
    return null
  },
}

/**
 * The two projects are two folders. tests/integration/ (and the browser tests in tests/e2e/):
 * tests that start processes (the built CLI, the database kill test, Python training, the GPU
 * kit), drive external tools (elastix, dciodvfy/DCMTK, Dawn on SwiftShader, Chromium), or run the
 * solvers on real grids. tests/unit/: in-process and fast (94 s of test time summed over its 72
 * files in the last CI run), the default for developers (`npm run test:unit`). A test goes in the
 * folder of the kind it is, under the same subfolder as the code it tests.
 */
const UNIT_TESTS = ['tests/unit/**/*.test.ts']
const INTEGRATION_TESTS = ['tests/integration/**/*.test.ts', 'tests/e2e/**/*.test.ts']

export default defineConfig({
  plugins: [wgslAsText],
  test: {
    globalSetup: ['tests/helpers/build-setup.ts'],
    pool: 'forks',
    projects: [
      {
        extends: true,
        // Fast by rule: the slowest unit test took 8 s in the last CI run and 37 s on this 2-core
        // machine at a load average of 14; 2 minutes is a broken test, not a busy machine.
        test: {
          name: 'unit',
          include: UNIT_TESTS,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: { name: 'integration', include: INTEGRATION_TESTS, testTimeout: 300_000, hookTimeout: 300_000 },
      },
    ],
  },
})
