/**
 * What core needs from the content-addressed store that sits beside the database. The host
 * (electron/adapters/db/blob-store.ts) keeps the files and does the hashing; core never touches
 * the file system. Hashes are SHA-256 of the file bytes, 64 lower-case hex digits.
 */
export type BlobState = 'ok' | 'missing' | 'corrupt'

export interface BlobVerifier {
  /** Re-hashes the stored file: 'ok' when it exists and hashes to its name. */
  verify(sha256: string): BlobState
  /** Every blob present in the store. */
  list(): Iterable<string>
  /** Files left in the store's temp folder by an interrupted write (never referenced). */
  tempFiles(): readonly string[]
}

export const SHA256_HEX = /^[0-9a-f]{64}$/
