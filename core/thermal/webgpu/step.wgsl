// One time step of the Pennes rise (core/thermal/model.ts): finite-volume conduction with
// harmonic-mean face conductances, forward Euler for conduction and source, perfusion decay
// exact over the step (exponential Euler):
//   theta' = decay[l] theta + gain[l] (invC sum_f c_f (theta_nb - theta) + level q)
// Voxels flagged HELD (0x80 in the label: grid edge, bath water) stay at 0; every other voxel is
// interior, so its six neighbours exist. With recordMaps, the maximum rise and the CEM43 dose
// (Sapareto & Dewey 1984, R = 0.5 at T >= 43 °C else 0.25, exact for T linear over the step; the
// same formula as core/thermal/cem43.ts) are accumulated in `dose`.
// The step's batch (its dt, level and per-label weights) is batches[12 * control[1 + control[0]]]:
// decay[4], gain[4], level, dt in minutes, 2 unused.

override WORKGROUP_SIZE: u32 = 128u;

struct Params {
  count: u32,
  nx: u32,
  nxy: u32,
  recordMaps: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> thetaOld: array<f32>;
@group(0) @binding(2) var<storage, read_write> thetaNew: array<f32>;
@group(0) @binding(3) var<storage, read> conduct: array<vec4f>;
@group(0) @binding(4) var<storage, read> heat: array<vec2u>;
@group(0) @binding(5) var<storage, read> batches: array<f32>;
@group(0) @binding(6) var<storage, read> control: array<u32>;
@group(0) @binding(7) var<storage, read_write> dose: array<vec2f>;

const HELD: u32 = 0x80u;
const LN_HALF: f32 = -0.6931471805599453;
const LN_QUARTER: f32 = -1.3862943611198906;

fn sinhc(x: f32) -> f32 {
  let x2 = x * x;
  if (x2 < 0.25) {
    return 1.0 + (x2 / 6.0) * (1.0 + (x2 / 20.0) * (1.0 + (x2 / 42.0) * (1.0 + x2 / 72.0)));
  }
  return sinh(x) / x;
}

fn piece(t0: f32, t1: f32, dtMin: f32, lnR: f32) -> f32 {
  return dtMin * exp((43.0 - 0.5 * (t0 + t1)) * lnR) * sinhc(0.5 * (t1 - t0) * lnR);
}

fn cem43Linear(t0: f32, t1: f32, dtMin: f32) -> f32 {
  let hot0 = t0 >= 43.0;
  let hot1 = t1 >= 43.0;
  let r0 = select(LN_QUARTER, LN_HALF, hot0);
  if (hot0 == hot1) {
    return piece(t0, t1, dtMin, r0);
  }
  let f = (43.0 - t0) / (t1 - t0);
  return piece(t0, 43.0, f * dtMin, r0) + piece(43.0, t1, (1.0 - f) * dtMin, select(LN_QUARTER, LN_HALF, hot1));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let v = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  if (v >= params.count) {
    return;
  }
  let h = heat[v];
  let label = h.y;
  if ((label & HELD) != 0u) {
    thetaNew[v] = 0.0;
    return;
  }
  let b = 12u * control[1u + control[0]];
  let t = thetaOld[v];
  let c = conduct[v];
  let nx = params.nx;
  let nxy = params.nxy;
  let flux = c.x * (thetaOld[v + 1u] - t) - conduct[v - 1u].x * (t - thetaOld[v - 1u])
    + c.y * (thetaOld[v + nx] - t) - conduct[v - nx].y * (t - thetaOld[v - nx])
    + c.z * (thetaOld[v + nxy] - t) - conduct[v - nxy].z * (t - thetaOld[v - nxy]);
  let nt = batches[b + label] * t + batches[b + 4u + label] * (c.w * flux + batches[b + 8u] * bitcast<f32>(h.x));
  thetaNew[v] = nt;
  if (params.recordMaps != 0u) {
    var d = dose[v];
    d.x = max(d.x, nt);
    d.y = d.y + cem43Linear(37.0 + t, 37.0 + nt, batches[b + 9u]);
    dose[v] = d;
  }
}
