// Test kernel: roundF16 of every input, written to a float32 target.
#include "lib/float/roundF16.glsl"

void main() {
    ivec2 c = getOutputCoords();
    setOutput(roundF16(getX(c.x, c.y)));
}
