/*
contributors: ddspgl
description: |
    The value of a residue, r * 2^-shift, as a float: r in [0, p) for a
    periodic sum (a value in [0, period]), or read as a signed 44-bit two's
    complement number when `signedValue` is true. `scale` holds 2^-shift as
    two float factors so that shifts beyond the float exponent range work.
    At most two roundings: relative error below 2^-23.
use: float resToFloat(uvec2 r, bool signedValue, vec2 scale)
*/
#ifndef FNC_RESTOFLOAT
#define FNC_RESTOFLOAT

#include "resAdd.glsl"

float resToFloat(uvec2 r, bool signedValue, vec2 scale) {
    float sign = 1.0;
    if (signedValue && r.y >= 0x800u) {            // bit 43 set: negative
        r = resSub64(uvec2(0u, 0x1000u), r);
        sign = -1.0;
    }
    float magnitude = float(r.y) * 4294967296.0 + float(r.x);
    return sign * magnitude * scale.x * scale.y;
}

#endif
