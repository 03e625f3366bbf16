// contributors: ddspgl
// description: |
//     A periodic cumsum's second dispatch: one workgroup per row scans the row's run sums
//     (cumsum_run_sums' output, the input `sums`), exact. Each invocation takes
//     ceil(runs / WG) consecutive runs: their sum, one workgroup scan of those sums (three
//     barriers), then each run's exclusive prefix in turn. Output int32 [rows, 2 * runs + 1]:
//     the prefix of run t in words 2t and 2t + 1, then 1 where the row's float32 sum of
//     |x| (the runs' sums, added in order within an invocation and then over the
//     workgroup) is finite, 0 where it is NaN or Inf: the row holds NaN or Inf, or, with
//     finite values, that sum overflows float32 (the webgl kernel's test,
//     js/src/gpu_checks.js).
// options: WG, PER, REVERSE (the host's constants)
#include "../lib/cumsum_runs.wgsl"
#include "../lib/workgroup_scan.wgsl"

fn cumsum_run_sum(row: i32, t: i32) -> vec2<u32> {
  let o = 3 * (row * uniforms.runs + t);
  return vec2<u32>(bitcast<u32>(sums[o]), bitcast<u32>(sums[o + 1]));
}

fn main(index: i32) {
  let lid = localIndex;
  let id = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
  let live = id < uniforms.rows;
  let row = select(0, id, live);  // a workgroup past the rows still reaches every barrier
  let p = uniforms.modulus;
  let chunk = (uniforms.runs + i32(WG) - 1) / i32(WG);
  let first = min(i32(lid) * chunk, uniforms.runs);
  let stop = min(first + chunk, uniforms.runs);
  var s = vec2<u32>(0u, 0u);
  var magnitude = 0.0;
  for (var t = first; t < stop; t++) {
    s = res_add(s, cumsum_run_sum(row, t), p);
    magnitude += bitcast<f32>(sums[3 * (row * uniforms.runs + t) + 2]);
  }
  let scan = wg_scan_residues_and_sum(s, magnitude, lid, p);
  if (!live) {
    return;
  }
  let base = row * (2 * uniforms.runs + 1);
  var acc = scan.exclusive;
  for (var t = first; t < stop; t++) {
    result[base + 2 * t] = bitcast<i32>(acc.x);
    result[base + 2 * t + 1] = bitcast<i32>(acc.y);
    acc = res_add(acc, cumsum_run_sum(row, t), p);
  }
  if (lid == 0u) {
    result[base + 2 * uniforms.runs] = select(0, 1, float_finite(scan.float_total));
  }
}
