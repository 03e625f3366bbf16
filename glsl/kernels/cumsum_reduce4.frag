/*
contributors: ddspgl
description: |
    Up-sweep level of the wrapped cumsum with blocks of 4, straight-line (see
    cumsum_leaf4): output [rows, ceil(CUMSUM_SOURCE_LEN / 4)] holds the sum of
    each block of 4 elements of `partial` (digits: block sums, or the digit
    residues a kernel scans itself, as the harmonic synthesizer's frame
    increments), modulo p, as digits. Elements past the row count as zero.
options:
    - CUMSUM_SOURCE_LEN: elements per row in `partial`
*/
#include "../lib/residue.glsl"
#include "../lib/residue/resModulus.glsl"
#include "../lib/cumsum/cumsumPartialAt.glsl"

void main() {
    ivec2 coords = getOutputCoords();                  // (row, block)
    int t = 4 * coords.y;
    uvec2 p = resModulus();
    uvec2 acc = resAdd(cumsumPartialAt(coords.x, t), cumsumPartialAt(coords.x, t + 1), p);
    acc = resAdd(acc, cumsumPartialAt(coords.x, t + 2), p);
    acc = resAdd(acc, cumsumPartialAt(coords.x, t + 3), p);
    setOutput(resToDigits(acc));
}
