/**
 * 1D complex FFT plans for lengths whose prime factors are 2, 3, 5 and 7.
 *
 * Convention (same as FFTW, NumPy and k-Wave's MATLAB `fft`):
 *   forward  X[k] = sum_j x[j] * exp(-2*pi*i*j*k/n)
 *   inverse  x[j] = sum_k X[k] * exp(+2*pi*i*j*k/n)   -- unnormalised: the caller scales by 1/n.
 *
 * Algorithm: mixed-radix Stockham autosort (decimation in frequency) with radix 2, 3, 4, 5, 6, 7,
 * 8 and 9 butterflies (see `chooseRadices` for which are used where). Stockham ping-pongs between
 * the data and one work buffer and needs no bit-reversal pass; the last stage has no twiddles and
 * touches the same indices it reads, so it runs in place, which lets every transform end in the
 * caller's arrays without a copy.
 *
 * Batched layout: the kernels transform `batch` lines at once, element j of line b stored at
 * index j * batch + b. With that layout every butterfly's innermost loop runs over a
 * contiguous run of (stride * batch) values sharing one twiddle, which is what makes the
 * strided axes of a 3D transform cheap: gather a block of neighbouring lines, transform, scatter.
 *
 * The inverse reuses the forward kernels through the identity
 * IDFT(x) = swap(DFT(swap(x))), swap(a + ib) = b + ia: with split storage, swapping is just
 * passing (im, re) instead of (re, im), so there is one set of kernels to optimise.
 *
 * All arithmetic is float64; twiddles are computed directly from exact integer angles (never by
 * recurrence), so the round-off stays at a few ulps times log(n).
 */

const ALLOWED_PRIMES = [2, 3, 5, 7] as const

/** Prime factorisation in ascending order, with multiplicity (empty for n = 1). */
export function primeFactors(n: number): number[] {
  const out: number[] = []
  let m = n
  for (let p = 2; p * p <= m; p++) {
    while (m % p === 0) {
      out.push(p)
      m /= p
    }
  }
  if (m > 1) out.push(m)
  return out
}

/** True when n is a positive integer whose prime factors are all in {2, 3, 5, 7}. */
export function isFftFriendly(n: number): boolean {
  if (!Number.isSafeInteger(n) || n < 1) return false
  let m = n
  for (const p of ALLOWED_PRIMES) {
    while (m % p === 0) m /= p
  }
  return m === 1
}

/** Smallest m >= n (and >= 1) whose prime factors are all in {2, 3, 5, 7}. */
export function nextFftFriendly(n: number): number {
  if (!Number.isFinite(n)) throw new RangeError(`nextFftFriendly: n must be finite, got ${n}`)
  let m = Math.max(1, Math.ceil(n))
  while (!isFftFriendly(m)) m++
  return m
}

/**
 * Stage radices, chosen by measurement (batched, 33-65 lines; scripts/bench-fft.ts has the 3D
 * figures). What V8 rewards is few passes over the data and a cheap last stage:
 * - the last stage has unit twiddles, so a large radix is cheap there: a factor 2^k ends in a
 *   radix-8 stage when it can, a lone 2 pairs up with a 3 as a final radix-6;
 * - twiddled stages are radix 4 and 8 (never a twiddled radix 2: a whole pass for one add),
 *   3s pair up into radix-9 stages.
 * Measured gains over plain radix 4/2/3: 128 = 4*4*8 5.0 vs 6.8 ns/point, 162 = 9*3*6 7.1 vs 9.3,
 * 270 = 5*9*6 7.6 vs 9.8.
 */
function chooseRadices(n: number): number[] {
  const f = primeFactors(n)
  const count = (p: number): number => f.filter((q) => q === p).length
  let twos = count(2)
  let threes = count(3)
  let last: number[] = []
  if (twos === 1) {
    last = threes > 0 ? [6] : [2]
    if (threes > 0) threes--
    twos = 0
  }
  const fours = twos % 3 === 1 ? 2 : twos % 3 === 2 ? 1 : 0
  let eights = (twos - 2 * fours) / 3
  if (eights > 0) {
    last = [8]
    eights--
  }
  const radices: number[] = []
  const push = (r: number, k: number): void => {
    for (let i = 0; i < k; i++) radices.push(r)
  }
  push(4, fours)
  push(8, eights)
  push(7, count(7))
  push(5, count(5))
  push(9, threes >> 1)
  push(3, threes & 1)
  return radices.concat(last)
}

export interface FftPlan {
  readonly n: number
  /** Radix of each Stockham stage, in execution order. */
  readonly radices: readonly number[]
  /** In-place forward transform of one line (re, im of length >= n). */
  forward(re: Float64Array, im: Float64Array): void
  /** In-place unnormalised inverse transform of one line. */
  inverse(re: Float64Array, im: Float64Array): void
  /**
   * In-place forward transform of `batch` lines stored interleaved: element j of line b at
   * index j * batch + b (arrays of length >= n * batch). `workRe` / `workIm` (length >=
   * n * batch) replace the plan's own work buffers: callers that place their data and work
   * buffers in one allocation can keep their relative addresses from aliasing (see fft3d.ts).
   */
  forwardBatch(re: Float64Array, im: Float64Array, batch: number, workRe?: Float64Array, workIm?: Float64Array): void
  /** In-place unnormalised inverse of `batch` interleaved lines. */
  inverseBatch(re: Float64Array, im: Float64Array, batch: number, workRe?: Float64Array, workIm?: Float64Array): void
}

