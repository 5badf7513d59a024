// The CLI's entry (dist/node/cli.mjs; bin/tfus.mjs imports it): runs `tfus` on this process's
// arguments and leaves the exit code for Node to use when the work is done.
import { main } from './main.ts'

process.exitCode = await main(process.argv.slice(2))
