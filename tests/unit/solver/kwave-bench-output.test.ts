import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseGnuTimeMaxRss, parseKwaveOutput } from '../../../scripts/kwave-bench.ts'

// Captured from kspaceFirstOrder-OMP v1.3 (k-Wave 1.3's C++ code) on bench:solver's 64^3 scene,
// 76 steps, under `/usr/bin/time -v` (stdout and stderr respectively).
const kwaveOut = readFileSync(new URL('../../fixtures/kwave/kspaceFirstOrder-OMP-64cubed.txt', import.meta.url), 'utf8')
const gnuTime = readFileSync(new URL('../../fixtures/kwave/gnu-time-v.txt', import.meta.url), 'utf8')

describe("bench:solver's reading of k-Wave's output", () => {
  it("takes the simulation loop's elapsed time, not the loading, pre-processing or post-processing one", () => {
    // The file prints 0.01 s (loading), 3.14 s (FFT plans), 13.52 s (loop), 0.01 s (post-processing), 17.18 s total.
    expect(parseKwaveOutput(kwaveOut)).toEqual({ version: 'kspaceFirstOrder-OMP v1.3', steps: 76, loopS: 13.52, peakMiB: 44 })
  })

  it('refuses a run that stopped inside the loop', () => {
    const cut = kwaveOut.slice(0, kwaveOut.indexOf('├──────────┴'))
    expect(() => parseKwaveOutput(cut)).toThrow(/simulation loop's "Elapsed time".*"Peak memory in use"/)
  })

  it("reads GNU time's maximum resident set in MiB", () => {
    expect(parseGnuTimeMaxRss(gnuTime)).toBeCloseTo(45400 / 1024, 6)
    expect(parseGnuTimeMaxRss('Command exited with non-zero status 1')).toBeUndefined()
  })
})
