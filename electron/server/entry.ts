// The browser mode's entry (dist/node/server.mjs; `npm start` without Electron): the planner
// served on 127.0.0.1 and opened in the default browser.
import { runBrowserFallback } from './main.ts'

await runBrowserFallback(process.argv.slice(2))
