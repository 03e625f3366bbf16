// contributors: ddspgl
// description: |
//     Scans across one workgroup of WG invocations in workgroup memory: residues (exact,
//     so the order of the additions cannot change a bit) and float32 sums of
//     non-negative values. Every invocation of the workgroup must call them (they hold
//     barriers). WG is the host's constant.

var<workgroup> wg_residues: array<vec2<u32>, WG>;
var<workgroup> wg_residue_total: vec2<u32>;
var<workgroup> wg_floats: array<f32, WG>;

struct WorkgroupScan {
  exclusive: vec2<u32>,  // the sum of the values of invocations before this one
  total: vec2<u32>,      // the sum over the workgroup
  float_total: f32,      // wg_scan_residues_and_sum: the float32 sum over the workgroup
}

// Invocation 0 scans the WG values in workgroup memory, in order: three barriers in all,
// where a tree takes two per level. Software renderers (SwiftShader) switch between an
// invocation group's coroutines at every barrier, which costs more than WG additions.
fn wg_scan_residues(value: vec2<u32>, lid: u32, p: vec2<u32>) -> WorkgroupScan {
  return wg_scan_residues_and_sum(value, 0.0, lid, p);
}

// wg_scan_residues, and with the same barriers the float32 sum over the workgroup of
// non-negative values `f`, added in order by invocation 0 (WG - 1 roundings on any path).
fn wg_scan_residues_and_sum(value: vec2<u32>, f: f32, lid: u32, p: vec2<u32>) -> WorkgroupScan {
  wg_residues[lid] = value;
  wg_floats[lid] = f;
  workgroupBarrier();
  if (lid == 0u) {
    var acc = vec2<u32>(0u, 0u);
    var sum = 0.0;
    for (var i = 0u; i < WG; i++) {
      let v = wg_residues[i];
      wg_residues[i] = acc;
      acc = res_add(acc, v, p);
      sum += wg_floats[i];
    }
    wg_residue_total = acc;
    wg_floats[0] = sum;
  }
  workgroupBarrier();
  var out: WorkgroupScan;
  out.exclusive = wg_residues[lid];
  out.total = wg_residue_total;
  out.float_total = wg_floats[0];
  workgroupBarrier();  // the next call may overwrite wg_residues and wg_floats
  return out;
}

// The float32 sum over the workgroup of non-negative values, added in order by
// invocation 0: WG - 1 roundings on any path.
fn wg_sum_floats(value: f32, lid: u32) -> f32 {
  wg_floats[lid] = value;
  workgroupBarrier();
  if (lid == 0u) {
    var acc = 0.0;
    for (var i = 0u; i < WG; i++) {
      acc += wg_floats[i];
    }
    wg_floats[0] = acc;
  }
  workgroupBarrier();
  let total = wg_floats[0];
  workgroupBarrier();
  return total;
}
