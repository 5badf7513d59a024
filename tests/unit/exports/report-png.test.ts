/**
 * The report's PNG encoder read back by the e2e screenshot decoder (written separately, from
 * the PNG spec's five filter types), so a wrong Paeth predictor shows up as wrong pixels
 * rather than as a smaller file.
 */
import { describe, expect, it } from 'vitest'
import { encodePngRgb } from '../../../core/report/png.ts'
import { decodePng } from '../../e2e/support/png.ts'

describe('report PNG encoder', () => {
  it('round-trips smooth and noisy RGB exactly through an independent decoder', () => {
    const [w, h] = [37, 23]
    const rgb = new Uint8Array(3 * w * h)
    let s = 12345
    for (let i = 0; i < rgb.length; i++) {
      s = (s * 1103515245 + 12345) % 2 ** 31
      // Left half a gradient (what Paeth predicts well), right half noise (wrap-around residuals).
      rgb[i] = (i / 3) % w < w / 2 ? (i * 7) & 0xff : s & 0xff
    }
    const back = decodePng(encodePngRgb(rgb, w, h))
    expect([back.width, back.height]).toEqual([w, h])
    expect(back.data.filter((_, i) => i % 4 !== 3)).toEqual(rgb)
  })
})
