/*
contributors: ddspgl
description: |
    TF.js 4.22's WebGL cumsum (tfjs-backend-webgl CumProgram, op '+'), ported
    for the harness as the baseline: Hillis-Steele, one full-size pass per
    power of two (custom uniform `index` = log2 of the stride), plus one
    shift pass for exclusive. No wrap; every pass is stored in the render
    format, float16 on a phone.
options:
    - TFJS_CUM_LENGTH: elements along the scanned axis
    - TFJS_CUM_REVERSE: 1 for reverse
    - TFJS_CUM_SHIFT: 1 for the exclusive shift pass
*/

void main() {
    ivec2 coords = getOutputCoords();
    int end = coords.y;
#if TFJS_CUM_SHIFT
    float val = 0.0;
#if TFJS_CUM_REVERSE
    if (end != TFJS_CUM_LENGTH - 1) val += getX(coords.x, end + 1);
#else
    if (end != 0) val += getX(coords.x, end - 1);
#endif
#else
    float val = getX(coords.x, coords.y);
    int pow2 = int(pow(2.0, index));
#if TFJS_CUM_REVERSE
    if (end + pow2 < TFJS_CUM_LENGTH) val += getX(coords.x, end + pow2);
#else
    if (end >= pow2) val += getX(coords.x, end - pow2);
#endif
#endif
    setOutput(val);
}
