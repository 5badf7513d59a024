/**
 * `tfus campaign plan`: a malformed campaign file or a missing input is one line naming the file
 * and field (exit 2) before any task runs; a good one writes the folder and prints count and cost.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { cli } from '../../helpers/cli.ts'

const ROOT = path.resolve(import.meta.dirname, '../../..')
let dir: string
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfus-campaign-plan-'))
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

async function writeCampaign(name: string, value: unknown): Promise<string> {
  const file = path.join(dir, name)
  await fs.writeFile(file, typeof value === 'string' ? value : JSON.stringify(value))
  return file
}

const cohort = (over: Record<string, unknown> = {}) => ({
  name: 'cohort',
  kind: 'plans',
  subjects: [
    { id: 'cranium', ct: path.join(ROOT, 'resources/samples/cranium-ct.nii.gz'), targets: [{ id: 'm1', ras_mm: [30, -18, 13.5] }] },
    {
      id: 'second',
      ct: path.join(ROOT, 'resources/samples/cranium-ct.nii.gz'),
      targets: [
        { id: 'm1', ras_mm: [30, -18, 13.5] },
        { id: 'm2', ras_mm: [-30, -18, 13.5] },
      ],
    },
  ],
  transducers: ['itrusst-bm-bowl'],
  ppw: [2, 3],
  ...over,
})

describe('tfus campaign plan', () => {
  it('refuses a malformed file in one line naming the field (exit 2)', async () => {
    const cases: [unknown, RegExp][] = [
      ['{ "name": ', /bad\.json: the campaign file is not valid JSON/],
      [cohort({ ppw: ['6'] }), /bad\.json: ppw\.0: /],
      [cohort({ transducer: ['x'] }), /bad\.json: \(top level\): .*"transducer"/],
      [cohort({ transducers: ['no-such-bowl'] }), /bad\.json: transducers: unknown transducer "no-such-bowl"/],
      [cohort({ mappings: ['nope'] }), /bad\.json: mappings: unknown mapping "nope"/],
      [cohort({ ppw: [1] }), /bad\.json: ppw: /],
    ]
    for (const [value, message] of cases) {
      const r = await cli(['campaign', 'plan', await writeCampaign('bad.json', value), '--dir', path.join(dir, 'never')])
      expect(r.code, r.err).toBe(2)
      expect(r.err.split('\n')).toHaveLength(1)
      expect(r.err).toMatch(message)
    }
    await expect(fs.stat(path.join(dir, 'never'))).rejects.toThrow()
  })

  it('reads .yaml/.yml with the same checks; a YAML syntax fault names the file and line (exit 2)', async () => {
    const ct = path.join(ROOT, 'resources/samples/cranium-ct.nii.gz')
    const good = [
      'name: cohort',
      'kind: plans',
      'subjects:',
      `  - { id: cranium, ct: '${ct}', targets: [{ id: m1, ras_mm: [30, -18, 13.5] }] }`,
      'transducers: [itrusst-bm-bowl]',
    ]
    const cases: [string, string, RegExp][] = [
      ['bad.yaml', [...good, 'ppw: [2', ''].join('\n'), /bad\.yaml: line \d+: the campaign file is not valid YAML/],
      ['bad.yml', [...good, 'ppw: ["6"]'].join('\n'), /bad\.yml: ppw\.0: /],
      ['bad.yaml', [...good, 'transducer: [x]'].join('\n'), /bad\.yaml: \(top level\): .*"transducer"/],
      ['bad.yaml', [...good, 'ppw: [2]', 'ppw: [3]'].join('\n'), /bad\.yaml: line 7: the campaign file is not valid YAML \(duplicated mapping key\)/],
      ['bad.yaml', [...good, 'mappings: [nope]'].join('\n'), /bad\.yaml: mappings: unknown mapping "nope"/],
      ['bad.yaml', good.join('\n').replace('ras_mm: [30, -18, 13.5]', 'ras_mm: [30, -18]'), /bad\.yaml: subjects\.0\.targets\.0\.ras_mm: /],
    ]
    for (const [name, text, message] of cases) {
      const r = await cli(['campaign', 'plan', await writeCampaign(name, text), '--dir', path.join(dir, 'never')])
      expect(r.code, r.err).toBe(2)
      expect(r.err.split('\n')).toHaveLength(1)
      expect(r.err).toMatch(message)
    }
    await expect(fs.stat(path.join(dir, 'never'))).rejects.toThrow()
    const file = await writeCampaign('good.yml', [...good, 'ppw: [2]'].join('\n'))
    const r = await cli(['campaign', 'plan', file, '--dir', path.join(dir, 'yaml')])
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/planned: cohort \(plans\), 1 task in/)
    expect(await fs.readFile(path.join(dir, 'yaml', 'campaign-file.yaml'), 'utf8')).toBe(await fs.readFile(file, 'utf8'))
  })

  it('the YAML example expands to the same tasks as the JSON one', async () => {
    const tasks = async (file: string) => {
      const out = path.join(dir, path.basename(file).replace('.', '-'))
      const r = await cli(['campaign', 'plan', path.join(ROOT, 'resources/campaigns', file), '--dir', out])
      expect(r.code, r.err).toBe(0)
      return (JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8')) as { tasks: { id: string }[] }).tasks.map((t) => t.id)
    }
    const json = await tasks('cohort-example.json')
    expect(json.length).toBeGreaterThan(1)
    expect(await tasks('cohort-example.yaml')).toEqual(json)
  })

  // The 3-ppw sample plan took 264 s in the planner with the TypeScript kernels (docs/benchmarks.md);
  // the native kernels run the solver 4-5x faster, so the estimate at their rate lies between a
  // tenth of that and that.
  it("estimates a CPU task below the TypeScript kernels' measured time of the same plan and above a tenth of it", async () => {
    const file = await writeCampaign('cpu.json', cohort({ subjects: [cohort().subjects[0]], ppw: [3], backend: 'cpu' }))
    const r = await cli(['campaign', 'plan', file, '--dir', path.join(dir, 'cpu')])
    expect(r.code, r.err).toBe(0)
    expect(r.out).not.toMatch(/webgpu/)
    const m = /~([\d.]+) (s|min|h) on cpu per task/.exec(r.out)!
    const seconds = Number(m[1]) * { s: 1, min: 60, h: 3600 }[m[2] as 's' | 'min' | 'h']
    expect(seconds).toBeGreaterThan(264 / 10)
    expect(seconds).toBeLessThan(264)
  })

  it('reports a missing CT at plan time, naming the subject field', async () => {
    const c = cohort()
    ;(c.subjects as { ct: string }[])[1]!.ct = 'missing/ct.nii.gz'
    const r = await cli(['campaign', 'plan', await writeCampaign('missing.json', c), '--dir', path.join(dir, 'never')])
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/missing\.json: subjects\.1\.ct: .*missing\/ct\.nii\.gz: no such file or folder \(subject second\)/)
  })

  it('writes the campaign folder, prints count and cost, and re-planning the same file changes nothing', async () => {
    const file = await writeCampaign('good.json', cohort())
    const out = path.join(dir, 'good')
    const r = await cli(['campaign', 'plan', file, '--dir', out])
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/planned: cohort \(plans\), 6 tasks/)
    expect(r.out).toMatch(/3 x itrusst-bm-bowl at 2 ppw: grid \d+x\d+x\d+/)
    expect(r.out).toMatch(/3 x itrusst-bm-bowl at 3 ppw: grid \d+x\d+x\d+/)
    expect(r.out).toMatch(
      /estimated cost: [\d.]+ M cells per task on average, [\d.]+ M cells in total; solver time ~[\d.]+ (s|min|h) on webgpu, [\d.]+ (s|min|h) on cpu in total/,
    )
    expect(r.out).toMatch(
      /3 x itrusst-bm-bowl at 2 ppw: .* ~\d+ steps \(head \d+, free water \d+; at most \d+\): ~[\d.]+ (s|min|h) on webgpu, [\d.]+ (s|min|h) on cpu per task/,
    )
    expect(r.out).toMatch(/cpu 25 M cell-steps\/s: bench:solver, native kernels/)
    const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8'))
    expect(manifest.tasks).toHaveLength(6)
    expect(await fs.readFile(path.join(out, 'campaign-file.json'), 'utf8')).toBe(await fs.readFile(file, 'utf8'))
    const again = await cli(['campaign', 'plan', file, '--dir', out])
    expect(again.out).toMatch(/campaign unchanged/)
    const other = await cli(['campaign', 'plan', await writeCampaign('other.json', cohort({ ppw: [2] })), '--dir', out])
    expect(other.code).toBe(2)
    expect(other.err).toMatch(/--dir: .* holds another campaign \(cohort, 6 tasks\)/)
    const index = await cli(['campaign', 'run-task', out, '--index', '6'])
    expect(index.code).toBe(2)
    expect(index.err).toMatch(/--index: must be a task number from 0 to 5, got 6/)
  })
})