/**
 * Creates a plan; throws a RangeError naming the offending prime factors for other lengths.
 * `radices` overrides the stage factorisation (each in {2, 3, 4, 5, 7, 8}, product n); it exists
 * for tests and benchmarks, the default is the fastest measured.
 */
export function createFftPlan(n: number, radices?: readonly number[]): FftPlan {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(`FFT length must be a positive integer, got ${n}`)
  }
  if (!isFftFriendly(n)) {
    const f = primeFactors(n)
    const bad = [...new Set(f.filter((p) => p > 7))]
    throw new RangeError(
      `FFT length ${n} is not supported: its prime factors are ${f.join(' x ')}` +
        ` (${bad.join(', ')} not in {2, 3, 5, 7}); the next supported length is ${nextFftFriendly(n)}`,
    )
  }
  if (radices) {
    const prod = radices.reduce((a, b) => a * b, 1)
    if (prod !== n || radices.some((r) => ![2, 3, 4, 5, 6, 7, 8, 9].includes(r))) {
      throw new RangeError(`radices [${radices.join(', ')}] do not factor ${n} into 2, 3, 4, 5, 7, 8`)
    }
  }
  return new StockhamPlan(n, radices ? [...radices] : chooseRadices(n))
}

class StockhamPlan implements FftPlan {
  readonly n: number
  readonly radices: readonly number[]
  private readonly stageM: Int32Array
  private readonly stageS: Int32Array
  private readonly stageTw: Int32Array
  private readonly tw: Float64Array
  private workRe: Float64Array
  private workIm: Float64Array

  constructor(n: number, radices: number[]) {
    this.n = n
    this.radices = radices
    const ns = radices.length
    this.stageM = new Int32Array(ns)
    this.stageS = new Int32Array(ns)
    this.stageTw = new Int32Array(ns)
    let len = n
    let s = 1
    let twLen = 0
    for (let st = 0; st < ns; st++) {
      const p = radices[st]!
      const m = len / p
      this.stageM[st] = m
      this.stageS[st] = s
      this.stageTw[st] = twLen
      twLen += 2 * (p - 1) * m
      len = m
      s *= p
    }
    // Per stage and per p0 < m: the p-1 twiddles exp(-2*pi*i*k*p0/len), k = 1..p-1, interleaved re/im.
    this.tw = new Float64Array(twLen)
    len = n
    for (let st = 0; st < ns; st++) {
      const p = radices[st]!
      const m = this.stageM[st]!
      let t = this.stageTw[st]!
      for (let p0 = 0; p0 < m; p0++) {
        for (let k = 1; k < p; k++) {
          const a = (-2 * Math.PI * ((k * p0) % len)) / len
          this.tw[t++] = Math.cos(a)
          this.tw[t++] = Math.sin(a)
        }
      }
      len = m
    }
    this.workRe = new Float64Array(n)
    this.workIm = new Float64Array(n)
  }

  forward(re: Float64Array, im: Float64Array): void {
    this.run(re, im, 1, undefined, undefined)
  }

  inverse(re: Float64Array, im: Float64Array): void {
    this.run(im, re, 1, undefined, undefined)
  }

  forwardBatch(re: Float64Array, im: Float64Array, batch: number, workRe?: Float64Array, workIm?: Float64Array): void {
    this.run(re, im, batch, workRe, workIm)
  }

  inverseBatch(re: Float64Array, im: Float64Array, batch: number, workRe?: Float64Array, workIm?: Float64Array): void {
    // The swap trick swaps the work buffers too, so each keeps its role.
    this.run(im, re, batch, workIm, workRe)
  }

