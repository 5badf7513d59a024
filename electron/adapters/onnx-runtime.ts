/**
 * onnxruntime-node behind core/surrogate's InferencePort. Provider choice: `auto` tries CUDA
 * (where its libraries are installed), then WebGPU on a hardware adapter, then the CPU; an
 * explicit choice that cannot start is an error naming the provider. The model file must match
 * the manifest's SHA-256 (a swapped or truncated file fails clearly, before any inference).
 */
import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseSurrogateManifest, SurrogateModelError, type SurrogateManifest } from '../../core/surrogate/manifest.ts'
import type { InferencePort } from '../../core/surrogate/predict.ts'
import { requestNodeGpuDevice } from './webgpu-device.ts'
import { appPath } from './app-paths.ts'

export type ProviderChoice = 'auto' | 'cpu' | 'webgpu' | 'cuda'
export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['auto', 'cpu', 'webgpu', 'cuda']

/** The model shipped with the app. */
export const BUNDLED_MODEL = appPath('resources', 'surrogate', 'model.json')

export interface LoadedSurrogate {
  readonly manifest: SurrogateManifest
  readonly manifestFile: string
  /** Free-water amplitude [Pa] on the solver grid at the reference source amplitude. */
  readonly freeWaterPa: Float32Array
  readonly port: InferencePort & { dispose(): Promise<void> }
  /** Which provider ran and why, in words the user sees. */
  readonly notes: readonly string[]
}

type Ort = typeof import('onnxruntime-node')

async function loadOrt(): Promise<Ort> {
  try {
    return await import('onnxruntime-node')
  } catch (e) {
    throw new SurrogateModelError('onnxruntime-node', `the ONNX Runtime for Node is not installed (${(e as Error).message}); run npm install`)
  }
}

export async function loadSurrogate(manifestFile: string, provider: ProviderChoice = 'auto', options: { threads?: number } = {}): Promise<LoadedSurrogate> {
  let text: string
  try {
    text = await fs.readFile(manifestFile, 'utf8')
  } catch (e) {
    throw new SurrogateModelError(manifestFile, `cannot read the model manifest (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new SurrogateModelError(manifestFile, `not JSON (${(e as Error).message})`)
  }
  const manifest = parseSurrogateManifest(json, manifestFile)
  const dir = path.dirname(manifestFile)
  const modelFile = path.join(dir, manifest.model_file)
  const bytes = await fs.readFile(modelFile).catch(() => {
    throw new SurrogateModelError(modelFile, 'the model file named by the manifest is missing')
  })
  const sha = createHash('sha256').update(bytes).digest('hex')
  if (sha !== manifest.model_sha256)
    throw new SurrogateModelError(
      modelFile,
      `SHA-256 ${sha.slice(0, 12)}... does not match the manifest's ${manifest.model_sha256.slice(0, 12)}...: the model and its manifest belong to different trainings`,
    )
  const freeFile = path.join(dir, manifest.free_water.file)
  const freeBytes = await fs.readFile(freeFile).catch(() => {
    throw new SurrogateModelError(freeFile, 'the free-water field named by the manifest is missing')
  })
  const [nx, ny, nz] = manifest.frame.grid_size
  if (freeBytes.byteLength !== 4 * nx * ny * nz)
    throw new SurrogateModelError(freeFile, `${freeBytes.byteLength} bytes, expected ${4 * nx * ny * nz} (float32 on the ${nx}x${ny}x${nz} grid)`)
  const freeWaterPa = new Float32Array(freeBytes.buffer.slice(freeBytes.byteOffset, freeBytes.byteOffset + freeBytes.byteLength))

  const ort = await loadOrt()
  const notes: string[] = []
  const threads = options.threads ?? Math.max(1, Math.min(os.availableParallelism(), 8))
  const tryCreate = async (ep: 'cpu' | 'webgpu' | 'cuda') =>
    ort.InferenceSession.create(bytes, { executionProviders: [ep], intraOpNumThreads: threads, graphOptimizationLevel: 'all' })
  let session: Awaited<ReturnType<typeof tryCreate>> | undefined
  let used: 'cpu' | 'webgpu' | 'cuda' = 'cpu'
  const order: ('cpu' | 'webgpu' | 'cuda')[] = provider === 'auto' ? ['cuda', 'webgpu', 'cpu'] : [provider]
  for (const ep of order) {
    if (ep === 'webgpu' && provider === 'auto') {
      // A software adapter (SwiftShader) runs far slower than the CPU provider: never chosen by auto.
      const gpu = await requestNodeGpuDevice({ allowSoftware: false })
      if ('unavailable' in gpu) {
        notes.push(`surrogate: WebGPU not used (${gpu.unavailable})`)
        continue
      }
      gpu.device.destroy()
    }
    try {
      session = await tryCreate(ep)
      used = ep
      break
    } catch (e) {
      const why = (e as Error).message.split('\n')[0]
      if (provider !== 'auto') throw new SurrogateModelError(`--provider ${ep}`, `the ${ep} execution provider could not start (${why})`)
      notes.push(`surrogate: ${ep} execution provider unavailable (${why})`)
    }
  }
  if (!session) throw new SurrogateModelError('--provider', 'no execution provider could start')
  notes.push(`surrogate: ONNX Runtime ${ort.env.versions.common}, ${used} execution provider${used === 'cpu' ? `, ${threads} threads` : ''}`)
  const [pz, py, px] = manifest.frame.padded_size_zyx
  const s = session
  const port = {
    provider: used,
    async run(input: Float32Array, pose: Float32Array, batch: number): Promise<Float32Array> {
      const feeds = {
        medium: new ort.Tensor('float32', input, [batch, 4, pz, py, px]),
        pose: new ort.Tensor('float32', pose, [batch, pose.length / batch]),
      }
      const out = await s.run(feeds)
      const t = out['log_amplitude']
      if (!t) throw new SurrogateModelError(manifestFile, 'the model has no log_amplitude output')
      return t.data as Float32Array
    },
    async dispose() {
      await s.release()
    },
  }
  return { manifest, manifestFile, freeWaterPa, port, notes }
}
