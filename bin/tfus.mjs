#!/usr/bin/env node
// Runs the TypeScript CLI directly (no build step): tsx registers its loader for this process.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../electron/cli/main.ts')
process.exitCode = await main(process.argv.slice(2))
