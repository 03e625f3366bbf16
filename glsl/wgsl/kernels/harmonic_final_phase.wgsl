// contributors: ddspgl
// description: |
//     The WGSL harmonic synthesizer's final phases, one invocation per (row, harmonic):
//     output float32 [batch, K], each harmonic's phase at the last sample in radians,
//     2 pi r / p for the residue r = k * total + its initial phase (mod p), total the
//     phase scan's prefix at frame last + 1 (the held endpoint's hop included with
//     DDSP's add_endpoint, not without), exact; the conversion to radians
//     (harmonic_residue_to_radians) rounds once, within half an ulp + 2^-28 rad. NaN for
//     a flagged row.
#include "../lib/harmonic_phase.wgsl"
#include "../lib/harmonic_layout.wgsl"

fn main(index: i32) {
  let k_count = uniforms.harmonics;
  if (index >= uniforms.batch * k_count) {
    return;
  }
  let row = index / k_count;
  let k = index - row * k_count + 1;
  let p = harmonic_modulus();
  let phases = harmonic_phases_base(row);
  let at = phases + 2 * (uniforms.last + 1);
  let total = vec2<u32>(bitcast<u32>(phase_words[at]), bitcast<u32>(phase_words[at + 1]));
  let units_at = phases + 2 * (uniforms.frames + 1 + k);
  let units = vec2<u32>(bitcast<u32>(phase_words[units_at]),
                        bitcast<u32>(phase_words[units_at + 1]));
  let residue = res_add(res_mul_u32(total, u32(k), p), units, p);
  let radians = harmonic_residue_to_radians(residue, p, uniforms.twoPi);
  let flagged = phase_words[phases + 2 * (uniforms.frames + 1)] != 0;
  result[index] = select(radians, uniforms.NAN, flagged);
}
