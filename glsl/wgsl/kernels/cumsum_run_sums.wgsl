// contributors: ddspgl
// description: |
//     A periodic cumsum's first dispatch: each run's residue sum, exact (a signed 64-bit
//     sum of the values' residue magnitudes, reduced modulo p once), and its float32
//     sum of |x| (PER - 1 roundings; NaN or Inf where the run holds NaN or Inf), output
//     int32 [rows, 3 * runs]: words 3t and 3t + 1 the residue of run t, word 3t + 2 the
//     bits of its sum of |x|. No workgroup memory and no barrier: every invocation works
//     alone.
// options: WG, PER, REVERSE (the host's constants)
#include "../lib/cumsum_runs.wgsl"

const_assert PER <= 4096u;  // res_reduce_signed: at most 2^12 terms

fn main(index: i32) {
  let r = cumsum_run();
  if (!r.live) {
    return;
  }
  let p = uniforms.modulus;
  var signed_sum = vec2<u32>(0u, 0u);             // two's complement: |sum| < PER p
  var magnitude = 0.0;
  for (var j = cumsum_run_first(r); j < cumsum_run_stop(r); j++) {
    let v = x[cumsum_run_index(r.row, j)];
    let bits = bitcast<u32>(v);
    signed_sum = res_signed_add(signed_sum, res_from_magnitude(bits, p, uniforms.shift),
                                (bits & 0x80000000u) != 0u);
    magnitude += abs(v);
  }
  let s = res_reduce_signed(signed_sum, p);
  let o = 3 * (r.row * uniforms.runs + r.run);
  result[o] = bitcast<i32>(s.x);
  result[o + 1] = bitcast<i32>(s.y);
  result[o + 2] = bitcast<i32>(magnitude);
}
