// contributors: ddspgl
// description: |
//     The cumsum's outputs, one workgroup per block of a row: the block's prefix (the sum
//     of the row's earlier block sums, reduced by the workgroup; zero without BLOCKS, when
//     a row is one block), each invocation's prefix within the block (a workgroup scan of
//     the invocations' sums), then its PER outputs in turn, inclusive or exclusive, as
//     floats from the exact residues (res_to_float). A plain cumsum (PLAIN) takes its
//     modulus 2^44 and the shift cumsum_block_sums chose, and writes NaN for a row whose
//     sum of |x| is not finite.
// options: WG, PER, REVERSE, PLAIN, BLOCKS, INCLUSIVE (the host's constants); the
// host defines cumsum_block_word(i), word i of the input blockSums (0 without BLOCKS)
#include "../lib/cumsum_blocks.wgsl"

fn main(index: i32) {
  let lid = localIndex;
  let g = cumsum_group();
  var p = uniforms.modulus;
  var shift = uniforms.shift;
  var scale = uniforms.scale;
  var finite = true;
  var prefix = vec2<u32>(0u, 0u);
  if (BLOCKS) {
    let base = cumsum_blocks_base(g.row);
    if (PLAIN) {
      p = vec2<u32>(0u, 0x1000u);
      shift = cumsum_block_word(base + 2 * uniforms.nb);
      finite = cumsum_block_word(base + 2 * uniforms.nb + 1) != 0;
      let half = shift >> 1u;                                    // floor(shift / 2)
      scale = vec2<f32>(res_pow2(-half), res_pow2(half - shift));
    }
    var s = vec2<u32>(0u, 0u);
    for (var i = i32(lid); i < g.block; i += i32(WG)) {
      let r = vec2<u32>(bitcast<u32>(cumsum_block_word(base + 2 * i)),
                        bitcast<u32>(cumsum_block_word(base + 2 * i + 1)));
      s = res_add(s, r, p);
    }
    prefix = wg_scan_residues(s, lid, p).total;
  }
  // Each invocation's PER residues are converted twice, for its sum and for its outputs:
  // cheaper than holding them in a private array, which software renderers keep in memory.
  let first = cumsum_first(g, lid);
  var s = vec2<u32>(0u, 0u);
  for (var i = 0; i < i32(PER); i++) {
    let k = cumsum_index(g.row, first + i);
    if (g.live && k >= 0) {
      s = res_add(s, res_from_float(x[k], p, shift), p);
    }
  }
  var acc = res_add(prefix, wg_scan_residues(s, lid, p).exclusive, p);
  for (var i = 0; i < i32(PER); i++) {
    let k = cumsum_index(g.row, first + i);
    if (g.live && k >= 0) {
      let before = acc;
      acc = res_add(acc, res_from_float(x[k], p, shift), p);
      let value = res_to_float(select(before, acc, INCLUSIVE), PLAIN, scale);
      result[k] = select(uniforms.NAN, value, finite);
    }
  }
}
