// contributors: ddspgl
// description: |
//     Frame-rate pass of the WGSL harmonic synthesizer, one invocation per (row, frame):
//     output int32 [batch, F, 8], the frame data of harmonic_layout.wgsl. The increment is
//     the sum of the linearly interpolated f0 over the frame's hop as an exact residue
//     (the last frame is held for its hop; without DDSP's add_endpoint the scan's total
//     skips it); the gain and cut are glsl/kernels/harmonic_gain.frag's: with NORMALIZE,
//     cut is the first harmonic with k f0 >= nyquist (decided exactly) and the gain is
//     amplitude / the float32 sum of the kept distribution (0 where it is 0), else
//     cut = K + 1 and the gain is the amplitude. A gain below float32's normal range is
//     zeroed (the argument checks refuse such gains where the host holds the values). A
//     frame whose f0, amplitude or any distribution entry is NaN, Inf or negative gets
//     the gain NaN, which spoils its row (harmonic_scan).
// options: NORMALIZE (the host's constant)
#include "../lib/harmonic_phase.wgsl"
#include "../lib/harmonic_layout.wgsl"

fn main(index: i32) {
  let count = uniforms.batch * uniforms.frames;
  if (index >= count) {
    return;
  }
  let row = index / uniforms.frames;
  let frame = index - row * uniforms.frames;
  let p = harmonic_modulus();
  let a = f0[index];
  let b = select(a, f0[index + 1], frame + 1 < uniforms.frames);
  let ra = res_from_float(a, p, uniforms.shift);
  let rb = res_from_float(b, p, uniforms.shift);
  let inc = harmonic_in_frame(ra, rb, uniforms.hop - 1, uniforms.hop, p);

  let amp = amplitude[index];
  var bad = harmonic_bad_control(a) || harmonic_bad_control(amp);
  let k_count = uniforms.harmonics;
  var cut = k_count + 1;
  if (NORMALIZE) {
    for (var k = 1; k <= k_count; k++) {
      if (harmonic_above_nyquist(a, k, uniforms.nyquist)) {
        cut = k;
        break;
      }
    }
  }
  let first = index * k_count;
  var total = 0.0f;
  for (var k = 1; k <= k_count; k++) {
    let d = dist[first + k - 1];
    bad = bad || harmonic_bad_control(d);
    if (k < cut) {
      total += d;
    }
  }
  var gain = amp;
  if (NORMALIZE) {
    gain = select(0.0f, amp / total, total > 0.0f);
  }
  var gain_bits = bitcast<u32>(gain);
  if ((gain_bits & 0x7f800000u) == 0u) {           // zero, or subnormal: below 2^-126
    gain_bits = 0u;
  }
  if (bad) {
    gain_bits = HARMONIC_BAD_GAIN;
  }
  let fraction = res_to_fraction(ra, uniforms.fracScale);
  let o = index * 8;
  result[o] = bitcast<i32>(inc.x);
  result[o + 1] = bitcast<i32>(inc.y);
  result[o + 2] = bitcast<i32>(gain_bits);
  result[o + 3] = cut;
  result[o + 4] = bitcast<i32>(fraction.x);
  result[o + 5] = bitcast<i32>(fraction.y);
  result[o + 6] = bitcast<i32>(fraction.z);
  result[o + 7] = 0;
}
