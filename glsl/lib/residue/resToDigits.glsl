/*
contributors: ddspgl
description: |
    A 44-bit residue as four base-2^11 digits, low digit first. Every digit is
    an integer below 2048, exact in float16 and float32 texels alike, so an
    RGBA16F render target stores a residue without rounding.
use: vec4 resToDigits(uvec2 r)
*/
#ifndef FNC_RESTODIGITS
#define FNC_RESTODIGITS

vec4 resToDigits(uvec2 r) {
    return vec4(float(r.x & 0x7FFu),
                float((r.x >> 11) & 0x7FFu),
                float(((r.x >> 22) | (r.y << 10)) & 0x7FFu),
                float((r.y >> 1) & 0x7FFu));
}

#endif
