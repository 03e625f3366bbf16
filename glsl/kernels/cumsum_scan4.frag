/*
contributors: ddspgl
description: |
    Down-sweep level of the wrapped cumsum with blocks of 4, straight-line (see
    cumsum_leaf4): output [rows, CUMSUM_SOURCE_LEN + 1] holds the exclusive
    prefixes P(t), t = 0 ... CUMSUM_SOURCE_LEN (the last one the row total), of
    the elements of `partial` (digits), modulo p, as digits; an output one
    shorter leaves the total out (the final pass of a digit scan). P(t)
    starts from the nearer of the two prefixes of its block in `upper` (the level
    above, which has a total too) and adds or subtracts at most two elements
    (exact: residues subtract without rounding).
options:
    - CUMSUM_SOURCE_LEN: elements per row in `partial`
*/
#include "../lib/residue.glsl"
#include "../lib/residue/resModulus.glsl"
#include "../lib/residue/resNeg.glsl"
#include "../lib/cumsum/cumsumPartialAt.glsl"

void main() {
    ivec2 coords = getOutputCoords();                  // (row, t)
    int row = coords.x;
    int block = coords.y >> 2;
    int offset = coords.y & 3;
    uvec2 p = resModulus();
    bool back = offset >= 2;                           // from P(4 block + 4), the next prefix
    uvec2 acc = resFromDigits(getUpper(row, back ? block + 1 : block));
    uvec2 first = cumsumPartialAt(row, 4 * block + (back ? 3 : 0));
    uvec2 second = cumsumPartialAt(row, 4 * block + 2);
    // Forward: P(4b + 1) = P(4b) + S[4b]; backward: P(4b + 3) = P(4b + 4) - S[4b + 3] and
    // P(4b + 2) = P(4b + 3) - S[4b + 2]. One sign select per term, no branches.
    bool useFirst = back || offset == 1;
    acc = resAdd(acc, useFirst ? (back ? resNeg(first, p) : first) : uvec2(0u), p);
    acc = resAdd(acc, offset == 2 ? resNeg(second, p) : uvec2(0u), p);
    setOutput(resToDigits(acc));
}
