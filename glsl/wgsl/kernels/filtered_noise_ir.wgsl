// contributors: ddspgl
// description: |
//     Frame-rate pass of the WGSL filtered noise, one invocation per (frame, tap): output
//     float32 [batch * frames, L], each frame's causal impulse response, tap
//     j = g_j * S with S = sum_k w_k M_k cos(2 pi k s_j / N) (w_k = 1 at k = 0 and K - 1,
//     else 2): glsl/kernels/filtered_noise_ir.frag's arithmetic, in its order (cosines
//     from a table of float32-rounded float64 values read by the integer k s_j mod N, a
//     compensated (Kahan) sum, one product by g_j = c_j / N), the tap kept as float32
//     (webgpu buffers are float32: no digits needed). A frame holding NaN or Inf (a bit
//     test: no compiler may fold it) writes NaN taps.
//     Inputs: magnitudes [batch * frames, K]; cos_table [N]; tap_table [L, 2] (g_j and
//     s_j, an integer below 2048: exact in float32).
// uniforms: batch, frames, bands (K), irSize (N), taps (L) (filtered_noise_webgpu.js)

fn noise_not_finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
}

fn main(index: i32) {
  let taps = uniforms.taps;
  if (index >= uniforms.batch * uniforms.frames * taps) {
    return;
  }
  let row = index / taps;                         // batch * frames + frame
  let j = index - row * taps;
  let g = tap_table[2 * j];
  let s = i32(tap_table[2 * j + 1]);
  let k_count = uniforms.bands;
  let first = row * k_count;
  var sum = 0.0f;
  var comp = 0.0f;
  var finite = true;
  var m = 0;                                      // k * s mod N
  for (var k = 0; k < k_count; k++) {
    let mag = magnitudes[first + k];
    finite = finite && !noise_not_finite(mag);
    var term = mag * cos_table[m];
    if (k > 0 && k < k_count - 1) {
      term *= 2.0f;
    }
    let y = term - comp;                          // Kahan
    let t = sum + y;
    comp = (t - sum) - y;
    sum = t;
    m += s;
    if (m >= uniforms.irSize) {
      m -= uniforms.irSize;
    }
  }
  result[index] = select(uniforms.NAN, g * sum, finite);
}
