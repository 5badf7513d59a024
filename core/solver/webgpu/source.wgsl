// Additive CW pressure source (k-Wave p_mode 'additive', docs/physics.md §6.5), added to each split
// density. The host folded the band-limited spread, 2 dt / (N c0 dx) and the
// cos(c_ref |k| dt / 2) source filter into two real maps (weights = in-phase, quadrature), so a
// step adds a * w.x + b * w.y with a = ramp cos(omega t), b = -ramp sin(omega t) from the
// per-step uniform slot. Only the points where the filtered source is non-negligible are listed.

override WORKGROUP_SIZE: u32 = 128u;

struct Params {
  count: u32,
}

struct Step {
  sourceA: f32,
  sourceB: f32,
  windowCos: f32,
  windowSin: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> sourceIndex: array<u32>;
@group(0) @binding(2) var<storage, read> sourceWeight: array<vec2f>;
@group(0) @binding(3) var<storage, read_write> densityX: array<f32>;
@group(0) @binding(4) var<storage, read_write> densityY: array<f32>;
@group(0) @binding(5) var<storage, read_write> densityZ: array<f32>;
@group(1) @binding(0) var<uniform> perStep: Step;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (s >= params.count) {
    return;
  }
  let i = sourceIndex[s];
  let w = sourceWeight[s];
  let v = perStep.sourceA * w.x + perStep.sourceB * w.y;
  densityX[i] = densityX[i] + v;
  densityY[i] = densityY[i] + v;
  densityZ[i] = densityZ[i] + v;
}
