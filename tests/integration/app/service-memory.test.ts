/**
 * Opening images does not grow the process without bound: the same sample CT opened 60 times
 * (13.5 MiB of voxels each) keeps the resident size within 200 MB of what it was after the first
 * open. Unbounded, the 59 further opens alone would hold about 800 MB.
 *
 * Its own file, so the measurement runs in a fresh worker process (vitest's forks pool).
 */
import { afterAll, expect, test } from 'vitest'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as v8 from 'node:v8'
import * as vm from 'node:vm'
import { createPlannerService } from '../../../electron/app/service.ts'
import { DEFAULT_OPEN_IMAGE_LIMITS } from '../../../electron/app/open-images.ts'

const CT = path.resolve(import.meta.dirname, '../../../resources/samples/cranium-ct.nii.gz')
const OPENS = 60
const ALLOWED_GROWTH_BYTES = 200 * 1024 ** 2
const MiB = 1024 ** 2

// A garbage collection on demand (the worker is not started with --expose-gc).
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

/** Resident size once collectable garbage is gone and freed memory had a moment to be returned. */
async function settledRss(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((r) => setTimeout(r, 100))
  }
  return process.memoryUsage().rss
}

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfus-service-memory-'))
afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }))

test(`${OPENS} opens of the sample CT keep the process within ${ALLOWED_GROWTH_BYTES / MiB} MB of one open`, async () => {
  const service = createPlannerService({ host: 'browser', workDir, dataDir: path.join(workDir, 'data'), probeWebGpu: false })
  try {
    // The optional modules (database, exports, thermal) load in the background: before measuring.
    await service.impl.capabilities({})
    const t0 = performance.now()
    const ids: string[] = []
    const open = async () => {
      const r = await service.impl.openImage({ path: CT, role: 'ct' })
      if (r.kind !== 'image') throw new Error('expected an image')
      ids.push(r.image.volumeId)
    }
    await open()
    const afterOne = await settledRss()
    for (let i = 1; i < OPENS; i++) await open()
    const afterAll = await settledRss()
    const seconds = (performance.now() - t0) / 1000
    console.log(
      `${OPENS} opens of ${path.basename(CT)} in ${seconds.toFixed(0)} s: rss after 1 open ${(afterOne / MiB).toFixed(0)} MB, after ${OPENS} ${(afterAll / MiB).toFixed(0)} MB ` +
        `(growth ${((afterAll - afterOne) / MiB).toFixed(0)} MB, allowed ${ALLOWED_GROWTH_BYTES / MiB} MB; open-image bound ${DEFAULT_OPEN_IMAGE_LIMITS.maxCount} images / ${DEFAULT_OPEN_IMAGE_LIMITS.maxBytes / 1024 ** 3} GiB)`,
    )
    expect(afterAll - afterOne).toBeLessThan(ALLOWED_GROWTH_BYTES)
    // The bound is what kept it: the oldest images are closed, the newest is open.
    const isOpen = (volumeId: string) =>
      service.impl.getVolume({ volumeId, stride: 8 }).then(
        () => true,
        () => false,
      )
    expect(await isOpen(ids[0]!)).toBe(false)
    expect(await isOpen(ids.at(-1)!)).toBe(true)
  } finally {
    await service.dispose()
  }
})
