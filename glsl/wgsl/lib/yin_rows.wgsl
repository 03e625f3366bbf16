// contributors: ddspgl
// description: |
//     How the WGSL YIN passes read their rows (kernels/yin_webgpu.py). The host declares
//     the uniforms n (samples per row), batch, frames, block (B), blocks (per row),
//     window (W), stride (blocks per hop), span (blocks per window), lags (L), lags4
//     (ceil(L / 4)), lagMin, lagMax, threshold and sampleRate (the same struct for every
//     YIN program). `scale` (yin_scale, int32 [batch, 2]) holds per row the exponent e
//     with max|x| 2^e in [0.5, 1) (kernels/yin.row_scale) and whether the row holds NaN or
//     Inf.
//     Included by the passes that read `scale`.

fn yin_row_exponent(row: i32) -> i32 {
  return scale[2 * row];
}

fn yin_row_bad(row: i32) -> bool {
  return scale[2 * row + 1] != 0;
}
