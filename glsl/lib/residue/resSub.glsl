/*
contributors: ddspgl
description: (a - b) mod p for residues a, b in [0, p), p <= 2^44.
use: uvec2 resSub(uvec2 a, uvec2 b, uvec2 p)
*/
#ifndef FNC_RESSUB
#define FNC_RESSUB

#include "resAdd.glsl"

uvec2 resSub(uvec2 a, uvec2 b, uvec2 p) {
    // a < b: a - b + p = a + (p - b), a sum of two residues.
    return resGreaterEqual(a, b) ? resSub64(a, b) : resAdd(a, resSub64(p, b), p);
}

#endif
