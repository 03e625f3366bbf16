// contributors: ddspgl
// description: |
//     Last pass of the WGSL YIN pitch tracker (de Cheveigne and Kawahara 2002, steps 3-5),
//     one invocation per (row, frame): output float32 [batch, frames, 4] (f0 in Hz,
//     confidence, the chosen lag tau, the parabolic offset delta), glsl/kernels/yin_pick.frag
//     step for step. Walking the lags 1 ... L of the frame's difference function d it forms
//     d'(t) = t d(t) / sum_{j <= t} d(j) (1 where that sum is 0) and, one lag behind,
//     judges tau = t - 1 in [lagMin, lagMax]: a dip where d'(tau) < d'(tau - 1) and
//     d'(tau) <= d'(tau + 1) (either waived at the range's own end), its depth the
//     ordinate of the vertex of the parabola through d'(tau - 1), d'(tau), d'(tau + 1)
//     where both hold, d'(tau) where one is waived. It takes the first dip deeper than the
//     threshold, else the first deepest dip. The period is tau + delta, delta the vertex
//     of the parabola through d(tau - 1), d(tau), d(tau + 1), clamped to [-1, 1] and 0
//     where they do not curve upwards; f0 = sampleRate / period, confidence =
//     clamp(1 - depth, 0, 1). A row holding NaN or Inf (yin_scale) gives NaN.
#include "../lib/yin_rows.wgsl"

fn main(index: i32) {
  if (index >= uniforms.batch * uniforms.frames) {
    return;
  }
  let row = index / uniforms.frames;
  let lags4 = uniforms.lags4;
  var total = 0.0f;
  var d0 = 0.0f;                                  // d(t - 2)
  var d1 = 0.0f;                                  // d(t - 1)
  var n0 = 1.0f;                                  // d'(t - 2)
  var n1 = 1.0f;                                  // d'(t - 1)
  var found = false;
  var pick = -1;
  var pick_depth = 1.0f;
  var pick_d = vec3<f32>(0.0f);                   // d(tau - 1), d(tau), d(tau + 1)
  var best = -1;
  var best_depth = 1.0f;
  var best_d = vec3<f32>(0.0f);
  for (var q = 0; q < lags4 && !found; q++) {
    let o = (index * lags4 + q) * 4;
    for (var l = 0; l < 4; l++) {
      let t = 4 * q + 1 + l;
      if (t > uniforms.lags) {
        break;
      }
      let d = difference[o + l];
      total += d;
      let n = select(1.0f, f32(t) * d / total, total > 0.0f);
      let tau = t - 1;                            // <= lagMax as t <= lags
      let below = n1 < n0;
      let not_above = n1 <= n;
      if (tau >= uniforms.lagMin && (below || tau == uniforms.lagMin)
          && (not_above || tau == uniforms.lagMax)) {
        var depth = n1;
        if (below && not_above) {
          let curve = (n0 + n) - 2.0f * n1;
          if (curve > 0.0f) {
            depth = n1 - (n0 - n) * (n0 - n) / (8.0f * curve);
          }
        }
        if (depth < uniforms.threshold) {
          found = true;
          pick = tau;
          pick_depth = depth;
          pick_d = vec3<f32>(d0, d1, d);
          break;
        }
        if (best < 0 || depth < best_depth) {
          best = tau;
          best_depth = depth;
          best_d = vec3<f32>(d0, d1, d);
        }
      }
      d0 = d1;
      d1 = d;
      n0 = n1;
      n1 = n;
    }
  }
  if (!found) {
    pick = best;
    pick_depth = best_depth;
    pick_d = best_d;
  }
  let num = pick_d.x - pick_d.z;
  let den = (pick_d.x + pick_d.z) - 2.0f * pick_d.y;
  let delta = select(0.0f, clamp(num / (2.0f * den), -1.0f, 1.0f), den > 0.0f);
  let f0 = uniforms.sampleRate / (f32(pick) + delta);
  let bad = yin_row_bad(row);
  let o = index * 4;
  result[o] = select(f0, uniforms.NAN, bad);
  result[o + 1] = select(clamp(1.0f - pick_depth, 0.0f, 1.0f), uniforms.NAN, bad);
  result[o + 2] = select(f32(pick), uniforms.NAN, bad);
  result[o + 3] = select(delta, uniforms.NAN, bad);
}
