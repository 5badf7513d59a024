// Counts non-finite values (NaN or +-Inf) of a float32 field into flags[0]. Tested on the bit
// pattern (all exponent bits set) because WGSL lets implementations assume floats are finite,
// so x != x or comparisons against infinity may be folded away. Threads only touch the atomic
// when they found something, so the healthy case costs one read of the field.

override WORKGROUP_SIZE: u32 = 128u;

struct Params {
  count: u32,
  perThread: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> values: array<u32>;
@group(0) @binding(2) var<storage, read_write> flags: array<atomic<u32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let threads = nwg.x * nwg.y * WORKGROUP_SIZE;
  let first = gid.x + gid.y * nwg.x * WORKGROUP_SIZE;
  var bad = 0u;
  for (var k = 0u; k < params.perThread; k++) {
    let i = first + k * threads;
    if (i < params.count && (values[i] & 0x7f800000u) == 0x7f800000u) {
      bad += 1u;
    }
  }
  if (bad > 0u) {
    atomicAdd(&flags[0], bad);
  }
}
