/*
contributors: ddspgl
description: |
    Down-sweep level of the wrapped cumsum with blocks of CUMSUM_BLOCK (the top
    of the plan, scanned whole, and the short levels under it): output [rows,
    CUMSUM_SOURCE_LEN + 1] holds the exclusive prefixes P(t), t = 0 ...
    CUMSUM_SOURCE_LEN (the last one the row total), of the block sums in
    `partial` (digits), modulo p, as digits. P(t) starts from its block's
    prefix in `upper` (the level above, which holds its total too; zero at the
    top, where one block spans the row) and walks the shorter side of the
    block: forwards from the block's own prefix, or backwards from the next
    one's (exact: residues subtract without rounding).
options:
    - CUMSUM_BLOCK: block sums per block
    - CUMSUM_SOURCE_LEN: elements per row in `partial`
    - CUMSUM_HAS_UPPER: 1 when a level above holds block prefixes in `upper`
*/
#include "../lib/residue.glsl"
#include "../lib/residue/resModulus.glsl"

void main() {
    ivec2 coords = getOutputCoords();                  // (row, t)
    int row = coords.x;
    int t = coords.y;
    int start = t / CUMSUM_BLOCK * CUMSUM_BLOCK;
    int end = min(start + CUMSUM_BLOCK, CUMSUM_SOURCE_LEN);
    uvec2 p = resModulus();
#if CUMSUM_HAS_UPPER
    int block = t / CUMSUM_BLOCK;
    if (end - t < t - start) {                         // P(t) = P(end) - S[t] - ... - S[end - 1]
        uvec2 acc = resFromDigits(getUpper(row, block + 1));
        for (int j = t; j < end; ++j) acc = resSub(acc, resFromDigits(getPartial(row, j)), p);
        setOutput(resToDigits(acc));
        return;
    }
    uvec2 acc = resFromDigits(getUpper(row, block));
#else
    uvec2 acc = uvec2(0u);
#endif
    for (int j = start; j < t; ++j) acc = resAdd(acc, resFromDigits(getPartial(row, j)), p);
    setOutput(resToDigits(acc));
}
