// Second half of the y != 2 equation of state (Treeby & Cox 2010 Eq. 11):
//   p = c0^2 (rho + tau L1{rho0 div u} - eta L2{rho}),
// L1 = |k|^(y-2) (absorption), L2 = |k|^(y-1) (dispersion), already applied by FFT filtering;
// `pressure` holds rho on entry (fractional-prepare).

override WORKGROUP_SIZE: u32 = 128u;

struct Params {
  count: u32,
  soundSpeedSqStride: u32,
  tauStride: u32,
  etaStride: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> pressure: array<f32>;
@group(0) @binding(2) var<storage, read> soundSpeedSq: array<f32>;
@group(0) @binding(3) var<storage, read> tau: array<f32>;
@group(0) @binding(4) var<storage, read> eta: array<f32>;
@group(0) @binding(5) var<storage, read> absorptionTerm: array<f32>;
@group(0) @binding(6) var<storage, read> dispersionTerm: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (i >= params.count) {
    return;
  }
  let rho = pressure[i] + tau[i * params.tauStride] * absorptionTerm[i] - eta[i * params.etaStride] * dispersionTerm[i];
  pressure[i] = soundSpeedSq[i * params.soundSpeedSqStride] * rho;
}
