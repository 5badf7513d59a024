// Particle velocity, one component (k-Wave kspaceFirstOrder3D, Treeby et al. 2012 Eq. 9 with
// the split-field PML of Tabei, Mast & Waag 2002 Eq. 27):
//   u_a = m (m u_a - dt / rho0_sg * d/da p),  m = exp(-sigma_a dt / 2) at the staggered points.
// Medium arrays are read at i * stride: stride 0 for a uniform medium (a one-value buffer).

override WORKGROUP_SIZE: u32 = 128u;

struct Params {
  count: u32,
  nx: u32,
  ny: u32,
  axis: u32,
  pmlOffset: u32,
  dtOverDensityStride: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> velocity: array<f32>;
@group(0) @binding(2) var<storage, read> gradient: array<f32>;
@group(0) @binding(3) var<storage, read> dtOverDensity: array<f32>;
@group(0) @binding(4) var<storage, read> pml: array<f32>;

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
  velocity[i] = m * (m * velocity[i] - dtOverDensity[i * params.dtOverDensityStride] * gradient[i]);
}
