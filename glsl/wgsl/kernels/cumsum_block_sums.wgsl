// contributors: ddspgl
// description: |
//     A plain cumsum's block sums: the residue sum of each block of a row (output int32
//     [rows, 2 * nb + 2], cumsum_blocks_base), exact, after choosing the row's shift from
//     its blocks' sums of |x| (absBlocks, cumsum_abs_blocks): their float32 sum T, times
//     the host's absMargin = 1 + k * 2^-22 for the k roundings on any path (so T bounds
//     the true sum of |x|), gives the largest shift with T * 2^shift + n/2 < 2^43 - n - 1
//     (kernels/cumsum.py, Modulus.plain): with T = f * 2^e, f in [0.5, 1), that is 43 - e
//     when f <= plainLimit (the host's largest float32 below 1 - (1.5 n + 1) * 2^-43) and
//     42 - e otherwise. Every workgroup of the row computes the same T in the same order;
//     block 0 writes the shift, and whether T is finite, for cumsum_final.
// options: WG, PER, REVERSE (the host's constants); the host defines cumsum_abs_block(i),
// element i of the input absBlocks
#include "../lib/cumsum_blocks.wgsl"

struct CumsumModulus {
  p: vec2<u32>,
  shift: i32,
  finite: bool,
}

fn cumsum_plain_modulus(row: i32, lid: u32) -> CumsumModulus {
  var s = 0.0;
  for (var i = i32(lid); i < uniforms.nb; i += i32(WG)) {
    s += cumsum_abs_block(row * uniforms.nb + i);
  }
  let total = wg_sum_floats(s, lid) * uniforms.absMargin;
  let bits = bitcast<u32>(total);
  var m: CumsumModulus;
  m.p = vec2<u32>(0u, 0x1000u);
  m.finite = (bits & 0x7f800000u) != 0x7f800000u;
  m.shift = 0;
  if (m.finite && total > 0.0) {
    let e = i32((bits >> 23u) & 0xffu) - 126;                   // total = f * 2^e
    let f = bitcast<f32>((bits & 0x007fffffu) | (126u << 23u));  // in [0.5, 1)
    m.shift = select(42 - e, 43 - e, f <= uniforms.plainLimit);
  }
  return m;
}

fn main(index: i32) {
  let lid = localIndex;
  let g = cumsum_group();
  let m = cumsum_plain_modulus(g.row, lid);
  var s = vec2<u32>(0u, 0u);
  let first = cumsum_first(g, lid);
  for (var i = 0; i < i32(PER); i++) {
    let k = cumsum_index(g.row, first + i);
    if (g.live && k >= 0) {
      s = res_add(s, res_from_float(x[k], m.p, m.shift), m.p);
    }
  }
  let sums = wg_scan_residues(s, lid, m.p);
  if (g.live && lid == 0u) {
    let base = cumsum_blocks_base(g.row);
    result[base + 2 * g.block] = bitcast<i32>(sums.total.x);
    result[base + 2 * g.block + 1] = bitcast<i32>(sums.total.y);
    if (g.block == 0) {
      result[base + 2 * uniforms.nb] = m.shift;
      result[base + 2 * uniforms.nb + 1] = select(0, 1, m.finite);
    }
  }
}
