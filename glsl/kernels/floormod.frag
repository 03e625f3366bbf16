/*
contributors: ddspgl
description: |
    tf.floorMod(x, period) for a positive scalar period, as TF.js's WebGL
    binary op computes it: GLSL mod(). The TF.js baseline wraps its cumsum
    with this pass, after the fact, as a converted DDSP graph does.
*/

void main() {
    ivec2 coords = getOutputCoords();
    setOutput(mod(getX(coords.x, coords.y), period));
}
