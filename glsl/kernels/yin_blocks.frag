/*
contributors: ddspgl
description: |
    First pass of the YIN pitch tracker: partial sums of its difference function.
    Output [batch * YIN_BLOCKS, ceil(lags / 4)] vec4: texel (row, q) holds, for the
    lags tau = 4q + 1 ... 4q + 4, the sum over YIN_BLOCK samples of (x[s + k] -
    x[s + k + tau])^2, k = 0 ... YIN_BLOCK - 1, where s = b * YIN_BLOCK -
    (YIN_WINDOW + tau) / 2 (integer division) for block b of the row: the window of
    frame i is the YIN_WINDOW / YIN_BLOCK blocks from i * hop / YIN_BLOCK on, its
    compared span [s, s + YIN_WINDOW + tau) centred on the frame's time for every lag.
    `x` is the row zero-padded by YIN_PAD samples on the left (and enough on the
    right), so every read is in range. Lanes share their reads: for 4 consecutive
    lags from an odd tau the left samples are x[s0 + k - e] with e = 0, 1, 1, 2 (even
    window) or 0, 0, 1, 1 (odd window), the right ones x[s0 + tau + k + e'] with
    e' = 0, 0, 1, 1 or 0, 1, 1, 2; two sliding triples of samples cover them, two
    reads per step. Float32 arithmetic: each term within 3 roundings, the sum of
    YIN_BLOCK non-negative terms within YIN_BLOCK - 1 more (kernels/yin.py).
options:
    - YIN_BLOCK: samples per block; YIN_BLOCKS: blocks per batch row
    - YIN_WINDOW: the integration window W in samples; YIN_PAD: left zero padding of x
*/

void main() {
    ivec2 c = getOutputCoords();                     // (batch * YIN_BLOCKS + block, q)
    int row = c.x / YIN_BLOCKS;
    int block = c.x - row * YIN_BLOCKS;
    int tau0 = 4 * c.y + 1;
    int left = YIN_PAD + block * YIN_BLOCK - ((YIN_WINDOW + tau0) >> 1);  // lane 0's x[s]
    int right = left + tau0;                                              // lane 0's x[s + tau]
    bool odd = (YIN_WINDOW & 1) == 1;
    vec3 a = vec3(0.0, getX(row, left - 2), getX(row, left - 1));
    vec3 b = vec3(0.0, getX(row, right), getX(row, right + 1));
    vec4 sum = vec4(0.0);
    for (int k = 0; k < YIN_BLOCK; ++k) {
        a = vec3(a.yz, getX(row, left + k));         // x[left + k - 2 ... left + k]
        b = vec3(b.yz, getX(row, right + k + 2));    // x[right + k ... right + k + 2]
        vec4 lhs = odd ? vec4(a.z, a.z, a.y, a.y) : vec4(a.z, a.y, a.y, a.x);
        vec4 rhs = odd ? vec4(b.x, b.y, b.y, b.z) : vec4(b.x, b.x, b.y, b.y);
        vec4 diff = lhs - rhs;
        sum += diff * diff;
    }
    setOutput(sum);
}
