// contributors: ddspgl
// description: |
//     The WGSL periodic cumsum's runs (cumsum_run_sums, cumsum_run_scan,
//     cumsum_run_final): a row of n inputs is cut into runs of PER consecutive scan
//     elements, one invocation per run, WG invocations per workgroup, ceil(runs / WG)
//     workgroups per row (the uniform runGroups). Scan element j is input position j, or
//     n - 1 - j for a reverse scan. The host declares WG, PER and REVERSE and the uniforms
//     n (inputs per row), runs (runs per row), runGroups and rows; workgroups are
//     numbered linearly over a 2-D dispatch.

#include "residue.wgsl"
#include "float_finite.wgsl"

// (row, run, and live: whether this invocation has a run): a row's last workgroup and a
// dispatch rounded up to whole rows of workgroups have a few without.
struct CumsumRun {
  row: i32,
  run: i32,
  live: bool,
}

fn cumsum_run() -> CumsumRun {
  let id = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
  var r: CumsumRun;
  r.row = id / uniforms.runGroups;
  r.run = (id % uniforms.runGroups) * i32(WG) + i32(localIndex);
  r.live = r.row < uniforms.rows && r.run < uniforms.runs;
  return r;
}

// The flat index in x of scan element j of `row` (j < n).
fn cumsum_run_index(row: i32, j: i32) -> i32 {
  return row * uniforms.n + select(j, uniforms.n - 1 - j, REVERSE);
}

// The run's scan elements: [first, stop).
fn cumsum_run_first(r: CumsumRun) -> i32 {
  return r.run * i32(PER);
}

fn cumsum_run_stop(r: CumsumRun) -> i32 {
  return min((r.run + 1) * i32(PER), uniforms.n);
}

