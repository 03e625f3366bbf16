/*
contributors: ddspgl
description: (a + b) mod p for residues a, b in [0, p), p <= 2^44.
use: uvec2 resAdd(uvec2 a, uvec2 b, uvec2 p)
*/
#ifndef FNC_RESADD
#define FNC_RESADD

// a - b for a >= b, 64-bit with borrow.
uvec2 resSub64(uvec2 a, uvec2 b) {
    uint lo = a.x - b.x;
    uint borrow = a.x < b.x ? 1u : 0u;
    return uvec2(lo, a.y - b.y - borrow);
}

bool resGreaterEqual(uvec2 a, uvec2 b) {
    return a.y > b.y || (a.y == b.y && a.x >= b.x);
}

uvec2 resAdd(uvec2 a, uvec2 b, uvec2 p) {
    uint lo = a.x + b.x;
    uint carry = lo < a.x ? 1u : 0u;
    uvec2 s = uvec2(lo, a.y + b.y + carry);  // < 2^45: no overflow
    return resGreaterEqual(s, p) ? resSub64(s, p) : s;
}

#endif
