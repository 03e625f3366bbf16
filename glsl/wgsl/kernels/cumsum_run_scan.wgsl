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
//     js/src/gpu_checks.js). cumsum_run_scan_subgroups writes the same words bit for bit.
// options: WG, PER, REVERSE (the host's constants)
#include "../lib/cumsum_run_prefixes.wgsl"
#include "../lib/workgroup_scan.wgsl"

fn main(index: i32) {
  let lid = localIndex;
  let r = cumsum_scan_row();  // every workgroup reaches every barrier, `live` or not
  let p = uniforms.modulus;
  let chunk = cumsum_scan_chunk(lid);
  let s = cumsum_chunk_sum(r.row, chunk, p);
  let scan = wg_scan_residues_and_sum(s.residue, s.magnitude, lid, p);
  if (!r.live) {
    return;
  }
  cumsum_write_prefixes(r.row, chunk, scan.exclusive, p);
  if (lid == 0u) {
    cumsum_write_finite(r.row, scan.float_total);
  }
}
