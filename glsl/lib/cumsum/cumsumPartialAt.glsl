/*
contributors: ddspgl
description: |
    Element t of a level of block sums stored as digits in `partial` [rows,
    CUMSUM_SOURCE_LEN], as a residue; zero past the row (the fetch stays inside it).
use: uvec2 cumsumPartialAt(int row, int t)
options:
    - CUMSUM_SOURCE_LEN: elements per row in `partial`
*/
#ifndef FNC_CUMSUMPARTIALAT
#define FNC_CUMSUMPARTIALAT

#include "../residue.glsl"

uvec2 cumsumPartialAt(int row, int t) {
    return t < CUMSUM_SOURCE_LEN ? resFromDigits(getPartial(row, min(t, CUMSUM_SOURCE_LEN - 1)))
                                 : uvec2(0u);
}

#endif
