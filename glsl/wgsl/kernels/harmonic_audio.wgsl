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
//     then sin(2 pi x) (sin_two_pi.wgsl).
//
//     Amplitude: DDSP's 'window' upsampling is a raised-cosine crossfade between the
//     amplitudes of frame i and i + 1 (harmonic_amplitudes, read four at a time; weight
//     w = (1 - cos(pi r / hop)) / 2 on frame i + 1). Harmonic k is silenced where
//     k f(n) >= nyquist, f(n) the linearly interpolated f0: the loop stops at the first
//     such k (k f(n) grows with k); the frame amplitudes are 0 above a frame's cut. The sum over harmonics is compensated (Kahan, four lanes). A sample of a
//     flagged row (harmonic_layout.wgsl) is NaN.
// options: INITIAL (the host's constant: add the initial phases)
#include "../lib/harmonic_phase.wgsl"
#include "../lib/harmonic_layout.wgsl"
#include "../lib/accurate_sin_cos.wgsl"
#include "../lib/sin_two_pi.wgsl"

const HARMONIC_PI = 3.141592653589793f;

// Harmonic k's phase in [-0.5, 0.5] periods from its residue k R1, plus its initial
// phase with INITIAL (phases from init_base on, harmonic_layout.wgsl).
fn harmonic_lane_phase(rk: vec2<u32>, k: i32, init_base: i32, p: vec2<u32>) -> f32 {
  var rh = rk;
  if (INITIAL && k <= uniforms.harmonics) {
    rh = res_add(rh, vec2<u32>(bitcast<u32>(phase_words[init_base + 2 * k]),
                               bitcast<u32>(phase_words[init_base + 2 * k + 1])), p);
  }
  return res_to_centered(rh, p, uniforms.invModulus);
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
  let p = harmonic_modulus();
  let phases = harmonic_phases_base(row);

  let a = f0[row * uniforms.frames + frame];
  let b = f0[row * uniforms.frames + next];
  let start = vec2<u32>(bitcast<u32>(phase_words[phases + 2 * frame]),
                        bitcast<u32>(phase_words[phases + 2 * frame + 1]));
  let r1 = res_add(start, harmonic_in_frame(res_from_float(a, p, uniforms.shift),
                                            res_from_float(b, p, uniforms.shift), r, hop, p), p);

  let w = 0.5f - 0.5f * accurate_sin_cos(HARMONIC_PI * f32(r) / f32(hop)).y;
  let fh = a * f32(hop - r) + b * f32(r);         // hop * f(n)
  let limit = f32(hop) * uniforms.nyquist;

  let k_count = uniforms.harmonics;
  let k_groups = (k_count + 3) / 4;
  let amps0 = (row * uniforms.frames + frame) * k_groups;
  let amps1 = (row * uniforms.frames + next) * k_groups;
  let init_base = phases + 2 * (uniforms.frames + 1);
  var sum = vec4<f32>(0.0f);
  var comp = vec4<f32>(0.0f);
  var rk = vec2<u32>(0u, 0u);
  for (var j = 0; j < k_groups; j++) {
    // Four harmonics k ... k + 3 in straight-line code: no vector indexed by a loop counter,
    // which software renderers keep in memory.
    let k = 4 * j + 1;
    let rk1 = res_add(rk, r1, p);
    let rk2 = res_add(rk1, r1, p);
    let rk3 = res_add(rk2, r1, p);
    rk = res_add(rk3, r1, p);
    let x = vec4<f32>(harmonic_lane_phase(rk1, k, init_base, p),
                      harmonic_lane_phase(rk2, k + 1, init_base, p),
                      harmonic_lane_phase(rk3, k + 2, init_base, p),
                      harmonic_lane_phase(rk, k + 3, init_base, p));
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
  }
  let value = (sum.x + sum.y) + (sum.z + sum.w);
  let flagged = phase_words[phases + 2 * (uniforms.frames + 1)] != 0;
  result[index] = select(value, uniforms.NAN, flagged);
}
