/*
contributors: ddspgl
description: |
    Residues modulo p < 2^44 held in a uvec2 (x: low 32 bits, y: high bits).
    Exact integer arithmetic: sums of residues are associative and never
    round, so a scan in any order gives the same bits. A periodic sum uses
    p = period * 2^shift; a plain signed sum uses p = 2^44 (two's complement).
*/
#include "residue/resAdd.glsl"
#include "residue/resSub.glsl"
#include "residue/resFromFloat.glsl"
#include "residue/resToDigits.glsl"
#include "residue/resFromDigits.glsl"
#include "residue/resToFloat.glsl"
