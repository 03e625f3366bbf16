/*
contributors: ddspgl
description: |
    The phase a linearly interpolated f0 accumulates inside one frame, as a
    residue. Sample r of a frame (0 <= r < HOP) has frequency
    f(r) = (a * (HOP - r) + b * r) / HOP between the frame's f0 `a` and the
    next frame's `b`. The inclusive sum over samples 0..r, times HOP, is
    a * ca(r) + b * cb(r) with the integers cb(r) = r(r+1)/2 and
    ca(r) = HOP(r+1) - cb(r). Phase units are 2^-shift Hz * samples * HOP, so
    one cycle is p = sample_rate * HOP * 2^shift units: `ra`, `rb` are the
    residues of a * 2^shift and b * 2^shift (resFromFloat: exact for every f0
    whose ulp is at least 2^-shift) and the whole sum is exact integer
    arithmetic. r = HOP - 1 gives the frame's total increment.
use: uvec2 harmonicInFrame(uvec2 ra, uvec2 rb, int r, uvec2 p)
options: HOP (samples per frame)
*/
#ifndef FNC_HARMONICINFRAME
#define FNC_HARMONICINFRAME

#include "../residue.glsl"
#include "../residue/resMulUint.glsl"

uvec2 harmonicInFrame(uvec2 ra, uvec2 rb, int r, uvec2 p) {
    uint u = uint(r);
    uint cb = (u * (u + 1u)) >> 1;                   // < 2^32 for HOP <= 65536
    uint ca = uint(HOP) * (u + 1u) - cb;
    return resAdd(resMulUint(ra, ca, p), resMulUint(rb, cb, p), p);
}

#endif
