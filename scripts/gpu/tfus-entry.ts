/** The CLI as the GPU kit bundles it (scripts/gpu/build-kit.mjs): bin/tfus.mjs without tsx. */
import { main } from '../../electron/cli/main.ts'

process.exitCode = await main(process.argv.slice(2))
