/*
contributors: ddspgl
description: |
    Baseline (a converted DDSP graph on TF.js, one op per pass): the
    sample-rate envelopes [batch * K, n_samples], row b * K + k - 1.
    OPCHAIN_OMEGA 1: resizeBilinear of the harmonic frequencies k * f0, times
    2 pi / sample_rate (rad / sample). OPCHAIN_OMEGA 0: window-upsampled
    amplitudes (frame gains as the gain pass writes them, times the
    distribution) with remove_above_nyquist applied.
options: HOP, FRAMES, HARMONIC_K, OPCHAIN_OMEGA
*/

const float PI = 3.141592653589793;

void main() {
    ivec2 c = getOutputCoords();
    int b = c.x / HARMONIC_K;
    int k = c.x - b * HARMONIC_K + 1;
    int frame = c.y / HOP;
    int r = c.y - frame * HOP;
    int next = min(frame + 1, FRAMES - 1);
    float t = float(r) / float(HOP);
    float fa = float(k) * getF0(b, frame);
    float fb = float(k) * getF0(b, next);
    float f = fa + (fb - fa) * t;
#if OPCHAIN_OMEGA
    setOutput(f * (2.0 * PI) / sampleRate);
#else
    vec4 g0 = getGain(b, frame);
    vec4 g1 = getGain(b, next);
    float a0 = float(k) < g0.z ? (g0.x + g0.y) * exp2(g0.w) * getDist(b * FRAMES + frame, k - 1) : 0.0;
    float a1 = float(k) < g1.z ? (g1.x + g1.y) * exp2(g1.w) * getDist(b * FRAMES + next, k - 1) : 0.0;
    float w = 0.5 - 0.5 * cos(PI * t);
    float a = a0 * (1.0 - w) + a1 * w;
    setOutput(f >= 0.5 * sampleRate ? 0.0 : a);
#endif
}
