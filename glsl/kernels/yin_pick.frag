/*
contributors: ddspgl
description: |
    Last pass of the YIN pitch tracker (de Cheveigne and Kawahara 2002, steps 3-5),
    one fragment per frame. Output [batch, frames] vec4 (f0 in Hz, confidence, the
    chosen lag tau, the parabolic offset delta). Walking the lags 1 ... YIN_LAGS of
    the frame's difference function d (yin_difference.frag) it forms the cumulative
    mean normalised difference d'(tau) = tau d(tau) / sum_{j <= tau} d(j) (1 where
    that sum is 0), and in [YIN_LAG_MIN, YIN_LAG_MAX] takes the first lag with
    d' < threshold, then follows d' down while it keeps falling (the dip's local
    minimum); with no lag under the threshold, the first global minimum of d'. The
    period is tau + delta, delta the vertex of the parabola through d(tau - 1),
    d(tau), d(tau + 1) (the raw difference function, as the paper advises), clamped
    to [-1, 1] and 0 where the three points do not curve upwards; f0 = sampleRate /
    period, confidence = clamp(1 - d'(tau), 0, 1). YIN_LAGS = YIN_LAG_MAX + 1.
options:
    - YIN_LAGS, YIN_LAGS4 (= ceil(YIN_LAGS / 4)), YIN_LAG_MIN (>= 2), YIN_LAG_MAX
    - uniforms threshold, sampleRate
*/

void main() {
    ivec2 c = getOutputCoords();                     // (batch, frame)
    int row = c.x * YIN_FRAMES + c.y;
    float total = 0.0;
    float previous = 0.0;                            // d(tau - 1)
    int state = 0;                                   // 0 searching, 1 walking down, 2 done
    int pick = -2;
    float pickCmnd = 1.0, pa = 0.0, pb = 0.0, pc = 0.0;
    int best = -2;
    float bestCmnd = 0.0, ba = 0.0, bb = 0.0, bc = 0.0;
    for (int q = 0; q < YIN_LAGS4; ++q) {
        vec4 v = getDifference(row, q);
        for (int l = 0; l < 4; ++l) {
            int tau = 4 * q + 1 + l;
            if (tau > YIN_LAGS) break;
            float d = v[l];
            total += d;
            float cmnd = total > 0.0 ? float(tau) * d / total : 1.0;
            if (tau == pick + 1) pc = d;
            if (tau == best + 1) bc = d;
            if (tau >= YIN_LAG_MIN && tau <= YIN_LAG_MAX) {
                bool take = state == 1 ? cmnd < pickCmnd : state == 0 && cmnd < threshold;
                if (take) {
                    state = 1;
                    pick = tau; pickCmnd = cmnd; pa = previous; pb = d;
                } else if (state == 1) {
                    state = 2;
                }
                if (best < 0 || cmnd < bestCmnd) {
                    best = tau; bestCmnd = cmnd; ba = previous; bb = d;
                }
            }
            previous = d;
        }
    }
    if (state == 0) {
        pick = best; pickCmnd = bestCmnd; pa = ba; pb = bb; pc = bc;
    }
    float num = pa - pc;
    float den = (pa + pc) - 2.0 * pb;
    float delta = den > 0.0 ? clamp(num / (2.0 * den), -1.0, 1.0) : 0.0;
    float f0 = sampleRate / (float(pick) + delta);
    setOutput(vec4(f0, clamp(1.0 - pickCmnd, 0.0, 1.0), float(pick), delta));
}
