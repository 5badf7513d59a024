/**
 * k-Wave C++ HDF5 files through h5wasm (NODERAWFS: host paths): writes the input file built by
 * core/solver/kwave-export.ts with its `.cmd` companion, and reads k-Wave's output file.
 *
 * Every string attribute is a fixed-length, NUL-terminated ASCII string of length + 1 bytes in a
 * scalar dataspace, which is what H5LTset_attribute_string writes: the C++ reader uses
 * H5LTget_attribute_string into a 256-byte buffer (Hdf5File::readStringAttribute), which needs a
 * fixed-length string shorter than 256 bytes; variable-length strings would not read.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import h5wasm from 'h5wasm/node'
import type { Dataset as H5Dataset, File as H5File, Group as H5Group } from 'h5wasm/node'
import type { KwaveDataset, KwaveExport } from '../../core/solver/kwave-export.ts'
import { SimulationInputError } from '../../core/solver/errors.ts'

/** Datasets larger than this are written chunked, block by block, so none has to exist whole in memory (or in the wasm heap). */
export const DEFAULT_BLOCK_BYTES = 64 * 2 ** 20
const CHUNK_BYTES = 4 * 2 ** 20
/** k-Wave's reader buffer is char[256]. */
const MAX_ATTRIBUTE_LENGTH = 255

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]

async function ready(): Promise<void> {
  await h5wasm.ready
}

function setStringAttribute(target: H5File | H5Dataset, name: string, value: string): void {
  // Keep to printable ASCII so that one character is one byte in the fixed-length type.
  const ascii = value.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_ATTRIBUTE_LENGTH)
  target.create_attribute(name, ascii, null, `A${ascii.length + 1}`)
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

function writeDataset(file: H5File, dataset: KwaveDataset, blockBytes: number): void {
  const shape = [...dataset.shape]
  const total = product(shape)
  const bytesPerValue = dataset.dataType === 'long' ? 8 : 4
  const dtype = dataset.dataType === 'long' ? '<Q' : '<f4'
  const data = dataset.data
  // Blocks run along the slowest non-unit axis (z for a grid field, time for p_source_input).
  const axis = shape.findIndex((s) => s > 1)
  const rows = axis < 0 ? 1 : shape[axis]!
  const rowLength = total / rows
  const block = (first: number, count: number) =>
    data instanceof Float32Array || data instanceof BigUint64Array ? data.subarray(first * rowLength, (first + count) * rowLength) : data.read(first, count)
  if (!(data instanceof Float32Array || data instanceof BigUint64Array) && (data.rows !== rows || data.rowLength !== rowLength)) {
    throw new Error(`${dataset.name}: generated rows ${data.rows} x ${data.rowLength} do not match the shape ${shape.join('x')}`)
  }
  let written: H5Dataset
  if (total * bytesPerValue <= blockBytes || axis < 0) {
    written = file.create_dataset({ name: dataset.name, data: block(0, rows), shape, dtype })
  } else {
    const rowBytes = rowLength * bytesPerValue
    const chunkRows = Math.min(rows, Math.max(1, Math.floor(CHUNK_BYTES / rowBytes)))
    const blockRows = Math.min(rows, chunkRows * Math.max(1, Math.floor(blockBytes / (rowBytes * chunkRows))))
    const firstShape = shape.map((s, d) => (d === axis ? blockRows : s))
    const chunks = shape.map((s, d) => (d === axis ? chunkRows : s))
    written = file.create_dataset({ name: dataset.name, data: block(0, blockRows), shape: firstShape, maxshape: shape, chunks, dtype })
    written.resize(shape)
    for (let first = blockRows; first < rows; first += blockRows) {
      const count = Math.min(blockRows, rows - first)
      const ranges = shape.map((s, d) => (d === axis ? [first, first + count] : [0, s])) as Array<[number, number]>
      written.write_slice(ranges, block(first, count))
    }
  }
  setStringAttribute(written, 'data_type', dataset.dataType)
  setStringAttribute(written, 'domain_type', dataset.domainType)
}

