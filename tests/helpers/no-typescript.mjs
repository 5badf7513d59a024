// `node --import ./tests/helpers/no-typescript.mjs ...`: makes loading TypeScript or tsx fail in
// this process and its worker threads (they inherit --import through execArgv), to show that
// the built application runs plain JavaScript only.
import { register } from 'node:module'

register(
  `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context)
  if (/\\.(ts|mts|cts)$/.test(r.url) || r.url.includes('/node_modules/tsx/')) throw new Error('TypeScript at run time: ' + r.url)
  return r
}`)}`,
)
