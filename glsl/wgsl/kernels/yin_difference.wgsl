// contributors: ddspgl
// description: |
//     Third pass of the WGSL YIN pitch tracker: the difference function d(tau) of every
//     frame, one invocation per (row, frame, q): output float32 [batch * frames, lags4, 4],
//     lags 4q + 1 ... 4q + 4, the sum of the span (W / B) partial sums of yin_blocks from
//     block frame * stride (hop / B) of the row on (glsl/kernels/yin_difference.frag).
//     The sum of span non-negative terms adds at most span - 1 roundings.

fn main(index: i32) {
  let lags4 = uniforms.lags4;
  if (index >= uniforms.batch * uniforms.frames * lags4) {
    return;
  }
  let cell = index / lags4;                       // batch * frames + frame
  let q = index - cell * lags4;
  let row = cell / uniforms.frames;
  let frame = cell - row * uniforms.frames;
  let first = row * uniforms.blocks + frame * uniforms.stride;
  var sum = vec4<f32>(0.0f);
  for (var m = 0; m < uniforms.span; m++) {
    let o = ((first + m) * lags4 + q) * 4;
    sum += vec4<f32>(blocks[o], blocks[o + 1], blocks[o + 2], blocks[o + 3]);
  }
  let o = index * 4;
  result[o] = sum.x;
  result[o + 1] = sum.y;
  result[o + 2] = sum.z;
  result[o + 3] = sum.w;
}
