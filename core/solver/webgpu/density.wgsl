// Acoustic density, one split component (Treeby et al. 2012 Eq. 10, split-field PML):
//   rho_a = m (m rho_a - dt rho0 du_a/da),  m = exp(-sigma_a dt / 2) at the regular points.
// With absorption the divergence of u is also needed by the pressure update; it is summed here
// from the three components as they go by (divergenceMode 1: first component, 2: add, 0: none).

override WORKGROUP_SIZE: u32 = 128u;

struct Params {
  count: u32,
  nx: u32,
  ny: u32,
  axis: u32,
  pmlOffset: u32,
  densityStride: u32,
  dt: f32,
  divergenceMode: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> splitDensity: array<f32>;
@group(0) @binding(2) var<storage, read> gradient: array<f32>;
@group(0) @binding(3) var<storage, read> density: array<f32>;
@group(0) @binding(4) var<storage, read> pml: array<f32>;
@group(0) @binding(5) var<storage, read_write> divergence: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) {
    return;
  }
  var c = i % params.nx;
  if (params.axis == 1u) {
    c = (i / params.nx) % params.ny;
  } else if (params.axis == 2u) {
    c = i / (params.nx * params.ny);
  }
  let m = pml[params.pmlOffset + c];
  let g = gradient[i];
  let d = params.dt * density[i * params.densityStride];
  splitDensity[i] = m * (m * splitDensity[i] - d * g);
  if (params.divergenceMode == 1u) {
    divergence[i] = g;
  } else if (params.divergenceMode == 2u) {
    divergence[i] = divergence[i] + g;
  }
}
