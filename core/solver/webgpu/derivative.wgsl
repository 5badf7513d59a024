// Spectral staggered derivative with the k-space correction (Treeby et al. 2012, Eqs. 12-13):
// product = spectrum * (i k_axis e^{+-i k_axis dx / 2}) * kappa, kappa = sinc(c_ref |k| dt / 2).
// The shift operator depends on one wavenumber only, so it is stored per axis entry (host
// float64, core/solver/kspace.ts shiftedDerivative) and indexed by this point's coordinate.

override WORKGROUP_SIZE: u32 = 128u;

struct Params {
  count: u32,
  nxh: u32,
  ny: u32,
  axis: u32,
  shiftOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> spectrum: array<vec2f>;
@group(0) @binding(2) var<storage, read_write> product: array<vec2f>;
@group(0) @binding(3) var<storage, read> kappa: array<f32>;
@group(0) @binding(4) var<storage, read> shift: array<vec2f>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) {
    return;
  }
  var m = i % params.nxh;
  if (params.axis == 1u) {
    m = (i / params.nxh) % params.ny;
  } else if (params.axis == 2u) {
    m = i / (params.nxh * params.ny);
  }
  let d = shift[params.shiftOffset + m] * kappa[i];
  let s = spectrum[i];
  product[i] = vec2f(s.x * d.x - s.y * d.y, s.x * d.y + s.y * d.x);
}
