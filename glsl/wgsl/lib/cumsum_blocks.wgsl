// contributors: ddspgl
// description: |
//     The WGSL cumsum's blocking: a row of n inputs is scanned in blocks of WG * PER scan
//     elements, one workgroup per (row, block), PER consecutive elements per invocation.
//     Scan element j is input position j, or n - 1 - j for a reverse scan. The host
//     declares WG, PER and REVERSE and the uniforms n (inputs per row), nb (blocks per
//     row) and rows; workgroups are numbered linearly over a 2-D dispatch.

#include "residue.wgsl"
#include "workgroup_scan.wgsl"

// (row, block, and live: whether this workgroup has one): a dispatch rounded up to whole rows of
// workgroups has a few without; they still reach every barrier.
struct CumsumGroup {
  row: i32,
  block: i32,
  live: bool,
}

fn cumsum_group() -> CumsumGroup {
  let id = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
  var g: CumsumGroup;
  g.live = id < uniforms.rows * uniforms.nb;
  g.row = select(0, id / uniforms.nb, g.live);
  g.block = select(0, id % uniforms.nb, g.live);
  return g;
}

// The flat index of scan element j of `row` in x, or -1 past the row.
fn cumsum_index(row: i32, j: i32) -> i32 {
  if (j >= uniforms.n) {
    return -1;
  }
  return row * uniforms.n + select(j, uniforms.n - 1 - j, REVERSE);
}

// The first scan element of this invocation's PER.
fn cumsum_first(g: CumsumGroup, lid: u32) -> i32 {
  return g.block * i32(WG * PER) + i32(lid * PER);
}

// Row r's entries in the block-sum tensor [rows, 2 * nb + 2]: the residue sums of its
// blocks (two words each), then the plain sum's shift and whether its sum of |x| is finite.
fn cumsum_blocks_base(row: i32) -> i32 {
  return row * (2 * uniforms.nb + 2);
}
