/** UID validation and minting (PS3.5 §9.1, §B.2). */
import { ImportError } from '../errors.ts'

/** PS3.5 §9.1: dot-separated decimal components without leading zeros, at most 64 characters. */
const UID_RE = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/

export function isValidUid(s: string): boolean {
  return s.length > 0 && s.length <= 64 && UID_RE.test(s)
}

/** Fewer random digits than this make collisions between minted UIDs plausible. */
const MIN_RANDOM_DIGITS = 20

/**
 * A new UID. Without `root`: "2.25." + the decimal of a random (version 4) UUID, the
 * organisation-free scheme of PS3.5 §B.2. With `root` (an organisation's registered root):
 * root + "." + random decimal digits, cut to keep the UID within 64 characters.
 */
export function mintUid(root?: string): string {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  // ITU-T X.667 / RFC 4122: version 4 and variant bits make the 128 bits a genuine UUID.
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  if (root === undefined) return `2.25.${n.toString()}`

  if (!isValidUid(root)) {
    throw new ImportError('write-failed', 'uidRoot', `"${root}" is not a valid UID root (digits and dots, no leading zeros)`)
  }
  const room = 64 - root.length - 1
  if (room < MIN_RANDOM_DIGITS) {
    throw new ImportError('write-failed', 'uidRoot', `"${root}" is too long: it leaves ${room} of the ${MIN_RANDOM_DIGITS} digits needed for unique UIDs`)
  }
  let suffix = n.toString()
  if (suffix.length > room) suffix = (n % 10n ** BigInt(room)).toString()
  return `${root}.${suffix}`
}

/**
 * A UID derived from content: "2.25." + a name-based (version 5 style, SHA-256) UUID of the
 * given bytes and label. Importing the same NIfTI twice then yields the same Study, Series and
 * FrameOfReference UIDs, so a plan saved against one import still matches the next.
 */
export async function contentUid(bytes: Uint8Array, label: string): Promise<string> {
  const tag = new TextEncoder().encode(`tfus-planner:${label}:`)
  const input = new Uint8Array(tag.length + bytes.length)
  input.set(tag)
  input.set(bytes, tag.length)
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', input))
  const uuid = digest.slice(0, 16)
  uuid[6] = ((uuid[6] ?? 0) & 0x0f) | 0x50
  uuid[8] = ((uuid[8] ?? 0) & 0x3f) | 0x80
  let n = 0n
  for (const b of uuid) n = (n << 8n) | BigInt(b)
  return `2.25.${n.toString()}`
}
