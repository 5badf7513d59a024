// spectrum *= w(|k|), in place: the fractional Laplacians |k|^(y-2) and |k|^(y-1) of the
// power-law absorption model (Treeby & Cox 2010, JASA 127(5):2741, Eq. 11) for y != 2.

override WORKGROUP_SIZE: u32 = 128u;

struct Params {
  count: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> spectrum: array<vec2f>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) {
    return;
  }
  spectrum[i] = spectrum[i] * weight[i];
}
