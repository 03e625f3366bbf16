// contributors: ddspgl
// description: |
//     Where the WGSL harmonic synthesizer keeps its per-frame data (kernels/harmonic_webgpu.py).
//     The host declares the uniforms modulus (p as vec2<u32>), shift, hop, frames (F),
//     harmonics (K), batch, nSamples, last, nyquist, fracScale, twoPi, invTwoPiA and
//     invTwoPiB (the same struct for every harmonic program).
//     - frame data, int32 [batch, F, 8] (harmonic_frames): per frame its phase increment
//       (two words of a residue), its gain (float32 bits; NaN where a control of the
//       frame is NaN, Inf or negative), its cut (harmonics k >= cut are silenced in the
//       frame: above Nyquist when normalising, K + 1 otherwise), the residue of its
//       f0 * 2^shift as a 96-bit fraction of a cycle (three words, res_to_fraction) and
//       a word unused;
//     - phases, int32 [batch, F + 2 + 2K, 2] (harmonic_scan): per row the exclusive
//       prefix sums of the increments, entry j for frame j and entry F for all F; entry
//       F + 1 the row's flag (1 where a control or an initial phase of the row is bad);
//       entry F + 1 + k the initial phase of harmonic k as a residue, entry F + 1 + K + k
//       the same as a 64-bit fraction of a cycle (res_to_fraction; both 0 without them);
//     - amplitudes, float32 [batch, F, 4 ceil(K / 4)] (harmonic_amplitudes): per frame
//       harmonic k's amplitude at k - 1, 0 above the frame's cut and past K.

const HARMONIC_BAD_GAIN = 0x7fc00000u;            // a quiet NaN: the gain of a bad frame

fn harmonic_frame_base(row: i32, frame: i32) -> i32 {
  return (row * uniforms.frames + frame) * 8;
}

fn harmonic_phases_base(row: i32) -> i32 {
  return row * (uniforms.frames + 2 + 2 * uniforms.harmonics) * 2;
}

fn harmonic_modulus() -> vec2<u32> {
  return uniforms.modulus;
}

// Whether a float's bits say NaN or Inf (its exponent all ones) or a negative number (its
// sign set, not -0): bit tests, which no compiler may fold away as it may `v != v`.
fn harmonic_bad_control(v: f32) -> bool {
  let b = bitcast<u32>(v);
  return (b & 0x7f800000u) == 0x7f800000u || b > 0x80000000u;
}

fn harmonic_not_finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
}
