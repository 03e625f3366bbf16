/*
contributors: ddspgl
description: |
    Frame-rate pass of the filtered noise: output [batch * FRAMES, L] vec4, each
    frame's causal impulse response, tap j = g_j * S with
    S = sum_k w_k M_k cos(2 pi k s_j / N) (w_k = 1 at k = 0 and K - 1, else 2):
    ddsp's irfft of the magnitudes at the tap's zero-phase index s_j, and
    g_j = c_j / N its window value over N (kernels/filtered_noise.py). The
    cosines come from a table of float32-rounded float64 values, read by the
    integer k * s_j mod N; the sum is compensated (Kahan). The tap is written
    as the three base-2^11 digits of its float32 bits, exact in float16
    textures too. A frame holding NaN or Inf (a bit test: no compiler may fold
    it) writes NaN taps.
    Inputs: magnitudes [batch * FRAMES, K]; cosTable [1, N] vec4 digits;
    taps [1, L] vec4 (digits of g_j, and s_j in w).
options: NOISE_BANDS (K), NOISE_IR_SIZE (N)
*/
#include "../lib/float/floatDigits.glsl"

bool noiseNotFinite(float v) {
    return (floatBitsToUint(v) & 0x7F800000u) == 0x7F800000u;
}

void main() {
    ivec2 c = getOutputCoords();                     // (batch * FRAMES + frame, tap)
    vec4 tap = getTaps(0, c.y);
    int s = int(tap.w + 0.5);
    float sum = 0.0;
    float comp = 0.0;
    bool finite = true;
    int m = 0;                                       // k * s mod N
    for (int k = 0; k < NOISE_BANDS; ++k) {
        float mag = getMagnitudes(c.x, k);
        finite = finite && !noiseNotFinite(mag);
        float term = mag * floatFromDigits(getCosTable(0, m));
        if (k > 0 && k < NOISE_BANDS - 1) term *= 2.0;
        float y = term - comp;                       // Kahan
        float t = sum + y;
        comp = (t - sum) - y;
        sum = t;
        m += s;
        if (m >= NOISE_IR_SIZE) m -= NOISE_IR_SIZE;
    }
    float value = finite ? floatFromDigits(tap) * sum : uintBitsToFloat(0x7FC00000u);
    setOutput(floatToDigits(value));
}
