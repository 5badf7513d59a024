/**
 * A minimal PNG decoder for screenshot checks (8-bit RGB/RGBA, non-interlaced: what Chromium
 * writes), so the e2e test can read pixel colours without an image library.
 */
import { inflateSync } from 'node:zlib'

export interface Rgba {
  readonly width: number
  readonly height: number
  /** RGBA, row-major. */
  readonly data: Uint8Array
}

export function decodePng(png: Uint8Array): Rgba {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength)
  let offset = 8
  let width = 0
  let height = 0
  let colorType = 0
  const idat: Uint8Array[] = []
  while (offset < png.length) {
    const length = view.getUint32(offset)
    const type = String.fromCharCode(...png.subarray(offset + 4, offset + 8))
    const body = png.subarray(offset + 8, offset + 8 + length)
    if (type === 'IHDR') {
      width = view.getUint32(offset + 8)
      height = view.getUint32(offset + 12)
      const depth = body[8]
      colorType = body[9]!
      if (depth !== 8 || (colorType !== 2 && colorType !== 6) || body[12] !== 0)
        throw new Error(`unsupported PNG (depth ${depth}, colour type ${colorType}, interlace ${body[12]})`)
    } else if (type === 'IDAT') idat.push(body)
    else if (type === 'IEND') break
    offset += 12 + length
  }
  const channels = colorType === 6 ? 4 : 3
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * channels
  const out = new Uint8Array(width * height * 4)
  const prev = new Uint8Array(stride)
  const cur = new Uint8Array(stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? cur[x - channels]! : 0
      const b = prev[x]!
      const c = x >= channels ? prev[x - channels]! : 0
      let v = line[x]!
      if (filter === 1) v += a
      else if (filter === 2) v += b
      else if (filter === 3) v += (a + b) >> 1
      else if (filter === 4) {
        const p = a + b - c
        const pa = Math.abs(p - a)
        const pb = Math.abs(p - b)
        const pc = Math.abs(p - c)
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c
      }
      cur[x] = v & 255
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4
      out[o] = cur[x * channels]!
      out[o + 1] = cur[x * channels + 1]!
      out[o + 2] = cur[x * channels + 2]!
      out[o + 3] = channels === 4 ? cur[x * channels + 3]! : 255
    }
    prev.set(cur)
  }
  return { width, height, data: out }
}

export function pixel(img: Rgba, x: number, y: number): [number, number, number] {
  const xi = Math.max(0, Math.min(img.width - 1, Math.round(x)))
  const yi = Math.max(0, Math.min(img.height - 1, Math.round(y)))
  const o = (yi * img.width + xi) * 4
  return [img.data[o]!, img.data[o + 1]!, img.data[o + 2]!]
}

/** Pixels (of every 4th row and column) that satisfy `pred`, as a fraction. */
export function fractionWhere(img: Rgba, pred: (rgb: [number, number, number]) => boolean): number {
  let n = 0
  let hit = 0
  for (let y = 0; y < img.height; y += 4)
    for (let x = 0; x < img.width; x += 4) {
      n++
      if (pred(pixel(img, x, y))) hit++
    }
  return hit / n
}
