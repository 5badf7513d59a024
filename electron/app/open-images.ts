/**
 * The images the service holds open (voxels in memory), bounded: at most `maxCount` images and
 * `maxBytes` of voxels, whichever is reached first; the least recently used image goes first.
 * The newest image of each role (the CT and the MRI the renderer shows: it keeps one of each)
 * is never evicted, so the bound never takes an image from under the user; a single image larger
 * than `maxBytes` therefore still opens.
 *
 * An evicted or closed id is remembered (a bounded list), so a later call with it is told the
 * image was closed and must be opened again, rather than that it never existed.
 */
import { ApiError, type ImageInfo } from '../../core/contracts/api.ts'
import type { Volume } from '../../core/volume/index.ts'

export interface OpenImageLimits {
  /** Images held open at most. */
  readonly maxCount: number
  /** Voxel bytes held at most (the newest CT and MRI stay even beyond it). */
  readonly maxBytes: number
}

/**
 * Four images: the CT and MRI on screen, and the previous CT and MRI (a user switching back and
 * forth, a plan still starting on the one just replaced). 2 GiB: two large clinical CTs
 * (512 x 512 x 1000 int16 is 0.5 GiB) with room to spare, and well inside what a workstation has.
 */
export const DEFAULT_OPEN_IMAGE_LIMITS: OpenImageLimits = { maxCount: 4, maxBytes: 2 * 1024 ** 3 }

export interface OpenedImage {
  readonly info: ImageInfo
  readonly volume: Volume
  /** A file the plan worker can read (uploads are written to disk first). */
  readonly path: string
  /** The upload folder holding `path` (importBytes), removed when the image is closed. */
  readonly uploadDir?: string
  readonly bytes: number
}

const CLOSED_IDS_KEPT = 1000

export class OpenImages {
  /** Insertion order is use order: the first entry is the least recently used. */
  private readonly open = new Map<string, OpenedImage>()
  private readonly closed = new Map<string, string>()
  private readonly newest = new Map<ImageInfo['role'], string>()
  private heldBytes = 0

  constructor(
    readonly limits: OpenImageLimits,
    /** Called once for every image that leaves (evicted or closed). */
    private readonly onClose: (image: OpenedImage) => void,
  ) {}

  get count(): number {
    return this.open.size
  }

  get bytes(): number {
    return this.heldBytes
  }

  /** Adds an image (now the newest of its role) and evicts what the limits no longer allow. */
  add(image: OpenedImage): void {
    this.open.set(image.info.imageId, image)
    this.heldBytes += image.bytes
    this.newest.set(image.info.role, image.info.imageId)
    for (const [id, old] of this.open) {
      if (this.open.size <= this.limits.maxCount && this.heldBytes <= this.limits.maxBytes) break
      if (this.isNewest(id, old)) continue
      this.close(id, `only the ${this.limits.maxCount} most recently used images stay open (at most ${(this.limits.maxBytes / 1024 ** 3).toFixed(1)} GiB)`)
    }
  }

  /** The image, marked as just used; undefined when it is not open. */
  get(imageId: string): OpenedImage | undefined {
    const image = this.open.get(imageId)
    if (image) {
      this.open.delete(imageId)
      this.open.set(imageId, image)
    }
    return image
  }

  /** The image whose volume id this is, marked as just used. */
  getByVolumeId(volumeId: string): OpenedImage | undefined {
    if (!volumeId.startsWith('image-')) return undefined
    return this.get(volumeId.slice('image-'.length))
  }

  /** The open image, or a 'not-found' error saying whether it was closed or never existed. */
  require(imageId: string, what: string, field?: string): OpenedImage {
    const image = this.get(imageId)
    if (image) return image
    const why = this.closed.get(imageId)
    if (why !== undefined) throw new ApiError('not-found', `${what} (image ${imageId}) was closed: ${why}; open it again`, field)
    throw new ApiError('not-found', `${what} is not open (no image ${imageId}): open it again`, field)
  }

  /** Why a volume id of a closed image is gone, or undefined when it never was an image's. */
  closedReason(volumeId: string): string | undefined {
    return volumeId.startsWith('image-') ? this.closed.get(volumeId.slice('image-'.length)) : undefined
  }

  close(imageId: string, why: string): boolean {
    const image = this.open.get(imageId)
    if (!image) return false
    this.open.delete(imageId)
    this.heldBytes -= image.bytes
    if (this.newest.get(image.info.role) === imageId) this.newest.delete(image.info.role)
    this.closed.set(imageId, why)
    if (this.closed.size > CLOSED_IDS_KEPT) this.closed.delete(this.closed.keys().next().value!)
    this.onClose(image)
    return true
  }

  closeAll(why: string): void {
    for (const id of [...this.open.keys()]) this.close(id, why)
  }

  private isNewest(id: string, image: OpenedImage): boolean {
    return this.newest.get(image.info.role) === id
  }
}
