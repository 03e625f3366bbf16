/*
contributors: ddspgl
description: |
    Baseline: reduce_sum over the harmonics, [batch * K, n] -> [batch, n],
    summed in order as one TF.js reduce pass over a short axis does.
options: HARMONIC_K
*/

void main() {
    ivec2 c = getOutputCoords();
    float acc = 0.0;
    for (int k = 0; k < HARMONIC_K; ++k) acc += getWave(c.x * HARMONIC_K + k, c.y);
    setOutput(acc);
}
