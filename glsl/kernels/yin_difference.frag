/*
contributors: ddspgl
description: |
    Second pass of the YIN pitch tracker: the difference function d(tau) of every
    frame. Output [batch * YIN_FRAMES, ceil(lags / 4)] vec4, lags 4q + 1 ... 4q + 4:
    the sum of the YIN_SPAN (= W / block) partial sums of yin_blocks.frag from
    block i * YIN_STRIDE (= hop / block) of frame i's row on. The sum of YIN_SPAN
    non-negative terms adds at most YIN_SPAN - 1 roundings (kernels/yin.py).
options:
    - YIN_FRAMES: frames per batch row; YIN_BLOCKS: blocks per batch row
    - YIN_STRIDE: blocks per hop; YIN_SPAN: blocks per window
*/

void main() {
    ivec2 c = getOutputCoords();                     // (batch * YIN_FRAMES + frame, q)
    int row = c.x / YIN_FRAMES;
    int frame = c.x - row * YIN_FRAMES;
    int first = row * YIN_BLOCKS + frame * YIN_STRIDE;
    vec4 sum = vec4(0.0);
    for (int m = 0; m < YIN_SPAN; ++m) {
        sum += getBlocks(first + m, c.y);
    }
    setOutput(sum);
}
