// Single-bin DFT of the steady state over the user's sub-grid: the window is a whole number of
// periods, so sum p cos(omega t) and sum p sin(omega t) give the complex amplitude exactly
// (core/solver/run.ts). cos/sin come from the per-step uniform slot (computed in float64).

override WORKGROUP_SIZE: u32 = 128u;

struct Params {
  userCount: u32,
  userNx: u32,
  userNy: u32,
  startX: u32,
  startY: u32,
  startZ: u32,
  nx: u32,
  ny: u32,
}

struct Step {
  sourceA: f32,
  sourceB: f32,
  windowCos: f32,
  windowSin: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pressure: array<f32>;
@group(0) @binding(2) var<storage, read_write> window: array<vec2f>;
@group(1) @binding(0) var<uniform> perStep: Step;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let u = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (u >= params.userCount) {
    return;
  }
  let x = u % params.userNx;
  let rest = u / params.userNx;
  let y = rest % params.userNy;
  let z = rest / params.userNy;
  let i = params.startX + x + params.nx * (params.startY + y + params.ny * (params.startZ + z));
  window[u] = window[u] + pressure[i] * vec2f(perStep.windowCos, perStep.windowSin);
}
