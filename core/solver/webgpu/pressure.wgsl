// Equation of state without dispersion (Treeby et al. 2012 Eq. 11): lossless
// p = c0^2 (rho_x + rho_y + rho_z), or for y = 2, where |k|^(y-2) is the identity and the
// dispersion term vanishes, p = c0^2 (rho + tau rho0 div u) with no extra FFT.

override WORKGROUP_SIZE: u32 = 128u;

struct Params {
  count: u32,
  soundSpeedSqStride: u32,
  tauStride: u32,
  densityStride: u32,
  absorbing: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> pressure: array<f32>;
@group(0) @binding(2) var<storage, read> densityX: array<f32>;
@group(0) @binding(3) var<storage, read> densityY: array<f32>;
@group(0) @binding(4) var<storage, read> densityZ: array<f32>;
@group(0) @binding(5) var<storage, read> soundSpeedSq: array<f32>;
@group(0) @binding(6) var<storage, read> tau: array<f32>;
@group(0) @binding(7) var<storage, read> density: array<f32>;
@group(0) @binding(8) var<storage, read> divergence: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) {
    return;
  }
  var rho = densityX[i] + densityY[i] + densityZ[i];
  if (params.absorbing == 1u) {
    rho = rho + tau[i * params.tauStride] * density[i * params.densityStride] * divergence[i];
  }
  pressure[i] = soundSpeedSq[i * params.soundSpeedSqStride] * rho;
}
