/*
contributors: ddspgl
description: |
    Whether k * f0 >= nyquist, decided exactly for a float32 f0, an integer
    k < 2^12 and a float32 nyquist. f0 is split into hi (its top 12
    significant bits) and lo = f0 - hi (exact, 12 bits): k * hi and k * lo are
    exact products. When k * hi < nyquist, either k * hi >= nyquist / 2 and
    nyquist - k * hi is exact (Sterbenz), or k * f0 < nyquist / 2 * (1 + 2^-11)
    and the comparison cannot flip. No rounding decides the answer.
use: bool harmonicAboveNyquist(float f0, int k, float nyquist)
*/
#ifndef FNC_HARMONICABOVENYQUIST
#define FNC_HARMONICABOVENYQUIST

bool harmonicAboveNyquist(float f0, int k, float nyquist) {
    float hi = uintBitsToFloat(floatBitsToUint(f0) & 0xFFFFF000u);
    float lo = f0 - hi;
    float kf = float(k);
    float khi = kf * hi;
    if (khi >= nyquist) return true;
    return kf * lo >= nyquist - khi;
}

#endif
