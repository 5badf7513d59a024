#!/usr/bin/env node
// Runs the TypeScript CLI directly (no build step): tsx registers its loader for this process,
// and the .wgsl hook makes shader files importable as text.
import { register as registerHook } from 'node:module'
import { register } from 'tsx/esm/api'

registerHook('../electron/node/wgsl-loader.mjs', import.meta.url)
register()
const { main } = await import('../electron/cli/main.ts')
process.exitCode = await main(process.argv.slice(2))
