/*
contributors: ddspgl
description: |
    TF.js's pack pass for a float x [PACK_ROWS, PACK_COLS]: the output, packed,
    holds x(row, col), x(row, col + 1), x(row + 1, col), x(row + 1, col + 1) in
    the texel of (row, col), row and col even; zero outside x. The harness runs
    it where TF.js packs an unpacked input itself (the bundle's cumsum reads x
    packed), always into float32: the input is not rounded.
options:
    - PACK_ROWS, PACK_COLS: the shape of x
*/

float packAt(int row, int col) {
    return row < PACK_ROWS && col < PACK_COLS ? getX(row, col) : 0.0;
}

void main() {
    ivec2 rc = getOutputCoords();                      // (row, col) of the texel's first value
    setOutput(vec4(packAt(rc.x, rc.y), packAt(rc.x, rc.y + 1),
                   packAt(rc.x + 1, rc.y), packAt(rc.x + 1, rc.y + 1)));
}
