// contributors: ddspgl
// description: |
//     The fused audio-rate pass of the WGSL harmonic synthesizer: output float32
//     [batch, nSamples], one invocation per sample looping over the harmonics; nothing
//     per harmonic and sample is stored (glsl/kernels/harmonic_synth.frag, the same
//     arithmetic with float32 gains).
//
//     Phase (exact): the frame's starting phase (the exclusive prefix of harmonic_scan)
//     plus the in-frame closed form (harmonic_in_frame) is the fundamental's phase R1 as
//     a residue; harmonic k's is k R1 (+ its initial phase) by one res_add per harmonic.
//     Only its conversion to a float in [-0.5, 0.5] periods rounds (< 2^-23 periods),
//     then sin(2 pi x) (accurate_sin_cos.wgsl).
//
//     Amplitude: DDSP's 'window' upsampling is a raised-cosine crossfade between the
//     gains of frame i and i + 1 (weight w = (1 - cos(pi r / hop)) / 2 on frame i + 1).
//     Harmonic k is silenced where k f(n) >= nyquist, f(n) the linearly interpolated f0:
//     the loop stops at the first such k (k f(n) grows with k), and in frame i where
//     k >= cut. The sum over harmonics is compensated (Kahan, four lanes). A sample of a
//     flagged row (harmonic_layout.wgsl) is NaN.
// options: INITIAL (the host's constant: add the initial phases)
#include "../lib/harmonic_phase.wgsl"
#include "../lib/harmonic_layout.wgsl"
#include "../lib/accurate_sin_cos.wgsl"

const HARMONIC_TWO_PI = 6.283185307179586f;
const HARMONIC_PI = 3.141592653589793f;

fn main(index: i32) {
  let n = uniforms.nSamples;
  if (index >= uniforms.batch * n) {
    return;
  }
  let row = index / n;
  let pos = index - row * n;
  let hop = uniforms.hop;
  let frame = pos / hop;
  let r = pos - frame * hop;
  let next = min(frame + 1, uniforms.frames - 1);  // the held endpoint repeats the last frame
  let p = harmonic_modulus();
  let phases = harmonic_phases_base(row);

  let a = f0[row * uniforms.frames + frame];
  let b = f0[row * uniforms.frames + next];
  let start = vec2<u32>(bitcast<u32>(phase_words[phases + 2 * frame]),
                        bitcast<u32>(phase_words[phases + 2 * frame + 1]));
  let r1 = res_add(start, harmonic_in_frame(res_from_float(a, p, uniforms.shift),
                                            res_from_float(b, p, uniforms.shift), r, hop, p), p);

  let base0 = harmonic_frame_base(row, frame);
  let base1 = harmonic_frame_base(row, next);
  let gain0 = bitcast<f32>(frame_data[base0 + 2]);
  let gain1 = bitcast<f32>(frame_data[base1 + 2]);
  let cut0 = frame_data[base0 + 3];
  let cut1 = frame_data[base1 + 3];
  let w = 0.5f - 0.5f * accurate_sin_cos(HARMONIC_PI * f32(r) / f32(hop)).y;
  let fh = a * f32(hop - r) + b * f32(r);         // hop * f(n)
  let limit = f32(hop) * uniforms.nyquist;

  let k_count = uniforms.harmonics;
  let dist0 = (row * uniforms.frames + frame) * k_count;
  let dist1 = (row * uniforms.frames + next) * k_count;
  let init_base = phases + 2 * (uniforms.frames + 1);
  var sum = vec4<f32>(0.0f);
  var comp = vec4<f32>(0.0f);
  var rk = vec2<u32>(0u, 0u);
  let k_groups = (k_count + 3) / 4;
  for (var j = 0; j < k_groups; j++) {
    var x = vec4<f32>(0.0f);
    var on = vec4<f32>(0.0f);
    var amp0 = vec4<f32>(0.0f);
    var amp1 = vec4<f32>(0.0f);
    for (var l = 0; l < 4; l++) {
      let k = 4 * j + l + 1;
      rk = res_add(rk, r1, p);
      var rh = rk;
      if (INITIAL && k <= k_count) {
        rh = res_add(rh, vec2<u32>(bitcast<u32>(phase_words[init_base + 2 * k]),
                                   bitcast<u32>(phase_words[init_base + 2 * k + 1])), p);
      }
      let keep = k <= k_count && f32(k) * fh < limit;
      x[l] = res_to_centered(rh, p, uniforms.invModulus);
      on[l] = select(0.0f, 1.0f, keep);
      if (k <= k_count) {
        amp0[l] = select(0.0f, gain0 * dist[dist0 + k - 1], k < cut0);
        amp1[l] = select(0.0f, gain1 * dist[dist1 + k - 1], k < cut1);
      }
    }
    let term = on * (amp0 + (amp1 - amp0) * w) * accurate_sin4(HARMONIC_TWO_PI * x);
    let y = term - comp;                          // Kahan, lane-wise
    let t = sum + y;
    comp = (t - sum) - y;
    sum = t;
    if (on.w == 0.0f) {                           // every higher harmonic is above Nyquist
      break;
    }
  }
  let value = (sum.x + sum.y) + (sum.z + sum.w);
  let flagged = phase_words[phases + 2 * (uniforms.frames + 1)] != 0;
  result[index] = select(value, uniforms.NAN, flagged);
}
