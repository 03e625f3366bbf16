/*
contributors: ddspgl
description: |
    Element t (in scan order) of a cumsum pass's source, as a residue: a raw
    float input `x` of length CUMSUM_SOURCE_LEN (read back to front when
    CUMSUM_REVERSE is set), or a level of block sums stored as digits in `partial`.
    Expects the custom uniforms `ivec2 modulus` (p, low and high 32 bits) and
    `int shift`.
use: uvec2 cumsumSource(int row, int t, uvec2 p); uvec2 cumsumModulus()
options:
    - CUMSUM_SOURCE_RAW: 1 to read `x`, 0 to read `partial`
    - CUMSUM_SOURCE_LEN: elements per row in the source
    - CUMSUM_REVERSE: 1 to scan from the end of `x`
*/
#ifndef FNC_CUMSUMSOURCE
#define FNC_CUMSUMSOURCE

#include "../residue.glsl"

uvec2 cumsumModulus() { return uvec2(uint(modulus.x), uint(modulus.y)); }

#if CUMSUM_SOURCE_RAW
uvec2 cumsumSource(int row, int t, uvec2 p) {
#if CUMSUM_REVERSE
    t = CUMSUM_SOURCE_LEN - 1 - t;
#endif
    return resFromFloat(getX(row, t), p, shift);
}
#else
uvec2 cumsumSource(int row, int t, uvec2 p) { return resFromDigits(getPartial(row, t)); }
#endif

#endif
