/*
contributors: ddspgl
description: |
    The residue of round(x * 2^shift) modulo p, computed from the bits of x
    with integer operations only: exact for every x whose ulp is at least
    2^-shift, and within half a unit (2^-shift / 2) for smaller x.
    Requires p in [2^43, 2^44] (a periodic modulus, or 2^44 for signed sums).
use: uvec2 resFromFloat(float x, uvec2 p, int shift)
*/
#ifndef FNC_RESFROMFLOAT
#define FNC_RESFROMFLOAT

#include "resAdd.glsl"

uvec2 resFromFloat(float x, uvec2 p, int shift) {
    uint bits = floatBitsToUint(x);
    int biased = int((bits >> 23) & 0xFFu);
    uint m = bits & 0x7FFFFFu;
    if (biased != 0) m |= 0x800000u;             // normal: implicit leading 1
    int s = max(biased, 1) - 150 + shift;          // |x| * 2^shift = m * 2^s
    uvec2 r;
    if (s < 0) {
        // Round half up to a whole unit; m < 2^24, so 25 or more bits round to 0.
        r = uvec2(s < -24 ? 0u : (m + (1u << uint(-s - 1))) >> uint(-s), 0u);
    } else {
        // m * 2^k < 2^43 <= p for k <= 19, then reduce one doubling at a time.
        int k = min(s, 19);
        r = uvec2(m << uint(k), k == 0 ? 0u : m >> uint(32 - k));
        for (int i = k; i < s; ++i) r = resAdd(r, r, p);
    }
    if ((bits & 0x80000000u) != 0u && (r.x | r.y) != 0u) r = resSub64(p, r);
    return r;
}

#endif
