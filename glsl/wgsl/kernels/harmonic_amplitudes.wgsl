// contributors: ddspgl
// description: |
//     Frame-rate pass of the WGSL harmonic synthesizer, one invocation per (row, frame,
//     group of four harmonics): output float32 [batch, F, 4 ceil(K / 4)], the frame's
//     amplitude of harmonic k = 4 j + l + 1 at 4 j + l: gain * dist[k] where k < cut,
//     0 above the cut and past K (the frame data of harmonic_frames). The audio pass reads
//     them four at a time: two vector loads per four harmonics and sample, where reading
//     the distribution there took eight loads and the gains' selects.
#include "../lib/harmonic_layout.wgsl"

fn main(index: i32) {
  let k_count = uniforms.harmonics;
  let groups = (k_count + 3) / 4;
  if (index >= uniforms.batch * uniforms.frames * groups) {
    return;
  }
  let cell = index / groups;                      // row * F + frame
  let j = index - cell * groups;
  let base = harmonic_frame_base(0, cell);        // cell = row * F + frame
  let gain = bitcast<f32>(frame_data[base + 2]);
  let cut = frame_data[base + 3];
  for (var l = 0; l < 4; l++) {
    let k = 4 * j + l + 1;
    var amp = 0.0f;
    if (k <= k_count && k < cut) {
      amp = gain * dist[cell * k_count + k - 1];
    }
    result[4 * index + l] = amp;
  }
}
