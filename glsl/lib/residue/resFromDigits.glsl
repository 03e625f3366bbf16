/*
contributors: ddspgl
description: The inverse of resToDigits.
use: uvec2 resFromDigits(vec4 d)
*/
#ifndef FNC_RESFROMDIGITS
#define FNC_RESFROMDIGITS

uvec2 resFromDigits(vec4 d) {
    uvec4 u = uvec4(d + 0.5);
    return uvec2(u.x | (u.y << 11) | (u.z << 22), (u.z >> 10) | (u.w << 1));
}

#endif
