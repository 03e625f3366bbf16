/*
contributors: ddspgl
description: |
    The fused audio-rate pass of the harmonic synthesizer: output [batch,
    n_samples], one fragment per sample looping over the harmonics. Nothing
    per harmonic and sample is stored.

    Phase (exact): the frame's starting phase (`prefix`, digits of the
    exclusive wrapped scan of the frame increments) plus the in-frame closed
    form (harmonicInFrame) gives the fundamental's phase R1 as a residue;
    harmonic k's phase is k * R1 (+ its initial phase) by one resAdd per
    harmonic: integer arithmetic, no rounding. Only its conversion to a float
    in [-0.5, 0.5] periods rounds (< 2^-23 periods), then sin(2 pi x).

    Amplitude: DDSP's 'window' upsampling is a raised-cosine crossfade
    between the gains of frame i and i + 1 (weight w = (1 - cos(pi r / HOP)) / 2
    on frame i + 1). Harmonic k is silenced where k * f(n) >= nyquist, with
    f(n) the linearly interpolated f0: the loop stops at the first such k
    (k * f(n) grows with k). The sum over harmonics is compensated (Kahan,
    four lanes).
options:
    - HOP, FRAMES, HARMONIC_K, HARMONIC_K4 (= ceil(K / 4))
    - HARMONIC_INITIAL: 1 to add per-harmonic initial phases (`phase0` digits)
    - HARMONIC_ROUND_F16: 1 to round the sample to float16 before the write
*/
#include "../lib/harmonic/harmonicInFrame.glsl"
#include "../lib/residue/resModulus.glsl"
#include "../lib/residue/resToCentered.glsl"
#include "../lib/float/roundF16.glsl"
#include "../lib/float/accurateSinCos.glsl"

const float TWO_PI = 6.283185307179586;
const float PI = 3.141592653589793;

float harmonicGain(vec4 g) {                         // (m_hi + m_lo) * 2^e
    return (g.x + g.y) * uintBitsToFloat(uint(int(g.w) + 127) << 23);
}

void main() {
    ivec2 c = getOutputCoords();                     // (batch, sample)
    int frame = c.y / HOP;
    int r = c.y - frame * HOP;
    int next = min(frame + 1, FRAMES - 1);           // the held endpoint repeats the last frame
    uvec2 p = resModulus();

    float a = getF0(c.x, frame);
    float b = getF0(c.x, next);
    uvec2 r1 = resAdd(resFromDigits(getPrefix(c.x, frame)),
                      harmonicInFrame(resFromFloat(a, p, shift), resFromFloat(b, p, shift), r, p),
                      p);

    vec4 g0 = getGain(c.x, frame);
    vec4 g1 = getGain(c.x, next);
    float gain0 = harmonicGain(g0);
    float gain1 = harmonicGain(g1);
    float w = 0.5 - 0.5 * accurateCos(PI * float(r) / float(HOP));
    float fh = a * float(HOP - r) + b * float(r);    // HOP * f(n)
    float limit = float(HOP) * nyquist;

    int row0 = c.x * FRAMES + frame;
    int row1 = c.x * FRAMES + next;
    vec4 sum = vec4(0.0);
    vec4 comp = vec4(0.0);
    uvec2 rk = uvec2(0u);
    for (int j = 0; j < HARMONIC_K4; ++j) {
        vec4 d0 = getDist(row0, j);
        vec4 d1 = getDist(row1, j);
        vec4 x = vec4(0.0);
        vec4 on = vec4(0.0);
#if HARMONIC_INITIAL
        vec4 q0 = getPhase0(c.x, 4 * j);
        vec4 q1 = getPhase0(c.x, 4 * j + 1);
        vec4 q2 = getPhase0(c.x, 4 * j + 2);
        vec4 q3 = getPhase0(c.x, 4 * j + 3);
#endif
        for (int l = 0; l < 4; ++l) {
            int k = 4 * j + l + 1;
            rk = resAdd(rk, r1, p);
            uvec2 rh = rk;
#if HARMONIC_INITIAL
            vec4 q = l == 0 ? q0 : l == 1 ? q1 : l == 2 ? q2 : q3;
            rh = resAdd(rh, resFromDigits(q), p);
#endif
            bool keep = k <= HARMONIC_K && float(k) * fh < limit;
            x[l] = resToCentered(rh, p, invModulus);
            on[l] = keep ? 1.0 : 0.0;
        }
        vec4 k4 = vec4(4 * j + 1, 4 * j + 2, 4 * j + 3, 4 * j + 4);
        vec4 amp0 = gain0 * d0 * step(k4, vec4(g0.z - 0.5));
        vec4 amp1 = gain1 * d1 * step(k4, vec4(g1.z - 0.5));
        vec4 term = on * (amp0 + (amp1 - amp0) * w) * accurateSin(TWO_PI * x);
        vec4 y = term - comp;                        // Kahan, lane-wise
        vec4 t = sum + y;
        comp = (t - sum) - y;
        sum = t;
        if (on.w == 0.0) break;                      // every higher harmonic is above Nyquist
    }
    float value = (sum.x + sum.y) + (sum.z + sum.w);
#if HARMONIC_ROUND_F16
    value = roundF16(value);
#endif
    setOutput(value);
}
