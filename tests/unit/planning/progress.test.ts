/** One overall progress figure across a plan run's stages (core/planning/progress.ts). */
import { describe, expect, test } from 'vitest'
import { formatDuration, OverallProgress, stageWeights } from '../../../core/planning/progress.ts'

describe('overall progress of a plan run', () => {
  test('it runs from 0 to 1 across the stages, never backwards, the thermal model included when there is one', () => {
    const withThermal = stageWeights({ thermal: true, mri: false, registers: false })
    expect(withThermal.map((w) => w.stage)).toEqual([
      'reading the CT',
      'segmenting the head',
      'placing the transducer',
      'simulating in the head',
      'simulating in free water',
      'resampling onto the CT',
      'writing the plan folder',
      'thermal model',
    ])
    const p = new OverallProgress(withThermal)
    const seen: number[] = []
    let t = 0
    const feed = (stage: string, fraction?: number) => seen.push(p.update(stage, fraction, (t += 1)).fraction)
    feed('reading the CT')
    feed('segmenting the head')
    for (let f = 0; f <= 1; f += 0.25) feed('simulating in the head', f)
    const afterHead = seen.at(-1)!
    // A stage the table does not know (a log-like stage name) keeps the figure where it was.
    feed('an unexpected stage')
    expect(seen.at(-1)).toBe(afterHead)
    for (let f = 0; f <= 1; f += 0.5) feed('simulating in free water', f)
    // Focus correction and other re-reports of an earlier stage never move the bar back.
    feed('simulating in the head', 0.1)
    feed('writing the plan folder', 1)
    feed('thermal model', 1)
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!)
    expect(seen.at(-1)).toBe(1)
    // Halfway through the head simulation of a thermal plan is well under half the run.
    const q = new OverallProgress(withThermal)
    expect(q.update('simulating in the head', 0.5, 10).fraction).toBeCloseTo((1 + 2 + 1 + 22.5) / 118, 9)
  })

  test('the time left follows the rate so far, and is not guessed before 5 % of the run', () => {
    const p = new OverallProgress(stageWeights({ thermal: false, mri: false, registers: false }))
    expect(p.update('reading the CT', 1, 2).etaS).toBeUndefined()
    const half = p.update('simulating in free water', 10 / 35, 60) // (1 + 2 + 1 + 45 + 10) / 88 done
    expect(half.fraction).toBeCloseTo(59 / 88, 9)
    expect(half.etaS).toBeCloseTo((60 * (1 - 59 / 88)) / (59 / 88), 9)
  })

  test('the time left reads as seconds, then minutes and seconds; unknown is empty', () => {
    expect([
      formatDuration(0.2),
      formatDuration(42),
      formatDuration(59.5),
      formatDuration(185),
      formatDuration(179.4),
      formatDuration(undefined),
      formatDuration(Infinity),
    ]).toEqual(['1 s', '42 s', '1 min 0 s', '3 min 5 s', '3 min 0 s', '', ''])
  })
})