  private run(re: Float64Array, im: Float64Array, batch: number, workRe: Float64Array | undefined, workIm: Float64Array | undefined): void {
    const n = this.n
    const total = n * batch
    if (!(Number.isInteger(batch) && batch >= 1) || re.length < total || im.length < total) {
      throw new RangeError(`FFT(${n}) x ${batch}: arrays of length ${re.length}/${im.length} are too short`)
    }
    let yr: Float64Array
    let yi: Float64Array
    if (workRe && workIm) {
      if (workRe.length < total || workIm.length < total) {
        throw new RangeError(`FFT(${n}) x ${batch}: work arrays of length ${workRe.length}/${workIm.length} are too short`)
      }
      if (workRe === re || workRe === im || workIm === re || workIm === im || workRe === workIm) {
        throw new RangeError(`FFT(${n}): work arrays must be distinct from the data and from each other`)
      }
      yr = workRe
      yi = workIm
    } else {
      if (this.workRe.length < total) {
        // Grows once to the largest batch a caller uses; steady-state calls never allocate.
        this.workRe = new Float64Array(total)
        this.workIm = new Float64Array(total)
      }
      yr = this.workRe
      yi = this.workIm
    }
    const ns = this.radices.length
    const tw = this.tw
    let xr = re
    let xi = im
    for (let st = 0; st < ns; st++) {
      const p = this.radices[st]!
      const m = this.stageM[st]!
      const sB = this.stageS[st]! * batch
      const to = this.stageTw[st]!
      // An odd stage count would leave the result in the work buffer; the last stage (m = 1)
      // is safe in place, so run it there instead of copying afterwards.
      const inPlace = st === ns - 1 && (ns & 1) === 1
      const dr = inPlace ? xr : yr
      const di = inPlace ? xi : yi
      switch (p) {
        case 8:
          radix8(xr, xi, dr, di, tw, to, m, sB)
          break
        case 4:
          radix4(xr, xi, dr, di, tw, to, m, sB)
          break
        case 2:
          radix2(xr, xi, dr, di, tw, to, m, sB)
          break
        case 3:
          radix3(xr, xi, dr, di, tw, to, m, sB)
          break
        case 6:
          radix6(xr, xi, dr, di, tw, to, m, sB)
          break
        case 9:
          radix9(xr, xi, dr, di, tw, to, m, sB)
          break
        case 5:
          radix5(xr, xi, dr, di, tw, to, m, sB)
          break
        default:
          radix7(xr, xi, dr, di, tw, to, m, sB)
          break
      }
      if (!inPlace) {
        const tr = xr
        const ti = xi
        xr = yr
        xi = yi
        yr = tr
        yi = ti
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Stockham DIF stages. For radix p, sub-length len = p * m and run length sB = s * batch:
//   a_r = x[(p0 + r*m) * sB + i],  y[(p*p0 + k) * sB + i] = w^(k*p0) * sum_r a_r * exp(-2*pi*i*r*k/p)
// for p0 < m, i < sB. The p0 = 0 block has unit twiddles and skips the multiplies.
// ---------------------------------------------------------------------------------------

function radix2(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, to: number, m: number, sB: number): void {
  const h = m * sB
  for (let i = 0; i < sB; i++) {
    const ar = xr[i]!,
      ai = xi[i]!,
      br = xr[i + h]!,
      bi = xi[i + h]!
    yr[i] = ar + br
    yi[i] = ai + bi
    yr[i + sB] = ar - br
    yi[i + sB] = ai - bi
  }
  for (let p0 = 1; p0 < m; p0++) {
    const wr = tw[to + 2 * p0]!,
      wi = tw[to + 2 * p0 + 1]!
    const ib = p0 * sB
    const ob = 2 * p0 * sB
    for (let i = 0; i < sB; i++) {
      const a = ib + i
      const ar = xr[a]!,
        ai = xi[a]!,
        br = xr[a + h]!,
        bi = xi[a + h]!
      const o = ob + i
      yr[o] = ar + br
      yi[o] = ai + bi
      const dr = ar - br,
        di = ai - bi
      yr[o + sB] = dr * wr - di * wi
      yi[o + sB] = dr * wi + di * wr
    }
  }
}

function radix4(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, to: number, m: number, sB: number): void {
  const h = m * sB
  const h2 = 2 * h,
    h3 = 3 * h
  const s2 = 2 * sB,
    s3 = 3 * sB
  for (let i = 0; i < sB; i++) {
    const ar = xr[i]!,
      ai = xi[i]!
    const br = xr[i + h]!,
      bi = xi[i + h]!
    const cr = xr[i + h2]!,
      ci = xi[i + h2]!
    const dr = xr[i + h3]!,
      di = xi[i + h3]!
    const apcr = ar + cr,
      apci = ai + ci,
      amcr = ar - cr,
      amci = ai - ci
    const bpdr = br + dr,
      bpdi = bi + di,
      bmdr = br - dr,
      bmdi = bi - di
    yr[i] = apcr + bpdr
    yi[i] = apci + bpdi
    yr[i + sB] = amcr + bmdi
    yi[i + sB] = amci - bmdr
    yr[i + s2] = apcr - bpdr
    yi[i + s2] = apci - bpdi
    yr[i + s3] = amcr - bmdi
    yi[i + s3] = amci + bmdr
  }
  for (let p0 = 1; p0 < m; p0++) {
    const t = to + 6 * p0
    const w1r = tw[t]!,
      w1i = tw[t + 1]!,
      w2r = tw[t + 2]!,
      w2i = tw[t + 3]!,
      w3r = tw[t + 4]!,
      w3i = tw[t + 5]!
    const ib = p0 * sB
    const ob = 4 * p0 * sB
    for (let i = 0; i < sB; i++) {
      const a = ib + i
      const ar = xr[a]!,
        ai = xi[a]!
      const br = xr[a + h]!,
        bi = xi[a + h]!
      const cr = xr[a + h2]!,
        ci = xi[a + h2]!
      const dr = xr[a + h3]!,
        di = xi[a + h3]!
      const apcr = ar + cr,
        apci = ai + ci,
        amcr = ar - cr,
        amci = ai - ci
      const bpdr = br + dr,
        bpdi = bi + di,
        bmdr = br - dr,
        bmdi = bi - di
      const o = ob + i
      yr[o] = apcr + bpdr
      yi[o] = apci + bpdi
      const y1r = amcr + bmdi,
        y1i = amci - bmdr
      yr[o + sB] = y1r * w1r - y1i * w1i
      yi[o + sB] = y1r * w1i + y1i * w1r
      const y2r = apcr - bpdr,
        y2i = apci - bpdi
      yr[o + s2] = y2r * w2r - y2i * w2i
      yi[o + s2] = y2r * w2i + y2i * w2r
      const y3r = amcr - bmdi,
        y3i = amci + bmdr
      yr[o + s3] = y3r * w3r - y3i * w3i
      yi[o + s3] = y3r * w3i + y3i * w3r
    }
  }
}

const R2 = Math.SQRT1_2

function radix8(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, to: number, m: number, sB: number): void {
  const h = m * sB
  for (let p0 = 0; p0 < m; p0++) {
    const t = to + 14 * p0
    const ib = p0 * sB
    const ob = 8 * p0 * sB
    if (p0 === 0) {
      for (let i = 0; i < sB; i++) {
        const a = ib + i
        // Radix-2 split into halves, then one radix-4 on the sums (even outputs) and one on
        // the differences pre-rotated by exp(-i*pi*r/4) (odd outputs).
        let ar = xr[a]!,
          ai = xi[a]!,
          br = xr[a + 4 * h]!,
          bi = xi[a + 4 * h]!
        const s0r = ar + br,
          s0i = ai + bi,
          d0r = ar - br,
          d0i = ai - bi
        ar = xr[a + h]!
        ai = xi[a + h]!
        br = xr[a + 5 * h]!
        bi = xi[a + 5 * h]!
        const s1r = ar + br,
          s1i = ai + bi
        let er = ar - br,
          ei = ai - bi
        const d1r = R2 * (er + ei),
          d1i = R2 * (ei - er)
        ar = xr[a + 2 * h]!
        ai = xi[a + 2 * h]!
        br = xr[a + 6 * h]!
        bi = xi[a + 6 * h]!
        const s2r = ar + br,
          s2i = ai + bi,
          d2r = ai - bi,
          d2i = br - ar
        ar = xr[a + 3 * h]!
        ai = xi[a + 3 * h]!
        br = xr[a + 7 * h]!
        bi = xi[a + 7 * h]!
        const s3r = ar + br,
          s3i = ai + bi
        er = ar - br
        ei = ai - bi
        const d3r = R2 * (ei - er),
          d3i = -R2 * (er + ei)
        const o = ob + i
        let pr = s0r + s2r,
          pi = s0i + s2i,
          mr = s0r - s2r,
          mi = s0i - s2i
        let qr = s1r + s3r,
          qi = s1i + s3i,
          nr = s1r - s3r,
          ni = s1i - s3i
        yr[o] = pr + qr
        yi[o] = pi + qi
        yr[o + 2 * sB] = mr + ni
        yi[o + 2 * sB] = mi - nr
        yr[o + 4 * sB] = pr - qr
        yi[o + 4 * sB] = pi - qi
        yr[o + 6 * sB] = mr - ni
        yi[o + 6 * sB] = mi + nr
        pr = d0r + d2r
        pi = d0i + d2i
        mr = d0r - d2r
        mi = d0i - d2i
        qr = d1r + d3r
        qi = d1i + d3i
        nr = d1r - d3r
        ni = d1i - d3i
        yr[o + sB] = pr + qr
        yi[o + sB] = pi + qi
        yr[o + 3 * sB] = mr + ni
        yi[o + 3 * sB] = mi - nr
        yr[o + 5 * sB] = pr - qr
        yi[o + 5 * sB] = pi - qi
        yr[o + 7 * sB] = mr - ni
        yi[o + 7 * sB] = mi + nr
      }
      continue
    }
    for (let i = 0; i < sB; i++) {
      const a = ib + i
      let ar = xr[a]!,
        ai = xi[a]!,
        br = xr[a + 4 * h]!,
        bi = xi[a + 4 * h]!
      const s0r = ar + br,
        s0i = ai + bi,
        d0r = ar - br,
        d0i = ai - bi
      ar = xr[a + h]!
      ai = xi[a + h]!
      br = xr[a + 5 * h]!
      bi = xi[a + 5 * h]!
      const s1r = ar + br,
        s1i = ai + bi
      let er = ar - br,
        ei = ai - bi
      const d1r = R2 * (er + ei),
        d1i = R2 * (ei - er)
      ar = xr[a + 2 * h]!
      ai = xi[a + 2 * h]!
      br = xr[a + 6 * h]!
      bi = xi[a + 6 * h]!
      const s2r = ar + br,
        s2i = ai + bi,
        d2r = ai - bi,
        d2i = br - ar
      ar = xr[a + 3 * h]!
      ai = xi[a + 3 * h]!
      br = xr[a + 7 * h]!
      bi = xi[a + 7 * h]!
      const s3r = ar + br,
        s3i = ai + bi
      er = ar - br
      ei = ai - bi
      const d3r = R2 * (ei - er),
        d3i = -R2 * (er + ei)
      const o = ob + i
      let pr = s0r + s2r,
        pi = s0i + s2i,
        mr = s0r - s2r,
        mi = s0i - s2i
      let qr = s1r + s3r,
        qi = s1i + s3i,
        nr = s1r - s3r,
        ni = s1i - s3i
      yr[o] = pr + qr
      yi[o] = pi + qi
      // Twiddles are re-read from the table per use: holding all 14 in registers spills.
      let vr = mr + ni,
        vi = mi - nr
      let wr = tw[t + 2]!,
        wi = tw[t + 3]!
      yr[o + 2 * sB] = vr * wr - vi * wi
      yi[o + 2 * sB] = vr * wi + vi * wr
      vr = pr - qr
      vi = pi - qi
      wr = tw[t + 6]!
      wi = tw[t + 7]!
      yr[o + 4 * sB] = vr * wr - vi * wi
      yi[o + 4 * sB] = vr * wi + vi * wr
      vr = mr - ni
      vi = mi + nr
      wr = tw[t + 10]!
      wi = tw[t + 11]!
      yr[o + 6 * sB] = vr * wr - vi * wi
      yi[o + 6 * sB] = vr * wi + vi * wr
      pr = d0r + d2r
      pi = d0i + d2i
      mr = d0r - d2r
      mi = d0i - d2i
      qr = d1r + d3r
      qi = d1i + d3i
      nr = d1r - d3r
      ni = d1i - d3i
      vr = pr + qr
      vi = pi + qi
      wr = tw[t]!
      wi = tw[t + 1]!
      yr[o + sB] = vr * wr - vi * wi
      yi[o + sB] = vr * wi + vi * wr
      vr = mr + ni
      vi = mi - nr
      wr = tw[t + 4]!
      wi = tw[t + 5]!
      yr[o + 3 * sB] = vr * wr - vi * wi
      yi[o + 3 * sB] = vr * wi + vi * wr
      vr = pr - qr
      vi = pi - qi
      wr = tw[t + 8]!
      wi = tw[t + 9]!
      yr[o + 5 * sB] = vr * wr - vi * wi
      yi[o + 5 * sB] = vr * wi + vi * wr
      vr = mr - ni
      vi = mi + nr
      wr = tw[t + 12]!
      wi = tw[t + 13]!
      yr[o + 7 * sB] = vr * wr - vi * wi
      yi[o + 7 * sB] = vr * wi + vi * wr
    }
  }
}

const C3 = -0.5
const S3 = Math.sqrt(3) / 2

function radix3(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, to: number, m: number, sB: number): void {
  const h = m * sB
  const h2 = 2 * h
  const s2 = 2 * sB
  for (let p0 = 0; p0 < m; p0++) {
    const t = to + 4 * p0
    const w1r = tw[t]!,
      w1i = tw[t + 1]!,
      w2r = tw[t + 2]!,
      w2i = tw[t + 3]!
    const ib = p0 * sB
    const ob = 3 * p0 * sB
    const unit = p0 === 0
    for (let i = 0; i < sB; i++) {
      const a = ib + i
      const a0r = xr[a]!,
        a0i = xi[a]!
      const a1r = xr[a + h]!,
        a1i = xi[a + h]!
      const a2r = xr[a + h2]!,
        a2i = xi[a + h2]!
      const tr = a1r + a2r,
        ti = a1i + a2i
      const ur = S3 * (a1r - a2r),
        ui = S3 * (a1i - a2i)
      const Ar = a0r + C3 * tr,
        Ai = a0i + C3 * ti
      const o = ob + i
      yr[o] = a0r + tr
      yi[o] = a0i + ti
      const b1r = Ar + ui,
        b1i = Ai - ur
      const b2r = Ar - ui,
        b2i = Ai + ur
      if (unit) {
        yr[o + sB] = b1r
        yi[o + sB] = b1i
        yr[o + s2] = b2r
        yi[o + s2] = b2i
      } else {
        yr[o + sB] = b1r * w1r - b1i * w1i
        yi[o + sB] = b1r * w1i + b1i * w1r
        yr[o + s2] = b2r * w2r - b2i * w2i
        yi[o + s2] = b2r * w2i + b2i * w2r
      }
    }
  }
}

/**
 * Radix 6 as 2 x 3: sums and differences of the halves, then a DFT3 of the sums (even outputs)
 * and of the differences rotated by exp(-i*pi*r/3) (odd outputs).
 */
function radix6(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, to: number, m: number, sB: number): void {
  const h = m * sB
  for (let p0 = 0; p0 < m; p0++) {
    const t = to + 10 * p0
    const ib = p0 * sB
    const ob = 6 * p0 * sB
    const unit = p0 === 0
    for (let i = 0; i < sB; i++) {
      const a = ib + i
      let ar = xr[a]!,
        ai = xi[a]!,
        br = xr[a + 3 * h]!,
        bi = xi[a + 3 * h]!
      const s0r = ar + br,
        s0i = ai + bi,
        d0r = ar - br,
        d0i = ai - bi
      ar = xr[a + h]!
      ai = xi[a + h]!
      br = xr[a + 4 * h]!
      bi = xi[a + 4 * h]!
      const s1r = ar + br,
        s1i = ai + bi
      let er = ar - br,
        ei = ai - bi
      const d1r = 0.5 * er + S3 * ei,
        d1i = 0.5 * ei - S3 * er
      ar = xr[a + 2 * h]!
      ai = xi[a + 2 * h]!
      br = xr[a + 5 * h]!
      bi = xi[a + 5 * h]!
      const s2r = ar + br,
        s2i = ai + bi
      er = ar - br
      ei = ai - bi
      const d2r = S3 * ei - 0.5 * er,
        d2i = -0.5 * ei - S3 * er
      const o = ob + i
      let tr = s1r + s2r,
        ti = s1i + s2i,
        ur = S3 * (s1r - s2r),
        ui = S3 * (s1i - s2i)
      let Ar = s0r + C3 * tr,
        Ai = s0i + C3 * ti
      const b0r = s0r + tr,
        b0i = s0i + ti
      const b2r = Ar + ui,
        b2i = Ai - ur
      const b4r = Ar - ui,
        b4i = Ai + ur
      tr = d1r + d2r
      ti = d1i + d2i
      ur = S3 * (d1r - d2r)
      ui = S3 * (d1i - d2i)
      Ar = d0r + C3 * tr
      Ai = d0i + C3 * ti
      const b1r = d0r + tr,
        b1i = d0i + ti
      const b3r = Ar + ui,
        b3i = Ai - ur
      const b5r = Ar - ui,
        b5i = Ai + ur
      yr[o] = b0r
      yi[o] = b0i
      if (unit) {
        yr[o + sB] = b1r
        yi[o + sB] = b1i
        yr[o + 2 * sB] = b2r
        yi[o + 2 * sB] = b2i
        yr[o + 3 * sB] = b3r
        yi[o + 3 * sB] = b3i
        yr[o + 4 * sB] = b4r
        yi[o + 4 * sB] = b4i
        yr[o + 5 * sB] = b5r
        yi[o + 5 * sB] = b5i
      } else {
        let wr = tw[t]!,
          wi = tw[t + 1]!
        yr[o + sB] = b1r * wr - b1i * wi
        yi[o + sB] = b1r * wi + b1i * wr
        wr = tw[t + 2]!
        wi = tw[t + 3]!
        yr[o + 2 * sB] = b2r * wr - b2i * wi
        yi[o + 2 * sB] = b2r * wi + b2i * wr
        wr = tw[t + 4]!
        wi = tw[t + 5]!
        yr[o + 3 * sB] = b3r * wr - b3i * wi
        yi[o + 3 * sB] = b3r * wi + b3i * wr
        wr = tw[t + 6]!
        wi = tw[t + 7]!
        yr[o + 4 * sB] = b4r * wr - b4i * wi
        yi[o + 4 * sB] = b4r * wi + b4i * wr
        wr = tw[t + 8]!
        wi = tw[t + 9]!
        yr[o + 5 * sB] = b5r * wr - b5i * wi
        yi[o + 5 * sB] = b5r * wi + b5i * wr
      }
    }
  }
}

const C91 = Math.cos((2 * Math.PI) / 9)
const S91 = Math.sin((2 * Math.PI) / 9)
const C92 = Math.cos((4 * Math.PI) / 9)
const S92 = Math.sin((4 * Math.PI) / 9)
const C94 = Math.cos((8 * Math.PI) / 9)
const S94 = Math.sin((8 * Math.PI) / 9)

/**
 * Radix 9 as 3 x 3: DFT3 over the thirds (a_r1, a_r1+3, a_r1+6), internal twiddles
 * exp(-2*pi*i*r1*k2/9), then DFT3 over r1 giving output k2 + 3*k1. Two of these replace four
 * radix-3 passes over the data, which dominate 3-smooth lengths such as 162 and 270. Unlike the
 * other kernels it multiplies by the table's unit twiddles at p0 = 0 too: the branch measured
 * no faster here, and the wasted multiplies only matter where a 9 ends the plan (odd lengths
 * such as 81; even ones end in a radix-6/2/8 stage).
 */
function radix9(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, to: number, m: number, sB: number): void {
  const h = m * sB
  for (let p0 = 0; p0 < m; p0++) {
    const t = to + 16 * p0
    const ib = p0 * sB
    const ob = 9 * p0 * sB
    for (let i = 0; i < sB; i++) {
      const a = ib + i
      // First DFT3s: group r1 = 0, 1, 2 -> (Y_r1[0], Y_r1[1], Y_r1[2]).
      let x0r = xr[a]!,
        x0i = xi[a]!,
        x1r = xr[a + 3 * h]!,
        x1i = xi[a + 3 * h]!,
        x2r = xr[a + 6 * h]!,
        x2i = xi[a + 6 * h]!
      let tr = x1r + x2r,
        ti = x1i + x2i,
        ur = S3 * (x1r - x2r),
        ui = S3 * (x1i - x2i)
      let Ar = x0r + C3 * tr,
        Ai = x0i + C3 * ti
      const y00r = x0r + tr,
        y00i = x0i + ti
      const y01r = Ar + ui,
        y01i = Ai - ur
      const y02r = Ar - ui,
        y02i = Ai + ur
      x0r = xr[a + h]!
      x0i = xi[a + h]!
      x1r = xr[a + 4 * h]!
      x1i = xi[a + 4 * h]!
      x2r = xr[a + 7 * h]!
      x2i = xi[a + 7 * h]!
      tr = x1r + x2r
      ti = x1i + x2i
      ur = S3 * (x1r - x2r)
      ui = S3 * (x1i - x2i)
      Ar = x0r + C3 * tr
      Ai = x0i + C3 * ti
      const y10r = x0r + tr,
        y10i = x0i + ti
      let vr = Ar + ui,
        vi = Ai - ur
      const y11r = vr * C91 + vi * S91,
        y11i = vi * C91 - vr * S91
      vr = Ar - ui
      vi = Ai + ur
      const y12r = vr * C92 + vi * S92,
        y12i = vi * C92 - vr * S92
      x0r = xr[a + 2 * h]!
      x0i = xi[a + 2 * h]!
      x1r = xr[a + 5 * h]!
      x1i = xi[a + 5 * h]!
      x2r = xr[a + 8 * h]!
      x2i = xi[a + 8 * h]!
      tr = x1r + x2r
      ti = x1i + x2i
      ur = S3 * (x1r - x2r)
      ui = S3 * (x1i - x2i)
      Ar = x0r + C3 * tr
      Ai = x0i + C3 * ti
      const y20r = x0r + tr,
        y20i = x0i + ti
      vr = Ar + ui
      vi = Ai - ur
      const y21r = vr * C92 + vi * S92,
        y21i = vi * C92 - vr * S92
      vr = Ar - ui
      vi = Ai + ur
      const y22r = vr * C94 + vi * S94,
        y22i = vi * C94 - vr * S94
      const o = ob + i
      // Second DFT3s over r1, one per k2; outputs k2, k2 + 3, k2 + 6.
      let sr = y10r + y20r,
        si = y10i + y20i,
        dr = S3 * (y10r - y20r),
        di = S3 * (y10i - y20i)
      let Br = y00r + C3 * sr,
        Bi = y00i + C3 * si
      yr[o] = y00r + sr
      yi[o] = y00i + si
      let b1r = Br + di,
        b1i = Bi - dr,
        b2r = Br - di,
        b2i = Bi + dr
      let wr = tw[t + 4]!,
        wi = tw[t + 5]!
      yr[o + 3 * sB] = b1r * wr - b1i * wi
      yi[o + 3 * sB] = b1r * wi + b1i * wr
      wr = tw[t + 10]!
      wi = tw[t + 11]!
      yr[o + 6 * sB] = b2r * wr - b2i * wi
      yi[o + 6 * sB] = b2r * wi + b2i * wr
      sr = y11r + y21r
      si = y11i + y21i
      dr = S3 * (y11r - y21r)
      di = S3 * (y11i - y21i)
      Br = y01r + C3 * sr
      Bi = y01i + C3 * si
      let b0r = y01r + sr,
        b0i = y01i + si
      b1r = Br + di
      b1i = Bi - dr
      b2r = Br - di
      b2i = Bi + dr
      wr = tw[t]!
      wi = tw[t + 1]!
      yr[o + sB] = b0r * wr - b0i * wi
      yi[o + sB] = b0r * wi + b0i * wr
      wr = tw[t + 6]!
      wi = tw[t + 7]!
      yr[o + 4 * sB] = b1r * wr - b1i * wi
      yi[o + 4 * sB] = b1r * wi + b1i * wr
      wr = tw[t + 12]!
      wi = tw[t + 13]!
      yr[o + 7 * sB] = b2r * wr - b2i * wi
      yi[o + 7 * sB] = b2r * wi + b2i * wr
      sr = y12r + y22r
      si = y12i + y22i
      dr = S3 * (y12r - y22r)
      di = S3 * (y12i - y22i)
      Br = y02r + C3 * sr
      Bi = y02i + C3 * si
      b0r = y02r + sr
      b0i = y02i + si
      b1r = Br + di
      b1i = Bi - dr
      b2r = Br - di
      b2i = Bi + dr
      wr = tw[t + 2]!
      wi = tw[t + 3]!
      yr[o + 2 * sB] = b0r * wr - b0i * wi
      yi[o + 2 * sB] = b0r * wi + b0i * wr
      wr = tw[t + 8]!
      wi = tw[t + 9]!
      yr[o + 5 * sB] = b1r * wr - b1i * wi
      yi[o + 5 * sB] = b1r * wi + b1i * wr
      wr = tw[t + 14]!
      wi = tw[t + 15]!
      yr[o + 8 * sB] = b2r * wr - b2i * wi
      yi[o + 8 * sB] = b2r * wi + b2i * wr
    }
  }
}

const C51 = Math.cos((2 * Math.PI) / 5)
const C52 = Math.cos((4 * Math.PI) / 5)
const S51 = Math.sin((2 * Math.PI) / 5)
const S52 = Math.sin((4 * Math.PI) / 5)

function radix5(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, to: number, m: number, sB: number): void {
  const h = m * sB
  const s2 = 2 * sB,
    s3 = 3 * sB,
    s4 = 4 * sB
  for (let p0 = 0; p0 < m; p0++) {
    const t = to + 8 * p0
    const w1r = tw[t]!,
      w1i = tw[t + 1]!,
      w2r = tw[t + 2]!,
      w2i = tw[t + 3]!
    const w3r = tw[t + 4]!,
      w3i = tw[t + 5]!,
      w4r = tw[t + 6]!,
      w4i = tw[t + 7]!
    const ib = p0 * sB
    const ob = 5 * p0 * sB
    const unit = p0 === 0
    for (let i = 0; i < sB; i++) {
      const a = ib + i
      const a0r = xr[a]!,
        a0i = xi[a]!
      const a1r = xr[a + h]!,
        a1i = xi[a + h]!
      const a2r = xr[a + 2 * h]!,
        a2i = xi[a + 2 * h]!
      const a3r = xr[a + 3 * h]!,
        a3i = xi[a + 3 * h]!
      const a4r = xr[a + 4 * h]!,
        a4i = xi[a + 4 * h]!
      const t1r = a1r + a4r,
        t1i = a1i + a4i,
        u1r = a1r - a4r,
        u1i = a1i - a4i
      const t2r = a2r + a3r,
        t2i = a2i + a3i,
        u2r = a2r - a3r,
        u2i = a2i - a3i
      const A1r = a0r + C51 * t1r + C52 * t2r,
        A1i = a0i + C51 * t1i + C52 * t2i
      const A2r = a0r + C52 * t1r + C51 * t2r,
        A2i = a0i + C52 * t1i + C51 * t2i
      const B1r = S51 * u1r + S52 * u2r,
        B1i = S51 * u1i + S52 * u2i
      const B2r = S52 * u1r - S51 * u2r,
        B2i = S52 * u1i - S51 * u2i
      const o = ob + i
      yr[o] = a0r + t1r + t2r
      yi[o] = a0i + t1i + t2i
      const b1r = A1r + B1i,
        b1i = A1i - B1r
      const b4r = A1r - B1i,
        b4i = A1i + B1r
      const b2r = A2r + B2i,
        b2i = A2i - B2r
      const b3r = A2r - B2i,
        b3i = A2i + B2r
      if (unit) {
        yr[o + sB] = b1r
        yi[o + sB] = b1i
        yr[o + s2] = b2r
        yi[o + s2] = b2i
        yr[o + s3] = b3r
        yi[o + s3] = b3i
        yr[o + s4] = b4r
        yi[o + s4] = b4i
      } else {
        yr[o + sB] = b1r * w1r - b1i * w1i
        yi[o + sB] = b1r * w1i + b1i * w1r
        yr[o + s2] = b2r * w2r - b2i * w2i
        yi[o + s2] = b2r * w2i + b2i * w2r
        yr[o + s3] = b3r * w3r - b3i * w3i
        yi[o + s3] = b3r * w3i + b3i * w3r
        yr[o + s4] = b4r * w4r - b4i * w4i
        yi[o + s4] = b4r * w4i + b4i * w4r
      }
    }
  }
}

const C71 = Math.cos((2 * Math.PI) / 7)
const C72 = Math.cos((4 * Math.PI) / 7)
const C73 = Math.cos((6 * Math.PI) / 7)
const S71 = Math.sin((2 * Math.PI) / 7)
const S72 = Math.sin((4 * Math.PI) / 7)
const S73 = Math.sin((6 * Math.PI) / 7)

function radix7(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, to: number, m: number, sB: number): void {
  const h = m * sB
  for (let p0 = 0; p0 < m; p0++) {
    const t = to + 12 * p0
    const ib = p0 * sB
    const ob = 7 * p0 * sB
    const unit = p0 === 0
    for (let i = 0; i < sB; i++) {
      const a = ib + i
      const a0r = xr[a]!,
        a0i = xi[a]!
      const a1r = xr[a + h]!,
        a1i = xi[a + h]!
      const a2r = xr[a + 2 * h]!,
        a2i = xi[a + 2 * h]!
      const a3r = xr[a + 3 * h]!,
        a3i = xi[a + 3 * h]!
      const a4r = xr[a + 4 * h]!,
        a4i = xi[a + 4 * h]!
      const a5r = xr[a + 5 * h]!,
        a5i = xi[a + 5 * h]!
      const a6r = xr[a + 6 * h]!,
        a6i = xi[a + 6 * h]!
      const t1r = a1r + a6r,
        t1i = a1i + a6i,
        u1r = a1r - a6r,
        u1i = a1i - a6i
      const t2r = a2r + a5r,
        t2i = a2i + a5i,
        u2r = a2r - a5r,
        u2i = a2i - a5i
      const t3r = a3r + a4r,
        t3i = a3i + a4i,
        u3r = a3r - a4r,
        u3i = a3i - a4i
      const A1r = a0r + C71 * t1r + C72 * t2r + C73 * t3r,
        A1i = a0i + C71 * t1i + C72 * t2i + C73 * t3i
      const A2r = a0r + C72 * t1r + C73 * t2r + C71 * t3r,
        A2i = a0i + C72 * t1i + C73 * t2i + C71 * t3i
      const A3r = a0r + C73 * t1r + C71 * t2r + C72 * t3r,
        A3i = a0i + C73 * t1i + C71 * t2i + C72 * t3i
      const B1r = S71 * u1r + S72 * u2r + S73 * u3r,
        B1i = S71 * u1i + S72 * u2i + S73 * u3i
      const B2r = S72 * u1r - S73 * u2r - S71 * u3r,
        B2i = S72 * u1i - S73 * u2i - S71 * u3i
      const B3r = S73 * u1r - S71 * u2r + S72 * u3r,
        B3i = S73 * u1i - S71 * u2i + S72 * u3i
      const o = ob + i
      yr[o] = a0r + t1r + t2r + t3r
      yi[o] = a0i + t1i + t2i + t3i
      // b_k = A_k - i B_k and b_(7-k) = A_k + i B_k.
      const b1r = A1r + B1i,
        b1i = A1i - B1r,
        b6r = A1r - B1i,
        b6i = A1i + B1r
      const b2r = A2r + B2i,
        b2i = A2i - B2r,
        b5r = A2r - B2i,
        b5i = A2i + B2r
      const b3r = A3r + B3i,
        b3i = A3i - B3r,
        b4r = A3r - B3i,
        b4i = A3i + B3r
      if (unit) {
        yr[o + sB] = b1r
        yi[o + sB] = b1i
        yr[o + 2 * sB] = b2r
        yi[o + 2 * sB] = b2i
        yr[o + 3 * sB] = b3r
        yi[o + 3 * sB] = b3i
        yr[o + 4 * sB] = b4r
        yi[o + 4 * sB] = b4i
        yr[o + 5 * sB] = b5r
        yi[o + 5 * sB] = b5i
        yr[o + 6 * sB] = b6r
        yi[o + 6 * sB] = b6i
      } else {
        let wr = tw[t]!,
          wi = tw[t + 1]!
        yr[o + sB] = b1r * wr - b1i * wi
        yi[o + sB] = b1r * wi + b1i * wr
        wr = tw[t + 2]!
        wi = tw[t + 3]!
        yr[o + 2 * sB] = b2r * wr - b2i * wi
        yi[o + 2 * sB] = b2r * wi + b2i * wr
        wr = tw[t + 4]!
        wi = tw[t + 5]!
        yr[o + 3 * sB] = b3r * wr - b3i * wi
        yi[o + 3 * sB] = b3r * wi + b3i * wr
        wr = tw[t + 6]!
        wi = tw[t + 7]!
        yr[o + 4 * sB] = b4r * wr - b4i * wi
        yi[o + 4 * sB] = b4r * wi + b4i * wr
        wr = tw[t + 8]!
        wi = tw[t + 9]!
        yr[o + 5 * sB] = b5r * wr - b5i * wi
        yi[o + 5 * sB] = b5r * wi + b5i * wr
        wr = tw[t + 10]!
        wi = tw[t + 11]!
        yr[o + 6 * sB] = b6r * wr - b6i * wi
        yi[o + 6 * sB] = b6r * wi + b6i * wr
      }
    }
  }
}
