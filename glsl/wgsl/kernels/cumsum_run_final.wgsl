// contributors: ddspgl
// description: |
//     A periodic cumsum's outputs: each invocation starts from its run's exclusive prefix
//     (cumsum_run_scan's output, the input `prefixes`) and adds its PER residues in turn,
//     writing each output, inclusive or exclusive, as a float from the exact residue
//     (res_to_float); NaN over a row whose sum of |x| is not finite. No workgroup memory
//     and no barrier.
// options: WG, PER, REVERSE, INCLUSIVE (the host's constants)
#include "../lib/cumsum_runs.wgsl"

fn main(index: i32) {
  let r = cumsum_run();
  if (!r.live) {
    return;
  }
  let p = uniforms.modulus;
  let base = r.row * (2 * uniforms.runs + 1);
  var acc = vec2<u32>(bitcast<u32>(prefixes[base + 2 * r.run]),
                      bitcast<u32>(prefixes[base + 2 * r.run + 1]));
  let finite = prefixes[base + 2 * uniforms.runs] != 0;
  for (var j = cumsum_run_first(r); j < cumsum_run_stop(r); j++) {
    let k = cumsum_run_index(r.row, j);
    let before = acc;
    acc = res_add(acc, res_from_float(x[k], p, uniforms.shift), p);
    let value = res_to_float(select(before, acc, INCLUSIVE), false, uniforms.scale);
    result[k] = select(uniforms.NAN, value, finite);
  }
}
