/*
contributors: ddspgl
description: |
    Down-sweep of the wrapped cumsum. Element t of the output is the
    exclusive prefix of its block (read from `upper`, the level above, or
    zero at the top) plus the source elements before it inside its block of
    CUMSUM_BLOCK, modulo p (cumsumPrefix). Intermediate levels are written as digits; the
    final pass adds element t itself when inclusive, converts the residue to
    a float in [0, period) (or a signed value for a plain cumsum), rounds it
    to float16 when the target is float16, and writes it in output order.
options:
    - CUMSUM_BLOCK, CUMSUM_SOURCE_LEN, CUMSUM_SOURCE_RAW, CUMSUM_REVERSE
    - CUMSUM_HAS_UPPER: 1 when a level above holds block prefixes in `upper`
    - CUMSUM_UPPER_LEN: elements per row in `upper` (blocks of this level)
    - CUMSUM_FINAL: 1 for the pass that writes values, 0 for digit levels
    - CUMSUM_INCLUSIVE, CUMSUM_SIGNED, CUMSUM_ROUND_F16: final pass only
*/
#include "../lib/cumsum/cumsumPrefix.glsl"
#include "../lib/float/roundF16.glsl"

void main() {
    ivec2 coords = getOutputCoords();                  // (row, position)
    int t = coords.y;
#if CUMSUM_FINAL && CUMSUM_REVERSE
    t = CUMSUM_SOURCE_LEN - 1 - t;                     // position i holds scan index n-1-i
#endif
    uvec2 p = cumsumModulus();
#if CUMSUM_FINAL && CUMSUM_INCLUSIVE
    uvec2 acc = cumsumPrefix(coords.x, t, t + 1, p);
#else
    uvec2 acc = cumsumPrefix(coords.x, t, t, p);
#endif
#if CUMSUM_FINAL
    float value = resToFloat(acc, CUMSUM_SIGNED != 0, scale);
#if CUMSUM_ROUND_F16
    value = roundF16(value);
#endif
    setOutput(value);
#else
    setOutput(resToDigits(acc));
#endif
}
