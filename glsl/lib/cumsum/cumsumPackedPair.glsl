/*
contributors: ddspgl
description: |
    Two neighbouring inputs of a raw `x` [rows, CUMSUM_SOURCE_LEN] read in TF.js's
    packed layout, where the texel at (row, col), row and col even, holds (row, col),
    (row, col + 1), (row + 1, col) and (row + 1, col + 1): positions col and col + 1
    (col even) of a row from one fetch, zero outside the row. The body's
    accessor getXTexel(row, col) returns TF.js's texel.
use: vec2 cumsumPackedPair(int row, int col)
options:
    - CUMSUM_SOURCE_LEN: elements per row of x
*/
#ifndef FNC_CUMSUMPACKEDPAIR
#define FNC_CUMSUMPACKEDPAIR

vec2 cumsumPackedPair(int row, int col) {
    vec4 texel = getXTexel(row, max(col, 0));
    vec2 pair = (row & 1) == 0 ? texel.xy : texel.zw;
    return vec2(col >= 0 && col < CUMSUM_SOURCE_LEN ? pair.x : 0.0,
                col >= 0 && col + 1 < CUMSUM_SOURCE_LEN ? pair.y : 0.0);
}

#endif
