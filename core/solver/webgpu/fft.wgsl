// One axis of the 3D FFT, Stockham autosort with mixed radices 8, 4, 2, 3, 5, 7, in two designs
// that share the butterflies and the twiddle table:
//
// - "workgroup" (entry points forward_x, inverse_x, strided): each workgroup loads whole lines
//   into workgroup memory, runs every stage there (ping-pong between the two halves of `tile`,
//   a barrier per stage) and writes the lines back: one read and one write of the grid per
//   axis. Lines are disjoint between workgroups, so the y and z passes run in place. The
//   choice for hardware GPUs.
// - "global" (entry point stage, plus unpack_x for grids without y and z stages): one
//   dispatch per stage, one invocation per butterfly, ping-pong between two grid-sized buffers,
//   no workgroup memory and no barriers; the x (un)packing rides on the neighbouring stage's
//   loads. More memory traffic, but software rasterisers (SwiftShader) run
//   barrier-synchronised workgroups with zero-filled workgroup memory several times slower.
//
// Layout matches core/fft/fft3d.ts: real fields nx*ny*nz, half spectrum nxh*ny*nz with
// nxh = nx/2 + 1, x fastest, interleaved re/im. The x passes are real-to-complex /
// complex-to-real by packing two real lines a, b into one complex line z = a + i b (any nx):
//   A[k] = (Z[k] + conj Z[n-k]) / 2,   B[k] = (Z[k] - conj Z[n-k]) / (2 i),
// and back, Z = A + i B with A, B extended by Hermitian symmetry. Like NumPy's irfft (and the CPU
// inverse) the imaginary parts a Hermitian line cannot have (k = 0 and k = n/2) are dropped
// before packing; otherwise they would leak into the partner line.
//
// Twiddles come from a table computed in float64 on the host, (cos t, sin t) of the positive
// angle; `direction` (-1 forward, +1 inverse) picks e^{-it} or e^{+it}. In-shader sin/cos are
// not accurate enough on every GPU for a 1e-7 transform. The odd-radix butterflies pair
// x_j with x_{r-j} (cos terms on the sums, sin terms on the differences), literals below are
// cos/sin(2 pi k / r) to double precision.

override WORKGROUP_SIZE: u32 = 64u;
// Workgroup design: two halves of TILE_ELEMENTS / 2 complex values (lines per tile * (n + ROW_PAD) each).
override TILE_ELEMENTS: u32 = 1024u;
// Global design: the radix of this dispatch's stage (a constant, so the unused butterflies
// compile away).
override RADIX: u32 = 2u;
// Workgroup design: 1 runs the butterfly's load and store loops to the constant bound 8 with a
// guard (the driver unrolls them and keeps x in registers); 0 loops to the stage's radix, a
// bound known only at run time, which some compilers serve by spilling x to memory.
override UNROLL_RADIX: u32 = 1u;
// Workgroup design: padding between the lines of a tile (0 or 1 complex value). Lines of 2^k
// points start in the same memory bank, so the y and z passes, whose threads touch neighbouring
// lines at the same index, conflict several ways without it.
override ROW_PAD: u32 = 0u;

// cos(pi / 4); cos and sin of 2 pi k / r for r = 3, 5, 7.
const R8 = 0.7071067811865476;
const C3 = -0.5;
const S3 = 0.8660254037844387;
const C5_1 = 0.30901699437494745;
const S5_1 = 0.9510565162951535;
const C5_2 = -0.8090169943749473;
const S5_2 = 0.5877852522924732;
const C7_1 = 0.6234898018587336;
const S7_1 = 0.7818314824680298;
const C7_2 = -0.22252093395631434;
const S7_2 = 0.9749279121818236;
const C7_3 = -0.900968867902419;
const S7_3 = 0.43388373911755823;

