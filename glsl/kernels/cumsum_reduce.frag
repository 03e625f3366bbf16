/*
contributors: ddspgl
description: |
    Up-sweep of the wrapped cumsum: output [rows, ceil(CUMSUM_SOURCE_LEN /
    CUMSUM_BLOCK)] holds the sum of each block of CUMSUM_BLOCK consecutive
    source elements, modulo p, as four base-2^11 digits (exact in RGBA16F).
options: CUMSUM_BLOCK, CUMSUM_SOURCE_LEN, CUMSUM_SOURCE_RAW, CUMSUM_REVERSE
*/
#include "../lib/cumsum/cumsumSource.glsl"

void main() {
    ivec2 coords = getOutputCoords();                  // (row, block)
    int start = coords.y * CUMSUM_BLOCK;
    int stop = min(start + CUMSUM_BLOCK, CUMSUM_SOURCE_LEN);
    uvec2 p = cumsumModulus();
    uvec2 acc = uvec2(0u);
    for (int t = start; t < stop; ++t) acc = resAdd(acc, cumsumSource(coords.x, t, p), p);
    setOutput(resToDigits(acc));
}
