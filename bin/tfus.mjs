#!/usr/bin/env node
// `tfus`: runs the built CLI (dist/node/cli.mjs, plain JavaScript). In a checkout the build is
// made by `npm install` (the `prepare` script) and remade here when a source is newer, so that
// `npx tfus` always runs the code beside it; an installed build has no sources and runs as is.
import { existsSync } from 'node:fs'

const builder = new URL('../scripts/build.mjs', import.meta.url)
if (existsSync(builder)) {
  const { isStale, build } = await import(builder.href)
  if (isStale()) await build({ log: () => {} })
}
await import('../dist/node/cli.mjs')
