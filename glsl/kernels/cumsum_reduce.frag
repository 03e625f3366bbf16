/*
contributors: ddspgl
description: |
    Up-sweep level of the wrapped cumsum with blocks of CUMSUM_BLOCK (the short
    levels near the top of the plan, kernels/cumsum.plan): output [rows,
    ceil(CUMSUM_SOURCE_LEN / CUMSUM_BLOCK)] holds the sum of each block of
    block sums in `partial` (digits), modulo p, as four base-2^11 digits (exact
    in RGBA16F).
options:
    - CUMSUM_BLOCK: block sums per block
    - CUMSUM_SOURCE_LEN: elements per row in `partial`
*/
#include "../lib/residue.glsl"
#include "../lib/residue/resModulus.glsl"

void main() {
    ivec2 coords = getOutputCoords();                  // (row, block)
    int start = coords.y * CUMSUM_BLOCK;
    int stop = min(start + CUMSUM_BLOCK, CUMSUM_SOURCE_LEN);
    uvec2 p = resModulus();
    uvec2 acc = uvec2(0u);
    for (int t = start; t < stop; ++t) acc = resAdd(acc, resFromDigits(getPartial(coords.x, t)), p);
    setOutput(resToDigits(acc));
}
