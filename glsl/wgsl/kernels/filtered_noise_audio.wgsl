// contributors: ddspgl
// description: |
//     Audio-rate pass of the WGSL filtered noise: output float32 [batch, samples], one
//     invocation per sample m, a workgroup per WG consecutive samples of one row. ddsp's
//     framed convolution, overlap-add and 'same' crop give
//     y[m] = sum_j ir_{q / hop}[j] x[q] over the taps j with q = m + start - j in
//     [0, samples): glsl/kernels/filtered_noise_audio.frag's loops and arithmetic, in its
//     order (the frames holding such q, then their q ascending; a compensated (Kahan)
//     sum of tap * x[q], each product rounded once).
//
//     The noise x[q] is the same bits (noise_uniform of the row's key and the absolute
//     index sampleOffset + q), drawn once per workgroup instead of once per tap: the WG
//     samples of a workgroup read q in [q0, q0 + SPAN), q0 = m0 + start - (L - 1) for its
//     first sample m0, SPAN = WG + L - 1 values, which its invocations draw into
//     workgroup memory before one barrier (L hashes per sample become SPAN / WG). Values
//     for q outside [0, samples) are drawn and never read. A NaN tap (a frame holding NaN
//     or Inf) makes the sample NaN.
//     Inputs: ir [batch * frames, L] (filtered_noise_ir.wgsl).
// options: WG, SPAN (the host's constants)
// uniforms: batch, frames, taps (L), hop, samples, start, seed, sampleOffset
#include "../lib/noise_uniform.wgsl"

var<workgroup> noise_block: array<f32, SPAN>;

fn main(index: i32) {
  let lid = i32(localIndex);
  let n = uniforms.samples;
  let blocks = (n + WG - 1) / WG;
  let group = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);  // row * blocks + block
  let row = group / blocks;                       // past batch in the dispatch's last few
  let m0 = (group - row * blocks) * WG;
  let q0 = m0 + uniforms.start - (uniforms.taps - 1);
  let key = noise_key(uniforms.seed, u32(row));
  for (var i = lid; i < SPAN; i += WG) {
    noise_block[i] = noise_uniform(key, uniforms.sampleOffset + u32(q0 + i));
  }
  workgroupBarrier();
  let m = m0 + lid;
  if (row >= uniforms.batch || m >= n) {
    return;
  }
  let top = m + uniforms.start;                   // q = top - j
  let q_lo = max(top - (uniforms.taps - 1), 0);
  let q_hi = min(top, n - 1);
  let hop = uniforms.hop;
  var sum = 0.0f;
  var comp = 0.0f;
  var nan = false;
  if (q_lo <= q_hi) {
    let f_hi = q_hi / hop;
    for (var f = q_lo / hop; f <= f_hi; f++) {
      let a = max(q_lo, f * hop);
      let b = min(q_hi, f * hop + hop - 1);
      let base = (row * uniforms.frames + f) * uniforms.taps + top;  // tap top - q at base - q
      for (var q = a; q <= b; q++) {
        let tap = ir[base - q];
        nan = nan || (bitcast<u32>(tap) & 0x7fffffffu) > 0x7f800000u;
        let term = tap * noise_block[q - q0];
        let y = term - comp;                      // Kahan
        let t = sum + y;
        comp = (t - sum) - y;
        sum = t;
      }
    }
  }
  result[row * n + m] = select(sum, uniforms.NAN, nan);
}
