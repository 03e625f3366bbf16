/*
contributors: ddspgl
description: |
    The modulus p of the residue arithmetic from the custom uniform
    `ivec2 modulus` (low and high 32 bits, as the host's Modulus.uniforms()
    and the bundle pass them), as the uvec2 every residue function takes.
use: uvec2 resModulus()
*/
#ifndef FNC_RESMODULUS
#define FNC_RESMODULUS

uvec2 resModulus() { return uvec2(uint(modulus.x), uint(modulus.y)); }

#endif
