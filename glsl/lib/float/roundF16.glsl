/*
contributors: ddspgl
description: |
    Rounds a float to the nearest float16 value (ties to even), overflow to
    infinity, subnormals kept. A float16 render target then stores the value
    exactly, whatever rounding the driver applies on write (Mesa llvmpipe
    truncates).
use: float roundF16(float v)
*/
#ifndef FNC_ROUNDF16
#define FNC_ROUNDF16

float roundF16(float v) {
    float a = abs(v);
    if (a < 6.103515625e-05) {                     // below 2^-14: spacing 2^-24
        return sign(v) * roundEven(a * 16777216.0) / 16777216.0;
    }
    if (a >= 65520.0) return v * 1e38 * 1e38;      // rounds to +-infinity (NaN stays NaN)
    uint bits = floatBitsToUint(v);
    bits += 0xFFFu + ((bits >> 13) & 1u);          // ties to even at 11 significant bits
    return uintBitsToFloat(bits & 0xFFFFE000u);
}

#endif
