/**
 * A 3 x 5 pixel bitmap font (digits, capital letters and a little punctuation) for labels drawn
 * straight into an RGB buffer (the campaign plots), where no text renderer exists: core/ has no
 * canvas. Lower case is drawn as capitals; a character without a glyph is drawn as a blank.
 */

const GLYPHS: Readonly<Record<string, string>> = {
  '0': '### #.# #.# #.# ###',
  '1': '.#. ##. .#. .#. ###',
  '2': '### ..# ### #.. ###',
  '3': '### ..# .## ..# ###',
  '4': '#.# #.# ### ..# ..#',
  '5': '### #.. ### ..# ###',
  '6': '### #.. ### #.# ###',
  '7': '### ..# ..# .#. .#.',
  '8': '### #.# ### #.# ###',
  '9': '### #.# ### ..# ###',
  A: '.#. #.# ### #.# #.#',
  B: '##. #.# ##. #.# ##.',
  C: '.## #.. #.. #.. .##',
  D: '##. #.# #.# #.# ##.',
  E: '### #.. ##. #.. ###',
  F: '### #.. ##. #.. #..',
  G: '.## #.. #.# #.# .##',
  H: '#.# #.# ### #.# #.#',
  I: '### .#. .#. .#. ###',
  J: '..# ..# ..# #.# .#.',
  K: '#.# #.# ##. #.# #.#',
  L: '#.. #.. #.. #.. ###',
  M: '#.# ### ### #.# #.#',
  N: '##. #.# #.# #.# #.#',
  O: '.#. #.# #.# #.# .#.',
  P: '##. #.# ##. #.. #..',
  Q: '.#. #.# #.# ##. .##',
  R: '##. #.# ##. #.# #.#',
  S: '.## #.. .#. ..# ##.',
  T: '### .#. .#. .#. .#.',
  U: '#.# #.# #.# #.# ###',
  V: '#.# #.# #.# #.# .#.',
  W: '#.# #.# ### ### #.#',
  X: '#.# #.# .#. #.# #.#',
  Y: '#.# #.# .#. .#. .#.',
  Z: '### ..# .#. #.. ###',
  '.': '... ... ... ... .#.',
  ',': '... ... ... .#. #..',
  ':': '... .#. ... .#. ...',
  '-': '... ... ### ... ...',
  '+': '... .#. ### .#. ...',
  '/': '..# ..# .#. #.. #..',
  _: '... ... ... ... ###',
  '(': '.#. #.. #.. #.. .#.',
  ')': '.#. ..# ..# ..# .#.',
  '%': '#.. ..# .#. #.. ..#',
  '=': '... ### ... ### ...',
  '#': '#.# ### #.# ### #.#',
}

export const GLYPH_WIDTH = 3
export const GLYPH_HEIGHT = 5

/** Pixels one character takes along a line at `scale` (the glyph and one column of space). */
export const advance = (scale: number) => (GLYPH_WIDTH + 1) * scale

export interface RgbImage {
  readonly width: number
  readonly height: number
  /** 3 bytes per pixel, rows top to bottom. */
  readonly rgb: Uint8Array
}

/** Fills a rectangle, clipped to the image. */
export function fillRect(img: RgbImage, x: number, y: number, w: number, h: number, colour: readonly [number, number, number]): void {
  const x0 = Math.max(0, Math.floor(x))
  const y0 = Math.max(0, Math.floor(y))
  const x1 = Math.min(img.width, Math.floor(x + w))
  const y1 = Math.min(img.height, Math.floor(y + h))
  for (let yy = y0; yy < y1; yy++)
    for (let xx = x0; xx < x1; xx++) {
      const o = 3 * (yy * img.width + xx)
      img.rgb[o] = colour[0]
      img.rgb[o + 1] = colour[1]
      img.rgb[o + 2] = colour[2]
    }
}

/** Draws `text` with its top-left corner at (x, y); returns the x after its last character. */
export function drawText(img: RgbImage, text: string, x: number, y: number, scale: number, colour: readonly [number, number, number]): number {
  for (const ch of text.toUpperCase()) {
    const glyph = GLYPHS[ch]
    if (glyph) {
      const rows = glyph.split(' ')
      rows.forEach((row, r) => {
        for (let c = 0; c < GLYPH_WIDTH; c++) if (row[c] === '#') fillRect(img, x + c * scale, y + r * scale, scale, scale, colour)
      })
    }
    x += advance(scale)
  }
  return x
}
