// contributors: ddspgl
// description: |
//     The WGSL harmonic synthesizer's phase scan, one workgroup of WG invocations per
//     batch row: output int32 [batch, F + 2 + 2K, 2], the phases of harmonic_layout.wgsl.
//     Invocation i takes frames [i c, (i + 1) c), c = ceil(F / WG): it sums their
//     increments (exact residues), the workgroup scans those sums in workgroup memory
//     (workgroup_scan.wgsl), and each invocation writes its frames' exclusive prefixes
//     from its own, adding the increments again; entry F, the total, comes from the
//     workgroup's. A row's flag is set where a frame's gain is NaN (harmonic_frames) or,
//     with INITIAL, an initial phase is NaN or Inf; the initial phases (float32 radians,
//     input phase0 [batch, K]) become residues (harmonic_radians_to_residue) and those
//     residues fractions of a cycle (res_to_fraction), K / WG per invocation.
// options: WG, INITIAL (the host's constants); the host defines phase0_at(i), element i
// of the input phase0 (0.0 without INITIAL)
#include "../lib/harmonic_phase.wgsl"
#include "../lib/harmonic_layout.wgsl"
#include "../lib/workgroup_scan.wgsl"

fn main(index: i32) {
  let lid = localIndex;
  let id = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
  let live = id < uniforms.batch;
  let row = select(0, id, live);
  let p = harmonic_modulus();
  let frames = uniforms.frames;
  let per = (frames + i32(WG) - 1) / i32(WG);
  let first = i32(lid) * per;
  let stop = min(first + per, frames);
  var s = vec2<u32>(0u, 0u);
  var bad = false;
  for (var j = first; j < stop; j++) {
    let base = harmonic_frame_base(row, j);
    s = res_add(s, vec2<u32>(bitcast<u32>(frame_data[base]), bitcast<u32>(frame_data[base + 1])), p);
    bad = bad || harmonic_not_finite(bitcast<f32>(frame_data[base + 2]));
  }
  let out = harmonic_phases_base(row);
  let k_count = uniforms.harmonics;
  for (var k = i32(lid) + 1; k <= k_count; k += i32(WG)) {
    var units = vec2<u32>(0u, 0u);
    if (INITIAL) {
      let x = phase0_at(row * k_count + k - 1);
      bad = bad || harmonic_not_finite(x);
      units = harmonic_radians_to_residue(x, p);
    }
    if (live) {
      let o = out + 2 * (frames + 1 + k);
      result[o] = bitcast<i32>(units.x);
      result[o + 1] = bitcast<i32>(units.y);
      let fraction = res_to_fraction(units, uniforms.fracScale).yz;
      let o_fraction = o + 2 * k_count;
      result[o_fraction] = bitcast<i32>(fraction.x);
      result[o_fraction + 1] = bitcast<i32>(fraction.y);
    }
  }
  let scan = wg_scan_residues(s, lid, p);
  let flagged = wg_sum_floats(select(0.0f, 1.0f, bad), lid) > 0.0f;
  if (!live) {
    return;
  }
  var acc = scan.exclusive;
  for (var j = first; j < stop; j++) {
    let base = harmonic_frame_base(row, j);
    result[out + 2 * j] = bitcast<i32>(acc.x);
    result[out + 2 * j + 1] = bitcast<i32>(acc.y);
    acc = res_add(acc, vec2<u32>(bitcast<u32>(frame_data[base]), bitcast<u32>(frame_data[base + 1])), p);
  }
  if (lid == 0u) {
    result[out + 2 * frames] = bitcast<i32>(scan.total.x);
    result[out + 2 * frames + 1] = bitcast<i32>(scan.total.y);
    result[out + 2 * (frames + 1)] = select(0, 1, flagged);
    result[out + 2 * (frames + 1) + 1] = 0;
  }
}
