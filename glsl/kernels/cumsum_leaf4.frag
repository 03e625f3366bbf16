/*
contributors: ddspgl
description: |
    Leaf up-sweep of the wrapped cumsum, straight-line (a software renderer such
    as SwiftShader pays for every instruction of a loop or branch whether a
    fragment takes it or not): output [rows,
    ceil(CUMSUM_SCAN_LEN / 4)] holds the sum of each block of 4 inputs in scan order,
    modulo p, as four base-2^11 digits. The inputs come from a packed `x` two per
    fetch (cumsumPackedPair). A reverse scan over an odd number of inputs gets a zero
    in front (scan index 0 is position n, past the row) so that every block is two
    whole texels; CUMSUM_SCAN_LEN counts it.
options:
    - CUMSUM_SOURCE_LEN: inputs per row; CUMSUM_SCAN_LEN: scan length (n, or n + 1)
    - CUMSUM_REVERSE: 1 to scan from the end of each row
*/
#include "../lib/residue.glsl"
#include "../lib/residue/resModulus.glsl"
#include "../lib/cumsum/cumsumPackedPair.glsl"

void main() {
    ivec2 coords = getOutputCoords();                  // (row, block)
    int row = coords.x;
    uvec2 p = resModulus();
#if CUMSUM_REVERSE
    int col = CUMSUM_SCAN_LEN - 4 - 4 * coords.y;      // scan 4b..4b+3 = positions col+3..col
#else
    int col = 4 * coords.y;
#endif
    vec2 a = cumsumPackedPair(row, col);
    vec2 b = cumsumPackedPair(row, col + 2);
    uvec2 acc = resFromFloat(a.x, p, shift);
    acc = resAdd(acc, resFromFloat(a.y, p, shift), p);
    acc = resAdd(acc, resFromFloat(b.x, p, shift), p);
    acc = resAdd(acc, resFromFloat(b.y, p, shift), p);
    setOutput(resToDigits(acc));
}
