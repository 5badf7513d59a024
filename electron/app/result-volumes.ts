/**
 * The volumes the views load by id besides open images: a run's pressure, brain-only pressure and
 * temperature rise (read from its run folder on demand), the fused MRI, the surrogate preview and
 * the comparison's difference. What loads each is kept; loaded volumes are an LRU of
 * LOADED_VOLUMES_KEPT (read again when asked for after that).
 */
import * as path from 'node:path'
import { readVolume } from '../adapters/volume-io.ts'
import { resampleTrilinear, type Volume } from '../../core/volume/index.ts'
import { PLAN_FILES, TISSUE_LABELS } from '../../core/contracts/plan.ts'

/** Loaded plan-result volumes kept in memory (they are read again from the run folder on demand). */
const LOADED_VOLUMES_KEPT = 2

/** The volume ids of a run's results, by kind. */
export const RUN_VOLUME_KINDS = ['pressure', 'brain-pressure', 'temperature-rise'] as const

export class ResultVolumes {
  private readonly loaders = new Map<string, () => Promise<Volume>>()
  /** Loaded ones, most recently used last. */
  private readonly loaded = new Map<string, Promise<Volume>>()

  constructor(private readonly kept = LOADED_VOLUMES_KEPT) {}

  set(volumeId: string, load: () => Promise<Volume>): void {
    this.loaders.set(volumeId, load)
    this.loaded.delete(volumeId)
  }

  delete(volumeId: string): void {
    this.loaders.delete(volumeId)
    this.loaded.delete(volumeId)
  }

  /** The volume (loaded now or from the cache); undefined when no volume has this id. */
  get(volumeId: string): Promise<Volume> | undefined {
    let cached = this.loaded.get(volumeId)
    if (cached) {
      this.loaded.delete(volumeId)
      this.loaded.set(volumeId, cached)
      return cached
    }
    const load = this.loaders.get(volumeId)
    if (!load) return undefined
    cached = load()
    this.loaded.set(volumeId, cached)
    cached.catch(() => this.loaded.delete(volumeId))
    for (const old of this.loaded.keys()) {
      if (this.loaded.size <= this.kept) break
      this.loaded.delete(old)
    }
    return cached
  }

  /**
   * The volumes of a run folder the views can show, all on the CT grid: the pressure, the pressure
   * inside the brain only (tissue labels of the simulation grid, nearest neighbour), and the peak
   * temperature rise of a thermal run (simulation grid, trilinear). `reading` holds the folder
   * while a load reads it.
   */
  addRun(runId: string, outDir: string, reading: <T>(work: () => Promise<T>) => Promise<T>): void {
    const read = (file: string) => readVolume(path.join(outDir, file))
    this.set(`pressure-${runId}`, () => reading(() => read(PLAN_FILES.pressureCt)))
    this.set(`brain-pressure-${runId}`, () =>
      reading(async () => {
        const [pressure, tissue] = await Promise.all([read(PLAN_FILES.pressureCt), read(PLAN_FILES.tissue)])
        const labels = resampleTrilinear(tissue, pressure, { fill: TISSUE_LABELS.water, interpolation: 'nearest' }).data
        const inBrain = new Float32Array(pressure.data.length)
        for (let i = 0; i < inBrain.length; i++) inBrain[i] = labels[i] === TISSUE_LABELS.brain ? pressure.data[i]! : 0
        return { ...pressure, data: inBrain }
      }),
    )
    this.set(`temperature-rise-${runId}`, () =>
      reading(async () => {
        const [pressure, rise] = await Promise.all([read(PLAN_FILES.pressureCt), read(PLAN_FILES.temperatureRiseMax)])
        return {
          ...resampleTrilinear(rise, pressure, { fill: 0 }),
          meta: { ...pressure.meta, modality: 'OT', seriesDescription: 'peak temperature rise [°C]', valueUnit: '°C' },
        }
      }),
    )
  }

  dropRun(runId: string): void {
    for (const kind of RUN_VOLUME_KINDS) this.delete(`${kind}-${runId}`)
  }
}