export interface KwaveInputInfo {
  /** file_description (any text; cut to 255 characters). */
  readonly description: string
  /** For tests: write datasets above this size block by block. */
  readonly blockBytes?: number
}

/** Writes the k-Wave input file (atomically: a temporary file renamed into place). */
export async function writeKwaveInputFile(target: string, exported: KwaveExport, info: KwaveInputInfo): Promise<void> {
  await ready()
  const absolute = path.resolve(target)
  await fs.mkdir(path.dirname(absolute), { recursive: true })
  const tmp = path.join(path.dirname(absolute), `.${path.basename(absolute)}.${process.pid}.${Date.now()}.tmp`)
  let file: H5File | undefined
  try {
    // Object formats of HDF5 1.8 at most (superblock 0): h5wasm links HDF5 2.0, and a k-Wave binary
    // built against an older HDF5 library cannot read formats newer than its own.
    file = new h5wasm.File(tmp, 'w', { libver: ['earliest', 'v108'] })
    const [major, minor] = exported.format.split('.') as [string, string]
    setStringAttribute(file, 'file_type', 'input')
    setStringAttribute(file, 'major_version', major)
    setStringAttribute(file, 'minor_version', minor)
    setStringAttribute(file, 'created_by', 'TFUS Planner (tfus export-kwave)')
    setStringAttribute(file, 'creation_date', new Date().toISOString())
    setStringAttribute(file, 'file_description', info.description)
    for (const dataset of exported.datasets) writeDataset(file, dataset, info.blockBytes ?? DEFAULT_BLOCK_BYTES)
    file.close()
    file = undefined
    await fs.rename(tmp, absolute)
  } catch (e) {
    file?.close()
    await fs.rm(tmp, { force: true })
    throw new SimulationInputError(target, `could not be written: ${e instanceof Error ? e.message : String(e)}`)
  }
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/** The output file name next to the input: "input" in the name becomes "output", else "_output" is appended. */
export function kwaveOutputName(inputFile: string): string {
  const base = path.basename(inputFile)
  const at = base.lastIndexOf('input')
  if (at >= 0) return base.slice(0, at) + 'output' + base.slice(at + 'input'.length)
  const ext = path.extname(base)
  return `${base.slice(0, base.length - ext.length)}_output${ext || '.h5'}`
}

/** The command that runs the exported file, with file names relative to its folder. */
export function kwaveCommandLine(inputFile: string, exported: KwaveExport, binary = 'kspaceFirstOrder-OMP'): string {
  return [
    binary,
    '-i',
    shellQuote(path.basename(inputFile)),
    '-o',
    shellQuote(kwaveOutputName(inputFile)),
    '-s',
    String(exported.recordStartStep),
    '--p_rms',
    '--p_max',
  ].join(' ')
}

/** Writes `<input>.cmd`: the exact command line (run in the input file's folder) and the CUDA variant as a comment. */
export async function writeKwaveCommandFile(inputFile: string, exported: KwaveExport): Promise<{ file: string; command: string; outputFile: string }> {
  const command = kwaveCommandLine(inputFile, exported)
  const [nx, ny, nz] = exported.gridSize
  const text = [
    `# k-Wave C++ run exported by tfus (file format ${exported.format}): ${nx} x ${ny} x ${nz} grid, Nt = ${exported.nt} steps;`,
    `# records steps ${exported.recordStartStep}..${exported.nt} (${exported.recordPeriods} periods): amplitude = sqrt(2) * p_rms. Run in this folder.`,
    command,
    `# CUDA: ${kwaveCommandLine(inputFile, exported, 'kspaceFirstOrder-CUDA')}`,
    '',
  ].join('\n')
  const file = `${inputFile}.cmd`
  await fs.writeFile(file, text)
  return { file, command, outputFile: path.join(path.dirname(inputFile), kwaveOutputName(inputFile)) }
}

export interface KwaveField {
  /** HDF5 dimensions, slowest first. */
  readonly shape: readonly number[]
  readonly data: Float32Array
}

export interface KwaveOutputFile {
  /** Grid size (Nx, Ny, Nz) copied into the output, when present. */
  readonly gridSize?: readonly [number, number, number]
  readonly nt?: number
  readonly pRms: KwaveField
  readonly pMax?: KwaveField
}

async function checkHdf5(file: string): Promise<void> {
  let handle: fs.FileHandle
  try {
    handle = await fs.open(file, 'r')
  } catch {
    throw new SimulationInputError(file, 'cannot read the k-Wave output file (no such file?)')
  }
  try {
    const head = new Uint8Array(8)
    const { bytesRead } = await handle.read(head, 0, 8, 0)
    if (bytesRead < 8 || HDF5_SIGNATURE.some((b, i) => head[i] !== b)) throw new SimulationInputError(file, 'is not an HDF5 file')
  } finally {
    await handle.close()
  }
}

function readScalar(group: H5Group, name: string): number | undefined {
  if (!group.keys().includes(name)) return undefined
  const entity = group.get(name)
  if (!(entity instanceof h5wasm.Dataset)) return undefined
  const value = entity.value
  if (value instanceof BigUint64Array || value instanceof BigInt64Array) return Number(value[0])
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Number((value as Float32Array)[0])
  return typeof value === 'number' || typeof value === 'bigint' ? Number(value) : undefined
}

function readField(file: string, root: H5Group, group: string, required: boolean): KwaveField | undefined {
  const present = root.keys().includes(group) && root.get(group) instanceof h5wasm.Group && (root.get(group) as H5Group).keys().includes('1')
  if (!present) {
    if (required)
      throw new SimulationInputError(file, `has no /${group}/1 dataset: run k-Wave with --${group} (see the .cmd file written by tfus export-kwave)`)
    return undefined
  }
  const dataset = root.get(`${group}/1`)
  if (!(dataset instanceof h5wasm.Dataset)) throw new SimulationInputError(file, `/${group}/1 is not a dataset`)
  const value = dataset.value
  if (!(value instanceof Float32Array || value instanceof Float64Array)) throw new SimulationInputError(file, `/${group}/1 is not a floating-point dataset`)
  return { shape: dataset.shape ?? [], data: value instanceof Float32Array ? value : Float32Array.from(value) }
}

/** Reads /p_rms/1 (required), /p_max/1 and the copied grid size from a k-Wave output file. */
export async function readKwaveOutputFile(file: string): Promise<KwaveOutputFile> {
  await checkHdf5(file)
  await ready()
  let h5: H5File
  try {
    h5 = new h5wasm.File(path.resolve(file), 'r')
  } catch (e) {
    throw new SimulationInputError(file, `cannot be opened as HDF5 (${e instanceof Error ? e.message : String(e)})`)
  }
  try {
    const fileType = h5.attrs['file_type']?.value
    if (typeof fileType === 'string' && fileType !== 'output') throw new SimulationInputError(file, `is a k-Wave "${fileType}" file, not an output file`)
    const pRms = readField(file, h5, 'p_rms', true)!
    const pMax = readField(file, h5, 'p_max', false)
    const nx = readScalar(h5, 'Nx')
    const ny = readScalar(h5, 'Ny')
    const nz = readScalar(h5, 'Nz')
    const nt = readScalar(h5, 'Nt')
    return {
      pRms,
      ...(pMax ? { pMax } : {}),
      ...(nx !== undefined && ny !== undefined && nz !== undefined ? { gridSize: [nx, ny, nz] as const } : {}),
      ...(nt !== undefined ? { nt } : {}),
    }
  } finally {
    h5.close()
  }
}
