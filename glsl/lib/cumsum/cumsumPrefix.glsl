/*
contributors: ddspgl
description: |
    The sum, modulo p, of the source elements [0, stop) of a row, for a stop in
    the block of scan index t (stop is t, or t + 1 for an inclusive prefix):
    the block's exclusive prefix from `upper` (the level above; zero at the
    top) plus the elements before stop inside the block. The walk takes the
    shorter side: forwards from the block's own prefix, or backwards from the
    next block's (exact: residues subtract without rounding), so no element
    reads more than half a block.
use: uvec2 cumsumPrefix(int row, int t, int stop, uvec2 p)
options:
    - CUMSUM_BLOCK, CUMSUM_SOURCE_LEN, CUMSUM_HAS_UPPER, CUMSUM_UPPER_LEN
    - and those of cumsumSource
*/
#ifndef FNC_CUMSUMPREFIX
#define FNC_CUMSUMPREFIX

#include "cumsumSource.glsl"

uvec2 cumsumPrefix(int row, int t, int stop, uvec2 p) {
    int block = t / CUMSUM_BLOCK;
    int start = block * CUMSUM_BLOCK;
    int end = min(start + CUMSUM_BLOCK, CUMSUM_SOURCE_LEN);
    uvec2 acc;
#if CUMSUM_HAS_UPPER
    if (end - stop < stop - start && block + 1 < CUMSUM_UPPER_LEN) {
        acc = resFromDigits(getUpper(row, block + 1));
        for (int j = stop; j < end; ++j) acc = resSub(acc, cumsumSource(row, j, p), p);
        return acc;
    }
    acc = resFromDigits(getUpper(row, block));
#else
    acc = uvec2(0u);
#endif
    for (int j = start; j < stop; ++j) acc = resAdd(acc, cumsumSource(row, j, p), p);
    return acc;
}

#endif
