/*
contributors: ddspgl
description: |
    The residue of round(x * 2^shift) modulo p, computed from the bits of x:
    exact for every x whose ulp is at least 2^-shift, and within half a unit
    (2^-shift / 2) for smaller x (halves round away from zero).
    Requires p in [2^43, 2^44] (a periodic modulus, or 2^44 for signed sums).
    |x| = m * 2^e with m the 24-bit significand read from the bits (so
    subnormals are exact even where the renderer flushes them to zero in float
    arithmetic); m * 2^min(e + shift, 19) < 2^43 is a float with at most 24
    significant bits, rounded and split into 32-bit words with exact float
    operations (no per-lane variable shifts, which SIMD software renderers
    execute one lane at a time), then doubled modulo p for what exceeds 2^19.
    The doubling loop runs only for |x| of at least half a period.
use: uvec2 resFromFloat(float x, uvec2 p, int shift)
*/
#ifndef FNC_RESFROMFLOAT
#define FNC_RESFROMFLOAT

#include "resAdd.glsl"

// 2^e as a float for e in [-126, 127]; smaller e gives 2^-126.
float resPow2(int e) {
    return intBitsToFloat((max(e, -126) + 127) << 23);
}

uvec2 resFromFloat(float x, uvec2 p, int shift) {
    uint bits = floatBitsToUint(x);
    int biased = int((bits >> 23) & 0xFFu);
    float m = float(bits & 0x7FFFFFu) + (biased != 0 ? 8388608.0 : 0.0);
    int s = max(biased, 1) - 150 + shift;          // |x| * 2^shift = m * 2^s
    int doublings = max(s - 19, 0);
    // m * 2^(s - doublings) < 2^43: exact unless s < 0, where only the integer part
    // and the half are needed (a clamped 2^-126 still leaves m * 2^-126 < 1/2).
    float y = m * resPow2(s - doublings);
    float whole = floor(y);
    whole += y - whole >= 0.5 ? 1.0 : 0.0;         // round half up
    float high = floor(whole * 2.3283064365386963e-10);  // 2^-32: exact
    uvec2 r = uvec2(uint(whole - high * 4294967296.0), uint(high));
    for (int i = 0; i < doublings; ++i) r = resAdd(r, r, p);
    if ((bits & 0x80000000u) != 0u && (r.x | r.y) != 0u) r = resSub64(p, r);
    return r;
}

#endif
