import { readFileSync } from 'node:fs'
import { configDefaults, defineConfig, type Plugin } from 'vitest/config'

/** Shader files import as their text, as in the hosts (see electron/adapters/wgsl-loader.mjs). */
const wgslAsText: Plugin = {
  name: 'wgsl-as-text',
  load(id) {
    if (id.endsWith('.wgsl')) return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`
    return null
  },
}

/**
 * The `integration` project: tests that start processes (the built CLI, the kill test, Python
 * training, the GPU kit), drive external tools (elastix, dciodvfy/DCMTK, Dawn on SwiftShader,
 * Chromium), or run the solvers on real grids. Everything else under tests/ is `unit`: in-process
 * and fast (94 s of test time summed over its 72 files in the last CI run), the default for developers
 * (`npm run test:unit`).
 * A new test file is a unit test unless it is listed here.
 */
export const INTEGRATION_TESTS = [
  'tests/e2e/**/*.test.ts', // Chromium through playwright-core, a coarse full plan run
  'tests/unit/planning/plan-cli.test.ts', // full `tfus plan` runs (solver, registration, thermal)
  'tests/unit/solver/bowl.test.ts', // CPU solver on BM1-like grids, about a minute each
  'tests/unit/solver/disc-annular.test.ts',
  'tests/unit/solver/plane-wave.test.ts',
  'tests/unit/solver/cli-simulate.test.ts',
  'tests/unit/solver/cpu-parallel.test.ts', // solver worker threads
  'tests/unit/solver/webgpu-parity.test.ts', // Dawn on SwiftShader
  'tests/unit/thermal/webgpu-parity.test.ts',
  'tests/unit/thermal/cli-verdict.test.ts', // spawns bin/tfus.mjs
  'tests/unit/surrogate/predict-cli.test.ts',
  'tests/unit/app/built-runtime.test.ts',
  'tests/unit/io/samples.test.ts',
  'tests/unit/gpu-kit.test.ts', // builds the GPU kit and runs it in child processes
  'tests/unit/db/kill.test.ts', // kills a writing process
  'tests/unit/surrogate/training.test.ts', // PyTorch (python3-torch)
  'tests/unit/registration/register.test.ts', // elastix
  'tests/unit/app/service-registration.test.ts',
  'tests/unit/app/service-memory.test.ts', // resident-size measurement over 60 opens
  'tests/unit/exports/dicom-validate.test.ts', // dciodvfy, dcentvfy, DCMTK
  'tests/unit/campaign/local.test.ts', // campaign runner processes, SIGKILL and Ctrl-C
  'tests/unit/campaign/slurm.test.ts', // a real single-node Slurm cluster (slurm-wlm, munge)
  'tests/unit/app/campaign-service.test.ts', // two tiny campaign tasks through the solver (about a minute)
]

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
          include: ['tests/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...INTEGRATION_TESTS],
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
