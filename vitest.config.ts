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

export default defineConfig({
  plugins: [wgslAsText],
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/helpers/build-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
})
