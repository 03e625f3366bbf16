// contributors: ddspgl
// description: |
//     The cumsum's outputs where a workgroup scans a whole block of WG * PER elements:
//     a periodic row that is one block (the only dispatch), or a block of a plain
//     cumsum's row (PLAIN). Each workgroup takes its block's prefix (PLAIN: the sum of the
//     row's earlier block sums, reduced by the workgroup; zero for a row of one block),
//     each invocation its prefix within the block (a workgroup scan of the invocations'
//     sums), then writes its PER outputs in turn, inclusive or exclusive, as floats from
//     the exact residues (res_to_float). A plain cumsum takes its modulus 2^44 and the
//     shift cumsum_block_sums chose, and writes NaN for a row whose sum of |x| is not
//     finite; so does a periodic row whose float32 sum of |x| (the workgroup's) is NaN or
//     Inf, as the webgl kernel does (js/src/gpu_checks.js): the row holds NaN or Inf, or,
//     with finite values, that sum overflows float32.
// options: WG, PER, REVERSE, PLAIN, INCLUSIVE (the host's constants); the host defines
// cumsum_block_word(i), word i of the input blockSums (0 without PLAIN)
#include "../lib/cumsum_blocks.wgsl"
#include "../lib/float_finite.wgsl"

fn main(index: i32) {
  let lid = localIndex;
  let g = cumsum_group();
  var p = uniforms.modulus;
  var shift = uniforms.shift;
  var scale = uniforms.scale;
  var finite = true;
  var prefix = vec2<u32>(0u, 0u);
  if (PLAIN) {
    let base = cumsum_blocks_base(g.row);
    p = vec2<u32>(0u, 0x1000u);
    shift = cumsum_block_word(base + 2 * uniforms.nb);
    finite = cumsum_block_word(base + 2 * uniforms.nb + 1) != 0;
    let half = shift >> 1u;                                    // floor(shift / 2)
    scale = vec2<f32>(res_pow2(-half), res_pow2(half - shift));
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
  var magnitude = 0.0;  // a periodic row's sum of |x|: it is this one block
  for (var i = 0; i < i32(PER); i++) {
    let k = cumsum_index(g.row, first + i);
    if (g.live && k >= 0) {
      let v = x[k];
      s = res_add(s, res_from_float(v, p, shift), p);
      if (!PLAIN) {
        magnitude += abs(v);
      }
    }
  }
  let own = wg_scan_residues_and_sum(s, magnitude, lid, p);
  if (!PLAIN) {
    finite = float_finite(own.float_total);
  }
  var acc = res_add(prefix, own.exclusive, p);
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
