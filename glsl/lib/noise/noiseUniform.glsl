/*
contributors: ddspgl
description: |
    The filtered noise's counter-based uniform generator: the same bits in GLSL,
    the TF.js fallback (js/src/fallback/filtered_noise.js) and numpy
    (kernels/filtered_noise.noise). noisePcg is the PCG hash of Jarzynski and
    Olano ("Hash Functions for GPU Rendering", JCGT 9(3), 2020), a permutation of
    the 32-bit integers. A batch row's stream has the key pcg(pcg(seed) + row);
    the word of absolute sample index i is pcg(pcg(i ^ key) + key), and the
    uniform is (word >> 8) * 2^-23 - 1: a multiple of 2^-23 in [-1, 1 - 2^-23],
    exact in float32. uint arithmetic wraps modulo 2^32 (GLSL ES 3.00, 4.1.3).
use: uint noisePcg(uint v); uint noiseKey(uint seed, uint row);
    float noiseUniform(uint key, uint index)
*/
#ifndef FNC_NOISEUNIFORM
#define FNC_NOISEUNIFORM

uint noisePcg(uint v) {
    uint state = v * 747796405u + 2891336453u;
    uint word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

uint noiseKey(uint seed, uint row) {
    return noisePcg(noisePcg(seed) + row);
}

float noiseUniform(uint key, uint index) {
    uint word = noisePcg(noisePcg(index ^ key) + key);
    return float(word >> 8u) * 1.1920928955078125e-07 - 1.0;   // 2^-23
}

#endif
