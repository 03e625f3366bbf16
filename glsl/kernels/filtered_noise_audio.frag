/*
contributors: ddspgl
description: |
    Audio-rate pass of the filtered noise: output [batch, NOISE_SAMPLES], one
    fragment per sample m. ddsp's framed convolution, overlap-add and 'same'
    crop give y[m] = sum_j ir_{q / HOP}[j] x[q] over the taps j with
    q = m + NOISE_START - j in [0, NOISE_SAMPLES): the loop runs over the
    frames holding such q and, in each, over its q. The noise x[q] is drawn on
    the fly (noiseUniform of the row's key and the absolute index
    sampleOffset + q); the taps are read exactly from their digits. The sum is
    compensated (Kahan). A NaN tap (a frame holding NaN or Inf) makes the
    sample NaN.
    Inputs: ir [batch * NOISE_FRAMES, NOISE_TAPS] vec4 digits.
    Uniforms: seed (ivec2: the 32-bit seed's low and high 16 bits),
    sampleOffset (int).
options:
    - NOISE_FRAMES, NOISE_HOP, NOISE_TAPS, NOISE_SAMPLES, NOISE_START
    - NOISE_ROUND_F16: 1 to round the sample to float16 before the write
*/
#include "../lib/float/floatDigits.glsl"
#include "../lib/float/roundF16.glsl"
#include "../lib/noise/noiseUniform.glsl"

void main() {
    ivec2 c = getOutputCoords();                     // (batch, sample)
    uint key = noiseKey(uint(seed.x) | (uint(seed.y) << 16), uint(c.x));
    int top = c.y + NOISE_START;                     // q = top - j
    int qLo = max(top - (NOISE_TAPS - 1), 0);
    int qHi = min(top, NOISE_SAMPLES - 1);
    int row = c.x * NOISE_FRAMES;
    float sum = 0.0;
    float comp = 0.0;
    bool nan = false;
    if (qLo <= qHi) {
        int fHi = qHi / NOISE_HOP;
        for (int f = qLo / NOISE_HOP; f <= fHi; ++f) {
            int a = max(qLo, f * NOISE_HOP);
            int b = min(qHi, f * NOISE_HOP + NOISE_HOP - 1);
            for (int q = a; q <= b; ++q) {
                float tap = floatFromDigits(getIr(row + f, top - q));
                nan = nan || (floatBitsToUint(tap) & 0x7FFFFFFFu) > 0x7F800000u;
                float term = tap * noiseUniform(key, uint(sampleOffset + q));
                float y = term - comp;               // Kahan
                float t = sum + y;
                comp = (t - sum) - y;
                sum = t;
            }
        }
    }
    float value = nan ? uintBitsToFloat(0x7FC00000u) : sum;
#if NOISE_ROUND_F16
    value = roundF16(value);
#endif
    setOutput(value);
}
