// contributors: ddspgl
// description: |
//     sin and cos to about 2^-23 absolute for |x| <= 4 in WGSL, whatever the built-ins
//     do (WGSL gives sin and cos an absolute error of 2^-11 on [-pi, pi]):
//     glsl/lib/float/accurateSinCos.glsl, the same constants and operations. Cody-Waite
//     reduction by pi/2 (the first constant has 8 significant bits: q * C1 and
//     x - q * C1 are exact for |q| <= 2), then Cephes' sinf/cosf minimax polynomials
//     on [-pi/4, pi/4] (about 1 ulp).
// use: accurate_sin_cos(x: f32) -> vec2<f32> (sin x, cos x)

const ACCURATE_PIO2_1 = 1.5703125f;               // 201 / 128
const ACCURATE_PIO2_2 = 4.838267923332751e-4f;    // float32(pi/2 - PIO2_1)
const ACCURATE_PIO2_3 = 2.5632829e-12f;           // pi/2 - PIO2_1 - PIO2_2
const ACCURATE_TWO_OVER_PI = 0.6366197723675814f;

// sin(r) and cos(r) for |r| <= pi/4 (Cephes sinf, cosf).
fn accurate_sin_cos_poly(r: f32) -> vec2<f32> {
  let z = r * r;
  let s = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * r + r;
  let c = ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z
           + 4.166664568298827e-2f) * z * z - 0.5f * z + 1.0f;
  return vec2<f32>(s, c);
}

fn accurate_sin_cos(x: f32) -> vec2<f32> {
  let q = floor(x * ACCURATE_TWO_OVER_PI + 0.5f);
  let r = ((x - q * ACCURATE_PIO2_1) - q * ACCURATE_PIO2_2) - q * ACCURATE_PIO2_3;
  let sc = accurate_sin_cos_poly(r);
  let quadrant = i32(q) & 3;                      // x = q pi/2 + r
  if (quadrant == 1) {
    return vec2<f32>(sc.y, -sc.x);
  }
  if (quadrant == 2) {
    return -sc;
  }
  if (quadrant == 3) {
    return vec2<f32>(-sc.y, sc.x);
  }
  return sc;
}
