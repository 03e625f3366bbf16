// Test kernel: resMulUint and resToCentered on residue digits `x` (vec4) and a
// multiplier MUL: output (digits of r * MUL mod p as two 22-bit halves, centred float).
#include "lib/residue.glsl"
#include "lib/residue/resMulUint.glsl"
#include "lib/residue/resToCentered.glsl"

void main() {
    ivec2 c = getOutputCoords();
    uvec2 p = uvec2(uint(modulus.x), uint(modulus.y));
    uvec2 r = resFromDigits(getX(c.x, c.y));
    uvec2 m = resMulUint(r, uint(MUL), p);
    uint lo22 = m.x & 0x3FFFFFu;
    uint hi22 = (m.x >> 22) | (m.y << 10);
    setOutput(vec4(float(lo22), float(hi22), resToCentered(r, p, invModulus), 0.0));
}
