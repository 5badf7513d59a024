/**
 * Campaign files, their expansion and the Slurm text (core/campaign): pure, no solve.
 */
import { describe, it, expect } from 'vitest'
import { parseCampaignFile } from '../../../core/campaign/campaign-file.ts'
import { expandCampaign, indexRanges } from '../../../core/campaign/expand.ts'
import { arrayIndices, parseSacct, parseSqueue, sbatchScript } from '../../../core/campaign/slurm.ts'
import { campaignNote, parseCampaignNote, summaryCsv } from '../../../core/campaign/summary.ts'

const plans = {
  name: 'c1',
  kind: 'plans',
  subjects: [
    {
      id: 's1',
      ct: 'a/ct.nii.gz',
      targets: [
        { id: 't1', ras_mm: [1, 2, 3], entries: ['proposed', [4, 5, 6]] },
        { id: 't2', ras_mm: [7, 8, 9] },
      ],
    },
    { id: 's2', ct: '/abs/ct2.nii.gz', mri: 'mri.nii.gz', targets: [{ id: 't1', ras_mm: [0, 0, 0], space: 'mri' }] },
  ],
  transducers: ['a', 'b'],
  drives: [{ isppa_free_water_w_cm2: 10 }, { source_amplitude_kpa: 60 }],
  ppw: [2, 6],
}
const resolve = (p: string) => (p.startsWith('/') ? p : `/base/${p}`)

describe('campaign file', () => {
  it('names the field of a malformed file', () => {
    const bad = (json: unknown) => {
      try {
        parseCampaignFile(json, 'c.json')
      } catch (e) {
        return (e as Error).message
      }
      return 'accepted'
    }
    expect(bad({ ...plans, transducer: ['a'] })).toMatch(/^c\.json: \(top level\): .*transducer/)
    expect(bad({ ...plans, ppw: [-1] })).toMatch(/^c\.json: ppw\.0: /)
    expect(bad({ ...plans, subjects: [{ ...plans.subjects[0], targets: [{ id: 't', ras_mm: [1, 2] }] }] })).toMatch(/^c\.json: subjects\.0\.targets\.0\.ras_mm/)
    expect(bad({ ...plans, subjects: [{ id: 's', ct: 'x', targets: [{ id: 't', ras_mm: [1, 2, 3], space: 'mri' }] }] })).toMatch(
      /^c\.json: subjects\.0\.targets\.0\.space: .*needs the subject's "mri"/,
    )
    expect(bad({ ...plans, drives: [{ isppa_free_water_w_cm2: 10, source_amplitude_kpa: 60 }] })).toMatch(/^c\.json: drives\.0/)
    expect(bad({ ...plans, kind: 'sweep' })).toMatch(/^c\.json: kind: /)
    expect(bad({ ...plans, subjects: [plans.subjects[0], plans.subjects[0]] })).toMatch(/^c\.json: subjects\.1\.id: "s1" is used twice/)
    expect(bad({ ...plans, name: 'has space' })).toMatch(/^c\.json: name: /)
  })

  it('expands in file order with stable ids, and the same file gives the same tasks', () => {
    const c = parseCampaignFile(plans, 'c.json')
    const tasks = expandCampaign(c, resolve)
    // (2 entries of t1 + 1 of t2 + 1 of s2/t1) x 2 transducers x 2 drives x 1 mapping x 2 ppw
    expect(tasks).toHaveLength(4 * 2 * 2 * 2)
    expect(tasks.map((t) => t.index)).toEqual(tasks.map((_, i) => i))
    expect(tasks[0]!.label).toBe('s1/t1/proposed/a/isppa-fw-10/kplan/ppw2')
    expect(tasks[1]!.label).toBe('s1/t1/proposed/a/isppa-fw-10/kplan/ppw6')
    expect(tasks[8]!.label).toBe('s1/t1/entry1/a/isppa-fw-10/kplan/ppw2')
    expect(tasks[0]!.source).toMatchObject({ kind: 'subject', ct: '/base/a/ct.nii.gz', entry_ras_mm: null })
    expect(tasks.at(-1)!.source).toMatchObject({ ct: '/abs/ct2.nii.gz', mri: '/base/mri.nii.gz', space: 'mri' })
    expect(new Set(tasks.map((t) => t.id)).size).toBe(tasks.length)
    const again = expandCampaign(parseCampaignFile(JSON.parse(JSON.stringify(plans)), 'c.json'), resolve)
    expect(again.map((t) => t.id)).toEqual(tasks.map((t) => t.id))
    // A task's id is its inputs', not its position's: dropping the first subject keeps s2's ids.
    const fewer = expandCampaign(parseCampaignFile({ ...plans, subjects: [plans.subjects[1]] }, 'c.json'), resolve)
    expect(fewer.map((t) => t.id)).toEqual(tasks.slice(24).map((t) => t.id))
  })

  it('expands a scene sweep into heads x placements', () => {
    const c = parseCampaignFile(
      { name: 'sw', kind: 'scene-sweep', scene_sweep: { head_seeds: [1000, 1001], placements_per_head: 3, spacing_mm: 2 }, transducers: ['a'] },
      's.json',
    )
    const tasks = expandCampaign(c, resolve)
    expect(tasks.map((t) => t.label)).toEqual(
      [0, 1, 2].map((p) => `head1000/placement${p}/a/source-60kpa/kplan/ppw6`).concat([0, 1, 2].map((p) => `head1001/placement${p}/a/source-60kpa/kplan/ppw6`)),
    )
    expect(tasks[4]!.source).toEqual({ kind: 'procedural-head', head_seed: 1001, placement: 1, placement_seed: 1, spacing_mm: 2 })
  })
})

