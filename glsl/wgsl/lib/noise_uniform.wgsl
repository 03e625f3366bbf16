// contributors: ddspgl
// description: |
//     The filtered noise's counter-based uniform generator in WGSL: the same bits as
//     glsl/lib/noise/noiseUniform.glsl, the TF.js fallback
//     (js/src/fallback/filtered_noise.js) and numpy (kernels/filtered_noise.noise).
//     noise_pcg is the PCG hash of Jarzynski and Olano ("Hash Functions for GPU
//     Rendering", JCGT 9(3), 2020). A batch row's stream has the key
//     pcg(pcg(seed) + row); the word of absolute sample index i is
//     pcg(pcg(i ^ key) + key), and the uniform is (word >> 8) * 2^-23 - 1: a multiple of
//     2^-23 in [-1, 1 - 2^-23], exact in float32 (the 24-bit integer converts exactly, the
//     scale is a power of two, the difference is representable). u32 arithmetic wraps
//     modulo 2^32 (WGSL), as the GLSL's does.
// use: noise_pcg(v: u32) -> u32; noise_key(seed: u32, row: u32) -> u32;
//     noise_uniform(key: u32, index: u32) -> f32

fn noise_pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn noise_key(seed: u32, row: u32) -> u32 {
  return noise_pcg(noise_pcg(seed) + row);
}

fn noise_uniform(key: u32, index: u32) -> f32 {
  let word = noise_pcg(noise_pcg(index ^ key) + key);
  return f32(word >> 8u) * 1.1920928955078125e-07f - 1.0f;   // 2^-23
}
