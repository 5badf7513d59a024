// Vitest global setup: the tests that run `bin/tfus.mjs` or start dist/node entries in a child
// process run the build; make it once, before any test, so they never race to rebuild it.
// @ts-expect-error scripts/build.mjs is plain JavaScript without declarations
import { build, isStale } from '../../scripts/build.mjs'

export default async function setup(): Promise<void> {
  if ((isStale as () => boolean)()) await (build as (o: { log: (l: string) => void }) => Promise<void>)({ log: () => {} })
}
