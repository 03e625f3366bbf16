/*
contributors: ddspgl
description: |
    Sum of |x| over blocks of ABS_SUM_BLOCK consecutive elements of each row,
    accumulated in float32 and written as the digits of its bit pattern
    (floatToDigits), so float16 storage cannot round or overflow it. Repeated
    until one block per row remains, it gives the row sums Σ|x| from which a
    plain (unwrapped) cumsum chooses its shift (kernels/cumsum.Modulus.plain)
    where the host cannot see x, as in the TF.js bundle. Each level adds at most
    ABS_SUM_BLOCK - 1 roundings of 2^-24 relative error.
options:
    - ABS_SUM_BLOCK: elements summed per output element
    - ABS_SUM_SOURCE_LEN: elements per row in the source
    - ABS_SUM_SOURCE_RAW: 1 to read floats `x`, 0 to read digits `partial`
*/
#include "../lib/float/floatDigits.glsl"

void main() {
    ivec2 coords = getOutputCoords();                  // (row, block)
    int start = coords.y * ABS_SUM_BLOCK;
    int stop = min(start + ABS_SUM_BLOCK, ABS_SUM_SOURCE_LEN);
    float sum = 0.0;
    for (int t = start; t < stop; ++t) {
#if ABS_SUM_SOURCE_RAW
        sum += abs(getX(coords.x, t));
#else
        sum += floatFromDigits(getPartial(coords.x, t));
#endif
    }
    setOutput(floatToDigits(sum));
}
