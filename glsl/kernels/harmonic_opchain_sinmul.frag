/*
contributors: ddspgl
description: |
    Baseline: amplitude_envelopes * sin(phases), elementwise over
    [batch * K, n_samples] (two TF.js ops fused into one pass, in the
    baseline's favour).
*/

void main() {
    ivec2 c = getOutputCoords();
    setOutput(getAmp(c.x, c.y) * sin(getPhase(c.x, c.y)));
}
