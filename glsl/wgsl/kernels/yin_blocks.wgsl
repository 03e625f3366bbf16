// contributors: ddspgl
// description: |
//     Second pass of the WGSL YIN pitch tracker: partial sums of its difference
//     function, one invocation per (row, block, q): output float32
//     [batch * blocks, lags4, 4], for the lags tau = 4q + 1 ... 4q + 4 the sum over the B
//     samples of block b of (x[s + k] - x[s + k + tau])^2, s = b B - (W + tau) / 2
//     (integer division): glsl/kernels/yin_blocks.frag, the same reads and arithmetic
//     (lanes share their reads: two sliding triples of samples, two reads per step), on
//     the rows scaled by yin_scale (on the bits: exact). Float32: each term within 3 roundings, the
//     sum of B non-negative terms within B - 1 more (kernels/yin.py).
#include "../lib/yin_rows.wgsl"

// v 2^e from the bits of v, exact where the result is a normal float32, and zero where it
// would be subnormal: no float operation, which a GPU may flush to zero on subnormal v. A
// flushed sample is below 2^-126 in a row whose largest |x| is at least 1/2: with each
// sample in at most 2 terms per lag it moves d by under 2W 2^-124 <= 2^-111, inside the
// absolute 2^-100 kernels/yin.py allows float32 storage per d.
fn yin_scaled(v: f32, e: i32) -> f32 {
  let bits = bitcast<u32>(v);
  let magnitude = bits & 0x7fffffffu;
  if (magnitude == 0u) {
    return v;
  }
  var biased = i32(magnitude >> 23u);
  var m = magnitude & 0x7fffffu;
  if (biased == 0) {                              // subnormal: m 2^-149, m in [2^t, 2^(t+1))
    let t = i32(firstLeadingBit(m));
    m = (m << u32(23 - t)) & 0x7fffffu;
    biased = t - 22;
  }
  let scaled = biased + e;                        // below 255: |v| 2^e < 1
  if (scaled <= 0) {
    return 0.0f;
  }
  return bitcast<f32>((bits & 0x80000000u) | (u32(scaled) << 23u) | m);
}

// Sample j of row `row`, scaled by 2^e; zero outside the row (the signal's zero padding).
fn yin_sample(row: i32, j: i32, e: i32) -> f32 {
  if (j < 0 || j >= uniforms.n) {
    return 0.0f;
  }
  return yin_scaled(x[row * uniforms.n + j], e);
}

fn main(index: i32) {
  let lags4 = uniforms.lags4;
  if (index >= uniforms.batch * uniforms.blocks * lags4) {
    return;
  }
  let cell = index / lags4;                       // batch * blocks + block
  let q = index - cell * lags4;
  let row = cell / uniforms.blocks;
  let block = cell - row * uniforms.blocks;
  let e = yin_row_exponent(row);
  let tau0 = 4 * q + 1;
  let left = block * uniforms.block - ((uniforms.window + tau0) >> 1u);  // lane 0's x[s]
  let right = left + tau0;                                               // lane 0's x[s + tau]
  let odd = (uniforms.window & 1) == 1;
  var a = vec3<f32>(0.0f, yin_sample(row, left - 2, e), yin_sample(row, left - 1, e));
  var b = vec3<f32>(0.0f, yin_sample(row, right, e), yin_sample(row, right + 1, e));
  var sum = vec4<f32>(0.0f);
  for (var k = 0; k < uniforms.block; k++) {
    a = vec3<f32>(a.yz, yin_sample(row, left + k, e));       // x[left + k - 2 ... left + k]
    b = vec3<f32>(b.yz, yin_sample(row, right + k + 2, e));  // x[right + k ... right + k + 2]
    let lhs = select(vec4<f32>(a.z, a.y, a.y, a.x), vec4<f32>(a.z, a.z, a.y, a.y), odd);
    let rhs = select(vec4<f32>(b.x, b.x, b.y, b.y), vec4<f32>(b.x, b.y, b.y, b.z), odd);
    let diff = lhs - rhs;
    sum += diff * diff;
  }
  let o = index * 4;
  result[o] = sum.x;
  result[o + 1] = sum.y;
  result[o + 2] = sum.z;
  result[o + 3] = sum.w;
}
