/**
 * The content-addressed store beside the plan database: `<data>/blobs/<aa>/<rest of sha256>`.
 * A blob is written to `<data>/blobs/tmp/`, fsynced, renamed to its hash name (rename is atomic
 * on one file system), and the folder holding it is fsynced, so after a crash or a power cut a
 * name in the store either does not exist or holds the complete, synced file. The database only
 * references a blob after `put*` has returned, in a later transaction.
 *
 * Synchronous on purpose: it runs on the database worker thread (or in a test's writer process).
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { PlanStoreError } from '../../../core/db/errors.ts'
import { SHA256_HEX, type BlobState, type BlobVerifier } from '../../../core/db/blob-store.ts'

const CHUNK = 1 << 20

function fsyncPath(p: string): void {
  // Directories are opened read-only for fsync; Windows cannot fsync a directory (rename is
  // durable there through NTFS's journal), so a refusal there is not an error.
  let fd: number
  try {
    fd = fs.openSync(p, 'r')
  } catch (e) {
    if (process.platform === 'win32') return
    throw e
  }
  try {
    fs.fsyncSync(fd)
  } catch (e) {
    if (process.platform !== 'win32') throw e
  } finally {
    fs.closeSync(fd)
  }
}

/** SHA-256 of a file, read in 1 MiB chunks. */
export function hashFile(file: string): { sha256: string; sizeBytes: number } {
  const hash = crypto.createHash('sha256')
  const buffer = Buffer.allocUnsafe(CHUNK)
  const fd = fs.openSync(file, 'r')
  let size = 0
  try {
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, CHUNK, null)
      if (n === 0) break
      hash.update(buffer.subarray(0, n))
      size += n
    }
  } finally {
    fs.closeSync(fd)
  }
  return { sha256: hash.digest('hex'), sizeBytes: size }
}

export function hashBytes(bytes: Uint8Array | string): string {
  return crypto.createHash('sha256').update(bytes).digest('hex')
}

export class FileBlobStore implements BlobVerifier {
  readonly root: string
  private readonly tmpDir: string

  constructor(root: string) {
    this.root = root
    this.tmpDir = path.join(root, 'tmp')
    fs.mkdirSync(this.tmpDir, { recursive: true })
  }

  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new PlanStoreError('invalid-record', `"${sha256}" is not a SHA-256 hex digest`)
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2))
  }

  /**
   * Copies a file into the store; returns its hash. A blob already present (same hash, same size)
   * is not written again. The file is hashed once to find its name and again while it is copied:
   * a file that changes under us is refused rather than stored under the wrong name.
   */
  putFile(source: string): { sha256: string; sizeBytes: number } {
    const first = hashFile(source)
    const target = this.pathOf(first.sha256)
    if (this.presentWithSize(target, first.sizeBytes)) return first
    const tmp = path.join(this.tmpDir, `${first.sha256.slice(0, 16)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}`)
    const hash = crypto.createHash('sha256')
    const buffer = Buffer.allocUnsafe(CHUNK)
    const input = fs.openSync(source, 'r')
    let output: number | undefined
    try {
      output = fs.openSync(tmp, 'wx')
      for (;;) {
        const n = fs.readSync(input, buffer, 0, CHUNK, null)
        if (n === 0) break
        hash.update(buffer.subarray(0, n))
        let written = 0
        while (written < n) written += fs.writeSync(output, buffer, written, n - written)
      }
      fs.fsyncSync(output)
    } catch (e) {
      if (output !== undefined) fs.closeSync(output)
      output = undefined
      fs.rmSync(tmp, { force: true })
      throw new PlanStoreError('io', `${source}: could not copy into the content store (${e instanceof Error ? e.message : String(e)})`, { cause: e })
    } finally {
      fs.closeSync(input)
      if (output !== undefined) fs.closeSync(output)
    }
    if (hash.digest('hex') !== first.sha256) {
      fs.rmSync(tmp, { force: true })
      throw new PlanStoreError('io', `${source}: the file changed while it was being stored; try again once it is complete`)
    }
    this.commitTemp(tmp, target)
    return first
  }

  /** Stores bytes (small files); same durability as putFile. */
  putBytes(bytes: Uint8Array): { sha256: string; sizeBytes: number } {
    const sha256 = hashBytes(bytes)
    const target = this.pathOf(sha256)
    if (this.presentWithSize(target, bytes.length)) return { sha256, sizeBytes: bytes.length }
    const tmp = path.join(this.tmpDir, `${sha256.slice(0, 16)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}`)
    const fd = fs.openSync(tmp, 'wx')
    try {
      let written = 0
      while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    this.commitTemp(tmp, target)
    return { sha256, sizeBytes: bytes.length }
  }

  private presentWithSize(target: string, size: number): boolean {
    try {
      return fs.statSync(target).size === size
    } catch {
      return false
    }
  }

  private commitTemp(tmp: string, target: string): void {
    const dir = path.dirname(target)
    let created = false
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(dir, { recursive: true })
      created = true
    }
    fs.renameSync(tmp, target)
    fsyncPath(dir)
    // A new <aa> folder is itself an entry of the store root: make that entry durable too.
    if (created) fsyncPath(this.root)
  }

  verify(sha256: string): BlobState {
    let file: string
    try {
      file = this.pathOf(sha256)
    } catch {
      return 'corrupt'
    }
    if (!fs.existsSync(file)) return 'missing'
    try {
      return hashFile(file).sha256 === sha256 ? 'ok' : 'corrupt'
    } catch {
      return 'corrupt'
    }
  }

  /**
   * Writes a blob to `dest` (temp file beside it, fsync, rename), checking its hash on the way:
   * a damaged blob never reaches an export.
   */
  copyOut(sha256: string, dest: string): void {
    const source = this.pathOf(sha256)
    if (!fs.existsSync(source)) throw new PlanStoreError('blob-damaged', `${source}: blob ${sha256} is missing from the content store (run \`tfus db check\`)`)
    fs.mkdirSync(path.dirname(dest), { recursive: true })
    const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`)
    const hash = crypto.createHash('sha256')
    const buffer = Buffer.allocUnsafe(CHUNK)
    const input = fs.openSync(source, 'r')
    const output = fs.openSync(tmp, 'wx')
    try {
      for (;;) {
        const n = fs.readSync(input, buffer, 0, CHUNK, null)
        if (n === 0) break
        hash.update(buffer.subarray(0, n))
        let written = 0
        while (written < n) written += fs.writeSync(output, buffer, written, n - written)
      }
      fs.fsyncSync(output)
    } finally {
      fs.closeSync(input)
      fs.closeSync(output)
    }
    if (hash.digest('hex') !== sha256) {
      fs.rmSync(tmp, { force: true })
      throw new PlanStoreError('blob-damaged', `${source}: blob does not hash to its name (damaged on disk; run \`tfus db check\`)`)
    }
    fs.renameSync(tmp, dest)
  }

  readBytes(sha256: string): Uint8Array {
    const bytes = fs.readFileSync(this.pathOf(sha256))
    if (hashBytes(bytes) !== sha256) throw new PlanStoreError('blob-damaged', `${this.pathOf(sha256)}: blob does not hash to its name`)
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  *list(): Iterable<string> {
    for (const prefix of fs.readdirSync(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue
      for (const rest of fs.readdirSync(path.join(this.root, prefix))) {
        const sha = prefix + rest
        if (SHA256_HEX.test(sha)) yield sha
      }
    }
  }

  tempFiles(): string[] {
    return fs.existsSync(this.tmpDir) ? fs.readdirSync(this.tmpDir).map((f) => path.join(this.tmpDir, f)) : []
  }
}
