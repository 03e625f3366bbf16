// contributors: ddspgl
// description: |
//     First pass of the WGSL YIN pitch tracker, one workgroup of WG invocations per row
//     of x [batch, n]: output int32 [batch, 2], the row's scale exponent e (max|x| 2^e in
//     [0.5, 1), 0 for a silent row: kernels/yin.row_scale, from the bits of the largest
//     |x|, exact) and whether the row holds NaN or Inf (then its frames come out NaN).
//     YIN is invariant to the scale; with it every sum stays far from float32's limits.
//     The largest |x| is taken on the bits (the magnitudes of non-negative floats order as
//     integers): no float operation, which a GPU may flush to zero on subnormal values.
// options: WG (the host's constant)

var<workgroup> yin_peaks: array<u32, WG>;
var<workgroup> yin_flags: array<u32, WG>;

fn main(index: i32) {
  let lid = localIndex;
  let id = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
  let live = id < uniforms.batch;
  let row = select(0, id, live);
  var peak = 0u;                                  // the largest |x|, as bits
  var bad = 0u;
  for (var j = i32(lid); j < uniforms.n; j += i32(WG)) {
    let magnitude = bitcast<u32>(x[row * uniforms.n + j]) & 0x7fffffffu;
    if (magnitude >= 0x7f800000u) {
      bad = 1u;                                   // NaN or Inf
    } else {
      peak = max(peak, magnitude);
    }
  }
  yin_peaks[lid] = peak;
  yin_flags[lid] = bad;
  workgroupBarrier();
  if (lid == 0u && live) {
    for (var i = 1u; i < WG; i++) {
      peak = max(peak, yin_peaks[i]);
      bad = bad | yin_flags[i];
    }
    let bits = peak;
    let biased = i32((bits >> 23u) & 0xffu);
    var e = 0;
    if (biased > 0) {
      e = 126 - biased;                           // peak = 0.1m 2^(biased - 126)
    } else if (bits != 0u) {
      e = 148 - i32(firstLeadingBit(bits));       // subnormal: bits 2^-149
    }
    result[2 * row] = e;
    result[2 * row + 1] = i32(bad);
  }
}
