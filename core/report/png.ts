/**
 * A minimal PNG encoder (8-bit RGB, no interlace, Paeth filter on every row) so the report can
 * inline its slice images as data: URIs. PNG: ISO/IEC 15948 (W3C PNG 2nd ed.): signature,
 * IHDR, IDAT (zlib stream, here fflate's), IEND; each chunk = length, type, data, CRC-32.
 */
import { zlibSync } from 'fflate'

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length)
  const dv = new DataView(out.buffer)
  dv.setUint32(0, data.length)
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i)
  out.set(data, 8)
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)))
  return out
}

/**
 * Scanlines with filter type 4 (Paeth, PNG spec §9.4) before compression: the report's slices
 * are smooth (trilinear upsampling), so predicting each byte from its left, upper and
 * upper-left neighbours leaves small residuals that deflate to well under half the size of the
 * unfiltered rows.
 */
function paethFiltered(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const stride = 3 * width
  const raw = new Uint8Array((stride + 1) * height)
  for (let y = 0; y < height; y++) {
    const o = (stride + 1) * y
    raw[o] = 4
    for (let x = 0; x < stride; x++) {
      const at = stride * y + x
      const a = x >= 3 ? rgb[at - 3]! : 0
      const b = y > 0 ? rgb[at - stride]! : 0
      const c = x >= 3 && y > 0 ? rgb[at - stride - 3]! : 0
      const p = a + b - c
      const pa = Math.abs(p - a)
      const pb = Math.abs(p - b)
      const pc = Math.abs(p - c)
      const predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
      raw[o + 1 + x] = (rgb[at]! - predicted) & 0xff
    }
  }
  return raw
}

/** PNG bytes of an RGB image (`rgb.length` = 3 * width * height, rows top to bottom). */
export function encodePngRgb(rgb: Uint8Array, width: number, height: number): Uint8Array {
  if (rgb.length !== 3 * width * height) throw new Error(`encodePngRgb: ${rgb.length} bytes for ${width}x${height} RGB`)
  const ihdr = new Uint8Array(13)
  const dv = new DataView(ihdr.buffer)
  dv.setUint32(0, width)
  dv.setUint32(4, height)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 2 // colour type: truecolour
  const raw = paethFiltered(rgb, width, height)
  const parts = [
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlibSync(raw, { level: 6 })),
    chunk('IEND', new Uint8Array(0)),
  ]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Base64 without Buffer or btoa's string juggling limits. */
export function base64(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  let out = ''
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!
  }
  if (i < bytes.length) {
    const rest = bytes.length - i
    const n = (bytes[i]! << 16) | ((rest > 1 ? bytes[i + 1]! : 0) << 8)
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + (rest > 1 ? alphabet[(n >> 6) & 63]! : '=') + '='
  }
  return out
}