struct Params {
  n: u32,
  stageCount: u32,
  linesPerTile: u32,
  lineCount: u32,
  realLines: u32,
  halfLength: u32,
  packedLength: u32,
  elementStride: u32,
  lineModulus: u32,
  lineStride1: u32,
  lineStride2: u32,
  span: u32,
  twiddleOffset: u32,
  lineFastest: u32,
  direction: f32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Per stage: radix, span (product of the earlier radices), twiddle offset, unused.
@group(0) @binding(1) var<storage, read> stages: array<vec4u>;
@group(0) @binding(2) var<storage, read> twiddles: array<vec2f>;
@group(0) @binding(3) var<storage, read> realIn: array<f32>;
@group(0) @binding(4) var<storage, read_write> realOut: array<f32>;
@group(0) @binding(5) var<storage, read_write> spectrum: array<vec2f>;
@group(0) @binding(6) var<storage, read> complexIn: array<vec2f>;
@group(0) @binding(7) var<storage, read_write> complexOut: array<vec2f>;

var<workgroup> tile: array<vec2f, TILE_ELEMENTS>;

fn cmul(a: vec2f, b: vec2f) -> vec2f {
  return vec2f(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

fn conj(a: vec2f) -> vec2f {
  return vec2f(a.x, -a.y);
}

// i a
fn mulI(a: vec2f) -> vec2f {
  return vec2f(-a.y, a.x);
}

fn twiddle(index: u32) -> vec2f {
  let w = twiddles[index];
  return vec2f(w.x, params.direction * w.y);
}

// Radix-r DFTs, y_q = sum_j x_j e^{direction i 2 pi q j / r}, as straight-line code (no
// private arrays: some compilers, SwiftShader's among them, spill those to memory).
struct Outputs {
  y0: vec2f,
  y1: vec2f,
  y2: vec2f,
  y3: vec2f,
  y4: vec2f,
  y5: vec2f,
  y6: vec2f,
  y7: vec2f,
}

fn dft2(x0: vec2f, x1: vec2f) -> Outputs {
  var o: Outputs;
  o.y0 = x0 + x1;
  o.y1 = x0 - x1;
  return o;
}

fn dft3(x0: vec2f, x1: vec2f, x2: vec2f) -> Outputs {
  let a = x1 + x2;
  let c = x0 + C3 * a;
  let s = (params.direction * S3) * mulI(x1 - x2);
  var o: Outputs;
  o.y0 = x0 + a;
  o.y1 = c + s;
  o.y2 = c - s;
  return o;
}

fn dft4(x0: vec2f, x1: vec2f, x2: vec2f, x3: vec2f) -> Outputs {
  let t0 = x0 + x2;
  let t1 = x0 - x2;
  let t2 = x1 + x3;
  let t3 = params.direction * mulI(x1 - x3);
  var o: Outputs;
  o.y0 = t0 + t2;
  o.y1 = t1 + t3;
  o.y2 = t0 - t2;
  o.y3 = t1 - t3;
  return o;
}

fn dft5(x0: vec2f, x1: vec2f, x2: vec2f, x3: vec2f, x4: vec2f) -> Outputs {
  let d = params.direction;
  let a1 = x1 + x4;
  let b1 = x1 - x4;
  let a2 = x2 + x3;
  let b2 = x2 - x3;
  let c1 = x0 + C5_1 * a1 + C5_2 * a2;
  let s1 = d * mulI(S5_1 * b1 + S5_2 * b2);
  let c2 = x0 + C5_2 * a1 + C5_1 * a2;
  let s2 = d * mulI(S5_2 * b1 - S5_1 * b2);
  var o: Outputs;
  o.y0 = x0 + a1 + a2;
  o.y1 = c1 + s1;
  o.y4 = c1 - s1;
  o.y2 = c2 + s2;
  o.y3 = c2 - s2;
  return o;
}

fn dft7(x0: vec2f, x1: vec2f, x2: vec2f, x3: vec2f, x4: vec2f, x5: vec2f, x6: vec2f) -> Outputs {
  let d = params.direction;
  let a1 = x1 + x6;
  let b1 = x1 - x6;
  let a2 = x2 + x5;
  let b2 = x2 - x5;
  let a3 = x3 + x4;
  let b3 = x3 - x4;
  let c1 = x0 + C7_1 * a1 + C7_2 * a2 + C7_3 * a3;
  let s1 = d * mulI(S7_1 * b1 + S7_2 * b2 + S7_3 * b3);
  let c2 = x0 + C7_2 * a1 + C7_3 * a2 + C7_1 * a3;
  let s2 = d * mulI(S7_2 * b1 - S7_3 * b2 - S7_1 * b3);
  let c3 = x0 + C7_3 * a1 + C7_1 * a2 + C7_2 * a3;
  let s3 = d * mulI(S7_3 * b1 - S7_1 * b2 + S7_2 * b3);
  var o: Outputs;
  o.y0 = x0 + a1 + a2 + a3;
  o.y1 = c1 + s1;
  o.y6 = c1 - s1;
  o.y2 = c2 + s2;
  o.y5 = c2 - s2;
  o.y3 = c3 + s3;
  o.y4 = c3 - s3;
  return o;
}

// Radix 8 as two radix-4 DFTs of the even and odd inputs, joined by w8^q, w8 = e^{direction i pi / 4}.
fn dft8(x0: vec2f, x1: vec2f, x2: vec2f, x3: vec2f, x4: vec2f, x5: vec2f, x6: vec2f, x7: vec2f) -> Outputs {
  let d = params.direction;
  let e = dft4(x0, x2, x4, x6);
  let f = dft4(x1, x3, x5, x7);
  let o1 = R8 * (f.y1 + d * mulI(f.y1));
  let o2 = d * mulI(f.y2);
  let o3 = R8 * (d * mulI(f.y3) - f.y3);
  var o: Outputs;
  o.y0 = e.y0 + f.y0;
  o.y4 = e.y0 - f.y0;
  o.y1 = e.y1 + o1;
  o.y5 = e.y1 - o1;
  o.y2 = e.y2 + o2;
  o.y6 = e.y2 - o2;
  o.y3 = e.y3 + o3;
  o.y7 = e.y3 - o3;
  return o;
}

fn dft(x: array<vec2f, 8>, radix: u32) -> array<vec2f, 8> {
  var o: Outputs;
  switch radix {
    case 2u: {
      o = dft2(x[0], x[1]);
    }
    case 3u: {
      o = dft3(x[0], x[1], x[2]);
    }
    case 4u: {
      o = dft4(x[0], x[1], x[2], x[3]);
    }
    case 5u: {
      o = dft5(x[0], x[1], x[2], x[3], x[4]);
    }
    case 8u: {
      o = dft8(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]);
    }
    default: {
      o = dft7(x[0], x[1], x[2], x[3], x[4], x[5], x[6]);
    }
  }
  return array<vec2f, 8>(o.y0, o.y1, o.y2, o.y3, o.y4, o.y5, o.y6, o.y7);
}

// ---------------------------------------------------------------------------------------------
// Workgroup design.

// Runs all stages on `lines` lines stored line after line from tile[0]; returns the offset of
// the half that holds the result.
fn runStages(lid: u32, lines: u32) -> u32 {
  let half = TILE_ELEMENTS / 2u;
  let n = params.n;
  var src = 0u;
  for (var s = 0u; s < params.stageCount; s++) {
    let stage = stages[s];
    let radix = stage.x;
    let span = stage.y;
    let m = n / radix;
    let dst = half - src;
    for (var b = lid; b < lines * m; b += WORKGROUP_SIZE) {
      let line = b / m;
      let t = b - line * m;
      let k = t % span;
      let base = line * (n + ROW_PAD);
      // Inputs t + j m, twiddled by w^(j k) of the combined length span * radix; outputs
      // (t - k) radix + k + q span.
      let bound = select(radix, 8u, UNROLL_RADIX == 1u);
      var x: array<vec2f, 8>;
      x[0] = tile[src + base + t];
      for (var j = 1u; j < bound; j++) {
        if (j < radix) {
          x[j] = cmul(tile[src + base + t + j * m], twiddle(stage.z + k * (radix - 1u) + j - 1u));
        }
      }
      let y = dft(x, radix);
      let out = dst + base + (t - k) * radix + k;
      for (var q = 0u; q < bound; q++) {
        if (q < radix) {
          tile[out + q * span] = y[q];
        }
      }
    }
    workgroupBarrier();
    src = dst;
  }
  return src;
}

// Real-to-complex along x: realIn (nx per line, ny*nz lines) -> complexOut (nxh per line).
@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_x(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let first = (wid.x + wid.y * nwg.x) * params.linesPerTile;
  if (first >= params.lineCount) {
    return;
  }
  let lines = min(params.linesPerTile, params.lineCount - first);
  let n = params.n;
  let h = params.halfLength;
  for (var e = lid; e < lines * n; e += WORKGROUP_SIZE) {
    let line = e / n;
    let j = e - line * n;
    let r0 = 2u * (first + line);
    var v = vec2f(realIn[r0 * n + j], 0.0);
    if (r0 + 1u < params.realLines) {
      v.y = realIn[(r0 + 1u) * n + j];
    }
    tile[line * (n + ROW_PAD) + j] = v;
  }
  workgroupBarrier();
  let res = runStages(lid, lines);
  for (var e = lid; e < lines * h; e += WORKGROUP_SIZE) {
    let line = e / h;
    let k = e - line * h;
    let r0 = 2u * (first + line);
    let z = tile[res + line * (n + ROW_PAD) + k];
    let zc = conj(tile[res + line * (n + ROW_PAD) + (n - k) % n]);
    complexOut[r0 * h + k] = 0.5 * (z + zc);
    if (r0 + 1u < params.realLines) {
      complexOut[(r0 + 1u) * h + k] = -0.5 * mulI(z - zc);
    }
  }
}

// The Hermitian-extended, packed value a + i b at x index j of real lines r0, r0 + 1, from the
// half spectrum in complexIn.
fn packedHalfSpectrumFrom(r0: u32, j: u32) -> vec2f {
  let n = params.n;
  let h = params.halfLength;
  let pair = r0 + 1u < params.realLines;
  let mirrored = j >= h;
  let at = select(j, n - j, mirrored);
  var a = complexIn[r0 * h + at];
  var b = vec2f(0.0);
  if (pair) {
    b = complexIn[(r0 + 1u) * h + at];
  }
  if (mirrored) {
    a = conj(a);
    b = conj(b);
  }
  if (j == 0u || 2u * j == n) {
    a.y = 0.0;
    b.y = 0.0;
  }
  return a + mulI(b);
}

// Complex-to-real along x, complexIn -> realOut, scaled by `scale` (1 / (nx ny nz) for the
// normalised inverse).
@compute @workgroup_size(WORKGROUP_SIZE)
fn inverse_x(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let first = (wid.x + wid.y * nwg.x) * params.linesPerTile;
  if (first >= params.lineCount) {
    return;
  }
  let lines = min(params.linesPerTile, params.lineCount - first);
  let n = params.n;
  for (var e = lid; e < lines * n; e += WORKGROUP_SIZE) {
    let line = e / n;
    let j = e - line * n;
    tile[line * (n + ROW_PAD) + j] = packedHalfSpectrumFrom(2u * (first + line), j);
  }
  workgroupBarrier();
  let res = runStages(lid, lines);
  for (var e = lid; e < lines * n; e += WORKGROUP_SIZE) {
    let line = e / n;
    let j = e - line * n;
    let r0 = 2u * (first + line);
    let z = tile[res + line * (n + ROW_PAD) + j];
    realOut[r0 * n + j] = params.scale * z.x;
    if (r0 + 1u < params.realLines) {
      realOut[(r0 + 1u) * n + j] = params.scale * z.y;
    }
  }
}

// Complex-to-complex in place along y or z of the half spectrum. Line g starts at
// (g % lineModulus) lineStride1 + (g / lineModulus) lineStride2; consecutive lines are
// neighbouring x, so threads load line-fastest and each read of the grid is contiguous.
@compute @workgroup_size(WORKGROUP_SIZE)
fn strided(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let first = (wid.x + wid.y * nwg.x) * params.linesPerTile;
  if (first >= params.lineCount) {
    return;
  }
  let lines = min(params.linesPerTile, params.lineCount - first);
  let n = params.n;
  for (var e = lid; e < lines * n; e += WORKGROUP_SIZE) {
    let line = e % lines;
    let j = e / lines;
    tile[line * (n + ROW_PAD) + j] = spectrum[lineStart(first + line) + j * params.elementStride];
  }
  workgroupBarrier();
  let res = runStages(lid, lines);
  for (var e = lid; e < lines * n; e += WORKGROUP_SIZE) {
    let line = e % lines;
    let j = e / lines;
    spectrum[lineStart(first + line) + j * params.elementStride] = params.scale * tile[res + line * (n + ROW_PAD) + j];
  }
}

fn lineStart(g: u32) -> u32 {
  return (g % params.lineModulus) * params.lineStride1 + (g / params.lineModulus) * params.lineStride2;
}

// ---------------------------------------------------------------------------------------------
// Global design: one stage of radix RADIX per dispatch, reading by INPUT_MODE:
//   0: complex lines of complexIn;
//   1: real line pairs of realIn as a + i b (line g = real lines 2g, 2g+1): first x stage of
//      the forward transform;
//   2: the half spectrum, computed on the fly from the packed x spectra in complexIn (the
//      unpacking above, folded into the first y stage of the forward transform);
//   3: packed x lines, computed on the fly from the half spectrum in complexIn (Hermitian
//      extension and packing, folded into the first x stage of the inverse).
// OUTPUT_REAL: the last x stage of the inverse, writing re / im of packed line g to real lines
// 2g and 2g+1, scaled; otherwise complexOut.

override INPUT_MODE: u32 = 0u;
override OUTPUT_REAL: bool = false;

struct Butterfly {
  start: u32,
  t: u32,
  k: u32,
  m: u32,
  valid: bool,
}

fn butterflyAt(gid: vec3u, nwg: vec3u) -> Butterfly {
  let index = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  var b: Butterfly;
  b.m = params.n / RADIX;
  b.valid = index < params.lineCount * b.m;
  var g = index / b.m;
  b.t = index % b.m;
  // Strided axes: neighbouring invocations take neighbouring lines (contiguous x).
  if (params.lineFastest == 1u) {
    g = index % params.lineCount;
    b.t = index / params.lineCount;
  }
  b.start = lineStart(g);
  b.k = b.t % params.span;
  return b;
}

// Element `index` of the half spectrum (kx fastest) from packed x spectra of length nx.
fn unpackedAt(index: u32) -> vec2f {
  let h = params.halfLength;
  let nx = params.packedLength;
  let k = index % h;
  let row = index / h;
  let line = (row / 2u) * nx;
  let z = complexIn[line + k];
  let zc = conj(complexIn[line + (nx - k) % nx]);
  if (row % 2u == 0u) {
    return 0.5 * (z + zc);
  }
  return -0.5 * mulI(z - zc);
}

// Input j of butterfly b, twiddled by w^(j k).
fn load(b: Butterfly, j: u32) -> vec2f {
  let at = b.t + j * b.m;
  var v: vec2f;
  if (INPUT_MODE == 1u) {
    let n = params.n;
    let r0 = 2u * (b.start / n);
    v = vec2f(realIn[r0 * n + at], 0.0);
    if (r0 + 1u < params.realLines) {
      v.y = realIn[(r0 + 1u) * n + at];
    }
  } else if (INPUT_MODE == 2u) {
    v = unpackedAt(b.start + at * params.elementStride);
  } else if (INPUT_MODE == 3u) {
    v = packedHalfSpectrumFrom(2u * (b.start / params.n), at);
  } else {
    v = complexIn[b.start + at * params.elementStride];
  }
  if (j == 0u) {
    return v;
  }
  return cmul(v, twiddle(params.twiddleOffset + b.k * (RADIX - 1u) + j - 1u));
}

fn store(b: Butterfly, q: u32, v: vec2f) {
  let at = (b.t - b.k) * RADIX + b.k + q * params.span;
  if (OUTPUT_REAL) {
    let n = params.n;
    let r0 = 2u * (b.start / n);
    realOut[r0 * n + at] = params.scale * v.x;
    if (r0 + 1u < params.realLines) {
      realOut[(r0 + 1u) * n + at] = params.scale * v.y;
    }
  } else {
    complexOut[b.start + at * params.elementStride] = v;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn stage(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = butterflyAt(gid, nwg);
  if (!b.valid) {
    return;
  }
  if (RADIX == 2u) {
    let o = dft2(load(b, 0u), load(b, 1u));
    store(b, 0u, o.y0);
    store(b, 1u, o.y1);
  } else if (RADIX == 3u) {
    let o = dft3(load(b, 0u), load(b, 1u), load(b, 2u));
    store(b, 0u, o.y0);
    store(b, 1u, o.y1);
    store(b, 2u, o.y2);
  } else if (RADIX == 4u) {
    let o = dft4(load(b, 0u), load(b, 1u), load(b, 2u), load(b, 3u));
    store(b, 0u, o.y0);
    store(b, 1u, o.y1);
    store(b, 2u, o.y2);
    store(b, 3u, o.y3);
  } else if (RADIX == 5u) {
    let o = dft5(load(b, 0u), load(b, 1u), load(b, 2u), load(b, 3u), load(b, 4u));
    store(b, 0u, o.y0);
    store(b, 1u, o.y1);
    store(b, 2u, o.y2);
    store(b, 3u, o.y3);
    store(b, 4u, o.y4);
  } else if (RADIX == 8u) {
    let o = dft8(load(b, 0u), load(b, 1u), load(b, 2u), load(b, 3u), load(b, 4u), load(b, 5u), load(b, 6u), load(b, 7u));
    store(b, 0u, o.y0);
    store(b, 1u, o.y1);
    store(b, 2u, o.y2);
    store(b, 3u, o.y3);
    store(b, 4u, o.y4);
    store(b, 5u, o.y5);
    store(b, 6u, o.y6);
    store(b, 7u, o.y7);
  } else {
    let o = dft7(load(b, 0u), load(b, 1u), load(b, 2u), load(b, 3u), load(b, 4u), load(b, 5u), load(b, 6u));
    store(b, 0u, o.y0);
    store(b, 1u, o.y1);
    store(b, 2u, o.y2);
    store(b, 3u, o.y3);
    store(b, 4u, o.y4);
    store(b, 5u, o.y5);
    store(b, 6u, o.y6);
  }
}

// Packed x spectra -> half spectrum, for grids without y and z stages to fold it into.
@compute @workgroup_size(WORKGROUP_SIZE)
fn unpack_x(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let index = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (index >= params.realLines * params.halfLength) {
    return;
  }
  complexOut[index] = unpackedAt(index);
}
