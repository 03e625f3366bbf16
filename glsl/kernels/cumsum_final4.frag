/*
contributors: ddspgl
description: |
    Final pass of the wrapped cumsum, four consecutive outputs per texel:
    output [rows, ceil(n / 4)] of vec4 holds output positions 4q ... 4q + 3.
    One walk (cumsumPrefix) gives the sum before the lowest scan index of the
    four; each element then adds its input to the next, so the four share the
    walk. Values are converted from residues (a float in [0, period), or
    signed for a plain cumsum) and rounded to float16 when the target is
    float16. Positions past n are zero.
options:
    - CUMSUM_BLOCK, CUMSUM_SOURCE_LEN, CUMSUM_REVERSE, CUMSUM_HAS_UPPER, CUMSUM_UPPER_LEN
    - CUMSUM_SOURCE_RAW: 1 (the pass reads `x`)
    - CUMSUM_INCLUSIVE, CUMSUM_SIGNED, CUMSUM_ROUND_F16
*/
#include "../lib/cumsum/cumsumPrefix.glsl"
#include "../lib/float/roundF16.glsl"

float cumsumValue(uvec2 residue) {
    float value = resToFloat(residue, CUMSUM_SIGNED != 0, scale);
#if CUMSUM_ROUND_F16
    value = roundF16(value);
#endif
    return value;
}

void main() {
    ivec2 coords = getOutputCoords();                  // (row, texel)
    int first = 4 * coords.y;                          // output positions first ... first + 3
    int count = min(4, CUMSUM_SOURCE_LEN - first);
#if CUMSUM_REVERSE
    int t0 = CUMSUM_SOURCE_LEN - first - count;        // position i holds scan index n-1-i
#else
    int t0 = first;
#endif
    uvec2 p = cumsumModulus();
    uvec2 acc = cumsumPrefix(coords.x, t0, t0, p);     // the sum of [0, t0)
    vec4 values = vec4(0.0);
    for (int j = 0; j < 4; ++j) {
        if (j >= count) break;
        uvec2 inclusive = resAdd(acc, cumsumSource(coords.x, t0 + j, p), p);
#if CUMSUM_INCLUSIVE
        float value = cumsumValue(inclusive);
#else
        float value = cumsumValue(acc);
#endif
        acc = inclusive;
#if CUMSUM_REVERSE
        values[count - 1 - j] = value;
#else
        values[j] = value;
#endif
    }
    setOutput(values);
}
