/*
contributors: ddspgl
description: |
    (-a) mod p for a residue a in [0, p): p - a, or 0 for 0. Adding resNeg(b)
    subtracts b with one resAdd, so that a shader can pick the sign with a
    select instead of running both resAdd and resSub (a software renderer runs
    every branch).
use: uvec2 resNeg(uvec2 a, uvec2 p)
*/
#ifndef FNC_RESNEG
#define FNC_RESNEG

#include "resAdd.glsl"

uvec2 resNeg(uvec2 a, uvec2 p) {
    return (a.x | a.y) == 0u ? a : resSub64(p, a);
}

#endif
