/*
contributors: ddspgl
description: |
    (r * m) mod p for a residue r in [0, p) and an unsigned integer m, by
    binary double-and-add: exact, at most 2 * 32 resAdd calls (the loop stops
    at m's highest set bit). GLSL ES 3.00 has no umulExtended: this stays in
    44-bit sums.
use: uvec2 resMulUint(uvec2 r, uint m, uvec2 p)
*/
#ifndef FNC_RESMULUINT
#define FNC_RESMULUINT

#include "resAdd.glsl"

uvec2 resMulUint(uvec2 r, uint m, uvec2 p) {
    uvec2 acc = uvec2(0u);
    for (int i = 0; i < 32 && m != 0u; ++i) {
        if ((m & 1u) != 0u) acc = resAdd(acc, r, p);
        r = resAdd(r, r, p);
        m >>= 1;
    }
    return acc;
}

#endif
