/*
contributors: ddspgl
description: |
    Final pass of the wrapped cumsum, without loops, in TF.js's packed layout:
    output [CUMSUM_ROWS, CUMSUM_SOURCE_LEN], the texel at (row, c), c even,
    holds positions c and c + 1 of rows row and row + 1. In scan order the two
    positions of a row are scan indices k and k + 1 (k even; a reverse scan over an
    odd number of inputs counts a zero in front, see cumsum_leaf4), which lie in one
    block of 4 of the leaf level: with P(k) the sum of the first k scan elements,
    the outputs need two of P(k), P(k + 1), P(k + 2). The nearer block prefix in
    `upper` (P(k) for the block's first half, P(k + 2) for its second) and the pair's
    own two inputs, from the texel at the output's position, give all three
    exactly. Values are converted from residues (a float in [0, period), or signed
    for a plain cumsum) and rounded to float16 when the target is float16.
    Positions past the row and rows past CUMSUM_ROWS are zero.
options:
    - CUMSUM_SOURCE_LEN: inputs per row; CUMSUM_SCAN_LEN: scan length (n, or n + 1)
    - CUMSUM_REVERSE, CUMSUM_ROWS, CUMSUM_INCLUSIVE, CUMSUM_SIGNED, CUMSUM_ROUND_F16
*/
#include "../lib/residue.glsl"
#include "../lib/residue/resModulus.glsl"
#include "../lib/residue/resNeg.glsl"
#include "../lib/cumsum/cumsumPackedPair.glsl"
#include "../lib/float/roundF16.glsl"

float cumsumValue(uvec2 residue) {
    float value = resToFloat(residue, CUMSUM_SIGNED != 0, scale);
#if CUMSUM_ROUND_F16
    value = roundF16(value);
#endif
    return value;
}

// The values at positions c and c + 1 of a row.
vec2 cumsumPositions(int row, int c, uvec2 p) {
    vec2 inputs = cumsumPackedPair(row, c);
#if CUMSUM_REVERSE
    int k = CUMSUM_SCAN_LEN - 2 - c;                   // scan k + 1 is position c
    vec2 scan = inputs.yx;
#else
    int k = c;
    vec2 scan = inputs;
#endif
    uvec2 r0 = resFromFloat(scan.x, p, shift);
    uvec2 r1 = resFromFloat(scan.y, p, shift);
    bool first = (k & 2) == 0;                         // the block's first half
    uvec2 anchor = resFromDigits(getUpper(row, first ? k >> 2 : (k >> 2) + 1));
    // First half: P(k) = anchor, P(k + 1) = P(k) + x_k, P(k + 2) = P(k + 1) + x_(k+1);
    // second half: P(k + 2) = anchor, P(k + 1) = P(k + 2) - x_(k+1), P(k) = P(k + 1) - x_k.
    uvec2 mid = resAdd(anchor, first ? r0 : resNeg(r1, p), p);          // P(k + 1)
    uvec2 other = resAdd(mid, first ? r1 : resNeg(r0, p), p);
    uvec2 low = first ? anchor : other;                                 // P(k)
    uvec2 high = first ? other : anchor;                                // P(k + 2)
#if CUMSUM_INCLUSIVE
    vec2 scanValues = vec2(cumsumValue(mid), cumsumValue(high));        // scan k, k + 1
#else
    vec2 scanValues = vec2(cumsumValue(low), cumsumValue(mid));
#endif
#if CUMSUM_REVERSE
    vec2 values = scanValues.yx;
#else
    vec2 values = scanValues;
#endif
    return vec2(values.x, c + 1 < CUMSUM_SOURCE_LEN ? values.y : 0.0);
}

void main() {
    ivec2 coords = getOutputCoords();                  // (row, c) of the texel's first value
    uvec2 p = resModulus();
    vec4 values = vec4(cumsumPositions(coords.x, coords.y, p), 0.0, 0.0);
    if (coords.x + 1 < CUMSUM_ROWS) values.zw = cumsumPositions(coords.x + 1, coords.y, p);
    setOutput(values);
}
