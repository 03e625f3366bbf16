/*
contributors: ddspgl
description: |
    Last pass of the YIN pitch tracker (de Cheveigne and Kawahara 2002, steps 3-5),
    one fragment per frame. Output [batch, frames] vec4 (f0 in Hz, confidence, the
    chosen lag tau, the parabolic offset delta). Walking the lags 1 ... YIN_LAGS of
    the frame's difference function d (yin_difference.frag) it forms the cumulative
    mean normalised difference d'(t) = t d(t) / sum_{j <= t} d(j) (1 where that sum
    is 0). One lag behind, it judges tau = t - 1 in [YIN_LAG_MIN, YIN_LAG_MAX]: a dip
    where d'(tau) < d'(tau - 1) and d'(tau) <= d'(tau + 1) (either waived at the
    range's own end); its depth the ordinate of the vertex of the parabola through
    d'(tau - 1), d'(tau), d'(tau + 1) where both hold (the paper's step 5 for the
    dip selection), d'(tau) where one is waived. It takes the first dip deeper than
    the threshold, else the first deepest dip. The period is tau + delta, delta the
    vertex of the parabola through d(tau - 1), d(tau), d(tau + 1) (the raw difference
    function, as the paper advises), clamped to [-1, 1] and 0 where the three points
    do not curve upwards; f0 = sampleRate / period, confidence = clamp(1 - depth, 0,
    1). YIN_LAGS = YIN_LAG_MAX + 1.
options:
    - YIN_LAGS, YIN_LAGS4 (= ceil(YIN_LAGS / 4)), YIN_LAG_MIN (>= 2), YIN_LAG_MAX
    - uniforms threshold, sampleRate
*/

void main() {
    ivec2 c = getOutputCoords();                     // (batch, frame)
    int row = c.x * YIN_FRAMES + c.y;
    float total = 0.0;
    float d0 = 0.0, d1 = 0.0;                        // d(t - 2), d(t - 1)
    float n0 = 1.0, n1 = 1.0;                        // d'(t - 2), d'(t - 1)
    bool found = false;
    int pick = -1;
    float pickDepth = 1.0;
    vec3 pickD = vec3(0.0);                          // d(tau - 1), d(tau), d(tau + 1)
    int best = -1;
    float bestDepth = 1.0;
    vec3 bestD = vec3(0.0);
    for (int q = 0; q < YIN_LAGS4 && !found; ++q) {
        vec4 v = getDifference(row, q);
        for (int l = 0; l < 4; ++l) {
            int t = 4 * q + 1 + l;
            if (t > YIN_LAGS) break;
            float d = v[l];
            total += d;
            float n = total > 0.0 ? float(t) * d / total : 1.0;
            int tau = t - 1;                         // <= YIN_LAG_MAX as t <= YIN_LAGS
            bool below = n1 < n0;
            bool notAbove = n1 <= n;
            if (tau >= YIN_LAG_MIN && (below || tau == YIN_LAG_MIN)
                    && (notAbove || tau == YIN_LAG_MAX)) {
                float depth = n1;
                if (below && notAbove) {
                    float curve = (n0 + n) - 2.0 * n1;
                    if (curve > 0.0) depth = n1 - (n0 - n) * (n0 - n) / (8.0 * curve);
                }
                if (depth < threshold) {
                    found = true;
                    pick = tau; pickDepth = depth; pickD = vec3(d0, d1, d);
                    break;
                }
                if (best < 0 || depth < bestDepth) {
                    best = tau; bestDepth = depth; bestD = vec3(d0, d1, d);
                }
            }
            d0 = d1; d1 = d; n0 = n1; n1 = n;
        }
    }
    if (!found) {
        pick = best; pickDepth = bestDepth; pickD = bestD;
    }
    float num = pickD.x - pickD.z;
    float den = (pickD.x + pickD.z) - 2.0 * pickD.y;
    float delta = den > 0.0 ? clamp(num / (2.0 * den), -1.0, 1.0) : 0.0;
    float f0 = sampleRate / (float(pick) + delta);
    setOutput(vec4(f0, clamp(1.0 - pickDepth, 0.0, 1.0), float(pick), delta));
}
