// Test kernel: sin and cos of every input (|x| <= pi), as the harmonic synth uses them.
#include "lib/float/accurateSinCos.glsl"

void main() {
    ivec2 c = getOutputCoords();
    float x = getX(c.x, c.y);
    setOutput(vec4(accurateSin(x), accurateCos(x), 0.0, 0.0));
}
