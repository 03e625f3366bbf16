// contributors: ddspgl
// description: |
//     sin(2 pi x) for x in [-0.5, 0.5] periods, four lanes, within 2^-22.5 absolute (2.8
//     ulp) whatever the built-ins do: x is folded into [-1/4, 1/4] by
//     sin(2 pi x) = sin(2 pi (sign(x) / 2 - x)), exact (Sterbenz: |x| in [1/4, 1/2]),
//     then x P(x^2), an odd minimax polynomial of degree 9 fitted to sin(2 pi x) on
//     [0, 1/4] with float32 coefficients (kernels/harmonic_webgpu.SIN_TWO_PI, which
//     says how, and whose test evaluates this Horner order in float32 on a dense grid).
//     No multiplication by 2 pi and no quadrant branches: a third of accurate_sin_cos's
//     operations, for the phases the harmonic synthesizer already keeps in periods.
// use: sin_two_pi4(x: vec4<f32>) -> vec4<f32>

fn sin_two_pi4(x: vec4<f32>) -> vec4<f32> {
  let f = select(x, sign(x) * 0.5f - x, abs(x) > vec4<f32>(0.25f));
  let z = f * f;
  let p = (((39.13364028930664f * z - 76.49602508544922f) * z + 81.59864807128906f) * z
           - 41.341617584228516f) * z + 6.283185005187988f;
  return f * p;
}
