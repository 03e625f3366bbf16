// contributors: ddspgl
// description: |
//     cumsum_run_scan with subgroup operations (a device with the `subgroups` feature):
//     the same output, bit for bit. The runs are dealt to the workgroup's slots
//     (subgroup_scan.wgsl's sg_place) instead of its invocation indices; each invocation
//     sums its slot's runs, subgroup_scan.wgsl scans those sums (one barrier where
//     cumsum_run_scan takes three), and each invocation writes its runs' exclusive
//     prefixes. Slot 0's invocation adds the slots' float32 sums of |x| in slot order,
//     as cumsum_run_scan's invocation 0 adds them in invocation order: the same
//     roundings, so the same finite or NaN-or-Inf word.
// options: WG, PER, REVERSE (the host's constants)
#include "../lib/cumsum_run_prefixes.wgsl"
#include "../lib/subgroup_scan.wgsl"

fn main(index: i32) {
  let r = cumsum_scan_row();  // every workgroup reaches every barrier, `live` or not
  let p = uniforms.modulus;
  let at = sg_place();
  let chunk = cumsum_scan_chunk(sg_slot(at));
  let s = cumsum_chunk_sum(r.row, chunk, p);
  let exclusive = sg_scan_residues_and_sum(at, s.residue, s.magnitude, p);
  if (!r.live) {
    return;
  }
  cumsum_write_prefixes(r.row, chunk, exclusive, p);
  if (sg_slot(at) == 0u) {
    cumsum_write_finite(r.row, sg_sum_floats());
  }
}
