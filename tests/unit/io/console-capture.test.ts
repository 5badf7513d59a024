/**
 * Issue 13: quietly() (volume-io.ts) swapped the global console per call, so concurrent reads
 * restored each other's capture and left console.error captured: `tfus thermal` printed nothing
 * and exited 0. Captures now nest: the console is restored when the last one ends, and output
 * from outside a capture is never swallowed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { quietly, readVolume } from '../../../electron/adapters/volume-io.ts'

const CT = path.resolve(import.meta.dirname, '../../../resources/samples/cranium-ct.nii.gz')
type Method = 'log' | 'error' | 'warn' | 'info'
const METHODS: Method[] = ['log', 'error', 'warn', 'info']

let saved: Record<Method, (...args: unknown[]) => void>
let printed: string[]
let recorders: Record<Method, (...args: unknown[]) => void>
beforeEach(() => {
  saved = { log: console.log, error: console.error, warn: console.warn, info: console.info }
  printed = []
  recorders = Object.fromEntries(METHODS.map((m) => [m, (...args: unknown[]) => void printed.push(`${m}: ${args.map(String).join(' ')}`)])) as typeof recorders
  Object.assign(console, recorders)
})
afterEach(() => {
  Object.assign(console, saved)
})

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('quietly', () => {
  it('nested and interleaved captures keep their own lines; outside lines pass through; the console comes back', async () => {
    let open!: () => void
    const gate = new Promise<void>((resolve) => (open = resolve))
    const a = quietly(async () => {
      console.log('a1')
      await gate
      console.error('a2')
      return 'A'
    })
    const b = quietly(async () => {
      console.warn('b1')
      await tick()
      console.info('b2')
      throw new Error('b failed')
    })
    // Printed while both captures are open, from outside either.
    console.error('outside 1')
    await b
    console.log('outside 2')
    open()
    const [ra, rb] = await Promise.all([a, b])
    expect(ra).toEqual({ value: 'A', log: ['a1', 'a2'] })
    expect(rb.log).toEqual(['b1', 'b2'])
    expect(String(rb.error)).toMatch(/b failed/)
    expect(printed).toEqual(['error: outside 1', 'log: outside 2'])
    for (const m of METHODS) expect(console[m], m).toBe(recorders[m])
  })

  it('a line printed later by a callback a finished capture left behind is not swallowed', async () => {
    let late!: () => void
    const lateDone = new Promise<void>((resolve) => (late = resolve))
    const hold = quietly(() => new Promise<void>((resolve) => setTimeout(resolve, 30)))
    const first = await quietly(async () => {
      setTimeout(() => {
        console.warn('late line')
        late()
      }, 5)
      return 1
    })
    // The capture above has ended but another is still open: the late line passes through.
    await lateDone
    await hold
    expect(first).toEqual({ value: 1, log: [] })
    expect(printed).toEqual(['warn: late line'])
    for (const m of METHODS) expect(console[m], m).toBe(recorders[m])
  })

  it('8 concurrent reads of the sample CT, with printing from outside meanwhile', async () => {
    let printing = true
    let n = 0
    const printer = (async () => {
      while (printing) {
        console.error(`verdict ${n++}`)
        await tick()
      }
    })()
    const volumes = await Promise.all(Array.from({ length: 8 }, () => readVolume(CT, { modality: 'CT' })))
    printing = false
    await printer
    for (const v of volumes) expect([...v.dims]).toEqual([256, 256, 108])
    for (const m of METHODS) expect(console[m], m).toBe(recorders[m])
    // Every outside line arrived, in order, and nothing from inside the captures leaked.
    expect(n).toBeGreaterThan(8)
    expect(printed).toEqual(Array.from({ length: n }, (_, i) => `error: verdict ${i}`))
    console.error('after')
    expect(printed.at(-1)).toBe('error: after')
  })

  it('a failed decode keeps its reason (ITK printed it) while concurrent with successful reads', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-console-'))
    try {
      const cut = path.join(dir, 'cut.mha')
      const header = 'ObjectType = Image\nNDims = 3\nDimSize = 8 8 8\nElementType = MET_SHORT\nElementSpacing = 1 1 1\nElementDataFile = LOCAL\n'
      await fs.writeFile(cut, new Uint8Array([...new TextEncoder().encode(header), ...new Uint8Array(8 * 8 * 8 * 2 - 100)]))
      const results = await Promise.allSettled([readVolume(CT, { modality: 'CT' }), readVolume(cut), readVolume(CT, { modality: 'CT' })])
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
      expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/cut\.mha.*(data not read completely|could not be decoded)/)
      for (const m of METHODS) expect(console[m], m).toBe(recorders[m])
      expect(printed).toEqual([])
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
})
