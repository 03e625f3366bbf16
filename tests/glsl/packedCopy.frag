/*
contributors: ddspgl
description: |
    Test body: copies a packed x through both packed accessors, TF.js-style:
    lanes x, y from getX (the value at each position), z, w from getXTexel.
*/

void main() {
    ivec2 rc = getOutputCoords();                      // (row, col), both even
    vec4 texel = getXTexel(rc.x, rc.y);
    setOutput(vec4(getX(rc.x, rc.y), getX(rc.x, rc.y + 1), texel.z, texel.w));
}
