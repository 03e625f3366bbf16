// Test kernel: x -> residue modulo p -> (digits, decoded value), one vec4 per input:
// (low 22 bits, high 22 bits of the residue via its digits, value, 0).
#include "lib/residue.glsl"

void main() {
    ivec2 c = getOutputCoords();
    uvec2 p = uvec2(uint(modulus.x), uint(modulus.y));
    uvec2 r = resFromFloat(getX(c.x, c.y), p, shift);
    vec4 d = resToDigits(r);
    uvec2 back = resFromDigits(d);
    float value = resToFloat(back, SIGNED != 0, scale);
    setOutput(vec4(d.x + d.y * 2048.0, d.z + d.w * 2048.0, value, 0.0));
}
