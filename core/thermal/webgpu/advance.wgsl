// Ends a step: the step counter control[0] moves on (the step and record kernels read it).

override WORKGROUP_SIZE: u32 = 1u;

struct Params {
  steps: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> control: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x == 0u && control[0] < params.steps) {
    control[0] = control[0] + 1u;
  }
}
