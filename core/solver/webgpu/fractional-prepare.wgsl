// First half of the y != 2 equation of state (Treeby & Cox 2010 Eq. 11): the two fields the
// fractional Laplacians act on, rho0 div u (in place over the divergence) and
// rho = rho_x + rho_y + rho_z (into the pressure buffer, free once this step's dp/dx is done).

override WORKGROUP_SIZE: u32 = 128u;

struct Params {
  count: u32,
  densityStride: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> divergence: array<f32>;
@group(0) @binding(2) var<storage, read> density: array<f32>;
@group(0) @binding(3) var<storage, read> densityX: array<f32>;
@group(0) @binding(4) var<storage, read> densityY: array<f32>;
@group(0) @binding(5) var<storage, read> densityZ: array<f32>;
@group(0) @binding(6) var<storage, read_write> pressure: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) {
    return;
  }
  divergence[i] = density[i * params.densityStride] * divergence[i];
  pressure[i] = densityX[i] + densityY[i] + densityZ[i];
}
