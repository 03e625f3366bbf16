// contributors: ddspgl
// description: |
//     Scans across one workgroup of WG invocations in workgroup memory: residues (exact,
//     so the order of the additions cannot change a bit) and float32 sums of
//     non-negative values (a tree of log2(WG) levels). Every invocation of the workgroup
//     must call them (they hold barriers). WG is a power of two the host declares.

var<workgroup> wg_residues: array<vec2<u32>, WG>;
var<workgroup> wg_floats: array<f32, WG>;

struct WorkgroupScan {
  exclusive: vec2<u32>,  // the sum of the values of invocations before this one
  total: vec2<u32>,      // the sum over the workgroup
}

// Hillis-Steele over WG residues: log2(WG) steps, each read before a barrier and
// written after the next.
fn wg_scan_residues(value: vec2<u32>, lid: u32, p: vec2<u32>) -> WorkgroupScan {
  wg_residues[lid] = value;
  workgroupBarrier();
  for (var offset = 1u; offset < WG; offset <<= 1u) {
    var t = wg_residues[lid];
    if (lid >= offset) {
      t = res_add(wg_residues[lid - offset], t, p);
    }
    workgroupBarrier();
    wg_residues[lid] = t;
    workgroupBarrier();
  }
  var out: WorkgroupScan;
  out.exclusive = select(vec2<u32>(0u, 0u), wg_residues[max(lid, 1u) - 1u], lid > 0u);
  out.total = wg_residues[WG - 1u];
  workgroupBarrier();  // the next call may overwrite wg_residues
  return out;
}

// The float32 sum over the workgroup of non-negative values: log2(WG) rounding levels.
fn wg_sum_floats(value: f32, lid: u32) -> f32 {
  wg_floats[lid] = value;
  workgroupBarrier();
  for (var half = WG >> 1u; half > 0u; half >>= 1u) {
    if (lid < half) {
      wg_floats[lid] = wg_floats[lid] + wg_floats[lid + half];
    }
    workgroupBarrier();
  }
  let total = wg_floats[0];
  workgroupBarrier();
  return total;
}
