// Test kernel: the residue sum of a row of inputs, written as digits.
#include "lib/residue.glsl"

void main() {
    ivec2 c = getOutputCoords();
    uvec2 p = uvec2(uint(modulus.x), uint(modulus.y));
    uvec2 acc = uvec2(0u);
    for (int j = 0; j < N; ++j) acc = resAdd(acc, resFromFloat(getX(c.x, j), p, shift), p);
    setOutput(resToDigits(acc));
}
