// After a step: the maximum rise over each tracked tissue (labels 1 skin, 2 skull, 3 brain, not
// held) into row control[0] + 1 of trackedMax, and the rise at the probe voxels into the same row
// of probeRise. Each thread scans perThread voxels strided by the thread count and touches the
// atomics only for a positive maximum; a non-negative float's bits order like the float, so
// atomicMax on the bits is a float maximum (rises are >= 0: the scheme is monotone, source >= 0).

override WORKGROUP_SIZE: u32 = 128u;

struct Params {
  count: u32,
  perThread: u32,
  probeCount: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> theta: array<f32>;
@group(0) @binding(2) var<storage, read> heat: array<vec2u>;
@group(0) @binding(3) var<storage, read> control: array<u32>;
@group(0) @binding(4) var<storage, read_write> trackedMax: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read> probeIndex: array<u32>;
@group(0) @binding(6) var<storage, read_write> probeRise: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let threads = nwg.x * nwg.y * WORKGROUP_SIZE;
  let first = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  let row = control[0] + 1u;
  var best = vec3f(0.0);
  for (var k = 0u; k < params.perThread; k++) {
    let i = first + k * threads;
    if (i < params.count) {
      let label = heat[i].y;
      let t = theta[i];
      if (label == 1u) {
        best.x = max(best.x, t);
      } else if (label == 2u) {
        best.y = max(best.y, t);
      } else if (label == 3u) {
        best.z = max(best.z, t);
      }
    }
  }
  if (best.x > 0.0) {
    atomicMax(&trackedMax[3u * row], bitcast<u32>(best.x));
  }
  if (best.y > 0.0) {
    atomicMax(&trackedMax[3u * row + 1u], bitcast<u32>(best.y));
  }
  if (best.z > 0.0) {
    atomicMax(&trackedMax[3u * row + 2u], bitcast<u32>(best.z));
  }
  if (first < params.probeCount) {
    probeRise[row * params.probeCount + first] = theta[probeIndex[first]];
  }
}
