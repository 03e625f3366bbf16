/*
contributors: ddspgl
description: |
    sin and cos to about 2^-23 absolute for |x| <= 4, whatever the renderer's
    built-ins do: GLSL ES leaves their precision unspecified, and SwiftShader's
    (Chromium without a GPU) are off by 1.9e-4, which alone caps a sine at
    79 dB SNR. Cody-Waite reduction by pi/2 (the first constant has 8
    significant bits: q * C1 and x - q * C1 are exact for |q| <= 2), then
    Cephes' sinf/cosf minimax polynomials on [-pi/4, pi/4] (about 1 ulp).
    The harmonic synthesizer uses them on every host.
use: <float|vec4> accurateSin(<float|vec4> x), <float|vec4> accurateCos(<float|vec4> x)
*/
#ifndef FNC_ACCURATESINCOS
#define FNC_ACCURATESINCOS

const float ACCURATE_PIO2_1 = 1.5703125;             // 201 / 128
const float ACCURATE_PIO2_2 = 4.838267923332751e-4;  // float32(pi/2 - PIO2_1)
const float ACCURATE_PIO2_3 = 2.5632829e-12;         // pi/2 - PIO2_1 - PIO2_2
const float ACCURATE_TWO_OVER_PI = 0.6366197723675814;

// sin(r) and cos(r) for |r| <= pi/4 (Cephes sinf, cosf).
vec2 accurateSinCosPoly(float r) {
    float z = r * r;
    float s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
    float c = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z
               + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
    return vec2(s, c);
}

// (sin x, cos x)
vec2 accurateSinCos(float x) {
    float q = floor(x * ACCURATE_TWO_OVER_PI + 0.5);
    float r = ((x - q * ACCURATE_PIO2_1) - q * ACCURATE_PIO2_2) - q * ACCURATE_PIO2_3;
    vec2 sc = accurateSinCosPoly(r);
    int quadrant = int(q) & 3;                       // x = q pi/2 + r
    if (quadrant == 1) return vec2(sc.y, -sc.x);
    if (quadrant == 2) return -sc;
    if (quadrant == 3) return vec2(-sc.y, sc.x);
    return sc;
}

float accurateSin(float x) { return accurateSinCos(x).x; }
float accurateCos(float x) { return accurateSinCos(x).y; }
vec4 accurateSin(vec4 x) {
    return vec4(accurateSin(x.x), accurateSin(x.y), accurateSin(x.z), accurateSin(x.w));
}
vec4 accurateCos(vec4 x) {
    return vec4(accurateCos(x.x), accurateCos(x.y), accurateCos(x.z), accurateCos(x.w));
}

#endif
