/*
contributors: ddspgl
description: |
    Frame-rate pass of the harmonic synthesizer: output [batch, FRAMES] vec4
    (gain_hi, gain_lo, cut, 0). Harmonics k >= cut are silenced in this frame
    (k * f0 >= nyquist, decided exactly; cut = K + 1 when HARMONIC_NORMALIZE
    is 0), and harmonic k < cut has amplitude (gain_hi + gain_lo) * dist[k]:
    gain = amplitude / sum of the kept distribution (DDSP's
    normalize_harmonics, 0 when that sum is 0), or the amplitude itself.
    The gain's significand m in [1, 2) is split into two float16-exact parts
    and its exponent e kept apart, so that a float16 render target keeps any
    normal float32 gain to 2^-22 relative; cut and e are small integers, exact
    in float16.
options: HARMONIC_K, HARMONIC_K4 (= ceil(K / 4)), HARMONIC_NORMALIZE
*/
#include "../lib/float/roundF16.glsl"
#include "../lib/harmonic/harmonicAboveNyquist.glsl"

void main() {
    ivec2 c = getOutputCoords();                     // (batch, frame)
    int row = c.x * FRAMES + c.y;
    float amp = getAmplitude(c.x, c.y);
#if HARMONIC_NORMALIZE
    float f0 = getF0(c.x, c.y);
    int cut = HARMONIC_K + 1;
    for (int k = 1; k <= HARMONIC_K; ++k) {
        if (harmonicAboveNyquist(f0, k, nyquist)) { cut = k; break; }
    }
    float total = 0.0;
    for (int j = 0; j < HARMONIC_K4; ++j) {
        vec4 d = getDist(row, j);
        vec4 k = vec4(4 * j + 1, 4 * j + 2, 4 * j + 3, 4 * j + 4);
        total += dot(d, step(k, vec4(float(cut) - 0.5)));
    }
    float gain = total > 0.0 ? amp / total : 0.0;
#else
    int cut = HARMONIC_K + 1;
    float gain = amp;
#endif
    uint bits = floatBitsToUint(gain);
    int biased = int((bits >> 23) & 0xFFu);
    if (biased == 0) { gain = 0.0; biased = 127; }   // zero (or subnormal: below 2^-126)
    float m = uintBitsToFloat((bits & 0x807FFFFFu) | 0x3F800000u);
    if (gain == 0.0) m = 0.0;
    float hi = roundF16(m);
    float lo = roundF16(m - hi);
    setOutput(vec4(hi, lo, float(cut), float(biased - 127)));
}
