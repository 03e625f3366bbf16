// contributors: ddspgl
// description: |
//     The fused audio-rate pass of the WGSL harmonic synthesizer: output float32
//     [batch, nSamples], one invocation per sample looping over the harmonics; nothing
//     per harmonic and sample is stored (glsl/kernels/harmonic_synth.frag, the same
//     arithmetic with float32 gains).
//
//     Phase: the frame's starting phase (the exclusive prefix of harmonic_scan, an exact
//     residue) as a 64-bit binary fraction of a cycle (res_to_fraction), plus the in-frame
//     closed form from the 96-bit fractions of the frame's and the next frame's f0
//     (harmonic_in_frame_fraction) is the fundamental's phase F1, within 2^-60 cycles of
//     the exact residue's (harmonic_phase.wgsl). Harmonic k's phase is k F1 (+ its initial
//     phase's fraction) modulo 1, four harmonics at a time by vector adds with carry:
//     within 2^-48 cycles for k < 2^12. Its high word as a centred float in [-0.5, 0.5]
//     periods rounds once (frac_to_centered4, < 2^-25 + 2^-32 periods: with the above,
//     under 2^-23), then sin(2 pi x) (sin_two_pi.wgsl).
//     Amplitude: DDSP's 'window' upsampling is a raised-cosine crossfade between the
//     amplitudes of frame i and i + 1 (harmonic_amplitudes, read four at a time; weight
//     w = (1 - cos(pi r / hop)) / 2 on frame i + 1). Harmonic k is silenced where
//     k f(n) >= nyquist, f(n) the linearly interpolated f0: the loop stops at the first
//     such k (k f(n) grows with k); the frame amplitudes are 0 above a frame's cut. The
//     sum over harmonics is compensated (Kahan, four lanes). A sample of a flagged row
//     (harmonic_layout.wgsl) is NaN.
// options: INITIAL (the host's constant: add the initial phases)
#include "../lib/harmonic_phase.wgsl"
#include "../lib/harmonic_layout.wgsl"
#include "../lib/accurate_sin_cos.wgsl"
#include "../lib/sin_two_pi.wgsl"

const HARMONIC_PI = 3.141592653589793f;

// The 96-bit fraction of frame `frame`'s f0 residue (frame data words 4-6).
fn harmonic_frame_fraction(row: i32, frame: i32) -> vec3<u32> {
  let o = harmonic_frame_base(row, frame) + 4;
  return bitcast<vec3<u32>>(vec3<i32>(frame_data[o], frame_data[o + 1], frame_data[o + 2]));
}

// The fractions of the initial phases of harmonics k ... k + 3 (harmonic_layout.wgsl:
// harmonic k's at words base + 2k and base + 2k + 1), low words in the result, high words
// in `hi`; lanes past K repeat harmonic K's (their amplitudes are 0).
fn harmonic_initial4(base: i32, k: i32, hi: ptr<function, vec4<u32>>) -> vec4<u32> {
  let last = uniforms.harmonics;
  let o0 = base + 2 * min(k, last);
  let o1 = base + 2 * min(k + 1, last);
  let o2 = base + 2 * min(k + 2, last);
  let o3 = base + 2 * min(k + 3, last);
  *hi = bitcast<vec4<u32>>(vec4<i32>(phase_words[o0 + 1], phase_words[o1 + 1],
                                     phase_words[o2 + 1], phase_words[o3 + 1]));
  return bitcast<vec4<u32>>(vec4<i32>(phase_words[o0], phase_words[o1], phase_words[o2],
                                      phase_words[o3]));
}

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
  let phases = harmonic_phases_base(row);

  let a = f0[row * uniforms.frames + frame];
  let b = f0[row * uniforms.frames + next];
  let start = vec2<u32>(bitcast<u32>(phase_words[phases + 2 * frame]),
                        bitcast<u32>(phase_words[phases + 2 * frame + 1]));
  let f1 = frac_add(res_to_fraction(start, uniforms.fracScale).yz,
                    harmonic_in_frame_fraction(harmonic_frame_fraction(row, frame),
                                               harmonic_frame_fraction(row, next), r, hop));

  let w = 0.5f - 0.5f * accurate_sin_cos(HARMONIC_PI * f32(r) / f32(hop)).y;
  let fh = a * f32(hop - r) + b * f32(r);         // hop * f(n)
  let limit = f32(hop) * uniforms.nyquist;

  let k_count = uniforms.harmonics;
  let k_groups = (k_count + 3) / 4;
  let amps0 = (row * uniforms.frames + frame) * k_groups;
  let amps1 = (row * uniforms.frames + next) * k_groups;
  let init_base = phases + 2 * (uniforms.frames + 1 + k_count);  // fraction k at + 2k
  // Lanes hold the fractions of harmonics k ... k + 3, k = 4 j + 1: low words in lo, high
  // words in hi; each group adds 4 F1 with a carry.
  let f2 = frac_add(f1, f1);
  let f3 = frac_add(f2, f1);
  let f4 = frac_add(f3, f1);
  var lo = vec4<u32>(f1.x, f2.x, f3.x, f4.x);
  var hi = vec4<u32>(f1.y, f2.y, f3.y, f4.y);
  let step_lo = vec4<u32>(f4.x);
  let step_hi = vec4<u32>(f4.y);
  var sum = vec4<f32>(0.0f);
  var comp = vec4<f32>(0.0f);
  for (var j = 0; j < k_groups; j++) {
    let k = 4 * j + 1;
    var phase_hi = hi;
    if (INITIAL) {
      var init_hi: vec4<u32>;
      let init_lo = harmonic_initial4(init_base, k, &init_hi);
      let with_lo = lo + init_lo;
      phase_hi = hi + init_hi + select(vec4<u32>(0u), vec4<u32>(1u), with_lo < lo);
    }
    let x = frac_to_centered4(phase_hi);
    let kv = vec4<f32>(f32(k), f32(k + 1), f32(k + 2), f32(k + 3));
    let on = select(vec4<f32>(0.0f), vec4<f32>(1.0f), kv * fh < vec4<f32>(limit));
    let amp0 = amps[amps0 + j];                   // 0 past K: those lanes add nothing
    let amp1 = amps[amps1 + j];
    let term = on * (amp0 + (amp1 - amp0) * w) * sin_two_pi4(x);
    let y = term - comp;                          // Kahan, lane-wise
    let t = sum + y;
    comp = (t - sum) - y;
    sum = t;
    if (on.w == 0.0f) {                           // every higher harmonic is above Nyquist
      break;
    }
    let next_lo = lo + step_lo;
    hi = hi + step_hi + select(vec4<u32>(0u), vec4<u32>(1u), next_lo < lo);
    lo = next_lo;
  }
  let value = (sum.x + sum.y) + (sum.z + sum.w);
  let flagged = phase_words[phases + 2 * (uniforms.frames + 1)] != 0;
  result[index] = select(value, uniforms.NAN, flagged);
}