describe('Slurm text', () => {
  it('compacts array indices', () => {
    expect(indexRanges([5, 0, 1, 2, 7, 8, 2])).toBe('0-2,5,7-8')
    expect(indexRanges([3])).toBe('3')
    expect(arrayIndices('12_[4-6,9%2]')).toEqual({ job: '12', indices: [4, 5, 6, 9] })
    expect(arrayIndices('12_3')).toEqual({ job: '12', indices: [3] })
  })

  it('writes a readable sbatch script that runs one task per array index', () => {
    const s = sbatchScript({
      jobName: 'tfus-c1-abc',
      node: '/usr/bin/node',
      tfus: "/opt/tfus's/bin/tfus.mjs",
      campaignDir: '/shared/c1',
      logDir: '/shared/c1/slurm/logs',
      partition: 'gpu',
      gres: 'gpu:1',
      time: '01:00:00',
      mem: '16G',
    })
    expect(s.split('\n')[0]).toBe('#!/bin/bash')
    for (const d of ['--job-name=tfus-c1-abc', '--partition=gpu', '--gres=gpu:1', '--time=01:00:00', '--mem=16G', '--output=/shared/c1/slurm/logs/%A_%a.out'])
      expect(s).toContain(`#SBATCH ${d}`)
    expect(s).toContain(`exec '/usr/bin/node' '/opt/tfus'\\''s/bin/tfus.mjs' campaign run-task '/shared/c1' --index "$SLURM_ARRAY_TASK_ID"`)
    expect(sbatchScript({ jobName: 'j', node: 'n', tfus: 't', campaignDir: 'd', logDir: 'l' })).not.toMatch(/--partition|--gres|--mem|--time/)
  })

  it('reads squeue and sacct', () => {
    const q = parseSqueue('41_[3-5%2] PENDING\n41_1 RUNNING\n41_2 COMPLETING\n')
    expect([...q.entries()].map(([i, s]) => `${i}:${s.state}`).sort()).toEqual(['1:running', '2:running', '3:pending', '4:pending', '5:pending'])
    const a = parseSacct('41_0|COMPLETED|0:0\n41_1|CANCELLED by 0|0:15\n41_2|FAILED|3:0\n42_1|COMPLETED|0:0\n41_3|TIMEOUT|0:0\n')
    expect(a.get(0)).toEqual({ job: '41', state: 'completed', exitCode: '0:0' })
    // The resubmission (job 42) is the latest word on task 1.
    expect(a.get(1)).toEqual({ job: '42', state: 'completed', exitCode: '0:0' })
    expect(a.get(2)!.state).toBe('failed')
    expect(a.get(3)!.state).toBe('timeout')
  })
})

describe('summary', () => {
  it('quotes CSV fields and round-trips the campaign note', () => {
    const csv = summaryCsv([
      {
        index: 0,
        id: 'a'.repeat(16),
        label: 's/t',
        state: 'done',
        planId: 3,
        wallS: 12.34,
        metrics: { peak_pressure_pa: 123456, focal_shift_length_m: 0.0021, insertion_loss_db: 7.5, mi: 0.31, isppa_w_m2: 52000 },
        error: null,
      },
      { index: 1, id: 'b'.repeat(16), label: 's/u', state: 'failed', planId: null, wallS: null, metrics: null, error: 'x: "bad", really' },
    ])
    expect(csv.split('\n')[0]).toBe('index,task_id,label,state,plan_id,peak_pressure_kpa,focal_shift_mm,insertion_loss_db,mi,isppa_w_cm2,wall_s,error')
    expect(csv.split('\n')[1]).toBe(`0,${'a'.repeat(16)},s/t,done,3,123.456,2.1,7.5,0.31,5.2,12.3,`)
    expect(csv.split('\n')[2]).toBe(`1,${'b'.repeat(16)},s/u,failed,,,,,,,,"x: ""bad"", really"`)
    const note = campaignNote('c1', '0123456789abcdef', 4, 'fedcba9876543210', 'head/p0')
    expect(parseCampaignNote(note)).toEqual({ campaignId: '0123456789abcdef', taskId: 'fedcba9876543210' })
    expect(parseCampaignNote('a plan')).toBeNull()
  })
})
