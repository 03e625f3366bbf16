// contributors: ddspgl
// description: |
//     A plain cumsum's first dispatch: the float32 sum of |x| over each block of a row
//     (output [rows, nb]), from which cumsum_block_sums chooses the row's shift. Rounding:
//     PER - 1 serial additions in an invocation and WG - 1 over the workgroup.
// options: WG, PER, REVERSE (the host's constants)
#include "../lib/cumsum_blocks.wgsl"

fn main(index: i32) {
  let lid = localIndex;
  let g = cumsum_group();
  var s = 0.0;
  let first = cumsum_first(g, lid);
  for (var i = 0; i < i32(PER); i++) {
    let k = cumsum_index(g.row, first + i);
    if (g.live && k >= 0) {
      s += abs(x[k]);
    }
  }
  let total = wg_sum_floats(s, lid);
  if (g.live && lid == 0u) {
    result[g.row * uniforms.nb + g.block] = total;
  }
}
