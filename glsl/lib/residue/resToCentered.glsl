/*
contributors: ddspgl
description: |
    A residue r in [0, p) as the float r / p - round(r / p), in [-0.5, 0.5]:
    the wrapped phase in periods, centred on zero so that sin(2*pi*x) needs no
    further range reduction. `invP` is 1/p rounded to float32. The integer
    r or r - p (|.| <= p/2 < 2^43) becomes a float with one rounding (2^-24
    relative), the product with invP adds one more and invP's own rounding a
    third: the result is within 3 * 2^-24 * 0.5 < 2^-23 periods of r / p.
use: float resToCentered(uvec2 r, uvec2 p, float invP)
*/
#ifndef FNC_RESTOCENTERED
#define FNC_RESTOCENTERED

#include "resAdd.glsl"

float resToCentered(uvec2 r, uvec2 p, float invP) {
    uvec2 twice = uvec2(r.x << 1, (r.y << 1) | (r.x >> 31));  // 2r < 2^45
    float sign = 1.0;
    if (resGreaterEqual(twice, p)) {                // r >= p / 2: use r - p
        r = resSub64(p, r);
        sign = -1.0;
    }
    return sign * (float(r.y) * 4294967296.0 + float(r.x)) * invP;
}

#endif
