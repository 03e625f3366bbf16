/*
contributors: ddspgl
description: |
    A float32 carried exactly through a float16 texel: its bit pattern as three
    base-2^11 digits (11, 11 and 10 bits, low digit first; w is 0), and back.
    Every digit is an integer below 2048, exact in RGBA16F and RGBA32F alike.
use: vec4 floatToDigits(float v); float floatFromDigits(vec4 d)
*/
#ifndef FNC_FLOATDIGITS
#define FNC_FLOATDIGITS

vec4 floatToDigits(float v) {
    uint b = floatBitsToUint(v);
    return vec4(float(b & 0x7FFu), float((b >> 11) & 0x7FFu), float(b >> 22), 0.0);
}

float floatFromDigits(vec4 d) {
    uvec3 u = uvec3(d.xyz + 0.5);
    return uintBitsToFloat(u.x | (u.y << 11) | (u.z << 22));
}

#endif
